"""Characteristic behaviour of the oscillator models: FitzHugh-Nagumo,
Hindmarsh-Rose, resonate-and-fire and the theta neuron
(engine/models/{fitzhugh_nagumo,hindmarsh_rose,resonate_and_fire,theta}.py)."""

import math

import numpy as np
import pytest

from engine.models import get_model
from engine.models.fitzhugh_nagumo import FitzHughNagumo
from engine.models.hindmarsh_rose import HindmarshRose
from engine.models.resonate_and_fire import ResonateAndFire
from engine.models.theta import ThetaNeuron


def simulate(model, currents, dt, n_steps, record, state=None):
    currents = np.asarray(currents, dtype=float)
    state = model.initial_state(len(currents)) if state is None else state
    spikes = np.empty((n_steps, len(currents)))
    trace = np.empty((n_steps, len(currents)))
    for k in range(n_steps):
        spikes[k] = model.step(state, currents, dt)
        trace[k] = state[record]
    return spikes, trace


def upward_crossings(x, level, dt):
    """Times of upward crossings of ``level`` by the sampled trace ``x``,
    linearly interpolated between samples (sample k is at time (k+1)*dt)."""
    k = np.flatnonzero((x[:-1] < level) & (x[1:] >= level))
    frac = (level - x[k]) / (x[k + 1] - x[k])
    return (k + 1 + frac) * dt


# -- FitzHugh-Nagumo ----------------------------------------------------------

FHN_DT = 0.1
FHN_CURRENTS = [0.0, 0.30, 0.35, 0.5, 1.0, 1.40, 1.45, 2.0]


@pytest.fixture(scope="module")
def fhn_run():
    return simulate(FitzHughNagumo(), FHN_CURRENTS, FHN_DT, 10000, "v")  # 1000 time units


def fhn_fixed_point(i_ext, a=0.7, b=0.8):
    # v - v^3/3 - (v + a)/b + I = 0  ->  -v^3/3 + (1 - 1/b) v + (I - a/b) = 0
    roots = np.roots([-1.0 / 3.0, 0.0, 1.0 - 1.0 / b, i_ext - a / b])
    return float(roots[np.abs(roots.imag) < 1e-9].real[0])


def test_fhn_limit_cycle_period_converges_and_amplitude_is_constant(fhn_run):
    _, v = fhn_run
    for j in (FHN_CURRENTS.index(0.5), FHN_CURRENTS.index(1.0)):
        t = upward_crossings(v[:, j], 0.0, FHN_DT)
        periods = np.diff(t)
        assert len(periods) >= 20
        late = periods[-8:]
        assert np.ptp(late) < 1e-3 * late.mean()  # period has converged
        # amplitude: the per-cycle maxima of the last cycles are equal
        cycle_max = [v[int(t0 / FHN_DT):int(t1 / FHN_DT), j].max() for t0, t1 in zip(t[-6:-1], t[-5:])]
        assert np.ptp(cycle_max) < 2e-3
        assert 1.7 < np.mean(cycle_max) < 2.1 and v[-400:, j].min() < -1.7
    # measured periods (RK4, 0.1 substeps): ~39.4 at I = 0.5, ~36.7 at I = 1.0
    p05 = np.diff(upward_crossings(v[:, 3], 0.0, FHN_DT))[-5:].mean()
    p10 = np.diff(upward_crossings(v[:, 4], 0.0, FHN_DT))[-5:].mean()
    assert 38.5 < p05 < 40.5 and 36.0 < p10 < 37.5


def test_fhn_settles_on_fixed_point_outside_oscillatory_range(fhn_run):
    spikes, v = fhn_run
    late = slice(7000, None)  # last 300 time units
    for i_ext in (0.0, 0.30, 1.45, 2.0):
        j = FHN_CURRENTS.index(i_ext)
        assert spikes[late, j].sum() == 0
        assert np.ptp(v[late, j]) < 1e-4
        assert v[-1, j] == pytest.approx(fhn_fixed_point(i_ext), abs=1e-4)
    # ... and oscillates just inside the Hopf points (I ~ 0.331 and ~ 1.419)
    for i_ext in (0.35, 1.40):
        j = FHN_CURRENTS.index(i_ext)
        assert spikes[late, j].sum() >= 5
        assert np.ptp(v[late, j]) > 3.0


