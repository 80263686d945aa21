"""Characteristic behaviour of the map, rate and hardware-style models: Rulkov
map, Wilson-Cowan, TrueNorth and SpiNNaker LIF
(engine/models/{rulkov,wilson_cowan,truenorth,spinnaker_lif}.py)."""

import math

import numpy as np
import pytest

from engine.models import get_model
from engine.models.rulkov import RulkovMap
from engine.models.spinnaker_lif import SpiNNakerLIFNeuron
from engine.models.truenorth import TrueNorthNeuron
from engine.models.wilson_cowan import WilsonCowan


def iterate(model, currents, n_steps, dt=1.0, state=None, record=None, rng=None):
    currents = np.asarray(currents, dtype=float)
    state = model.initial_state(len(currents)) if state is None else state
    out = []
    trace = []
    for _ in range(n_steps):
        out.append(model.step(state, currents, dt, rng))
        if record:
            trace.append(state[record].copy())
    return (np.array(out), np.array(trace)) if record else np.array(out)


# -- Rulkov map ------------------------------------------------------------------

def test_rulkov_silent_region_converges_to_fixed_point():
    model = RulkovMap(alpha=4.1, sigma=-1.0)
    state = model.initial_state(1)
    spikes = iterate(model, [0.0], 5000, state=state)
    assert spikes[1000:].sum() == 0
    x_star = model.sigma - 1.0  # fixed point of y: x* = sigma - 1
    assert state["x"][0] == pytest.approx(x_star, abs=1e-5)
    assert state["y"][0] == pytest.approx(x_star - model.alpha / (1 + x_star ** 2), abs=1e-5)
    # the silence is excitable: enough drive makes it fire
    assert iterate(model, [0.6], 3000).sum() > 10


def test_rulkov_default_region_bursts_chaotically():
    model = RulkovMap()  # alpha = 4.1, sigma = -0.4
    state = model.initial_state(2)
    state["x"][1] += 1e-9
    spikes, x = iterate(model, [0.0, 0.0], 10000, state=state, record="x")
    t = np.flatnonzero(spikes[2000:, 0])
    isi = np.diff(t)
    gaps = isi > 100
    # bursts of tens of spikes (ISI <= 30 iterations inside a burst) separated
    # by hundreds of silent iterations
    assert gaps.sum() >= 10
    sizes = np.diff(np.flatnonzero(gaps))
    assert sizes.min() >= 10 and np.median(sizes) > 15
    assert isi[~gaps].max() <= 30
    assert 150 < np.median(isi[gaps]) < 500
    # chaos: a 1e-9 difference in x grows to order one
    assert np.max(np.abs(x[1000:, 0] - x[1000:, 1])) > 0.5


def test_rulkov_tonic_region_and_dt_independence():
    model = RulkovMap(alpha=4.5, sigma=0.6)
    t = np.flatnonzero(iterate(model, [0.0], 5000)[1000:, 0])
    assert len(t) > 500 and np.diff(t).max() < 20  # spikes without pauses
    assert RulkovMap.uses_dt is False
    a, b = RulkovMap(), RulkovMap()
    np.testing.assert_array_equal(iterate(a, [0.1], 500, dt=1.0), iterate(b, [0.1], 500, dt=0.01))
    with pytest.raises(ValueError, match="mu"):
        RulkovMap(mu=-0.1)


# -- Wilson-Cowan ------------------------------------------------------------------

def test_wilson_cowan_classic_parameters_oscillate():
    model = WilsonCowan()
    dt = 0.5
    e, _ = iterate(model, [0.0], 2000, dt=dt, record="E")  # 1 s
    late = e[1000:, 0]
    k = np.flatnonzero((late[:-1] < 0.18) & (late[1:] >= 0.18))
    t = (k + (0.18 - late[k]) / (late[k + 1] - late[k])) * dt  # interpolated crossings
    periods = np.diff(t)
    assert len(periods) >= 8
    assert np.ptp(periods) < 1e-3 * periods.mean()  # the period has converged
    assert 45.0 < periods.mean() < 55.0  # ~50 ms with tau = 10 ms
    assert late.max() == pytest.approx(0.2697, abs=2e-3)
    assert late.min() == pytest.approx(0.1026, abs=2e-3)
    cycle_max = [late[a:b].max() for a, b in zip(k[:-1], k[1:])]
    assert np.ptp(cycle_max) < 2e-3  # limit cycle: constant amplitude (sampled every 0.5 ms)


def wc_rhs(model, e, i):
    """Independent evaluation of the Wilson-Cowan right-hand side (tau = 1)."""
    def s(x, a, th):
        return 1 / (1 + math.exp(-a * (x - th))) - 1 / (1 + math.exp(a * th))
    k_e = 1 - 1 / (1 + math.exp(model.a_e * model.theta_e))
    k_i = 1 - 1 / (1 + math.exp(model.a_i * model.theta_i))
    de = -e + (k_e - e) * s(model.c1 * e - model.c2 * i + model.p, model.a_e, model.theta_e)
    di = -i + (k_i - i) * s(model.c3 * e - model.c4 * i + model.q, model.a_i, model.theta_i)
    return de, di


