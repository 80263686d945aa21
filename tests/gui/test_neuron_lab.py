"""Neuron lab without a browser: current protocols, engine runs, phase plane
and nullclines, bad input shown in the page."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from neurocore_gui.neuron_lab import (
    LabInputError,
    NeuronLab,
    fi_curve,
    nullclines,
    phase_plane_note,
    phase_plane_variables,
    protocol_current,
    run_lab,
    simulate,
    simulate_step,
)

hv.extension("bokeh")


# -- protocols -----------------------------------------------------------------------

def test_step_and_ramp_currents_have_the_requested_values_at_known_times():
    cur = protocol_current("step", 300, 1.0, amplitude=1.5, onset_ms=50, offset_ms=250)
    assert cur.shape == (300,)
    assert cur[49] == 0 and cur[50] == 1.5 and cur[249] == 1.5 and cur[250] == 0
    assert cur.sum() == pytest.approx(200 * 1.5)
    ramp = protocol_current("ramp", 30, 0.1, start=1.0, end=3.0, onset_ms=10, offset_ms=20)
    assert ramp.shape == (300,)
    assert ramp[99] == 0 and ramp[100] == pytest.approx(1.0) and ramp[200] == 0
    assert ramp[150] == pytest.approx(2.0)                       # half way
    assert np.all(np.diff(ramp[100:200]) == pytest.approx(0.02))  # linear: 2 over 100 steps
    # offset defaults to the end of the run
    assert protocol_current("step", 10, 1.0, amplitude=2.0, onset_ms=5)[5:].tolist() == [2.0] * 5


def test_pulse_train_current():
    cur = protocol_current("pulses", 300, 1.0, amplitude=5.0, width_ms=10, period_ms=50, count=4, onset_ms=20)
    assert cur.shape == (300,)
    on = np.flatnonzero(cur)
    expected = np.concatenate([np.arange(20 + 50 * j, 30 + 50 * j) for j in range(4)])
    assert on.tolist() == expected.tolist() and np.all(cur[on] == 5.0)
    # pulses past the end of the run are cut
    short = protocol_current("pulses", 100, 1.0, amplitude=1.0, width_ms=10, period_ms=50, count=4, onset_ms=20)
    assert np.count_nonzero(short) == 20


def test_noise_current_is_reproducible_and_has_the_requested_statistics():
    kw = dict(mean=1.0, sd=0.5, onset_ms=100, offset_ms=2100)
    a = protocol_current("noise", 2200, 0.1, seed=3, **kw)
    b = protocol_current("noise", 2200, 0.1, seed=3, **kw)
    c = protocol_current("noise", 2200, 0.1, seed=4, **kw)
    assert a.shape == (22000,)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(a[:1000] == 0) and np.all(a[21000:] == 0)
    window = a[1000:21000]  # 20000 samples: standard errors 0.0035 (mean) and 0.0025 (SD)
    assert window.mean() == pytest.approx(1.0, abs=0.015)
    assert window.std() == pytest.approx(0.5, abs=0.01)
    # the same seed gives the same run through the engine
    ra = simulate("LapicqueNeuron", protocol_current("noise", 500, 1.0, mean=1.2, sd=2.0, seed=7))
    rb = simulate("LapicqueNeuron", protocol_current("noise", 500, 1.0, mean=1.2, sd=2.0, seed=7))
    assert np.array_equal(ra["states"]["v"], rb["states"]["v"]) and ra["spike_times"].size > 0


# -- runs through the engine --------------------------------------------------------------

def test_step_and_fi_curve_come_from_the_engine():
    t, v, spikes = simulate_step("LapicqueNeuron", 1.5, 50, 250, 300)
    assert len(t) == len(v) == 300 and len(spikes) > 3
    assert np.all((spikes >= 0.05) & (spikes < 0.251))  # fires only while the step is on
    _, r = fi_curve("LapicqueNeuron", 3.0, n_points=7)
    assert r[0] == 0 and r[-1] > r[3] > 0 and np.all(np.diff(r) >= 0)  # rheobase at v_inf = threshold


def test_ramp_reaches_threshold_later_than_a_big_step():
    step = simulate("LapicqueNeuron", protocol_current("step", 300, 1.0, amplitude=3.0, onset_ms=50,
                                                       offset_ms=250))
    ramp = simulate("LapicqueNeuron", protocol_current("ramp", 300, 1.0, start=0.0, end=3.0, onset_ms=50,
                                                       offset_ms=250))
    assert step["spike_times"][0] < 0.07          # tau ln(3/2) ≈ 8 ms after onset
    assert ramp["spike_times"][0] > step["spike_times"][0] + 0.05
    # LIF with v_inf = R I: no spike while the ramp is below the rheobase I = 1
    assert ramp["current"][ramp["spike_steps"][0]] > 1.0


def test_pulses_fire_only_during_pulses():
    cur = protocol_current("pulses", 300, 1.0, amplitude=5.0, width_ms=10, period_ms=50, count=4, onset_ms=20)
    r = simulate("LapicqueNeuron", cur)
    assert r["spike_steps"].size == 8                     # two per pulse
    assert np.all(cur[r["spike_steps"]] == 5.0)           # each during a pulse
    assert sorted(set((r["spike_steps"] - 20) // 50)) == [0, 1, 2, 3]
    weak = simulate("LapicqueNeuron", protocol_current("pulses", 300, 1.0, amplitude=1.5, width_ms=10,
                                                       period_ms=50, count=4, onset_ms=20))
    assert weak["spike_steps"].size == 0                   # too short to reach threshold


def test_simulate_records_every_state_variable():
    r = simulate("AdExNeuron", protocol_current("step", 200, 0.1, amplitude=800.0, onset_ms=20))
    assert set(r["states"]) == {"v", "w", "refractory"}
    assert all(x.shape == (2000,) for x in r["states"].values())
    assert r["spike_times"].size > 0 and r["states"]["w"].max() > 0  # adaptation builds up


# -- phase plane ------------------------------------------------------------------------

@pytest.mark.parametrize("model, pair", [
    ("FitzHughNagumoNeuron", ("v", "w")), ("MorrisLecarNeuron", ("v", "w")),
    ("Izhikevich2007Neuron", ("v", "u")), ("AdExNeuron", ("v", "w")),
    ("ResonateAndFireNeuron", ("x", "y")), ("WilsonCowanPopulation", ("E", "I")),
])
def test_phase_plane_for_continuous_2d_models(model, pair):
    assert phase_plane_variables(model) == pair and phase_plane_note(model) == ""


@pytest.mark.parametrize("model, word", [
    ("LapicqueNeuron", "state variables"), ("HodgkinHuxleyNeuron", "4 state variables"),
    ("ThetaNeuron", "one state variable"), ("RulkovMapNeuron", "map"),
    ("TrueNorthNeuron", "integer"), ("FixedPointLIFNeuron", "integer"),
])
def test_no_phase_plane_where_it_makes_no_sense(model, word):
    assert phase_plane_variables(model) is None and word in phase_plane_note(model)
    with pytest.raises(LabInputError):
        nullclines(model, 0.0, (0, 1), (0, 1))


@pytest.mark.parametrize("current", [0.0, 0.5, 1.5])
def test_fitzhugh_nagumo_nullclines_match_the_analytic_ones(current):
    """dv/dt = 0 on w = v - v^3/3 + I, dw/dt = 0 on w = (v + a)/b (FitzHugh 1961)."""
    a, b = 0.7, 0.8  # the model's defaults
    n = 161
    xr, yr = (-2.5, 2.5), (-3.0, 3.0)
    nc = nullclines("FitzHughNagumoNeuron", current, xr, yr, n=n)
    cell = (yr[1] - yr[0]) / (n - 1)
    v_null = np.concatenate(nc["x"])
    w_null = np.concatenate(nc["y"])
    err_v = np.abs(v_null[:, 1] - (v_null[:, 0] - v_null[:, 0] ** 3 / 3 + current))
    err_w = np.abs(w_null[:, 1] - (w_null[:, 0] + a) / b)
    assert err_v.max() < 0.25 * cell and err_w.max() < 0.25 * cell
    # both cover the grid where the analytic curves lie inside it
    inside = (-2.5 + 0.1, 2.5 - 0.1)
    vv = np.linspace(*inside, 50)
    shown = (vv - vv ** 3 / 3 + current > yr[0] + 0.1) & (vv - vv ** 3 / 3 + current < yr[1] - 0.1)
    for v in vv[shown]:
        assert np.min(np.abs(v_null[:, 0] - v)) < 2 * (xr[1] - xr[0]) / (n - 1)
    assert w_null[:, 0].min() < -2.3 and w_null[:, 0].max() > 1.6  # (v+a)/b leaves the box at v = 1.7


def test_run_lab_gives_a_trajectory_box_with_both_nullclines():
    res = run_lab("FitzHughNagumoNeuron", "pulses", 300, amplitude=1.0, width_ms=5, period_ms=60,
                  count=4, onset_ms=20)
    assert res["spike_times"].size == 4 and res["phase"]["current"] == 1.0
    (x0, x1), (y0, y1) = res["phase"]["box"]
    v, w = res["states"]["v"], res["states"]["w"]
    assert x0 < v.min() and v.max() < x1 and y0 < w.min() and w.max() < y1
    assert res["phase"]["x"] and res["phase"]["y"]
    # at rest the box widens until the nullclines show (the trajectory is a point)
    rest = run_lab("AdExNeuron", "step", 50, amplitude=0.0)
    assert rest["phase"]["x"] and rest["phase"]["y"] and rest["spike_times"].size == 0
    assert run_lab("LapicqueNeuron", "step", 50, amplitude=1.5)["phase"] is None


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, field", [
    (dict(duration_ms=-5), "duration (ms)"), (dict(duration_ms=float("nan")), "duration (ms)"),
    (dict(duration_ms=1e9), "duration (ms)"), (dict(amplitude=float("nan")), "amplitude"),
    (dict(onset_ms=-1), "onset (ms)"), (dict(onset_ms=100, offset_ms=50), "offset (ms)"),
    (dict(protocol="noise", sd=-1), "noise SD"), (dict(protocol="noise", seed=1.5), "seed"),
    (dict(protocol="pulses", count=0), "pulse count"), (dict(protocol="pulses", width_ms=80), "pulse width"),
    (dict(protocol="pulses", period_ms=None), "pulse period"), (dict(protocol="zigzag"), "Protocol"),
    (dict(model="NoSuchNeuron"), "Model"),
])
def test_bad_input_names_the_field(kw, field):
    args = dict(model="LapicqueNeuron", protocol="step", duration_ms=300.0, amplitude=1.0, onset_ms=10.0,
                offset_ms=200.0, width_ms=5.0, period_ms=50.0, count=3)
    args.update(kw)
    with pytest.raises(LabInputError) as err:
        run_lab(args.pop("model"), args.pop("protocol"), args.pop("duration_ms"), **args)
    assert str(err.value).startswith(field)


# -- the view ---------------------------------------------------------------------------------

def test_lab_view_shows_traces_phase_plane_and_messages():
    lab = NeuronLab()
    lab.model_select.value = "Izhikevich2007Neuron"
    assert "pA" in lab.amp.label and lab.nc_current.visible
    lab.run()
    lab.run_fi()
    assert not lab.msg.visible
    lab.model_select.value = "FitzHughNagumoNeuron"
    lab.protocol.value = "pulses"
    assert lab.width.visible and lab.count.visible and not lab.offset.visible and not lab.noise_sd.visible
    lab.amp.value = 1.0
    assert lab.nc_current.value == 1.0  # nullclines follow the amplitude unless edited
    lab.run()
    assert not lab.msg.visible, lab.msg.object
    layout = lab.trace_pane.object
    assert isinstance(layout, hv.Layout) and len(layout) == 3  # v, w, injected current
    assert lab.phase_pane.visible and not lab.phase_note.visible
    assert isinstance(lab.phase_pane.object, hv.Overlay)
    lab.model_select.value = "AdExNeuron"
    lab.run()
    assert len(lab.trace_pane.object) == 3  # v, w, current: the idle refractory counter is not drawn
    lab.model_select.value = "HodgkinHuxleyNeuron"
    assert not lab.nc_current.visible
    lab.protocol.value = "noise"
    lab.duration.value = 50.0
    lab.run()
    assert len(lab.trace_pane.object) == 5  # v, m, h, n, current
    assert lab.phase_note.visible and "4 state variables" in lab.phase_note.object
    lab.duration.value = -5.0
    lab.run()
    assert lab.msg.visible and lab.msg.object.startswith("duration (ms)") and "Traceback" not in lab.msg.object
    lab.duration.value = 50.0
    lab.imax.value = float("nan")
    lab.run_fi()
    assert lab.msg.visible and lab.msg.object.startswith("F-I: max current")


def test_trajectory_is_broken_at_resets_only():
    from neurocore_gui.neuron_lab import _broken_at_resets

    adex = run_lab("AdExNeuron", "step", 200, amplitude=800.0, onset_ms=20)
    x, _ = _broken_at_resets(adex["states"]["v"], adex["states"]["w"], adex["spike_steps"], 1)
    assert np.isnan(x).sum() == adex["spike_steps"].size > 0 and x.size == adex["t"].size + np.isnan(x).sum()
    fhn = run_lab("FitzHughNagumoNeuron", "step", 200, amplitude=1.0, onset_ms=20)
    x, _ = _broken_at_resets(fhn["states"]["v"], fhn["states"]["w"], fhn["spike_steps"], 1)
    assert fhn["spike_steps"].size > 0 and not np.isnan(x).any()  # a smooth orbit: no breaks