def test_fhn_cycle_is_an_attractor():
    model = FitzHughNagumo()
    state = model.initial_state(2)
    state["v"][1], state["w"][1] = 2.0, 1.5  # a far-away start
    _, v = simulate(model, [0.5, 0.5], FHN_DT, 3000, "v", state=state)
    p = [np.diff(upward_crossings(v[:, j], 0.0, FHN_DT))[-3:].mean() for j in range(2)]
    assert p[0] == pytest.approx(p[1], rel=1e-3)
    assert v[-400:, 0].max() == pytest.approx(v[-400:, 1].max(), abs=1e-3)
    assert FitzHughNagumo.phase_plane == ("v", "w")


# -- Hindmarsh-Rose -----------------------------------------------------------

def test_hindmarsh_rose_bursting_rest_and_tonic_spiking():
    dt = 0.1
    model = HindmarshRose(max_substep=dt)
    currents = [1.0, 2.0, 4.0]
    spikes, _ = simulate(model, currents, dt, 16000, "x")  # 1600 time units
    skip = 4000  # discard the first 400 time units (slow z transient)
    assert spikes[skip:, 0].sum() == 0  # I = 1: rest
    t = np.flatnonzero(spikes[skip:, 1]) * dt
    isi = np.diff(t)
    gaps = isi > 100.0
    # I = 2: square-wave bursts -- 9 spikes each, ISIs of 12-31 inside a burst
    # (slowing down towards its end), ~300 time units of silence between bursts
    assert gaps.sum() >= 2
    burst_sizes = np.diff(np.flatnonzero(gaps))
    assert np.all(burst_sizes == 9)
    assert 10.0 < isi[~gaps].min() and isi[~gaps].max() < 40.0
    assert 250.0 < isi[gaps].min() and isi[gaps].max() < 350.0
    # I = 4: tonic spiking, no long pauses
    isi4 = np.diff(np.flatnonzero(spikes[skip:, 2]) * dt)
    assert len(isi4) > 40 and isi4.max() < 25.0


def test_hindmarsh_rose_validation():
    with pytest.raises(ValueError, match="r"):
        HindmarshRose(r=-0.001)
    with pytest.raises(ValueError, match="b"):
        HindmarshRose(b=float("nan"))


# -- resonate-and-fire ------------------------------------------------------------

def rf_pulse_pair(model, interval_ms, amplitude=9.0, dt=0.1, n_steps=600):
    """Number of spikes after two one-step pulses ``interval_ms`` apart."""
    state = model.initial_state(1)
    second = int(round(interval_ms / dt))
    count = 0.0
    for k in range(n_steps):
        i_ext = amplitude if k in (0, second) else 0.0
        count += model.step(state, np.array([i_ext]), dt)[0]
    return count


def test_resonate_and_fire_detects_resonant_pulse_interval():
    model = ResonateAndFire()  # b = -0.05 /ms, omega = 2 pi / 10 ms
    period = model.period
    assert period == pytest.approx(10.0)
    assert rf_pulse_pair(model, 1e6) == 0  # one pulse alone is subthreshold
    assert rf_pulse_pair(model, period) == 1  # in phase: adds up and fires
    for k in (0.5, 0.75, 1.25, 1.5):  # out of phase: cancels
        assert rf_pulse_pair(model, k * period) == 0