def test_wilson_cowan_other_parameters_have_stable_steady_state():
    model = WilsonCowan(**WilsonCowan.PARAMETER_SETS["steady_state"])
    state = model.initial_state(3)
    state["E"][:] = [0.0, 0.2, 0.4]
    state["I"][:] = [0.0, 0.3, 0.05]
    out, _ = iterate(model, [0.0, 0.0, 0.0], 3000, dt=0.5, state=state, record="E")
    e, i = state["E"], state["I"]
    # every start converges to the same point, and it is a fixed point
    assert np.ptp(e) < 1e-9 and np.ptp(i) < 1e-9
    assert e[0] == pytest.approx(0.0063, abs=2e-4)
    de, di = wc_rhs(model, e[0], i[0])
    assert abs(de) < 1e-10 and abs(di) < 1e-10
    # rate output: the graded E activity itself
    assert WilsonCowan.output == "rate"
    np.testing.assert_array_equal(out[-1], e)


def test_wilson_cowan_validation():
    with pytest.raises(ValueError, match="tau_e"):
        WilsonCowan(tau_e=-10.0)
    with pytest.raises(ValueError, match="a_e"):
        WilsonCowan(a_e=float("nan"))
    model = WilsonCowan()
    with pytest.raises(ValueError, match="current"):
        model.step(model.initial_state(1), np.array([np.nan]), 0.1)


# -- TrueNorth ------------------------------------------------------------------

def run_truenorth(model, inputs, v0=0, rng=None):
    state = {"v": np.array([v0], dtype=np.int64)}
    spikes, vs = [], []
    for x in inputs:
        spikes.append(int(model.step(state, np.array([x]), 1.0, rng)[0]))
        vs.append(int(state["v"][0]))
    return spikes, vs


def test_truenorth_linear_reset_matches_hand_computation():
    # V += I; V += lambda (-2); spike if V >= 10, then V -= 10
    model = TrueNorthNeuron(leak=-2, threshold=10, reset_mode=1)
    spikes, vs = run_truenorth(model, [5, 5, 5, 0, 7, 20])
    assert vs == [3, 6, 9, 7, 2, 10]
    assert spikes == [0, 0, 0, 0, 1, 1]
    assert model.integer and model.step(model.initial_state(1), np.zeros(1), 1.0).dtype == np.int64


def test_truenorth_reset_modes_and_negative_threshold():
    # gamma = 0: reset to R = 3 ; 12 - 1 = 11 >= 10
    assert run_truenorth(TrueNorthNeuron(threshold=10, reset_value=3), [12, 0]) == ([1, 0], [3, 2])
    # gamma = 2: no reset, fires while V stays above threshold
    assert run_truenorth(TrueNorthNeuron(threshold=10, reset_mode=2), [11, 0, 0]) == ([1, 0, 0], [10, 9, 8])
    # input rounded to nearest integer (2.6 -> 3); -21 is below -beta = -5:
    # kappa = 1 saturates at -5, kappa = 0 mirrors the reset (-R or V + beta)
    sat = TrueNorthNeuron(leak=0, neg_threshold=5)
    assert run_truenorth(sat, [2.6, -24]) == ([0, 0], [3, -5])
    mirrored = TrueNorthNeuron(leak=-1, neg_threshold=5, neg_saturate=0, reset_value=3)
    assert run_truenorth(mirrored, [-20]) == ([0], [-3])
    linear = TrueNorthNeuron(leak=-1, neg_threshold=5, neg_saturate=0, reset_mode=1)
    assert run_truenorth(linear, [-20]) == ([0], [-16])


def test_truenorth_leak_reversal_and_register_wrap():
    rev = TrueNorthNeuron(leak=-2, leak_reversal=1, neg_threshold=100)
    assert run_truenorth(rev, [5, 0, 0, 0])[1] == [3, 1, -1, 1]
    assert run_truenorth(rev, [-5, 0])[1] == [-3, -1]
    # an 8-bit register wraps 130 to 130 - 256 = -126 before the threshold test
    small = TrueNorthNeuron(leak=0, threshold=100, neg_threshold=200, v_bits=8)
    assert run_truenorth(small, [130, 0]) == ([0, 0], [-126, -126])


