"""The reference single-neuron API of ``engine.neurons`` (SPEC 2.1, 2.9)."""

import math

import numpy as np
import pytest

import engine.neurons as neurons
from engine.models import NeuronModel, Real, registry
from engine.neurons import (
    BaseNeuron,
    HomeostaticLIFNeuron,
    SCIzhikevichNeuron,
    StochasticDendriticNeuron,
    StochasticLIFNeuron,
    scalar_class,
)


def spike_steps(neuron, current, n_steps):
    """1-based step numbers at which ``neuron`` spikes under constant input."""
    return [i + 1 for i in range(n_steps) if neuron.step(current)]


def reference_lif_run(inputs, *, v_rest=0.0, v_reset=0.0, v_threshold=1.0, tau_mem=20.0, dt=1.0,
                      noise_std=0.0, resistance=1.0, refractory_period=0, seed=None):
    """SPEC 2.1's StochasticLIFNeuron written out literally in plain Python:
    an independent oracle for the declaration-backed class."""
    rng = np.random.default_rng(seed)
    v, ref, out = v_rest, 0, []
    for current in inputs:
        if ref > 0:
            ref -= 1
            v = v_rest
            out.append(0)
            continue
        noise = rng.normal(0.0, noise_std * math.sqrt(dt)) if noise_std > 0 else 0.0
        v += -(v - v_rest) * dt / tau_mem + resistance * current * dt + noise
        if v >= v_threshold:
            v = v_reset
            ref = refractory_period
            out.append(1)
        else:
            out.append(0)
    return out, v


# -- StochasticLIFNeuron --------------------------------------------------------------
def test_defaults_are_the_documented_lif_constants():
    n = StochasticLIFNeuron()
    assert (n.v_rest, n.v_reset, n.v_threshold, n.tau_mem, n.dt, n.noise_std, n.resistance,
            n.refractory_period) == (0.0, 0.0, 1.0, 20.0, 1.0, 0.0, 1.0, 0)
    assert isinstance(n, BaseNeuron)
    assert n.get_state() == {"v": 0.0, "refractory": 0}
    assert StochasticLIFNeuron.declaration is registry["StochasticLIFNeuron"]


def test_positional_field_order_matches_reference():
    n = StochasticLIFNeuron(-0.1, -0.2, 0.8, 10.0, 0.5, 0.0, 2.0, 3, 7, None)
    assert (n.v_rest, n.v_reset, n.v_threshold, n.tau_mem, n.dt, n.resistance, n.refractory_period, n.seed) == \
        (-0.1, -0.2, 0.8, 10.0, 0.5, 2.0, 3, 7)


@pytest.mark.parametrize("current,dt,tau", [(0.1, 1.0, 20.0), (0.15, 0.5, 10.0), (0.3, 1.0, 5.0)])
def test_noise_free_first_spike_and_isi_match_euler_solution(current, dt, tau):
    # Euler map v_{n} = v_inf + (v_0 - v_inf)(1 - dt/tau)^n with v_inf = R*I*tau:
    # first n with v_n >= 1 is ceil(log((1 - v_inf)/(0 - v_inf)) / log(1 - dt/tau)).
    v_inf = current * tau
    n_first = math.ceil(math.log((1.0 - v_inf) / (0.0 - v_inf)) / math.log(1.0 - dt / tau))
    steps = spike_steps(StochasticLIFNeuron(tau_mem=tau, dt=dt), current, 10 * n_first)
    assert steps[0] == n_first
    # reset to v_reset = v_rest = 0 restarts the same trajectory: constant ISI
    assert set(np.diff(steps)) == {n_first}


def test_subthreshold_current_never_fires_and_settles_at_v_inf():
    n = StochasticLIFNeuron()
    assert spike_steps(n, 0.04, 2000) == []  # v_inf = 0.04*20 = 0.8 < 1
    assert n.get_state()["v"] == pytest.approx(0.8, abs=1e-9)


def test_refractory_period_holds_v_rest_and_lengthens_isi():
    n = StochasticLIFNeuron(refractory_period=3, v_rest=0.2, v_reset=-0.5)
    steps = spike_steps(n, 0.1, 100)
    ref_free, _ = reference_lif_run([0.1] * 100, refractory_period=3, v_rest=0.2, v_reset=-0.5)
    assert steps == [i + 1 for i, s in enumerate(ref_free) if s]
    n.reset_state()
    first = spike_steps(n, 0.1, steps[0])[-1]
    assert n.get_state() == {"v": -0.5, "refractory": 3}
    for remaining in (2, 1, 0):
        assert n.step(10.0) == 0  # even a huge input cannot fire while refractory
        assert n.get_state() == {"v": 0.2, "refractory": remaining}
    assert first == steps[0]


