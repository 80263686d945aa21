"""Hodgkin-Huxley above its reference temperature (6.3 °C).

Warmer gates are faster by ``phi = 3 ** ((T - 6.3) / 10)`` and the internal RK4
substep shrinks by the same factor (engine/models/hodgkin_huxley.py); without
that, a 1 ms network step at 30 °C leaves RK4's stability region.  The checks
here are the constants themselves and the trajectory at 30 °C against a run
with a 20x finer network step, which must agree to round-off."""

import math

import numpy as np
import pytest

from engine.models.hodgkin_huxley import HodgkinHuxley


def constants(**params):
    m = HodgkinHuxley(**params)
    return HodgkinHuxley.constants(m, 1.0)


def test_temperature_factor_and_substep():
    c = constants(temperature=16.3)
    assert c["phi"] == 3.0 and c["max_h"] == pytest.approx(0.025 / 3.0, rel=1e-15)
    c = constants(temperature=26.3, max_substep=0.05, c_m=2.0)
    assert c["phi"] == pytest.approx(9.0, rel=1e-15) and c["max_h"] == pytest.approx(0.05 / 9.0, rel=1e-15)
    assert c["inv_c"] == 0.5
    c = constants(temperature=30.0)
    assert c["phi"] == pytest.approx(3.0 ** 2.37, rel=1e-15)
    assert c["max_h"] == pytest.approx(0.025 / 3.0 ** 2.37, rel=1e-15)
    # at or below 6.3 °C the gates are not faster: the substep is not stretched either
    c = constants()
    assert (c["phi"], c["max_h"]) == (1.0, 0.025)
    c = constants(temperature=-3.7)
    assert c["phi"] == pytest.approx(1 / 3.0, rel=1e-15) and c["max_h"] == 0.025


def run(temperature, dt, t_ms, current):
    model = HodgkinHuxley(temperature=temperature)
    state = model.initial_state(len(current))
    every = int(round(1.0 / dt))
    spikes, v = [], []
    for k in range(int(round(t_ms / dt))):
        s = model.step(state, np.asarray(current, float), dt)
        spikes.append(np.asarray(s, bool))
        if (k + 1) % every == 0:
            v.append(state["v"].copy())
    return np.array(spikes), np.array(v), state


@pytest.mark.parametrize("temperature, n_spikes", [(30.0, [0, 0, 1])])
def test_warm_hh_with_a_1ms_step_matches_a_fine_step(temperature, n_spikes):
    currents = [0.0, 10.0, 50.0]
    s_coarse, v_coarse, st = run(temperature, 1.0, 20.0, currents)
    s_fine, v_fine, st_fine = run(temperature, 0.1, 20.0, currents)
    for var in ("v", "m", "h", "n"):
        assert np.all(np.isfinite(st[var])), var
    assert np.all((st["m"] >= 0) & (st["m"] <= 1) & (st["h"] >= 0) & (st["h"] <= 1))
    # the same ODE with substeps of nearly the same length: equal to round-off
    assert np.max(np.abs(v_coarse - v_fine)) < 1e-6
    # at rest it stays at rest (-65 mV); a strong current fires at most once and
    # then blocks (the gates are too fast for repetitive firing this warm)
    assert abs(v_coarse[-1, 0] - (-65.0)) < 0.05
    assert s_coarse.sum(axis=0).tolist() == s_fine.sum(axis=0).tolist() == n_spikes


def test_warm_hh_fires_faster_at_16_3_degrees():
    # 3x faster gates: the spike train at 10 µA/cm² more than doubles its rate
    s_cold, _, _ = run(6.3, 1.0, 100.0, [10.0])
    s_warm, _, _ = run(16.3, 1.0, 100.0, [10.0])
    n_cold, n_warm = int(s_cold.sum()), int(s_warm.sum())
    assert n_cold == 7 and n_warm > 2 * n_cold
    assert math.isfinite(float(n_warm))