def test_truenorth_stochastic_threshold_is_reproducible_with_rng():
    model = TrueNorthNeuron(leak=0, threshold=10, threshold_mask_bits=3, reset_mode=2, neg_threshold=0)
    inputs = [12] + [0] * 49  # V = 12 held; fires when eta <= 2
    spikes, _ = run_truenorth(model, inputs, rng=np.random.default_rng(7))
    eta = np.random.default_rng(7).integers(0, 8, size=50)
    assert spikes == [int(12 >= 10 + e) for e in eta]
    assert 0 < sum(spikes) < 50
    with pytest.raises(ValueError, match="rng"):
        model.step(model.initial_state(1), np.zeros(1), 1.0, None)
    with pytest.raises(ValueError, match="reset_mode"):
        TrueNorthNeuron(reset_mode=3)


# -- SpiNNaker LIF ------------------------------------------------------------------

def spinnaker_reference(i_na, n_steps, dt=1.0, tau_m=20.0, cm=1.0, v_rest=-65.0,
                        v_reset=-65.0, v_thresh=-50.0, tau_refrac=2.0):
    """Pure-Python-int s16.15 reference written from sPyNNaker's LIF update."""
    def q(x):  # round to nearest, ties away from zero
        return int(math.copysign(math.floor(abs(x) * 32768 + 0.5), x))

    def mul(a, b):
        return (a * b) >> 15
    exp_tc, r, vr, vreset, vth = q(math.exp(-dt / tau_m)), q(tau_m / cm), q(v_rest), q(v_reset), q(v_thresh)
    t_ref = math.ceil(tau_refrac / dt)
    v, ref, spikes, vs = vr, 0, [], []
    for _ in range(n_steps):
        if ref <= 0:
            alpha = mul(q(i_na), r) + vr
            v = alpha - mul(exp_tc, alpha - v)
        else:
            ref -= 1
        fired = v >= vth  # checked every step, as neuron_impl_standard does
        if fired:
            v, ref = vreset, t_ref
        spikes.append(int(fired))
        vs.append(v)
    return spikes, vs


def test_spinnaker_lif_first_step_by_hand():
    # exp(-1/20) * 2^15 = 31169.89 -> 31170; R = 20 MOhm -> 655360; I = 1 nA -> 32768
    # alpha = (32768 * 655360 >> 15) + (-65 * 2^15) = 655360 - 2129920 = -1474560
    # V = alpha - (31170 * (alpha - V0) >> 15) = -1474560 - (31170 * 655360 >> 15)
    #   = -1474560 - 623400 = -2097960   (-64.0247 mV; float: -64.0246 mV)
    model = SpiNNakerLIFNeuron()
    state = model.initial_state(1)
    model.step(state, np.array([1.0]), 1.0)
    assert int(state["v"][0]) == -2097960
    assert model.to_mV(state["v"])[0] == pytest.approx(-65 + 20 * (1 - math.exp(-0.05)), abs=1e-3)


def test_spinnaker_lif_bit_true_trajectory_with_refractoriness():
    model = SpiNNakerLIFNeuron(tau_refrac=2.0)
    state = model.initial_state(1)
    spikes, vs = [], []
    for _ in range(150):
        spikes.append(int(model.step(state, np.array([1.0]), 1.0)[0]))
        vs.append(int(state["v"][0]))
    ref_spikes, ref_vs = spinnaker_reference(1.0, 150)
    assert vs == ref_vs and spikes == ref_spikes
    # V_inf = -45 mV: first crossing of -50 mV at 20 ln 4 = 27.7 ms -> step 28;
    # then 2 refractory steps and the same 28-step climb: period 30
    steps = np.flatnonzero(spikes) + 1
    assert steps[0] == 28
    assert np.all(np.diff(steps) == 30)


def test_spinnaker_lif_validation_and_units():
    with pytest.raises(ValueError, match="tau_m"):
        SpiNNakerLIFNeuron(tau_m=0.0)
    with pytest.raises(ValueError, match="cm"):
        SpiNNakerLIFNeuron(cm=float("nan"))
    assert SpiNNakerLIFNeuron.integer and SpiNNakerLIFNeuron.current_unit == "nA"
    state = SpiNNakerLIFNeuron().initial_state(3)
    assert state["v"].dtype == np.int64 and np.all(state["v"] == -65 * 2 ** 15)


@pytest.mark.parametrize("name, currents", [
    ("RulkovMapNeuron", [0.0, 0.3, -0.2]), ("WilsonCowanPopulation", [0.0, 1.0, -1.0]),
    ("TrueNorthNeuron", [0.0, 30.0, -7.0]), ("SpiNNakerLIFNeuron", [0.0, 1.0, 3.0]),
])
def test_population_of_one_matches_population(name, currents):
    model = get_model(name)()
    currents = np.array(currents)
    pop = model.initial_state(3)
    singles = [model.initial_state(1) for _ in currents]
    for _ in range(300):
        out = model.step(pop, currents, 0.5)
        for j, s in enumerate(singles):
            assert model.step(s, currents[j:j + 1], 0.5)[0] == out[j]
    for j, s in enumerate(singles):
        for var in pop:
            assert s[var][0] == pytest.approx(pop[var][j], abs=1e-12)