def test_noisy_run_matches_literal_spec_with_seed():
    rng = np.random.default_rng(11)
    inputs = rng.uniform(0.0, 0.25, 300)
    kw = dict(noise_std=0.05, refractory_period=2, tau_mem=15.0, dt=0.5, seed=1234)
    n = StochasticLIFNeuron(**kw)
    out = [n.step(i) for i in inputs]
    expected, v_end = reference_lif_run(inputs, **kw)
    assert out == expected and sum(out) > 5
    assert n.get_state()["v"] == v_end
    # a different seed gives a different spike train
    other = StochasticLIFNeuron(**{**kw, "seed": 99})
    assert [other.step(i) for i in inputs] != out


class CountingSource:
    """An entropy source returning a fixed sequence and recording calls."""

    def __init__(self, values):
        self.values = list(values)
        self.calls = []

    def sample_normal(self, mean, std):
        self.calls.append((mean, std))
        return self.values[len(self.calls) - 1]


def test_entropy_source_supplies_the_noise():
    src = CountingSource([0.5, 0.6, -0.3])
    n = StochasticLIFNeuron(noise_std=0.2, dt=0.25, entropy_source=src)
    assert n.step(0.0) == 0 and n.get_state()["v"] == 0.5
    assert n.step(0.0) == 1  # 0.5 - 0.5*0.25/20 + 0.6 >= 1
    assert src.calls == [(0.0, 0.2 * 0.5), (0.0, 0.2 * 0.5)]
    with pytest.raises(ValueError, match="entropy_source"):
        StochasticLIFNeuron(entropy_source=object())


def test_process_bitstream_returns_uint8_spikes():
    n = StochasticLIFNeuron(tau_mem=10.0)
    bits = np.array([1, 1, 0, 1, 1, 1, 0, 0, 1, 1])
    out = n.process_bitstream(bits, input_scale=0.4)
    expected, _ = reference_lif_run(bits * 0.4, tau_mem=10.0)
    assert out.dtype == np.uint8 and out.shape == bits.shape
    assert out.tolist() == expected and out.sum() >= 2
    assert n.process_bitstream(np.zeros(0)).shape == (0,)
    for bad, match in [(np.ones((2, 2)), "1-D"), (np.array([0, 2, 1]), "0 and 1"),
                       (np.array([0.0, np.nan]), "0 and 1"), (np.array(["1", "0"]), "bits")]:
        with pytest.raises(ValueError, match=match):
            n.process_bitstream(bad)
    with pytest.raises(ValueError, match="input_scale"):
        n.process_bitstream([1, 0], input_scale=np.inf)


@pytest.mark.parametrize("field,value", [
    ("tau_mem", 0.0), ("tau_mem", -1.0), ("tau_mem", np.nan), ("dt", 0.0), ("dt", np.inf), ("dt", -0.1),
    ("noise_std", -0.01), ("noise_std", np.nan), ("resistance", -1.0), ("resistance", np.inf),
    ("refractory_period", -1), ("refractory_period", 2.5), ("refractory_period", True),
    ("v_threshold", np.nan), ("v_rest", np.inf), ("v_reset", -np.inf), ("seed", -3), ("seed", 1.5),
])
def test_invalid_fields_raise_naming_the_parameter(field, value):
    with pytest.raises(ValueError, match=field):
        StochasticLIFNeuron(**{field: value})
    n = StochasticLIFNeuron()
    with pytest.raises(ValueError, match=field):
        setattr(n, field, value)


@pytest.mark.parametrize("current", [np.nan, np.inf, -np.inf, "abc", None])
def test_non_finite_input_current_raises(current):
    with pytest.raises(ValueError, match="input_current"):
        StochasticLIFNeuron().step(current)


def test_changing_a_field_after_construction_takes_effect():
    n = StochasticLIFNeuron()
    n.v_threshold = 0.5  # v_inf = 0.8 now crosses the lowered threshold
    assert spike_steps(n, 0.04, 200) != []


# -- HomeostaticLIFNeuron ---------------------------------------------------------------
def test_homeostatic_defaults_and_state():
    n = HomeostaticLIFNeuron()
    assert isinstance(n, StochasticLIFNeuron)
    assert (n.target_rate, n.adaptation_rate, n.trace_decay, n.threshold_floor, n.ceiling_multiple) == \
        (0.1, 0.01, 0.95, 0.1, 10.0)
    assert n.get_state() == {"v": 0.0, "refractory": 0, "threshold": 1.0, "rate_trace": 0.0}


