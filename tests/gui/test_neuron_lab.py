"""Neuron lab view without a browser: sliders generated from the declaration
re-run the neuron, presets apply, the phase plane shows nullclines and typed
fixed points, clicks start trajectories, the F-I curve names the class, the
store round trip (open a population / send to the canvas), bad input in the
page."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.params import parameter_ranges
from engine.models import get_model, model_names
from neurocore_gui.labs.neuron import NeuronLab, decimate
from neurocore_gui.store import SessionStore


@pytest.fixture(scope="module")
def lab():
    return NeuronLab()


def test_every_parameter_gets_a_widget_with_declared_bounds_and_unit(lab):
    for name in ("HodgkinHuxleyNeuron", "AdExNeuron", "SCIzhikevichNeuron"):
        lab.set_model(name)
        cls = get_model(name)
        assert set(lab.sliders) == set(parameter_ranges(name))
        assert set(lab.sliders) >= {p for p in cls.parameter_names()
                                    if not isinstance(cls.param[p], type(cls.param["name"]))}
        for p, w in lab.sliders.items():
            decl = cls.param[p]
            if hasattr(w, "start"):
                lo, hi = getattr(decl, "bounds", None) or (None, None)
                assert w.start <= decl.default <= w.end
                if lo is not None:
                    assert w.start >= lo
                if hi is not None:
                    assert w.end <= hi
                unit = getattr(decl, "unit", "")
                assert (unit in w.label) if unit else True
    assert not lab.msg.visible


def test_parameter_ranges_for_every_model_contain_the_default():
    for name in model_names():
        for p, spec in parameter_ranges(name).items():
            if spec["kind"] != "select":
                assert spec["start"] <= spec["value"] <= spec["end"], (name, p, spec)
                assert spec["step"] > 0


def test_moving_a_slider_reruns_and_changes_the_trace(lab):
    lab.set_model("FitzHughNagumoNeuron")
    before = np.array(lab.trace_src["v"].data["y"]).copy()
    n_before = len(lab.last_result["spike_steps"])
    lab.sliders["tau"].value = 30.0      # slower recovery: fewer, longer cycles
    after = np.array(lab.trace_src["v"].data["y"])
    assert not np.array_equal(before, after)
    assert len(lab.last_result["spike_steps"]) < n_before
    assert "updated in" in lab.status.object and lab.last_timing["total_ms"] > 0
    assert "tau` | 30" in lab.table.object


def test_fhn_default_fires_and_counts_what_the_trace_shows(lab):
    lab.set_model("FitzHughNagumoNeuron")
    res = lab.last_result
    assert 4 <= len(res["spike_steps"]) <= 6            # 0.5 a.u. for 200 ms: oscillatory, ~40 ms period
    lab.amp.value = 1.5                                  # depolarisation block: one spike, then ringing
    assert len(lab.last_result["spike_steps"]) == 1
    assert "1 spike," in lab.v_fig.title.text or lab.v_fig.title.text.endswith("1 spike")


def test_phase_plane_has_nullclines_field_and_typed_fixed_points(lab):
    lab.set_model("FitzHughNagumoNeuron")
    lab.amp.value = 0.0
    fp = lab.fp_src.data
    assert fp["kind"] == ["stable focus"] and fp["x"][0] == pytest.approx(-1.1994, abs=1e-3)
    assert len(lab.xn_src.data["x"]) > 50 and len(lab.yn_src.data["x"]) > 50 and len(lab.vf_src.data["x0"]) > 100
    lab.amp.value = 0.5
    assert lab.fp_src.data["kind"] == ["unstable focus"]


def test_click_starts_a_trajectory_that_goes_to_the_attractor(lab):
    lab.set_model("FitzHughNagumoNeuron")
    lab.amp.value = 0.0
    lab.click(1.5, 0.5)
    assert len(lab.click_src.data["xs"]) == 1
    xs, ys = lab.click_src.data["xs"][0], lab.click_src.data["ys"][0]
    assert xs[0] == pytest.approx(1.5) and ys[0] == pytest.approx(0.5)
    assert xs[-1] == pytest.approx(-1.1994, abs=1e-2) and ys[-1] == pytest.approx(-0.6243, abs=1e-2)
    lab._clear_clicked()
    assert lab.click_src.data["xs"] == []


def test_higher_dimensional_model_gets_a_projection(lab):
    lab.set_model("HodgkinHuxleyNeuron")
    assert (lab.plane_x.value, lab.plane_y.value) == ("v", "n") and lab.freeze.visible
    assert lab.last_result["phase"]["frozen"].keys() == {"m", "h"}
    assert lab.phase_box.objects == lab._phase_panes
    lab.set_model("LapicqueNeuron")
    assert lab.phase_box.objects == [lab.phase_note] and "one continuous" in lab.phase_note.object


def test_preset_sets_parameters_protocol_and_text(lab):
    lab.set_model("SCIzhikevichNeuron")
    lab.preset_select.value = "tonic_bursting"
    assert lab.sliders["c"].value == -50 and lab.sliders["d"].value == 2
    assert "bursts" in lab.preset_text.object and lab.preset_text.visible
    st = lab.last_result["spike_times_ms"]
    isi = np.diff(st)
    assert st.size > 10 and isi.max() > 4 * isi.min()
    assert not lab.protocol_note.visible                # a step preset: the fields below are what runs
    lab.preset_select.value = "rebound_spike"           # a segment protocol (hyperpolarising pulse)
    assert lab.last_result["current"].min() == -15.0 and len(lab.last_result["spike_steps"]) == 1
    assert lab.protocol_note.visible                    # ... not here: the page says the preset's current runs
    lab.onset.value = 10.0                               # editing the protocol leaves the preset
    assert lab.preset_select.value == "" and not lab.protocol_note.visible


def test_izhikevich_2004_lists_all_twenty_panels_and_a_new_one_shows_its_behaviour(lab):
    lab.set_model("Izhikevich2004Neuron")
    titles = [t for t in lab.preset_select.options if t != "(none)"]
    assert [t[:3] for t in titles] == [f"({chr(ord('A') + i)})" for i in range(20)]
    assert {"k2", "k1", "k0", "v_u", "u_decay"} <= set(lab.sliders)
    # (S): quiet on the resting drive of 80, a train while the drive is lowered to 75
    lab.preset_select.value = "inhibition_induced_spiking"
    assert lab.sliders["a"].value == -0.02 and lab.sliders["b"].value == -1.0
    res = lab.last_result
    assert res["dt_ms"] == 0.5 and res["current"].max() == 80.0 and res["current"].min() == 75.0
    st = res["spike_times_ms"]
    assert st.size >= 3 and st.min() > 50.0 and st.max() < 260.0
    assert "inhibition-induced" in lab.preset_text.object and "Protocol: I = 75 from 50 ms" in lab.preset_text.object
    # (R): the u equation's own parameters move with the preset; only the fast ramp fires
    lab.preset_select.value = "accommodation"
    assert lab.sliders["v_u"].value == -65.0 and lab.sliders["u_decay"].value == 0.0
    st = lab.last_result["spike_times_ms"]
    assert st.size >= 1 and st.min() > 300.0
    assert lab.last_result["current"].max() == pytest.approx(8.0, abs=0.05)
    # (G) on the modified quadratic: a ramp, firing that speeds up
    lab.preset_select.value = "class1_excitability"
    assert lab.sliders["k1"].value == 4.1 and lab.sliders["k0"].value == 108.0
    isi = np.diff(lab.last_result["spike_times_ms"])
    assert isi.size >= 4 and isi[0] > 2 * isi[-1]


def test_fi_curve_marks_rheobase_and_names_the_class(lab):
    lab.set_model("LapicqueNeuron")
    lab.run_fi()
    assert lab.rh_span.visible and lab.rh_span.location == pytest.approx(1.0, abs=0.02)
    assert "class I" in lab.fi_text.object and "Rheobase" in lab.fi_text.object
    assert len(lab.fi_src.data["i"]) == 21


def test_fi_cancel_stops_a_running_curve(lab):
    from engine.analysis import Cancelled

    lab.set_model("FitzHughNagumoNeuron")
    lab._fi_stop.clear()
    seen = []

    def stop_soon(frac):
        seen.append(frac)
        if len(seen) == 3:
            lab._fi_stop.set()     # what the Cancel button does

    lab._fi_progress = stop_soon
    try:
        with pytest.raises(Cancelled):
            lab.compute_fi()
    finally:
        del lab._fi_progress
    assert len(seen) == 3 and seen[-1] < 1.0


def test_store_open_population_and_send_to_canvas():
    store = SessionStore()
    doc = store.network_dict()
    doc["populations"].append({"label": "exc", "model": "AdExNeuron", "n": 10, "params": {"a": -3.0, "b": 5.0}})
    store.replace(doc)
    lab = NeuronLab(store=store)
    assert lab.pop_select.options == ["exc"]
    lab.open_population("exc")
    assert lab.model == "AdExNeuron" and lab.sliders["a"].value == -3.0 and lab.sliders["b"].value == 5.0
    lab.sliders["b"].value = 40.0
    label = lab.send_to_canvas()
    assert label == "lab_adex"
    entry = store.entry("population", "lab_adex")
    assert entry["model"] == "AdExNeuron" and entry["n"] == 1 and entry["params"]["b"] == 40.0
    assert lab.pop_select.options == ["exc", "lab_adex"]
    assert lab.send_to_canvas() == "lab_adex_2"


def test_bad_input_is_shown_naming_the_field(lab):
    lab.set_model("LapicqueNeuron")
    lab.duration.value = -5.0
    assert lab.msg.visible and lab.msg.object.startswith("duration (ms)")
    lab.duration.value = 300.0
    assert not lab.msg.visible


def test_decimate_keeps_spike_peaks():
    t = np.arange(100_000) * 0.01
    y = np.zeros_like(t)
    y[12_345] = 30.0
    tt, yy = decimate(t, y, 2000)
    assert tt.size <= 2100 and yy.max() == 30.0 and np.all(np.diff(tt) >= 0)
