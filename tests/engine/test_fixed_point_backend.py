"""The fixed_point backend: bit-exact with the scalar FixedPointLIFNeuron, the
quantisation rule for float LIF models, clear errors and warnings, and the
float-vs-fixed report."""

import math
import warnings

import numpy as np
import pytest

from engine.backends.fixed_point import FixedPointSimulator, QuantisationWarning, map_population
from engine.fixedpoint import QFormat
from engine.hardware.report import compare_float_fixed
from engine.models.fixed_point_lif import FixedPointLIFNeuron
from engine.network import (ConstantCurrent, Network, Population, Projection, SpikeMonitor, StateMonitor,
                            TimedArray)

CFG = dict(data_width=16, fraction=8, v_threshold=256, v_reset=-20, refractory_period=2, leak_k=20, gain_k=200)


def test_network_run_matches_hand_written_scalar_loop():
    """Spikes and membranes of Network.run(backend="fixed_point") against an
    independent loop of scalar neurons with the RTL's input rule (delay included)."""
    rng = np.random.default_rng(0)
    T, na, nb = 150, 6, 4
    stim = rng.integers(-100, 400, size=(T, na)).astype(float)
    w = rng.integers(-300, 500, size=(na, nb)).astype(float)
    w_rec = rng.integers(-200, 200, size=(nb, nb)).astype(float)
    a = Population("FixedPointLIFNeuron", na, params=CFG, label="a")
    b = Population("FixedPointLIFNeuron", nb, params=dict(CFG, refractory_period=0), label="b")
    ma, mb = SpikeMonitor(a), SpikeMonitor(b)
    vb = StateMonitor(b, ["v"])
    net = Network(a, b, Projection(a, b, weight=w), Projection(b, b, weight=w_rec, delay=2),
                  TimedArray(stim, target=a), ConstantCurrent(30.0, target=b), ma, mb, vb)
    net.run(T * 0.001, backend="fixed_point")

    cfg_of = lambda p: {k: p[k] for k in ("data_width", "fraction", "v_rest", "v_reset", "v_threshold",
                                          "refractory_period") if k in p}
    sa = [FixedPointLIFNeuron(**cfg_of(dict(CFG, v_rest=0))) for _ in range(na)]
    sb = [FixedPointLIFNeuron(**cfg_of(dict(CFG, v_rest=0, refractory_period=0))) for _ in range(nb)]
    spikes_a = np.zeros((T, na), int)
    spikes_b = np.zeros((T, nb), int)
    v_b = np.zeros((T, nb), int)
    sat = lambda x: max(-32768, min(32767, int(x)))
    for t in range(T):
        prev_a = spikes_a[t - 1] if t >= 1 else np.zeros(na, int)
        prev_b3 = spikes_b[t - 3] if t >= 3 else np.zeros(nb, int)  # delay 2 + the one-step latency
        for i in range(na):
            spikes_a[t, i] = sa[i].step(20, 200, sat(stim[t, i]))[0]
        for j in range(nb):
            cur = sat(30) + int(prev_a @ w[:, j]) + int(prev_b3 @ w_rec[:, j])
            spikes_b[t, j], v_b[t, j] = sb[j].step(20, 200, sat(cur))
    steps, ids = ma.raster_data()
    got_a = np.zeros((T, na), int)
    got_a[steps, ids] = 1
    steps, ids = mb.raster_data()
    got_b = np.zeros((T, nb), int)
    got_b[steps, ids] = 1
    assert spikes_a.sum() > 20 and spikes_b.sum() > 5
    assert np.array_equal(got_a, spikes_a)
    assert np.array_equal(got_b, spikes_b)
    assert np.array_equal(vb.traces["v"], v_b)
    # the population's state follows the integer run
    assert np.array_equal(b.state["v"], v_b[-1])


