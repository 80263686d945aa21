"""The compiled (numba) backend: NumPy's spikes for deterministic networks,
streaming, live edits, plasticity, stimuli, delays, its disk cache and
"auto".  numba is a dependency, so these run in CI."""

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

from engine.backends import auto_backend, available_backends  # noqa: E402
from engine.network import (  # noqa: E402
    STDP,
    Network,
    PoissonInput,
    Population,
    Projection,
    SpikeMonitor,
    StateMonitor,
    StepCurrent,
    TimedArray,
)

ROOT = Path(__file__).resolve().parents[2]


def run_chunks(net, backend, dt, chunks):
    net.reset()
    sim = net.simulator(backend, dt)
    out = [sim.advance(n) for n in chunks]
    spikes = {lab: (np.concatenate([c.spikes[lab][0] for c in out]), np.concatenate([c.spikes[lab][1] for c in out]))
              for lab in out[0].spikes}
    return sim, out, spikes


def assert_same_spikes(a, b):
    assert a.keys() == b.keys()
    for lab in a:
        np.testing.assert_array_equal(a[lab][0], b[lab][0], err_msg=lab)
        np.testing.assert_array_equal(a[lab][1], b[lab][1], err_msg=lab)


def test_registered_and_offered():
    ok, reason = available_backends()["compiled"]
    assert ok, reason


def test_cuba_asset_spikes_identical_to_numpy():
    net = Network.load(ROOT / "assets" / "networks" / "cuba.json")
    _, _, ref = run_chunks(net, "numpy", 1e-4, [1500])
    sim, chunks, got = run_chunks(net, "compiled", 1e-4, [700, 800])  # streamed in two chunks
    assert sum(s[0].size for s in ref.values()) > 1000
    assert_same_spikes(got, ref)
    assert sim.compile_seconds > 0.0
    np.testing.assert_array_equal(np.concatenate([c.rates["exc"] for c in chunks]).size, 1500)


def _mixed_network():
    a = Population("LapicqueNeuron", 40, {"tau": 10.0, "refractory_period": 3}, label="A")
    b = Population("AdaptiveThresholdIFNeuron", 30, label="B")
    c = Population("SCIzhikevichNeuron", 25, {"integrator": "rk4"}, label="C")
    objs = [a, b, c,
            Projection(a, b, {"dist": "uniform", "low": -0.3, "high": 1.2}, probability=0.4, delay=2, seed=1),
            Projection(b, c, 6.0, probability=0.3, tau_syn=4.0, seed=2),
            Projection(c, a, 0.4, probability=0.3, delay=1, tau_syn=4.0, seed=3),
            Projection(a, a, -0.2, probability=0.2, tau_syn=8.0, seed=4),
            StepCurrent(5, 400, 1.3, target=a), PoissonInput(20, 300.0, 2.5, seed=9, target=b),
            TimedArray(np.linspace(0.0, 12.0, 50), target=c),
            SpikeMonitor(a), SpikeMonitor(b), SpikeMonitor(c), StateMonitor(a, ["v"], record=[0, 3])]
    return Network(*objs, seed=4)


def test_stimuli_delays_synapses_and_traces_match_numpy():
    net = _mixed_network()
    _, ref_chunks, ref = run_chunks(net, "numpy", 1e-3, [250, 250])
    ref_state = {p.label: {k: v.copy() for k, v in p.state.items()} for p in net.populations}
    _, chunks, got = run_chunks(net, "compiled", 1e-3, [100, 150, 250])
    assert all(ref[lab][0].size > 5 for lab in ref)
    assert_same_spikes(got, ref)
    for p in net.populations:
        for var, arr in ref_state[p.label].items():
            np.testing.assert_allclose(p.state[var], arr, rtol=1e-10, atol=1e-12)
    tr_ref = np.concatenate([c.traces["StateMonitor_A"]["v"] for c in ref_chunks]) if "StateMonitor_A" in \
        ref_chunks[0].traces else np.concatenate([next(iter(c.traces.values()))["v"] for c in ref_chunks])
    tr = np.concatenate([next(iter(c.traces.values()))["v"] for c in chunks])
    np.testing.assert_allclose(tr, tr_ref, rtol=1e-10, atol=1e-12)


def test_live_parameter_and_weight_edits_apply_at_the_next_chunk():
    def run(backend):
        net = _mixed_network()
        sim = net.simulator(backend, 1e-3)
        first = sim.advance(200)
        net.populations[0].model.v_threshold = 0.8
        net.projections[1].data[...] *= 1.5
        second = sim.advance(200)
        return first.spikes, second.spikes

    (a1, a2), (b1, b2) = run("numpy"), run("compiled")
    assert_same_spikes(b1, a1)
    assert_same_spikes(b2, a2)


