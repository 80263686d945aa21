"""Izhikevich2004Neuron, the general form of Izhikevich (2004) Fig. 1: the figure code's Euler
scheme step by step, reset, the parameters the 2003 equation lacks, bad input, and the fixed
points of the panels against their closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.analysis import fixed_points
from engine.analysis.presets import find_preset
from engine.models import get_model

MODEL = get_model("Izhikevich2004Neuron")


def _step(model, v, u, current, dt):
    state = {"v": np.array([v], dtype=float), "u": np.array([u], dtype=float)}
    spikes = model.step(state, np.array([current], dtype=float), dt)
    return bool(spikes[0]), float(state["v"][0]), float(state["u"][0])


@pytest.mark.parametrize("params", [{}, dict(a=0.02, b=-0.1, k1=4.1, k0=108.0),
                                    dict(a=0.02, b=1.0, v_u=-65.0, u_decay=0.0), dict(a=-0.026, b=-1.0)])
def test_one_step_is_the_figure_codes_euler_v_first_then_u_from_the_new_v(params):
    m = MODEL(**params)
    v0, u0, i, dt = -62.5, -3.0, 4.0, 0.25
    fired, v1, u1 = _step(m, v0, u0, i, dt)
    v_ref = v0 + dt * (m.k2 * v0 ** 2 + m.k1 * v0 + m.k0 - u0 + i)
    u_ref = u0 + dt * m.a * (m.b * (v_ref - m.v_u) - m.u_decay * u0)
    assert not fired
    assert v1 == pytest.approx(v_ref, rel=1e-14) and u1 == pytest.approx(u_ref, rel=1e-14)


def test_defaults_are_the_2003_equation_and_start_on_the_u_nullcline():
    m = MODEL()
    assert (m.k2, m.k1, m.k0, m.v_u, m.u_decay) == (0.04, 5.0, 140.0, 0.0, 1.0)
    s = m.initial_state(3)
    assert np.all(s["v"] == m.c) and np.all(s["u"] == m.b * m.c)
    acc = MODEL(b=1.0, c=-55.0, v_u=-65.0).initial_state(1)
    assert acc["u"][0] == pytest.approx(10.0)          # b (c - v_u)


def test_reaching_30_mV_spikes_and_resets_v_to_c_and_adds_d_to_u():
    m = MODEL(c=-50.0, d=2.0)
    fired, v, u = _step(m, 29.0, -10.0, 15.0, 0.25)
    v_new = 29.0 + 0.25 * (0.04 * 29 ** 2 + 5 * 29 + 140 + 10 + 15)
    u_new = -10.0 + 0.25 * 0.02 * (0.2 * v_new + 10.0)
    assert fired and v == -50.0 and u == pytest.approx(u_new + 2.0, rel=1e-14)
    # a current that overflows v still spikes, and u stays finite
    fired, v, u = _step(m, -60.0, -12.0, 1e308, 0.25)
    assert fired and v == -50.0 and math.isfinite(u)


def test_negative_a_is_allowed_here_and_refused_by_the_reference_model():
    assert MODEL(a=-0.02).a == -0.02
    with pytest.raises(ValueError, match=r"\.a' must be at least 0"):
        get_model("SCIzhikevichNeuron")(a=-0.02)


@pytest.mark.parametrize("name, value", [("k2", 0.0), ("k2", -0.04), ("u_decay", -1.0)])
def test_bad_parameters_are_refused_naming_them(name, value):
    with pytest.raises(ValueError, match=rf"\.{name}' must be"):
        MODEL(**{name: value})


def test_class1_panel_loses_its_rest_state_in_a_saddle_node_at_the_closed_form_current():
    # v' = 0.04 v^2 + 4.1 v + 108 - b v + I on u = b v: a double root where
    # (4.1 - b)^2 = 4 * 0.04 * (108 + I), i.e. I = 2.25 for b = -0.1
    p = find_preset("Izhikevich2004Neuron", "class1_excitability")
    m = MODEL(**p.params)
    i_sn = (4.1 - m.b) ** 2 / (4 * 0.04) - 108.0
    assert i_sn == pytest.approx(2.25)
    below = fixed_points(m, i_sn - 0.05, (-90.0, 0.0), (-20.0, 20.0))
    assert sorted(f.kind for f in below) == ["saddle", "stable node"]
    rest = min(below, key=lambda f: f.x)
    disc = (4.1 - m.b) ** 2 - 0.16 * (108.0 + i_sn - 0.05)
    assert rest.x == pytest.approx((-(4.1 - m.b) - math.sqrt(disc)) / 0.08, abs=1e-3)
    assert fixed_points(m, i_sn + 0.05, (-90.0, 0.0), (-20.0, 20.0)) == []


@pytest.mark.parametrize("key", ["inhibition_induced_spiking", "inhibition_induced_bursting"])
def test_inhibition_induced_panels_rest_is_stable_at_80_and_unstable_at_75(key):
    # u = b v with b = -1: 0.04 v^2 + 6 v + 140 + I = 0; at I = 80 the rest the paper starts from
    p = find_preset("Izhikevich2004Neuron", key)
    m = MODEL(**p.params)
    box = ((-90.0, 0.0), (-20.0, 100.0))
    rest = {i: max(fixed_points(m, i, *box), key=lambda f: f.x) for i in (80.0, 75.0)}
    assert rest[80.0].x == pytest.approx((-6 + math.sqrt(36 - 0.16 * 220)) / 0.08, abs=1e-3)
    assert rest[80.0].x == pytest.approx(p.initial["v"], abs=0.05)
    assert rest[80.0].kind == "stable focus" and rest[75.0].kind == "unstable focus"