def test_second_run_continues_and_reset_restarts():
    def build():
        a = Population("FixedPointLIFNeuron", 5, params=CFG, label="a")
        return Network(a, ConstantCurrent(150.0, target=a), m := SpikeMonitor(a)), m

    net1, m1 = build()
    net1.run(0.1, backend="fixed_point")
    net1.run(0.1, backend="fixed_point")
    net2, m2 = build()
    net2.run(0.2, backend="fixed_point")
    assert m1.count.sum() == m2.count.sum() > 0
    net2.reset()
    net2.run(0.1, backend="fixed_point")
    # after a reset the run repeats a fresh one exactly, spike for spike
    net3, m3 = build()
    net3.run(0.1, backend="fixed_point")
    assert m2.count.tolist() == m3.count.tolist() and m3.count.sum() > 0
    assert [a.tolist() for a in m2.raster_data()] == [a.tolist() for a in m3.raster_data()]


def test_lapicque_quantisation_rule():
    pop = Population("LapicqueNeuron", 1, params={"tau": 20.0, "resistance": 2.0, "v_threshold": 1.5,
                                                  "v_rest": -0.25, "v_reset": -0.25, "refractory_period": 3})
    m = map_population(pop, QFormat(16, 8), dt_ms=1.0)
    e = 1 - math.exp(-1 / 20)
    assert (m.leak_k, m.gain_k) == (round(e * 256), round(2 * e * 256)) == (12, 25)
    assert (m.config["v_threshold"], m.config["v_rest"], m.config["v_reset"]) == (384, -64, -64)
    pop2 = Population("StochasticLIFNeuron", 1, params={"tau_mem": 10.0, "resistance": 0.5})
    m2 = map_population(pop2, QFormat(16, 8), dt_ms=0.5)
    assert (m2.leak_k, m2.gain_k) == (round(0.05 * 256), round(0.25 * 256))


def test_fixed_point_converges_to_float_with_more_bits():
    def build():
        a = Population("LapicqueNeuron", 30, params={"tau": 10.0}, label="A")
        b = Population("StochasticLIFNeuron", 8, params={"tau_mem": 5.0, "refractory_period": 1}, label="B")
        stim = np.random.default_rng(1).uniform(0, 3, (300, 30))
        return Network(a, b, Projection(a, b, weight={"dist": "uniform", "low": 0.0, "high": 0.4},
                                        probability=0.5, seed=3), TimedArray(stim, target=a))

    net = build()
    with pytest.warns(QuantisationWarning, match="A->B"):
        coarse, ch_f, ch_x = compare_float_fixed(net, 0.3, qformat="Q4.4", return_chunks=True)
    assert any("A->B" in w and "round to 0" in w for w in coarse.warnings)
    fine = compare_float_fixed(net, 0.3, qformat="Q16.16")
    for lab in ("A", "B"):
        c, f = coarse.populations[lab], fine.populations[lab]
        assert f.rate_float_hz.sum() > 0
        assert f.mean_agreement > c.mean_agreement
        assert f.rate_error_hz < c.rate_error_hz
        assert f.mean_agreement > 0.99
    # the first step on which the two rasters of A differ, read off the chunks
    rasters = []
    for ch in (ch_f, ch_x):
        r = np.zeros((300, 30), bool)
        r[ch.spikes["A"]] = True
        rasters.append(r)
    differs = np.flatnonzero((rasters[0] != rasters[1]).any(axis=1))
    assert differs.size and coarse.populations["A"].first_divergence_step == int(differs[0])
    text = coarse.summary()
    assert "Q4.4" in text and "rate_err" in text
    assert net.step_count == 0


def test_report_counts_wrap_around_and_saturation():
    a = Population("FixedPointLIFNeuron", 3, label="w",
                   params=dict(data_width=8, fraction=4, v_threshold=127, refractory_period=0, leak_k=0,
                               gain_k=16))
    net = Network(a, ConstantCurrent(-500.0, target=a))  # saturates to -128 and wraps v every few steps
    sim = FixedPointSimulator(net, 0.001)
    sim.advance(20)
    assert sim.stats["w"]["input_saturated"] == 60
    # v: 0 -> -128 -> -256 wraps to 0 -> -128 -> ...: a wrap every second step
    assert sim.stats["w"]["v_wrapped"] == 3 * 10
    assert sim.kernel("w").v.tolist() == [0, 0, 0]


