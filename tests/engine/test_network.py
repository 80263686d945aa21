"""Populations, stimuli, monitors and Network.run semantics."""

import importlib.util
import math
import pathlib
import sys
import types

import numpy as np
import pytest

from engine.network import (ConstantCurrent, Network, PoissonInput, Population, Projection, RateMonitor,
                            SpikeMonitor, StateMonitor, StepCurrent, TimedArray)
from engine.network.population import MAX_NEURONS

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_cuba():
    spec = importlib.util.spec_from_file_location("bench_cuba", ROOT / "bench" / "cuba.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def first_spike_step(onset, amplitude, tau=20.0, dt_ms=1.0, threshold=1.0):
    """Analytic first spike of a Lapicque neuron at rest (0) under a step current:
    v after k steps is I*(1 - exp(-k dt/tau)); the spike is on the k-th step."""
    k = math.ceil(-tau / dt_ms * math.log(1.0 - threshold / amplitude))
    return onset + k - 1


# -- Population --------------------------------------------------------------------------
def test_population_basics_and_label_default():
    p = Population("lif", 5, params={"tau": 10.0})
    assert p.n == 5 and p.label == "LapicqueNeuron" and p.model_name == "LapicqueNeuron"
    assert p.model.tau == 10.0
    assert set(p.get_states()) == {"v", "refractory"}
    p.set_voltages(np.arange(5.0) / 10)
    np.testing.assert_array_equal(p.voltages, np.arange(5.0) / 10)
    spikes = p.step_all(np.array([0, 0, 0, 0, 30.0]))
    # neuron 4: v_inf = 30, one step of dt=1 ms: 0.4 + (30 - 0.4)(1 - e^-0.1) >= 1
    np.testing.assert_array_equal(spikes, [0, 0, 0, 0, 1])
    assert p.voltages[4] == 0.0  # reset
    expected_v0 = 0.0 * math.exp(-0.1)
    assert p.voltages[0] == pytest.approx(expected_v0)
    p.reset_all()
    np.testing.assert_array_equal(p.voltages, np.zeros(5))


def test_population_step_all_dt_and_scalar_current():
    p = Population("LapicqueNeuron", 2, label="x")
    p.step_all(0.5, dt=2.0)
    np.testing.assert_allclose(p.voltages, 0.5 * (1 - math.exp(-2.0 / 20.0)))


@pytest.mark.parametrize("n, err", [(0, ValueError), (-3, ValueError), (1.5, TypeError), ("3", TypeError),
                                    (True, TypeError), (MAX_NEURONS + 1, ValueError), (None, TypeError)])
def test_population_bad_size(n, err):
    with pytest.raises(err, match="n"):
        Population("lif", n)


def test_population_bad_model_and_params():
    with pytest.raises(ValueError, match="unknown neuron model 'NoSuchNeuron'"):
        Population("NoSuchNeuron", 3)
    with pytest.raises(ValueError, match="'bogus'.*valid: .*tau"):
        Population("lif", 3, params={"bogus": 1.0})
    with pytest.raises(ValueError, match="tau"):
        Population("lif", 3, params={"tau": -1.0})
    with pytest.raises(TypeError, match="params"):
        Population("lif", 3, params=[1, 2])
    with pytest.raises(TypeError, match="label"):
        Population("lif", 3, label=5)


def test_population_set_voltages_checks():
    p = Population("lif", 3)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        p.set_voltages(np.zeros(4))
    with pytest.raises(ValueError, match="non-finite"):
        p.set_voltages([0.0, np.nan, 0.0])
    with pytest.raises(ValueError, match="currents must have shape"):
        p.step_all(np.zeros(2))
    with pytest.raises(ValueError, match="dt"):
        p.step_all(0.0, dt=-1)


def test_population_class_model_and_generators_are_seeded():
    from engine.models import get_model

    cls = get_model("lif")
    a, b = Population(cls, 2), Population(cls, 2)
    net = Network(a, b, seed=7)
    assert b.label == "LapicqueNeuron_1"
    x = a.rng.random(3)
    a2, b2 = Population(cls, 2), Population(cls, 2)
    Network(a2, b2, seed=7)
    np.testing.assert_array_equal(x, a2.rng.random(3))
    assert not np.array_equal(b.rng.random(3), Network(Population(cls, 2), seed=8).populations[0].rng.random(3))
    assert len(net.populations) == 2


def test_duplicate_explicit_label_raises():
    net = Network(Population("lif", 2, label="A"))
    with pytest.raises(ValueError, match="'A' is already used"):
        net.add(Population("lif", 2, label="A"))


# -- stimuli -------------------------------------------------------------------------------
def test_step_current_first_spike_matches_analytic():
    pop = Population("lif", 1)
    mon = SpikeMonitor(pop)
    net = Network(pop, StepCurrent(onset=5, offset=1000, amplitude=1.5), mon)
    net.run(0.1)
    expected = first_spike_step(5, 1.5)
    assert mon.spike_times[0] == expected
    # after the spike the same charging repeats: period = the same k steps
    k = expected - 5 + 1
    np.testing.assert_array_equal(mon.isi(0), np.full(mon.count[0] - 1, k))


def test_step_current_window_and_apply():
    s = StepCurrent(2, 4, 0.75)
    outs = []
    for t in range(6):
        out = np.zeros(2)
        s.apply(t, out)
        outs.append(out[0])
    assert outs == [0, 0, 0.75, 0.75, 0, 0]


def test_timed_array_holds_last_value_and_columns():
    ta = TimedArray([1.0, 2.0, 3.0])
    got = []
    for t in range(5):
        out = np.zeros(2)
        ta.apply(t, out)
        got.append(out.copy())
    np.testing.assert_array_equal(np.array(got)[:, 0], [1, 2, 3, 3, 3])
    ta2 = TimedArray(np.array([[1.0, 2.0], [3.0, 4.0]]))
    out = np.zeros(2)
    ta2.apply(7, out)
    np.testing.assert_array_equal(out, [3, 4])
    net = Network(Population("lif", 3), TimedArray(np.zeros((4, 2))))
    with pytest.raises(ValueError, match="2 columns.*n=3"):
        net.run(0.01)


def test_poisson_input_statistics_and_reproducibility():
    pi = PoissonInput(n=50, rate_hz=200.0, weight=0.5, dt=0.001, seed=3)
    total = np.zeros(80)
    steps = 2000
    for t in range(steps):
        out = np.zeros(80)
        pi.apply(t, out)
        assert set(np.unique(out)) <= {0.0, 0.5}
        total += out
    assert np.all(total[50:] == 0)
    hits = total[:50].sum() / 0.5
    p, n = 0.2, 50 * steps
    assert abs(hits - n * p) < 5 * math.sqrt(n * p * (1 - p))
    a, b = PoissonInput(10, 100, 1.0, seed=9), PoissonInput(10, 100, 1.0, seed=9)
    oa, ob = np.zeros(10), np.zeros(10)
    for t in range(50):
        a.apply(t, oa)
        b.apply(t, ob)
    np.testing.assert_array_equal(oa, ob)


@pytest.mark.parametrize("make, match", [
    (lambda: StepCurrent(-1, 5, 1.0), "onset"),
    (lambda: StepCurrent(5, 2, 1.0), "offset"),
    (lambda: StepCurrent(0, 2.5, 1.0), "offset"),
    (lambda: StepCurrent(0, 5, float("nan")), "amplitude"),
    (lambda: ConstantCurrent(float("inf")), "amplitude"),
    (lambda: TimedArray([]), "values"),
    (lambda: TimedArray([1.0, float("nan")]), "values"),
    (lambda: TimedArray(np.zeros((2, 2, 2))), "values"),
    (lambda: TimedArray([1.0], dt=0), "dt"),
    (lambda: PoissonInput(0, 10, 1.0), "n"),
    (lambda: PoissonInput(5, -1, 1.0), "rate_hz"),
    (lambda: PoissonInput(5, 2000, 1.0, dt=0.001), "rate_hz"),
    (lambda: PoissonInput(5, 10, 1.0, seed=-1), "seed"),
    (lambda: StepCurrent(0, 5, 1.0, target="pop"), "target"),
])
def test_stimulus_bad_input(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_stimulus_target_default_first_and_settable():
    a, b = Population("lif", 1, label="a"), Population("lif", 1, label="b")
    stim = ConstantCurrent(5.0)
    ma, mb = SpikeMonitor(a), SpikeMonitor(b)
    net = Network(a, b, stim, ma, mb)
    net.run(0.02)
    assert ma.count[0] > 0 and mb.count[0] == 0
    net.reset()
    stim.target = b
    net.run(0.02)
    assert ma.count[0] == 0 and mb.count[0] > 0


# -- monitors --------------------------------------------------------------------------------
def test_monitors_rates_isi_trains_and_traces():
    pop = Population("lif", 4)
    amp = 1.5
    smon = SpikeMonitor(pop)
    vmon = StateMonitor(pop, ["v", "refractory"], record=[1, 3])
    rmon = RateMonitor(pop, bin_ms=50)
    net = Network(pop, ConstantCurrent(amp), smon, vmon, rmon)
    net.run(0.2)
    period = first_spike_step(0, amp) + 1  # steps between spikes
    assert smon.count.tolist() == [200 // period] * 4
    np.testing.assert_allclose(smon.firing_rates(200, 0.001), smon.count / 0.2)
    trains = smon.spike_trains
    assert set(trains) == {0, 1, 2, 3}
    np.testing.assert_array_equal(trains[2], np.arange(period - 1, 200, period))
    steps, ids = smon.raster_data()
    assert steps.dtype == np.int64 and np.all(np.diff(steps) >= 0) and steps.size == 4 * (200 // period)
    assert vmon.traces["v"].shape == (200, 2) and vmon.traces["refractory"].shape == (200, 2)
    np.testing.assert_allclose(vmon.t[:3], [0.0, 0.001, 0.002])
    np.testing.assert_allclose(vmon.traces["v"][0], amp * (1 - math.exp(-1 / 20)))
    np.testing.assert_array_equal(vmon.v, vmon.traces["v"])
    # every 50-ms bin holds 50 / period spikes per neuron (up to one boundary spike)
    assert rmon.rate.shape == (4,)
    np.testing.assert_allclose(rmon.t, [0, 0.05, 0.1, 0.15])
    assert np.all(np.abs(rmon.rate - 1000.0 / period) <= 1000.0 / 50 + 1e-9)
    assert rmon.rate.mean() == pytest.approx(smon.count.mean() / 0.2, rel=0.15)
    with pytest.raises(ValueError, match="neuron"):
        smon.isi(4)


def test_state_monitor_record_forms_and_errors():
    pop = Population("lif", 5)
    assert StateMonitor(pop, record=3).n_recorded == 1
    assert StateMonitor(pop, record=True).n_recorded == 5
    assert StateMonitor(pop).n_recorded == 5
    with pytest.raises(ValueError, match="'w'.*valid: v, refractory"):
        StateMonitor(pop, ["w"])
    with pytest.raises(ValueError, match="record"):
        StateMonitor(pop, record=[0, 5])
    with pytest.raises(TypeError, match="record"):
        StateMonitor(pop, record=[0.5])
    with pytest.raises(ValueError, match="bin_ms"):
        RateMonitor(pop, bin_ms=0)
    with pytest.raises(TypeError, match="Population"):
        SpikeMonitor("pop")


# -- network -------------------------------------------------------------------------------
def _spike_pair(delay=0, tau_syn=None, weight=100.0):
    a, b = Population("lif", 1, label="A"), Population("lif", 1, label="B")
    ma, mb = SpikeMonitor(a), SpikeMonitor(b)
    proj = Projection(a, b, weight, topology="one_to_one", delay=delay, tau_syn=tau_syn)
    # one huge pulse at step 10 makes A spike exactly at step 10
    net = Network(a, b, proj, StepCurrent(10, 11, 1000.0, target=a), ma, mb)
    return net, ma, mb


@pytest.mark.parametrize("delay", [0, 1, 5])
def test_previous_spike_semantics_and_delay(delay):
    net, ma, mb = _spike_pair(delay=delay)
    net.run(0.03)
    assert ma.spike_times.tolist() == [10]
    assert mb.spike_times.tolist() == [10 + 1 + delay]


def test_exponential_synapse_current_trace():
    a, b = Population("lif", 1, label="A"), Population("lif", 1, label="B", params={"v_threshold": 1e9})
    w, tau_syn, tau, dt = 0.8, 5.0, 20.0, 1.0
    vmon = StateMonitor(b)
    net = Network(a, b, Projection(a, b, w, topology="one_to_one", tau_syn=tau_syn),
                  StepCurrent(3, 4, 1000.0, target=a), vmon)
    net.run(0.03)
    v, expect = 0.0, []
    for t in range(30):
        i_syn = w * math.exp(-(t - 4) * dt / tau_syn) if t >= 4 else 0.0  # spike at 3 arrives at 4
        v = i_syn + (v - i_syn) * math.exp(-dt / tau)
        expect.append(v)
    np.testing.assert_allclose(vmon.traces["v"][:, 0], expect, rtol=1e-12, atol=1e-15)


def test_run_twice_equals_run_once():
    cuba = load_cuba()

    def build():
        net = cuba.build_cuba(400, 100, seed=3)
        net.add(PoissonInput(50, 50.0, 2.0, dt=1e-4, target=net.populations[0]))
        net.add(Projection(net.populations[1], net.populations[0], -1.0, probability=0.05, delay=7, seed=5))
        return net

    one, two = build(), build()
    one.run(0.06, dt=1e-4)
    two.run(0.025, dt=1e-4)
    two.run(0.035, dt=1e-4)
    assert two.step_count == one.step_count == 600
    for m1, m2 in zip(one.monitors, two.monitors):
        s1, s2 = m1.raster_data(), m2.raster_data()
        assert s1[0].size > 50
        np.testing.assert_array_equal(s1[0], s2[0])
        np.testing.assert_array_equal(s1[1], s2[1])
    np.testing.assert_array_equal(one.populations[0].voltages, two.populations[0].voltages)


def test_adding_monitor_between_runs_continues():
    net, ma, mb = _spike_pair(delay=3)
    net.run(0.012)  # A spiked at step 10, arrival at 14 still pending
    late = SpikeMonitor(net.populations[1], label="late")
    net.add(late)
    net.run(0.01)
    assert mb.spike_times.tolist() == [14] and late.spike_times.tolist() == [14]


def test_network_rejects_foreign_objects():
    a, b = Population("lif", 2), Population("lif", 2)
    net = Network(a)
    with pytest.raises(TypeError, match="got object"):
        net.add(object())
    with pytest.raises(TypeError, match="got int"):
        Network(a, 3)
    with pytest.raises(ValueError, match="not in this network"):
        net.add(Projection(a, b, 1.0))
    with pytest.raises(ValueError, match="not in this network"):
        net.add(StepCurrent(0, 1, 1.0, target=b))
    with pytest.raises(ValueError, match="not in this network"):
        net.add(SpikeMonitor(b))
    with pytest.raises(ValueError, match="already in this network"):
        net.add(a)
    # a target set after adding is caught when the network compiles
    stim = ConstantCurrent(1.0)
    net.add(stim)
    stim.target = b
    with pytest.raises(ValueError, match="not in this network"):
        net.run(0.01)


def test_network_run_argument_errors_and_dt_change():
    net = Network(Population("lif", 2), ConstantCurrent(2.0))
    for bad in (0, -1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="duration"):
            net.run(bad)
    with pytest.raises(ValueError, match="dt"):
        net.run(0.1, dt=0)
    with pytest.raises(ValueError, match="shorter"):
        net.run(0.0001, dt=0.001)
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        net.run(0.01, backend="cuda")
    net.run(0.01)
    with pytest.raises(ValueError, match="dt changed"):
        net.run(0.01, dt=0.0005)
    net.reset()
    assert net.step_count == 0
    net.run(0.01, dt=0.0005)
    assert net.step_count == 20


def test_run_progress_bar(capsys):
    net = Network(Population("lif", 2))
    out = net.run(2.5, progress=True)
    err = capsys.readouterr().err
    assert "100.0%" in err and "(2500/2500 steps)" in err and out["n_steps"] == 2500


def test_to_torch_delegates_lazily(monkeypatch):
    calls = {}
    fake = types.ModuleType("engine.training.bridge")

    def network_to_torch(net, surrogate_fn=None, **kw):
        calls["args"] = (net, surrogate_fn, kw)
        return "module"

    fake.network_to_torch = network_to_torch
    monkeypatch.setitem(sys.modules, "engine.training.bridge", fake)
    net = Network(Population("lif", 2))
    assert net.to_torch(surrogate_fn="sg", batch=4) == "module"
    assert calls["args"] == (net, "sg", {"batch": 4})


def test_cuba_rate_in_expected_range():
    cuba = load_cuba()
    net = cuba.build_cuba()
    out = net.run(0.25, dt=cuba.DT)
    rate_exc = out["spike_counts"]["exc"] / 3200 / 0.25
    rate_inh = out["spike_counts"]["inh"] / 800 / 0.25
    # Brian2's CUBA settles near 5-6 Hz; 1 s gives 21-24 thousand spikes
    assert 4.0 < rate_exc < 8.0 and 4.0 < rate_inh < 8.0
    assert sum(p.nnz for p in net.projections) == pytest.approx(4000 * 4000 * 0.02, rel=0.01)


# -- plasticity -------------------------------------------------------------------------------
def _stdp_pair(pre_step, post_step, rule):
    a, b = Population("lif", 1, label="pre"), Population("lif", 1, label="post")
    proj = Projection(a, b, 0.5, topology="one_to_one", plasticity=rule)
    net = Network(a, b, proj, StepCurrent(pre_step, pre_step + 1, 1000.0, target=a),
                  StepCurrent(post_step, post_step + 1, 1000.0, target=b))
    net.run(0.05)
    return proj.data[0]


@pytest.mark.parametrize("d", [1, 4, 12])
def test_stdp_pair_rule_matches_analytic(d):
    from engine.network import STDP

    rule = STDP(tau_plus=10.0, tau_minus=15.0, a_plus=0.02, a_minus=0.03, w_min=0.0, w_max=1.0)
    # pre d steps (ms) before post: potentiation a_plus * exp(-d/tau_plus)
    assert _stdp_pair(10, 10 + d, rule) == pytest.approx(0.5 + 0.02 * math.exp(-d / 10.0), rel=1e-12)
    # post before pre: depression a_minus * exp(-d/tau_minus)
    assert _stdp_pair(10 + d, 10, rule) == pytest.approx(0.5 - 0.03 * math.exp(-d / 15.0), rel=1e-12)
    assert _stdp_pair(10, 10, rule) == 0.5


def test_stdp_clips_and_round_trips():
    from engine.network import STDP

    big = {"rule": "stdp", "a_plus": 5.0, "a_minus": 0.0, "w_min": -1.0, "w_max": 0.75}
    assert _stdp_pair(10, 11, big) == 0.75
    pop = Population("lif", 3, label="p")
    net = Network(pop, Projection(pop, pop, 0.1, plasticity=STDP(a_plus=0.05)))
    doc = net.to_dict()
    assert doc["projections"][0]["plasticity"]["a_plus"] == 0.05
    assert Network.from_dict(doc).projections[0].plasticity.a_plus == 0.05


def test_recompile_after_add_keeps_synaptic_currents():
    cuba = load_cuba()
    one, two = cuba.build_cuba(400, 100, seed=4), cuba.build_cuba(400, 100, seed=4)
    one.run(0.06, dt=1e-4)
    two.run(0.03, dt=1e-4)
    two.add(RateMonitor(two.populations[1], bin_ms=1))  # forces a recompile mid-run
    two.run(0.03, dt=1e-4)
    (s1, i1), (s2, i2) = one.monitors[0].raster_data(), two.monitors[0].raster_data()
    assert s1.size > 50
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(i1, i2)
    assert two.monitors[2].rate.shape == (30,)
