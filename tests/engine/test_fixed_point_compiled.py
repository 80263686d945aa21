"""The fixed_point backend's compiled chunk loop (engine/backends/fixed_point_kernel.py)
gives the Python step loop's codes: spikes, membrane and counter traces, wrap
and saturation counts, synaptic registers and delay lines, over chunk
boundaries, on random networks and on every option combination."""

import itertools
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

from engine.backends.fixed_point import FixedPointSimulator, QuantisationWarning  # noqa: E402
from engine.network import (ConstantCurrent, Network, PoissonInput, Population, Projection,  # noqa: E402
                            StateMonitor, TimedArray)


def random_network(seed, *, saturate=False, rounding="floor", hold_reset=False, width=(16, 8)):
    """Native and float-mapped populations, delays, tau_syn, recurrent and
    inhibitory weights, four kinds of stimulus; sized to wrap and saturate."""
    rng = np.random.default_rng(seed)
    W, F = width
    top = 2 ** (W - 1)
    na, nb, nc = (int(x) for x in rng.integers(3, 12, size=3))
    a = Population("FixedPointLIFNeuron", na, label="a", params=dict(
        data_width=W, fraction=F, v_threshold=int(top * 0.4), v_reset=-int(top * 0.05),
        v_rest=int(rng.integers(-3, 4)), refractory_period=int(rng.integers(0, 4)),
        leak_k=int(rng.integers(1, 2 ** F)), gain_k=int(rng.integers(2 ** F // 2, 2 ** F * 2)),
        saturate=saturate, rounding=rounding, refractory_hold="v_reset" if hold_reset else "v_rest"))
    # v_reset != v_rest: the Lapicque population holds v_reset while refractory
    b = Population("LapicqueNeuron", nb, label="b", params=dict(
        tau=float(rng.uniform(5, 30)), resistance=float(rng.uniform(0.5, 3)), v_threshold=1.0,
        v_reset=-0.2 if hold_reset else 0.0, refractory_period=int(rng.integers(0, 4))))
    c = Population("StochasticLIFNeuron", nc, label="c", params=dict(
        tau_mem=float(rng.uniform(5, 20)), resistance=float(rng.uniform(0.5, 2)), refractory_period=1))
    T = 90
    projs = [
        Projection(a, b, weight=rng.uniform(-0.2, 0.8, size=(na, nb)), delay=int(rng.integers(0, 3))),
        Projection(b, c, weight=rng.uniform(-0.3, 0.9, size=(nb, nc)), tau_syn=float(rng.uniform(2, 8))),
        Projection(a, c, weight=rng.uniform(0.0, 0.5, size=(na, nc)), tau_syn=4.0, delay=1),
        Projection(c, a, weight=rng.integers(-400, 900, size=(nc, na)).astype(float), delay=2),
        Projection(b, b, weight={"dist": "uniform", "low": -0.5, "high": 0.5}, probability=0.5, delay=1,
                   seed=int(seed)),
    ]
    stim = [
        TimedArray(rng.integers(-200, int(top * 0.9), size=(T, na)).astype(float), target=a),
        ConstantCurrent(float(rng.uniform(0.2, 1.5)), target=b),
        PoissonInput(nc, rate_hz=300.0, weight=float(rng.uniform(0.5, 4)), target=c, seed=int(seed)),
        # a value beyond the format: the input saturates
        ConstantCurrent(float(top), target=c) if saturate else ConstantCurrent(0.05, target=c),
    ]
    mons = [StateMonitor(a, ["v", "refractory_counter"], label="ma"),
            StateMonitor(b, ["v", "refractory"], record=[0, nb - 1], label="mb"),
            StateMonitor(c, ["v"], label="mc")]
    return Network(a, b, c, *projs, *stim, *mons), T


def run_both(make, qformat, options, chunks=(37, 1, 52)):
    out = {}
    for kernel in ("python", "compiled"):
        net, _ = make()
        net.reset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantisationWarning)
            sim = FixedPointSimulator(net, 0.001, qformat=qformat, options=options, kernel=kernel)
        res = [sim.advance(n) for n in chunks]
        assert sim.last_kernel == kernel
        final = {p.label: (sim.kernel(p.label).v.copy(), sim.kernel(p.label).counter.copy(),
                           sim.kernel(p.label).wraps.copy()) for p in net.populations}
        syn = {k: g["state"].copy() for k, g in sim._syn_groups.items()}
        hist = [[h[0].tolist() for h in ring] for ring in sim._hist]
        out[kernel] = (res, dict(sim.stats), final, syn, hist, sim.step_count)
    return out


def assert_same(out):
    (ra, sa, fa, ya, ha, ca), (rb, sb, fb, yb, hb, cb) = out["python"], out["compiled"]
    assert ca == cb
    for x, y in zip(ra, rb):
        assert x.start_step == y.start_step and x.n_steps == y.n_steps
        for lab in x.spikes:
            assert np.array_equal(x.spikes[lab][0], y.spikes[lab][0]), lab
            assert np.array_equal(x.spikes[lab][1], y.spikes[lab][1]), lab
            assert np.array_equal(x.rates[lab], y.rates[lab]), lab
        assert x.traces.keys() == y.traces.keys()
        for mon in x.traces:
            for var in x.traces[mon]:
                assert x.traces[mon][var].dtype == y.traces[mon][var].dtype
                assert np.array_equal(x.traces[mon][var], y.traces[mon][var]), (mon, var)
    assert sa == sb
    for lab in fa:
        for u, v in zip(fa[lab], fb[lab]):
            assert np.array_equal(u, v), lab
    assert ya.keys() == yb.keys() and all(np.array_equal(ya[k], yb[k]) for k in ya)
    assert ha == hb


@pytest.mark.parametrize("seed", range(6))
def test_compiled_loop_matches_python_loop_on_random_networks(seed):
    out = run_both(lambda: random_network(seed), "Q8.8", {})
    assert_same(out)
    res, stats = out["python"][0], out["python"][1]
    # the networks do something: every population spikes
    for lab in ("a", "b", "c"):
        assert sum(ch.spikes[lab][0].size for ch in res) > 0, lab


OPTIONS = list(itertools.product([False, True], ["floor", "nearest"], [False, True]))


@pytest.mark.parametrize("saturate,rounding,hold_reset", OPTIONS)
def test_compiled_loop_matches_python_loop_for_every_option(saturate, rounding, hold_reset):
    # Q4.4: narrow enough that sums wrap (or clip) and inputs saturate
    make = lambda: random_network(11, saturate=saturate, rounding=rounding, hold_reset=hold_reset,  # noqa: E731
                                  width=(8, 4))
    out = run_both(make, "Q4.4", {"saturate": saturate, "rounding": rounding})
    assert_same(out)
    stats = out["python"][1]
    assert sum(s["input_saturated"] for s in stats.values()) > 0
    if not saturate:
        assert sum(s["v_wrapped"] for s in stats.values()) > 0


def test_auto_runs_compiled_and_noise_falls_back_to_python():
    net, _ = random_network(3)
    sim = FixedPointSimulator(net, 0.001, qformat="Q8.8")
    sim.advance(5)
    assert sim.last_kernel == "compiled"
    noisy = Population("FixedPointLIFNeuron", 4, label="noisy", params=dict(noise_amplitude=3))
    sim = FixedPointSimulator(Network(noisy, ConstantCurrent(100.0, target=noisy)), 0.001)
    sim.advance(5)
    assert sim.last_kernel == "python"
    with pytest.raises(NotImplementedError, match="noise_amplitude"):
        FixedPointSimulator(Network(noisy), 0.001, kernel="compiled").advance(1)


def test_bad_kernel_name_and_non_finite_stimulus():
    a = Population("LapicqueNeuron", 2, label="a")
    with pytest.raises(ValueError, match="kernel"):
        FixedPointSimulator(Network(a), 0.001, kernel="gpu")
    # two finite currents whose sum overflows to inf
    for kernel in ("python", "compiled"):
        net = Network(a, ConstantCurrent(1e308, target=a), ConstantCurrent(1e308, target=a))
        with pytest.raises(ValueError, match="'a' is not finite"):
            FixedPointSimulator(net, 0.001, kernel=kernel).advance(2)


def test_without_numba_auto_runs_the_python_loop(monkeypatch):
    import engine.backends.fixed_point as fp

    monkeypatch.setattr(fp, "_KERNEL", [None])  # as if numba failed to import
    net, _ = random_network(4)
    sim = FixedPointSimulator(net, 0.001, qformat="Q8.8")
    sim.advance(5)
    assert sim.last_kernel == "python"
    with pytest.raises(NotImplementedError, match="numba"):
        FixedPointSimulator(net, 0.001, qformat="Q8.8", kernel="compiled").advance(1)