def test_unsupported_model_names_the_population():
    a = Population("HodgkinHuxleyNeuron", 2, label="squid")
    with pytest.raises(NotImplementedError, match="squid"):
        Network(a).run(0.01, backend="fixed_point")
    noisy = Population("StochasticLIFNeuron", 2, params={"noise_std": 0.1}, label="noisy")
    with pytest.raises(NotImplementedError, match="noisy.*noise_std"):
        Network(noisy).run(0.01, backend="fixed_point")


def test_lapicque_with_reset_below_rest_holds_v_reset_while_refractory():
    """CUBA-style Lapicque (v_reset != v_rest, refractory > 0) runs on fixed point
    with refractory_hold = v_reset and tracks the float run."""
    params = {"tau": 20.0, "v_rest": -49.0, "v_reset": -60.0, "v_threshold": -50.0, "refractory_period": 5}
    lap = Population("LapicqueNeuron", 4, params=params, label="lap")
    lap.state["v"][...] = [-55.0, -52.0, -50.5, -58.0]
    mon = StateMonitor(lap, ["v"])
    net = Network(lap, mon)
    sim = FixedPointSimulator(net, 0.001, qformat="Q8.8")
    m = sim.mappings[0]
    assert m.config["refractory_hold"] == "v_reset"
    assert (m.config["v_rest"], m.config["v_reset"], m.config["v_threshold"]) == (-49 * 256, -60 * 256, -50 * 256)
    # v_rest above threshold: every neuron fires repeatedly; while refractory the
    # membrane sits at v_reset (-60) for 5 steps, then climbs again
    chunk = sim.advance(200)
    steps, ids = chunk.spikes["lap"]
    assert steps.size >= 12 and set(ids.tolist()) == {0, 1, 2, 3}
    kern = sim.kernel("lap")
    sim2 = FixedPointSimulator(Network(Population("LapicqueNeuron", 1, params=params, label="one")), 0.001,
                               qformat="Q8.8")
    vs, fired = [], []
    for _ in range(40):
        c = sim2.advance(1)
        fired.append(c.spikes["one"][0].size > 0)
        vs.append(int(sim2.kernel("one").v[0]))
    first = fired.index(True)
    assert vs[first:first + 6] == [-60 * 256] * 6  # reset, then held for 5 refractory steps
    assert vs[first + 6] > -60 * 256
    assert kern.v.dtype == np.int64
    rep = compare_float_fixed(Network(Population("LapicqueNeuron", 4, params=params, label="lap")),
                              n_steps=400, qformat="Q16.16")
    assert rep.populations["lap"].mean_agreement > 0.99


def test_quantisation_to_zero_warns_with_smallest_format():
    a = Population("LapicqueNeuron", 3, params={"tau": 500.0}, label="slowleak")
    b = Population("LapicqueNeuron", 3, label="b")
    net = Network(a, b, Projection(a, b, weight=0.01, label="tiny"))
    with pytest.warns(QuantisationWarning) as rec:
        FixedPointSimulator(net, 0.001, qformat="Q4.4")
    msgs = [str(w.message) for w in rec]
    leak = [m for m in msgs if "slowleak" in m and "leak" in m]
    tiny = [m for m in msgs if "tiny" in m]
    assert leak and "rounds to 0 in Q4.4" in leak[0]
    # 1 - exp(-1/500) ~ 0.002 needs 8 fraction bits (0.002 * 2**8 = 0.51 >= 0.5)
    assert "Q2.8" in leak[0]
    assert tiny and "round to 0" in tiny[0] and ".6" in tiny[0]  # 0.01 needs 6 fraction bits
    with warnings.catch_warnings():
        warnings.simplefilter("error", QuantisationWarning)
        FixedPointSimulator(net, 0.001, qformat="Q4.12")  # no warning once the format is wide enough