def test_resonate_and_fire_exact_propagator():
    model = ResonateAndFire()
    b, w = model.b, model.omega
    # constant input: fixed point z* = -I / (b + i omega)
    state = model.initial_state(1)
    i_ext = 0.02
    for _ in range(40):
        model.step(state, np.array([i_ext]), 25.0)
    assert state["x"][0] == pytest.approx(-i_ext * b / (b * b + w * w), rel=1e-9)
    assert state["y"][0] == pytest.approx(i_ext * w / (b * b + w * w), rel=1e-9)
    # free damped rotation: 10 steps of 0.1 ms == 1 step of 1 ms == closed form
    s1 = {"x": np.array([0.5]), "y": np.array([0.0])}
    s2 = {"x": np.array([0.5]), "y": np.array([0.0])}
    for _ in range(10):
        model.step(s1, np.zeros(1), 0.1)
    model.step(s2, np.zeros(1), 1.0)
    expected_y = 0.5 * math.exp(b * 1.0) * math.sin(w * 1.0)
    assert s1["y"][0] == pytest.approx(expected_y, rel=1e-12)
    assert s2["y"][0] == pytest.approx(expected_y, rel=1e-12)
    with pytest.raises(ValueError, match="b"):
        ResonateAndFire(b=0.1)  # growing oscillation is out of range


# -- theta neuron ---------------------------------------------------------------

def test_theta_neuron_period_is_pi_tau_over_sqrt_i():
    tau, dt = 2.0, 0.01
    model = ThetaNeuron(tau=tau, theta_init=-math.pi)  # start right after a spike
    currents = np.array([0.25, 1.0, 4.0])
    spikes, _ = simulate(model, currents, dt, 6000, "theta")
    for j, i_ext in enumerate(currents):
        period = math.pi * tau / math.sqrt(i_ext)
        steps = np.flatnonzero(spikes[:, j]) + 1  # spike in step k ends at (k+1) dt
        k = np.arange(1, len(steps) + 1)
        # exact integration: the k-th spike falls in the step containing k * period
        assert len(steps) == int(60.0 // period)
        assert np.all(steps == np.ceil(k * period / dt - 1e-9))


def test_theta_neuron_rests_for_negative_drive_and_is_excitable():
    model = ThetaNeuron()
    spikes, theta = simulate(model, [-0.5, 0.0], 0.1, 500, "theta")
    assert spikes.sum() == 0
    # stable node at theta = -2 arctan(sqrt(-I)); I = 0 from theta = 0: stays
    assert theta[-1, 0] == pytest.approx(-2.0 * math.atan(math.sqrt(0.5)), abs=1e-9)
    assert theta[-1, 1] == 0.0
    # a kick past the unstable point +2 arctan(sqrt(0.5)) = 1.23 gives one spike
    state = {"theta": np.array([1.1, 1.4])}
    spikes, theta = simulate(model, [-0.5, -0.5], 0.1, 300, "theta", state=state)
    assert spikes[:, 0].sum() == 0 and spikes[:, 1].sum() == 1
    assert theta[-1, 1] == pytest.approx(-2.0 * math.atan(math.sqrt(0.5)), abs=1e-6)


def test_theta_neuron_is_exact_for_any_dt():
    model = ThetaNeuron()
    currents = np.array([-2.0, -0.3, 0.0, 0.2, 3.0])
    finals = []
    for dt in (0.01, 0.5):
        state = {"theta": np.array([1.5, 0.6, 0.3, -3.0, 2.0])}
        for _ in range(int(round(4.0 / dt))):
            model.step(state, currents, dt)
        finals.append(state["theta"])
    np.testing.assert_allclose(finals[0], finals[1], atol=1e-9)
    with pytest.raises(ValueError, match="tau"):
        ThetaNeuron(tau=-1.0)
    with pytest.raises(ValueError, match="current"):
        model.step({"theta": np.zeros(1)}, np.array([np.inf]), 0.1)


@pytest.mark.parametrize("name", ["FitzHughNagumoNeuron", "HindmarshRoseNeuron",
                                  "ResonateAndFireNeuron", "ThetaNeuron"])
def test_population_of_one_matches_population(name):
    model = get_model(name)()
    currents = np.array([-0.5, 0.0, 0.5, 3.0])
    pop = model.initial_state(4)
    singles = [model.initial_state(1) for _ in currents]
    for _ in range(200):
        out = model.step(pop, currents, 0.2)
        for j, s in enumerate(singles):
            assert model.step(s, currents[j:j + 1], 0.2)[0] == out[j]
    for j, s in enumerate(singles):
        for var in pop:
            assert s[var][0] == pytest.approx(pop[var][j], abs=1e-12)
