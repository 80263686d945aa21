"""Characteristic behaviour of the conductance-based models: Hodgkin-Huxley,
Wang-Buzsaki and Morris-Lecar (engine/models/{hodgkin_huxley,wang_buzsaki,
morris_lecar}.py).

F-I curves are measured on one population with one current per neuron, so a
whole curve costs a single simulation.
"""

import numpy as np
import pytest

from engine.models import get_model
from engine.models.hodgkin_huxley import HodgkinHuxley, hh_rates
from engine.models.morris_lecar import MorrisLecar
from engine.models.wang_buzsaki import WangBuzsaki


def simulate(model, currents, dt, t_ms, record=None):
    """Constant currents (one per neuron) for ``t_ms``; returns the (steps, n)
    spike array and, if ``record`` names a variable, its (steps, n) trace."""
    currents = np.asarray(currents, dtype=float)
    state = model.initial_state(len(currents))
    n_steps = int(round(t_ms / dt))
    spikes = np.empty((n_steps, len(currents)))
    trace = np.empty((n_steps, len(currents))) if record else None
    for k in range(n_steps):
        spikes[k] = model.step(state, currents, dt)
        if record:
            trace[k] = state[record]
    return (spikes, trace) if record else spikes


def spike_times(spikes, dt, j=0):
    return np.flatnonzero(spikes[:, j]) * dt