def test_bad_qformat_and_mixed_formats():
    a = Population("FixedPointLIFNeuron", 2, params=CFG, label="q88")
    b = Population("FixedPointLIFNeuron", 2, label="q44",
                   params=dict(data_width=8, fraction=4, v_threshold=16, leak_k=1, gain_k=16))
    with pytest.raises(ValueError, match="q88.*q44|different Q-formats"):
        FixedPointSimulator(Network(a, b), 0.001)
    with pytest.raises(ValueError, match="qformat"):
        FixedPointSimulator(Network(Population("LapicqueNeuron", 1)), 0.001, qformat="8.8")
    with pytest.raises(ValueError, match="fraction"):
        FixedPointSimulator(Network(Population("LapicqueNeuron", 1)), 0.001, qformat=(8, 9))


def test_numpy_and_fixed_point_backends_agree_on_integer_models():
    """The declaration's own kernel (NumPy backend) and the fixed-point backend
    run FixedPointLIFNeuron populations identically while no input saturates."""
    from engine.backends import available_backends

    assert available_backends()["fixed_point"] == (True, "")

    def build():
        rng = np.random.default_rng(7)
        a = Population("FixedPointLIFNeuron", 10, params=CFG, label="a")
        b = Population("FixedPointLIFNeuron", 6, params=dict(CFG, refractory_period=1), label="b")
        net = Network(a, b, Projection(a, b, weight=rng.integers(-100, 300, size=(10, 6)).astype(float)),
                      TimedArray(rng.integers(0, 500, size=(200, 10)).astype(float), target=a),
                      ma := SpikeMonitor(a), mb := SpikeMonitor(b))
        return net, ma, mb

    n1, a1, b1 = build()
    n1.run(0.2, backend="numpy")
    n2, a2, b2 = build()
    n2.run(0.2, backend="fixed_point")
    assert a1.count.sum() > 10 and b1.count.sum() > 10
    for m1, m2 in ((a1, a2), (b1, b2)):
        s1, i1 = m1.raster_data()
        s2, i2 = m2.raster_data()
        assert np.array_equal(s1, s2) and np.array_equal(i1, i2)


def test_synaptic_current_register_decays_in_integers():
    """tau_syn: syn <- sat(((syn * k) >> F) + arrivals), k = q(exp(-dt/tau_syn));
    B integrates I_t exactly (leak 0, gain 1.0) so its membrane is the running sum."""
    src = Population("FixedPointLIFNeuron", 2, label="src", params=dict(CFG, refractory_period=0, leak_k=0, gain_k=256))
    dst = Population("FixedPointLIFNeuron", 2, label="dst",
                     params=dict(CFG, leak_k=0, gain_k=256, v_threshold=32767))
    stim = np.zeros((30, 2))
    stim[0] = [300, 300]  # both source neurons fire once, at step 0
    w = np.array([[256.0, -1.0], [0.0, 0.0]])  # +1.0 into dst[0]; -1 LSB into dst[1]
    vm = StateMonitor(dst, ["v"])
    net = Network(src, dst, Projection(src, dst, weight=w, tau_syn=5.0), TimedArray(stim, target=src), vm)
    net.run(0.03, backend="fixed_point")
    k = round(math.exp(-1 / 5) * 256)
    syn, want = 0, []
    for t in range(30):
        syn = ((syn * k) >> 8) + (256 if t == 1 else 0)  # spike at step 0 arrives at step 1
        want.append(syn)
    assert np.array_equal(vm.traces["v"][:, 0], np.cumsum(want))
    # a -1 LSB current never decays away: floor((-1 * k) / 256) == -1
    assert vm.traces["v"][-1, 1] == -29


def test_network_attribute_selects_the_qformat_for_network_run():
    a = Population("LapicqueNeuron", 1, label="a")
    net = Network(a, ConstantCurrent(2.0, target=a))
    net.fixed_point_qformat = "Q4.4"
    net.run(0.01, backend="fixed_point")
    assert net.simulator("fixed_point", 0.001).qformat == QFormat(8, 4)