def test_homeostatic_update_follows_the_rule_step_by_step():
    n = HomeostaticLIFNeuron(adaptation_rate=0.05)
    thr, trace = 1.0, 0.0
    for _ in range(60):
        spike = n.step(0.2)
        trace = trace * 0.95 + spike * (1 - 0.95)
        thr = min(max(thr + 0.05 * (trace - 0.1), 0.1), 10.0)
        s = n.get_state()
        assert s["rate_trace"] == pytest.approx(trace, abs=1e-12)
        assert s["threshold"] == pytest.approx(thr, abs=1e-12) == n.v_threshold


@pytest.mark.parametrize("current", [0.08, 0.3])
def test_homeostasis_drives_rate_toward_target(current):
    # with a fixed threshold, 0.08 (v_inf 1.6) fires every 19 steps (rate ~0.05) and
    # 0.3 (v_inf 6) every 4 steps (0.25); homeostasis pulls both to the target 0.1
    fixed = StochasticLIFNeuron()
    fixed_rate = np.mean([fixed.step(current) for _ in range(4000)])
    n = HomeostaticLIFNeuron(adaptation_rate=0.05)
    for _ in range(4000):
        n.step(current)
    rate = np.mean([n.step(current) for _ in range(2000)])
    assert abs(rate - 0.1) < 0.02
    assert abs(rate - 0.1) < abs(fixed_rate - 0.1)


def test_homeostatic_threshold_respects_floor_and_ceiling():
    silent = HomeostaticLIFNeuron(adaptation_rate=0.5)
    for _ in range(200):
        silent.step(0.0)
    assert silent.v_threshold == 0.1 == silent.get_state()["threshold"]
    busy = HomeostaticLIFNeuron(adaptation_rate=5.0, v_threshold=0.5, target_rate=0.0)
    for _ in range(300):
        busy.step(1.0)
    assert busy.v_threshold == pytest.approx(5.0, abs=1e-12)  # 10 x the initial 0.5
    busy.reset_state()
    assert busy.v_threshold == 0.5 == busy.initial_threshold


@pytest.mark.parametrize("field,value", [("target_rate", 1.5), ("target_rate", np.nan),
                                         ("adaptation_rate", -0.1), ("trace_decay", 1.2),
                                         ("threshold_floor", np.inf), ("ceiling_multiple", 0.5)])
def test_homeostatic_invalid_parameters(field, value):
    with pytest.raises(ValueError, match=field):
        HomeostaticLIFNeuron(**{field: value})


def test_homeostatic_floor_above_ceiling_rejected():
    with pytest.raises(ValueError, match="threshold_floor"):
        HomeostaticLIFNeuron(v_threshold=0.005)


# -- SCIzhikevichNeuron ---------------------------------------------------------------------
def isi_ms(neuron, current, duration_ms):
    steps = spike_steps(neuron, current, int(round(duration_ms / neuron.dt)))
    return np.diff(steps) * neuron.dt


def test_izhikevich_defaults_and_initial_state():
    n = SCIzhikevichNeuron()
    assert (n.a, n.b, n.c, n.d, n.dt, n.integrator) == (0.02, 0.2, -65.0, 8.0, 1.0, "baseline_half_euler")
    assert n.get_state() == {"v": -65.0, "u": pytest.approx(-13.0)}


def test_izhikevich_half_euler_step_by_hand():
    n = SCIzhikevichNeuron(dt=1.0)
    v, u = -65.0, -13.0
    for _ in range(2):  # SPEC 2.1: two half-steps of 0.5 ms of the whole system, v and u both advance
        dv, du = 0.04 * v * v + 5 * v + 140 - u + 10.0, 0.02 * (0.2 * v - u)
        v, u = v + 0.5 * dv, u + 0.5 * du
    n.step(10.0)
    assert n.get_state() == {"v": pytest.approx(v, abs=1e-12), "u": pytest.approx(u, abs=1e-12)}