def rates_hz(spikes, dt, t_from):
    """Steady firing rate per neuron from the mean ISI of the spikes after
    ``t_from`` ms (0 when fewer than two)."""
    out = []
    for j in range(spikes.shape[1]):
        t = spike_times(spikes, dt, j)
        t = t[t >= t_from]
        out.append(1000.0 * (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 else 0.0)
    return np.array(out)


# -- Hodgkin-Huxley -------------------------------------------------------------

def test_hh_rest_state_is_steady_at_minus_65_mv():
    model = HodgkinHuxley()
    state = model.initial_state(1)
    m, h, n = state["m"][0], state["h"][0], state["n"][0]
    # textbook steady-state gates at -65 mV (Dayan & Abbott 2001)
    assert m == pytest.approx(0.0529, abs=5e-4)
    assert h == pytest.approx(0.5961, abs=5e-4)
    assert n == pytest.approx(0.3177, abs=5e-4)
    # E_L = -54.387 mV is chosen so that the resting potential is -65 mV
    spikes, v = simulate(model, [0.0], 0.05, 40.0, record="v")
    assert spikes.sum() == 0
    assert np.max(np.abs(v + 65.0)) < 0.05


def test_hh_rate_removable_singularity_is_finite():
    # alpha_m = 0.1 (V+40)/(1-exp(-(V+40)/10)) -> 1.0 at V = -40 exactly
    v = np.array([-40.0, -40.0 + 1e-9, -55.0])
    r = hh_rates(v, HodgkinHuxley._SHIFTS)
    assert np.all(np.isfinite(r))
    assert r[0, 0] == pytest.approx(1.0, rel=1e-12)
    assert r[0, 1] == pytest.approx(1.0, rel=1e-8)
    assert r[2, 2] == pytest.approx(0.1, rel=1e-12)  # alpha_n at V = -55


def test_hh_repetitive_firing_threshold_and_fi_curve():
    # Classic HH: repetitive firing needs I above ~6.2-6.3 uA/cm^2; below it a
    # step gives at most a few transient spikes and then rest.
    # (Our integration: sustained firing from rest for I >= 6.26 uA/cm^2, the
    # same with 0.01, 0.025 and 0.05 ms steps.)
    currents = [6.0, 6.2, 6.35, 7.0, 10.0, 20.0, 50.0]
    dt = 0.05
    spikes = simulate(HodgkinHuxley(max_substep=dt), currents, dt, 300.0)
    late = spikes[int(150 / dt):].sum(axis=0)  # spikes in 150-300 ms
    assert late[0] == 0 and late[1] == 0
    assert spikes[:, 0].sum() <= 3 and spikes[:, 1].sum() <= 3
    assert np.all(late[2:] >= 8)
    rates = rates_hz(spikes[int(100 / dt):], dt, 0.0)[2:]
    # F-I curve: discontinuous onset (class II) at ~50 Hz, then increasing
    assert 45.0 < rates[0] < 60.0
    assert np.all(np.diff(rates) > 0)
    assert 65.0 < rates[2] < 72.0  # I = 10: ~68 Hz
    assert rates[-1] > 110.0


def test_hh_spike_shape():
    dt = 0.025
    _, v = simulate(HodgkinHuxley(), [10.0], dt, 60.0, record="v")
    v = v[:, 0]
    # overshoot to about +40 mV and after-hyperpolarisation below rest
    assert 30.0 < v.max() < 50.0
    assert -80.0 < v[int(20 / dt):].min() < -70.0


def test_hh_dt_convergence_of_spike_times():
    # RK4 with the same internal substep: dt = 0.01 and 0.05 ms must agree to
    # within one coarse step, and dt = 1 ms (40 internal substeps) to within 1 ms.
    fine = spike_times(simulate(HodgkinHuxley(), [10.0], 0.01, 50.0), 0.01)
    coarse = spike_times(simulate(HodgkinHuxley(), [10.0], 0.05, 50.0), 0.05)
    assert len(fine) == len(coarse) == 4
    assert np.max(np.abs(fine - coarse)) <= 0.05 + 1e-9
    spikes_1ms = simulate(HodgkinHuxley(), [10.0], 1.0, 50.0)
    big = spike_times(spikes_1ms, 1.0)
    assert len(big) == 4
    assert np.max(np.abs(big - fine)) < 1.0


def test_hh_large_step_stays_finite_and_temperature_speeds_up():
    model = HodgkinHuxley()
    state = model.initial_state(2)
    for _ in range(20):
        model.step(state, np.array([0.0, 200.0]), 1.0)
    assert all(np.all(np.isfinite(a)) for a in state.values())
    assert np.all((state["m"] >= 0) & (state["m"] <= 1))
    # Q10 = 3: at 16.3 C the gates are 3x faster, so the neuron fires faster
    dt = 0.05
    cold = rates_hz(simulate(HodgkinHuxley(max_substep=dt), [20.0], dt, 50.0), dt, 10.0)[0]
    warm = rates_hz(simulate(HodgkinHuxley(temperature=16.3, max_substep=dt), [20.0], dt, 50.0), dt, 10.0)[0]
    assert warm > 1.5 * cold


@pytest.mark.parametrize("kwargs, name", [
    ({"c_m": -1.0}, "c_m"), ({"g_na": float("nan")}, "g_na"), ({"g_k": -0.1}, "g_k"),
    ({"max_substep": 1.0}, "max_substep"), ({"e_l": float("inf")}, "e_l"),
])
def test_hh_rejects_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        HodgkinHuxley(**kwargs)


def test_hh_rejects_non_finite_current():
    model = HodgkinHuxley()
    state = model.initial_state(2)
    with pytest.raises(ValueError, match="current"):
        model.step(state, np.array([1.0, np.nan]), 0.025)


# -- Wang-Buzsaki ------------------------------------------------------------

def test_wang_buzsaki_low_rheobase_and_high_rates():
    currents = [0.15, 0.2, 1.0, 2.0, 5.0, 20.0]
    dt = 0.05
    spikes = simulate(WangBuzsaki(max_substep=0.05), currents, dt, 300.0)
    rates = rates_hz(spikes, dt, 50.0)
    # rheobase ~0.16 uA/cm^2 (Wang & Buzsaki 1996): silent at 0.15 ...
    assert spikes[:, 0].sum() == 0
    # ... and type-I onset: low rate just above it
    assert 3.0 < rates[1] < 15.0
    assert np.all(np.diff(rates[1:]) > 0)
    assert rates[3] > 90.0      # I = 2: ~100 Hz
    assert rates[-1] > 350.0    # I = 20: ~400 Hz


def test_wang_buzsaki_is_registered_with_its_metadata():
    cls = get_model("wb")
    assert cls is WangBuzsaki and cls.category == "conductance-based"
    assert "Wang" in cls.reference and "1996" in cls.reference
    with pytest.raises(ValueError, match="phi"):
        WangBuzsaki(phi=0.0)


# -- Morris-Lecar -------------------------------------------------------------

def ml_fi(preset, currents):
    dt = 0.5  # RK4 with 0.5 ms substeps; same rates as 0.1 ms to 0.01 Hz
    spikes = simulate(MorrisLecar.preset(preset, max_substep=dt), currents, dt, 3000.0)
    return rates_hz(spikes, dt, 500.0)


def test_morris_lecar_hopf_set_has_discontinuous_onset():
    rates = ml_fi("hopf", [85.0, 88.0, 90.0, 95.0, 120.0])
    assert rates[0] == 0.0 and rates[1] == 0.0
    # class II: firing starts at ~10 Hz, not near zero
    assert 8.0 < rates[2] < 11.0
    assert np.all(np.diff(rates[2:]) > 0)
    assert rates[2] / rates[-1] > 0.6


def test_morris_lecar_snlc_set_starts_at_low_frequency():
    rates = ml_fi("snlc", [39.5, 40.2, 41.0, 45.0, 60.0])
    assert rates[0] == 0.0
    # class I: arbitrarily low rates close to the saddle-node (~40 uA/cm^2)
    assert 0.5 < rates[1] < 4.0
    assert rates[2] < 6.0
    assert np.all(np.diff(rates[1:]) > 0)
    assert rates[-1] / rates[1] > 4.0


def test_morris_lecar_phase_plane_and_presets():
    assert MorrisLecar.phase_plane == ("v", "w")
    snlc = MorrisLecar.preset("snlc")
    assert (snlc.g_ca, snlc.v3, snlc.v4) == (4.0, 12.0, 17.4)
    assert snlc.phi == pytest.approx(1 / 15)
    with pytest.raises(ValueError, match="preset"):
        MorrisLecar.preset("hopff")
    with pytest.raises(ValueError, match="v4"):
        MorrisLecar(v4=-1.0)


@pytest.mark.parametrize("name", ["HodgkinHuxleyNeuron", "WangBuzsakiNeuron", "MorrisLecarNeuron"])
def test_population_of_one_matches_population(name):
    model = get_model(name)()
    currents = np.array([0.0, 3.0, 60.0, 120.0])
    pop = model.initial_state(4)
    singles = [model.initial_state(1) for _ in currents]
    for _ in range(100):
        out = model.step(pop, currents, 0.05)
        for j, s in enumerate(singles):
            assert model.step(s, currents[j:j + 1], 0.05)[0] == out[j]
    for j, s in enumerate(singles):
        for var in pop:
            assert s[var][0] == pytest.approx(pop[var][j], abs=1e-12)
