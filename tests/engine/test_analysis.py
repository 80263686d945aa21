"""engine.analysis against analytic results: protocols, single-neuron runs,
graded spike counting, FitzHugh-Nagumo fixed points and Hopf points, LIF's
F-I curve in closed form, QIF's rheobase, excitability classes."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from engine.analysis import (Cancelled, classify, detect_spikes, fi_curve, fixed_points,
                             flow, jacobian, nullclines, phase_box, phase_plane_note, plane_variables,
                             protocol_current, simulate, vector_field)
from engine.analysis.fi import population_rates

FHN = "FitzHughNagumoNeuron"
A, B, TAU = 0.7, 0.8, 12.5


# -- protocols ----------------------------------------------------------------------------

def test_step_ramp_pulses_and_noise_currents():
    cur = protocol_current("step", 300, 1.0, amplitude=1.5, onset_ms=50, offset_ms=250)
    assert cur[49] == 0 and cur[50] == 1.5 and cur[249] == 1.5 and cur[250] == 0
    ramp = protocol_current("ramp", 30, 0.1, start=1.0, end=3.0, onset_ms=10, offset_ms=20)
    assert ramp[100] == pytest.approx(1.0) and ramp[150] == pytest.approx(2.0) and ramp[200] == 0
    pulses = protocol_current("pulses", 300, 1.0, amplitude=5.0, width_ms=10, period_ms=50, count=4, onset_ms=20)
    expected = np.concatenate([np.arange(20 + 50 * j, 30 + 50 * j) for j in range(4)])
    assert np.flatnonzero(pulses).tolist() == expected.tolist()
    a = protocol_current("noise", 2200, 0.1, mean=1.0, sd=0.5, seed=3, onset_ms=100, offset_ms=2100)
    b = protocol_current("noise", 2200, 0.1, mean=1.0, sd=0.5, seed=3, onset_ms=100, offset_ms=2100)
    assert np.array_equal(a, b)
    assert a[1000:21000].mean() == pytest.approx(1.0, abs=0.02)
    assert a[1000:21000].std() == pytest.approx(0.5, rel=0.03)
    assert protocol_current("step", 10, 1.0, amplitude=2.0, onset_ms=5, baseline=-1.0)[:5].tolist() == [-1.0] * 5


@pytest.mark.parametrize("kw, field", [
    (dict(protocol="zap"), "protocol"), (dict(amplitude=float("nan")), "amplitude"),
    (dict(duration_ms=-1), "duration_ms"), (dict(onset_ms=100, offset_ms=50), "offset_ms"),
    (dict(protocol="pulses", width_ms=30, period_ms=20), "width_ms"),
    (dict(protocol="noise", sd=-1), "sd"),
])
def test_bad_protocol_input_names_the_parameter(kw, field):
    args = dict(protocol="step", duration_ms=200, dt_ms=1.0)
    args.update(kw)
    with pytest.raises(ValueError, match=field) as info:
        protocol_current(args.pop("protocol"), args.pop("duration_ms"), args.pop("dt_ms"), **args)
    assert info.value.field == field


# -- single-neuron runs -------------------------------------------------------------------

def test_kernel_fast_path_matches_the_network_run():
    cur = protocol_current("step", 200, 0.1, amplitude=300.0, onset_ms=20)
    fast = simulate("Izhikevich2007Neuron", cur, backend="kernel")
    net = simulate("Izhikevich2007Neuron", cur, backend="numpy")
    assert fast["engine"] == "kernel" and net["engine"] == "numpy"
    assert fast["spike_steps"].size >= 3
    assert np.array_equal(fast["spike_steps"], net["spike_steps"])
    np.testing.assert_allclose(fast["states"]["v"], net["states"]["v"], rtol=0, atol=1e-12)


def test_simulate_sets_the_initial_state_and_refuses_unknown_names():
    r = simulate("LapicqueNeuron", np.zeros(5), initial={"v": 0.5})
    # exact exponential decay towards rest 0 with tau = 20 ms, dt = 1 ms
    np.testing.assert_allclose(r["states"]["v"], 0.5 * np.exp(-np.arange(1, 6) / 20.0))
    with pytest.raises(ValueError, match="initial"):
        simulate("LapicqueNeuron", np.zeros(5), initial={"q": 1.0})
    with pytest.raises(ValueError, match="params"):
        simulate("LapicqueNeuron", np.zeros(5), {"taux": 1.0})
    with pytest.raises(ValueError, match="tau"):
        simulate("LapicqueNeuron", np.zeros(5), {"tau": -1.0})
    with pytest.raises(ValueError, match="model"):
        simulate("NoSuchNeuron", np.zeros(5))


def test_graded_spike_count_ignores_the_damped_wobble_of_depolarisation_block():
    """FHN at I = 1.5 (above the upper Hopf point): one spike, then v rings
    around the depolarised fixed point, crossing v_spike again on the way."""
    cur = protocol_current("step", 300, 0.1, amplitude=1.5, onset_ms=50, offset_ms=250)
    r = simulate(FHN, cur)
    raw = np.flatnonzero(r["output"])
    assert raw.size >= 2                 # the kernel's raw crossings include the wobble
    assert r["spike_steps"].size == 1    # the trace shows one spike
    # in the oscillatory range every cycle is a spike: period ~ 40 ms at I = 0.5
    r = simulate(FHN, protocol_current("step", 400, 0.1, amplitude=0.5))
    isi = np.diff(r["spike_times_ms"])
    assert r["spike_steps"].size >= 8 and np.ptp(isi[1:]) < 0.5


def test_detect_spikes_with_hysteresis_on_a_synthetic_trace():
    t = np.linspace(0, 1, 1001)
    v = np.sin(2 * np.pi * 5 * t) + 0.3 * np.sin(2 * np.pi * 60 * t)  # 5 big cycles with ripples
    naive = np.flatnonzero((v[:-1] < 0.8) & (v[1:] >= 0.8))
    s = detect_spikes(v, 0.8, 0.0)
    assert naive.size > 5 and s.size == 5
    with pytest.raises(ValueError, match="rearm"):
        detect_spikes(v, 0.8, 0.9)


# -- phase plane: FitzHugh-Nagumo -------------------------------------------------------------

def _fhn_fixed_point(i):
    # w = (v + a)/b on the w-nullcline; v - v^3/3 - (v + a)/b + I = 0
    roots = np.roots([-1 / 3, 0.0, 1 - 1 / B, i - A / B])
    v = float(roots[np.argmin(np.abs(roots.imag))].real)
    return v, (v + A) / B


@pytest.mark.parametrize("i", [0.0, 0.5, 1.0, 1.5])
def test_fhn_fixed_point_and_eigenvalues_match_the_analytic_ones(i):
    v, w = _fhn_fixed_point(i)
    fps = fixed_points(FHN, i, (-2.5, 2.5), (-1.5, 3.0))
    assert len(fps) == 1
    fp = fps[0]
    assert fp.x == pytest.approx(v, abs=1e-6) and fp.y == pytest.approx(w, abs=1e-6)
    jac = np.array([[1 - v * v, -1.0], [1 / TAU, -B / TAU]])
    np.testing.assert_allclose(jacobian(FHN, i, fp.x, fp.y), jac, atol=1e-5)
    np.testing.assert_allclose(sorted(fp.eigenvalues, key=lambda e: (e.real, e.imag)),
                               sorted(np.linalg.eigvals(jac), key=lambda e: (e.real, e.imag)), atol=1e-5)
    assert fp.stable == bool(np.all(np.linalg.eigvals(jac).real < 0))


def test_fhn_hopf_points_are_where_the_fixed_point_changes_stability():
    """Hopf where the trace 1 - v^2 - b/tau vanishes: v_H = ±sqrt(1 - b/tau),
    I_H = v^3/3 - v + (v + a)/b."""
    for sign in (-1, 1):
        vh = sign * math.sqrt(1 - B / TAU)
        ih = vh ** 3 / 3 - vh + (vh + A) / B
        kinds = []
        for di in (-0.01, 0.01):
            (fp,) = fixed_points(FHN, ih + di, (-2.5, 2.5), (-1.5, 3.0))
            kinds.append(fp.kind)
        inside = 1 if sign < 0 else 0   # the oscillatory range lies between the two Hopf points
        assert kinds[inside] == "unstable focus" and kinds[1 - inside] == "stable focus", (sign, ih, kinds)
    assert 0.33 < (-math.sqrt(1 - B / TAU)) ** 3 / 3 + math.sqrt(1 - B / TAU) + (A - math.sqrt(1 - B / TAU)) / B < 0.34


def test_fhn_nullclines_and_vector_field_follow_the_equations():
    i = 0.5
    nc = nullclines(FHN, i, (-2.5, 2.5), (-1.0, 2.5))
    vx = np.concatenate(nc["x"])
    np.testing.assert_allclose(vx[:, 1], vx[:, 0] - vx[:, 0] ** 3 / 3 + i, atol=2e-3)
    vy = np.concatenate(nc["y"])
    np.testing.assert_allclose(vy[:, 1], (vy[:, 0] + A) / B, atol=2e-3)
    vf = vector_field(FHN, i, (-2, 2), (-1, 2), n=5)
    v, w = vf["x"], vf["y"]
    np.testing.assert_allclose(vf["u"], v - v ** 3 / 3 - w + i, atol=1e-6)
    np.testing.assert_allclose(vf["v"], (v + A - B * w) / TAU, atol=1e-6)


def test_saddle_node_and_focus_classification():
    assert classify([-1.0, 2.0]) == "saddle"
    assert classify([-1.0, -2.0]) == "stable node"
    assert classify([1.0, 2.0]) == "unstable node"
    assert classify([-1 + 2j, -1 - 2j]) == "stable focus"
    assert classify([0.5 + 1j, 0.5 - 1j]) == "unstable focus"
    assert classify([1j, -1j]) == "centre"


def test_izhikevich_rest_is_a_node_and_threshold_a_saddle():
    """Izhikevich (2007) eqs. 8.5-8.6 at I = 0: fixed points where
    k (v - vr)(v - vt) = b (v - vr): v = vr (stable node, since b < 0 and
    the RS cell rests) and v = vt + b/k (a saddle)."""
    fps = fixed_points("Izhikevich2007Neuron", 0.0, (-80, -20), (-100, 100))
    assert [round(f.x, 6) for f in fps] == [pytest.approx(-60.0), pytest.approx(-40 - 2 / 0.7)]
    assert fps[0].kind in ("stable node", "stable focus") and fps[1].kind == "saddle"


def test_higher_dimensional_model_gets_a_projection_with_frozen_variables():
    assert plane_variables("HodgkinHuxleyNeuron") == ("v", "n")
    assert phase_plane_note("HodgkinHuxleyNeuron") == ""
    assert "map" in phase_plane_note("RulkovMapNeuron")
    assert "one continuous" in phase_plane_note("LapicqueNeuron")
    # dV/dt at rest with m, h frozen at their steady state is ~0 (HH rests at -65 mV)
    fx, fy, ok = flow("HodgkinHuxleyNeuron", 0.0, [-65.0], [0.3177], frozen={"m": 0.0529, "h": 0.5961})
    assert ok[0] and abs(fx[0]) < 0.05 and abs(fy[0]) < 1e-3


def test_phase_box_widens_until_both_nullclines_show():
    (x0, x1), (y0, y1) = phase_box(FHN, 0.0, np.array([-1.2]), np.array([-0.62]))
    nc = nullclines(FHN, 0.0, (x0, x1), (y0, y1), n=41)
    assert nc["x"] and nc["y"]


# -- F-I curves ---------------------------------------------------------------------------

def test_lif_fi_curve_matches_the_closed_form():
    """Lapicque (tau = 20 ms, R = 1, threshold 1, reset 0), exact steps of 1
    ms: from reset, v_k = R I (1 - e^{-k dt / tau}), so the neuron fires
    every ceil(T / dt) steps with T = tau ln(RI / (RI - 1))."""
    currents = np.array([0.5, 1.0, 1.2, 1.5, 2.0, 3.0])
    rates = population_rates("LapicqueNeuron", currents, 2000.0, transient_ms=100)
    period = np.full(currents.size, np.inf)
    above = currents > 1.0
    period[above] = 20.0 * np.log(currents[above] / (currents[above] - 1.0))
    expected = np.where(above, 1000.0 / np.ceil(period), 0.0)
    np.testing.assert_allclose(rates, expected, rtol=1e-9)
    closed = np.where(above, 1000.0 / period, 0.0)
    assert np.all(np.abs(rates - closed) <= closed * 1.0 / np.where(above, period, 1.0) + 1e-9)


def test_qif_rheobase_is_the_saddle_node_current():
    """tau dV/dt = a0 (V - V_rest)(V - V_c) + R I has no fixed point once
    R I > a0 (V_c - V_rest)^2 / 4: 0.04 * 15^2 / 4 / 10 = 0.225 nA."""
    fi = fi_curve("QIFNeuron", 0.5, n_points=11, duration_ms=3000.0, transient_ms=0.0, refine=2)
    assert fi.rheobase == pytest.approx(0.225, rel=0.01)
    assert fi.rheobase >= 0.225
    assert fi.excitability == "class I"


def test_hh_is_class_ii_with_a_rheobase_near_6_3():
    fi = fi_curve("HodgkinHuxleyNeuron", 20.0, n_points=11, duration_ms=300.0, transient_ms=100.0, refine=1)
    assert 6.0 < fi.rheobase < 6.6
    assert fi.onset_rate_hz > 40.0
    assert fi.excitability == "class II"


def test_fi_progress_and_cancel():
    seen = []
    fi = fi_curve("LapicqueNeuron", 3.0, n_points=7, duration_ms=300.0, progress=seen.append)
    assert seen[-1] == 1.0 and all(0 <= p <= 1 for p in seen) and seen == sorted(seen)
    assert fi.rheobase == pytest.approx(1.0, abs=0.05)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        fi_curve("LapicqueNeuron", 3.0, duration_ms=300.0, cancel=stop)
    with pytest.raises(ValueError, match="i_max"):
        fi_curve("LapicqueNeuron", -1.0)
    with pytest.raises(ValueError, match="n_points"):
        fi_curve("LapicqueNeuron", 3.0, n_points=1)