@pytest.mark.parametrize("integrator", ["baseline_half_euler", "rk4"])
def test_izhikevich_rs_chattering_fast_spiking_by_isi_statistics(integrator):
    rs = isi_ms(SCIzhikevichNeuron(dt=0.25, integrator=integrator), 10.0, 1000)
    ch = isi_ms(SCIzhikevichNeuron(c=-50.0, d=2.0, dt=0.25, integrator=integrator), 10.0, 1000)
    fs = isi_ms(SCIzhikevichNeuron(a=0.1, d=2.0, dt=0.25, integrator=integrator), 10.0, 1000)
    # regular spiking: tonic, no bursts, adapting first interval
    assert len(rs) > 10 and rs.min() > 20.0 and rs[0] < rs[-1] and rs.std() / rs.mean() < 0.2
    # chattering: bursts of short ISIs separated by long pauses -> bimodal, CV > 1
    assert np.mean(ch < 8.0) > 0.5 and ch.max() > 40.0 and ch.std() / ch.mean() > 1.0
    # fast spiking: much higher regular rate without long pauses
    assert len(fs) > 4 * len(rs) and fs.max() < 15.0 and fs[5:].std() / fs[5:].mean() < 0.1


def test_izhikevich_resting_without_input():
    n = SCIzhikevichNeuron()
    assert spike_steps(n, 0.0, 500) == []
    assert n.get_state()["v"] == pytest.approx(-70.0, abs=0.5)  # stable rest of the RS cell


def test_izhikevich_spike_resets_v_and_increments_u():
    n = SCIzhikevichNeuron(integrator="rk4")
    steps = spike_steps(n, 15.0, 40)
    assert steps
    n.reset_state()
    for _ in range(steps[0] - 1):
        n.step(15.0)
    u_before = n.get_state()["u"]
    assert n.step(15.0) == 1
    s = n.get_state()
    assert s["v"] == -65.0 and s["u"] > u_before + 8.0 - 1.0


def test_izhikevich_noise_is_seeded():
    n1, n2 = SCIzhikevichNeuron(noise_std=10.0, seed=5), SCIzhikevichNeuron(noise_std=10.0, seed=5)
    t1 = [n1.step(3.0) for _ in range(400)]
    t2 = [n2.step(3.0) for _ in range(400)]
    assert t1 == t2 and n1.get_state() == n2.get_state()
    quiet = SCIzhikevichNeuron()
    assert sum(t1) > 0 == sum(quiet.step(3.0) for _ in range(400))  # 3.0 is subthreshold without noise
    other = SCIzhikevichNeuron(noise_std=10.0, seed=6)
    assert [other.step(3.0) for _ in range(400)] != t1


@pytest.mark.parametrize("kw,name", [({"integrator": "euler"}, "integrator"), ({"a": np.nan}, "'.*a'"),
                                     ({"a": -0.1}, "'.*a'"), ({"d": np.inf}, "'.*d'"),
                                     ({"noise_std": -1.0}, "noise_std"), ({"dt": 0.0}, "dt"),
                                     ({"seed": -1}, "seed")])
def test_izhikevich_invalid_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        SCIzhikevichNeuron(**kw)


# -- StochasticDendriticNeuron ----------------------------------------------------------------
def test_dendritic_xor_truth_table():
    n = StochasticDendriticNeuron()
    assert n.threshold == 0.5
    assert [[n.step(a, b) for b in (0, 1)] for a in (0, 1)] == [[0, 1], [1, 0]]
    assert n.get_state()["current"] == 0.0  # 1 + 1 - 2


def test_dendritic_graded_inputs_and_threshold():
    n = StochasticDendriticNeuron(threshold=0.3)
    assert n.step(0.2, 0.1) == 0  # 0.2 + 0.1 - 0.04 = 0.26
    assert n.get_state()["current"] == pytest.approx(0.26)
    assert n.step(0.7, 0.1) == 1  # 0.66
    assert n.step(0.5, 0.5) == 1  # 0.5
    with pytest.raises(ValueError, match="b"):
        n.step(0.5, np.nan)
    with pytest.raises(ValueError, match="threshold"):
        StochasticDendriticNeuron(threshold=np.inf)


# -- LapicqueNeuron and the generic factory ---------------------------------------------------
def test_lapicque_exact_exponential_spike_time():
    n = neurons.LapicqueNeuron(tau=10.0, dt=0.5)
    # v(t) = R I (1 - exp(-t/tau)) reaches 1 at t = -tau ln(1 - 1/(R I))
    t_cross = -10.0 * math.log(1 - 1 / 1.5)
    assert spike_steps(n, 1.5, 100)[0] == math.ceil(t_cross / 0.5)
    assert n.declaration is registry["LapicqueNeuron"]


def test_every_registered_model_has_a_module_level_scalar_class():
    for name, decl in registry.items():
        cls = getattr(neurons, name)
        assert cls is scalar_class(name) is scalar_class(decl)
        assert cls.declaration is decl