def test_stdp_weights_and_spikes_match_numpy():
    def build():
        pre = Population("LapicqueNeuron", 30, {"tau": 5.0}, label="pre")
        post = Population("LapicqueNeuron", 20, {"tau": 10.0}, label="post")
        proj = Projection(pre, post, 2.0, probability=0.5, seed=3,
                          plasticity=STDP(a_plus=0.05, a_minus=0.06, w_min=0.0, w_max=3.0))
        return Network(pre, post, proj, PoissonInput(30, 100.0, 8.0, seed=5, target=pre), SpikeMonitor(post),
                       seed=2), proj

    net_a, proj_a = build()
    _, _, ref = run_chunks(net_a, "numpy", 1e-3, [300, 200])
    net_b, proj_b = build()
    _, _, got = run_chunks(net_b, "compiled", 1e-3, [250, 250])
    assert_same_spikes(got, ref)
    np.testing.assert_array_equal(proj_b.data, proj_a.data)
    assert not np.allclose(proj_a.data, 2.0) and ref["post"][0].size > 10  # the weights did change
    np.testing.assert_array_equal(proj_b.plasticity_state["pre"], proj_a.plasticity_state["pre"])


def test_rate_model_drives_a_spiking_population():
    wc = Population("WilsonCowanPopulation", 5, label="wc")
    lif = Population("LapicqueNeuron", 10, label="lif")
    net = Network(wc, lif, Projection(wc, lif, 4.0, seed=1), SpikeMonitor(lif))
    _, ref_chunks, ref = run_chunks(net, "numpy", 1e-4, [2000])
    _, chunks, got = run_chunks(net, "compiled", 1e-4, [2000])
    np.testing.assert_allclose(chunks[0].rates["wc"], ref_chunks[0].rates["wc"], rtol=1e-9, atol=1e-12)
    assert ref["lif"][0].size > 0
    assert_same_spikes(got, ref)


def test_noisy_model_is_reproducible_and_has_the_right_statistics():
    def run():
        pop = Population("StochasticLIFNeuron", 400, {"noise_std": 0.3, "v_threshold": 100.0}, label="n")
        net = Network(pop, seed=3)
        net.simulator("compiled", 1e-3).advance(1)
        return pop.state["v"].copy()

    v1, v2 = run(), run()
    np.testing.assert_array_equal(v1, v2)
    # one Euler-Maruyama step from v = 0: v ~ N(0, noise_std*sqrt(dt)) with dt = 1 ms
    assert abs(v1.mean()) < 0.06 and abs(v1.std() - 0.3) < 0.04


def test_noise_turned_on_by_a_live_edit_applies_at_the_next_chunk():
    # a population without noise runs a kernel with no draw in its loop; an
    # edit that turns noise on must switch to the drawing kernel
    pop = Population("StochasticLIFNeuron", 400, {"noise_std": 0.0, "v_threshold": 100.0}, label="n")
    net = Network(pop, seed=3)
    sim = net.simulator("compiled", 1e-3)
    sim.advance(5)
    np.testing.assert_array_equal(pop.state["v"], np.zeros(400))  # no input, no noise: stays at rest
    pop.model.noise_std = 0.3
    sim.advance(1)
    v = pop.state["v"]
    assert abs(v.mean()) < 0.06 and abs(v.std() - 0.3) < 0.04
    pop.model.noise_std = 0.0
    before = v.copy()
    sim.advance(3)  # back to the noise-free kernel: the leak alone, v += -(v - 0) * dt / tau_mem
    expect = before
    for _ in range(3):
        expect = expect + -expect * 1.0 / 20.0
    np.testing.assert_allclose(pop.state["v"], expect, rtol=1e-12, atol=0)
    assert np.abs(expect).max() > 0.5  # the noisy step left something to decay


def test_model_without_form_is_refused_naming_the_population():
    net = Network(Population("FixedPointLIFNeuron", 3, label="rtl"))
    with pytest.raises(NotImplementedError, match="'rtl'"):
        net.run(0.01, backend="compiled")


def test_kernel_is_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROCORE_CACHE_DIR", str(tmp_path))
    from engine.backends import compiled

    compiled._modules.clear()  # forget the in-process modules: load from disk as a new process would
    pop = Population("QIFNeuron", 7, label="q")
    net = Network(pop, StepCurrent(0, 100, 1.0, target=pop))
    net.simulator("compiled", 1e-4)
    folder = tmp_path / "compiled"
    kernels = list(folder.glob("neurocore_kernel_*.py"))
    assert len(kernels) == 1
    assert list((folder / "__pycache__").glob("*.nbi")), "numba wrote no cache index"
    compiled._modules.clear()
    again = Network(Population("QIFNeuron", 7, label="q"))
    again.simulator("compiled", 1e-4)
    assert list(folder.glob("neurocore_kernel_*.py")) == kernels  # same shape: same kernel file


def test_auto_picks_compiled_for_large_deterministic_networks():
    big = Network(Population("LapicqueNeuron", 3000))
    assert auto_backend(big) == "compiled"
    assert big.simulator("auto", 1e-3).backend_name == "compiled"
    assert auto_backend(Network(Population("LapicqueNeuron", 10))) == "numpy"
    assert auto_backend(Network(Population("StochasticLIFNeuron", 3000, {"noise_std": 0.1}))) == "numpy"