def test_generic_scalar_class_interface():
    cls = scalar_class("AdExNeuron")
    n = cls(b=0.0, dt=0.05)
    assert n.dt == 0.05 and n.b == 0.0 and isinstance(n, BaseNeuron)
    assert set(n.get_state()) == {"v", "w", "refractory"}
    assert all(isinstance(x, float) for x in n.get_state().values())
    n.a = 0.0
    assert n.model.a == 0.0
    with pytest.raises(ValueError, match="tau_w"):
        n.tau_w = -1.0
    with pytest.raises(ValueError, match="C"):
        cls(C=np.nan)
    with pytest.raises(ValueError, match="dt"):
        cls(dt=-1.0)
    with pytest.raises(ValueError, match="input_current"):
        n.step(np.nan)
    with pytest.raises(TypeError):
        cls(not_a_parameter=1.0)
    spikes = [n.step(2000.0) for _ in range(400)]
    assert sum(spikes) > 0
    n.reset_state()
    assert n.get_state()["v"] == n.E_L
    with pytest.raises(ValueError, match="unknown neuron model"):
        scalar_class("NoSuchNeuron")


def test_parameter_change_on_the_declaration_reaches_the_kernel():
    # the scalar steps a cached plain copy of the parameters; editing the model must refresh it
    n = neurons.LapicqueNeuron()
    assert spike_steps(n, 0.9, 300) == []  # v_inf = 0.9 < 1
    n.model.v_threshold = 0.5
    assert spike_steps(n, 0.9, 300) != []
    n.v_threshold = 5.0
    n.reset_state()
    assert spike_steps(n, 0.9, 300) == []


def test_fixed_point_lif_is_re_exported():
    from engine.models import fixed_point_lif

    assert neurons.FixedPointLIFNeuron is fixed_point_lif.FixedPointLIFNeuron
    n = neurons.FixedPointLIFNeuron()  # Q8.8, v_rest 0, threshold 256
    spike, v = n.step(leak_k=240, gain_k=16, I_t=100)
    # v = 0 + ((0 - 0)*240 >> 8) + (100*16 >> 8) = 6, below the threshold
    assert (spike, v) == (0, 6) and type(v) is int
    # next: 6 + ((0 - 6)*240 >> 8) + 6 = 6 - 6 + 6 (floor of -5.625 is -6) = 6
    assert n.step(leak_k=240, gain_k=16, I_t=100) == (0, 6)
    assert n.step(leak_k=0, gain_k=256, I_t=250) == (1, 0)  # 6 + 250 >= 256: fires, resets to 0


class ToyRate(NeuronModel):
    """r <- r + dt*(-r + max(I, 0))/tau  (a test-local rate unit, not registered)."""

    model_name = "ToyRateUnit"
    output = "rate"
    state_variables = {"r": 0.0}
    tau = Real(10.0, bounds=(1e-3, None), unit="ms", doc="time constant")

    def step(self, state, current, dt, rng=None):
        r = state["r"]
        r[...] = r + dt * (-r + np.maximum(current, 0.0)) / self.tau
        return r.copy()


def test_scalar_class_of_a_rate_model_returns_the_rate(monkeypatch):
    from engine.models import base

    cls = scalar_class(ToyRate)
    n = cls(tau=4.0, dt=1.0)
    assert n.step(2.0) == 0.5 and isinstance(n.step(2.0), float)
    assert n.get_state() == {"r": pytest.approx(0.875)}
    # a model registered after engine.neurons was imported is still exported by name
    monkeypatch.setitem(base.registry, "ToyRateUnit", ToyRate)
    monkeypatch.setitem(base._aliases, "toyrateunit", "ToyRateUnit")
    try:
        assert neurons.ToyRateUnit is cls and neurons.ToyRateUnit.declaration is ToyRate
    finally:
        vars(neurons).pop("ToyRateUnit", None)  # the lookup cached it on the module


@pytest.mark.parametrize("make,current", [(StochasticLIFNeuron, 0.03), (neurons.LapicqueNeuron, 0.6)])
def test_copies_are_independent_neurons(make, current):
    # v_inf = 0.6 in both (R*I*tau_mem for the Euler LIF, R*I for Lapicque): fires only below threshold 0.5
    import copy
    import pickle

    original = make()
    for clone in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        clone.v_threshold = 0.5  # must reach the clone's kernel only
        assert spike_steps(clone, current, 300) != []
        assert spike_steps(original, current, 300) == []
        original.reset_state()
