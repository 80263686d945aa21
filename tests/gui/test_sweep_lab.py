"""Sweep lab without a browser: widgets -> engine.sweep -> figure, in a worker thread."""
import math

import pandas as pd
import pytest

from engine.network import ConstantCurrent, Network, Population
from engine.sweep import sweep
from neurocore_gui.labs.sweep import SweepPanel, axis_values
from neurocore_gui.store import SessionStore


def _store():
    p = Population("PerfectIntegratorNeuron", 2, params={"capacitance": 1.0}, label="pi")
    q = Population("LapicqueNeuron", 3, label="lif")
    doc = Network(p, q, ConstantCurrent(0.125, target=p, label="drive"),
                  ConstantCurrent(1.5, target=q, label="drive_lif")).to_dict()
    return SessionStore(document=doc)


def test_axis_values():
    assert axis_values(0.0, 1.0, 3) == [0.0, 0.5, 1.0]
    assert axis_values(0, 3, 7, whole=True) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="points"):
        axis_values(0.0, 1.0, 0)


def test_options_follow_the_store():
    store = _store()
    panel = SweepPanel(store=store)
    assert "stimulus:drive.amplitude" in panel.x_param.options
    assert "population:pi.capacitance" in panel.x_param.options
    assert panel.population.options == ["pi", "lif"]
    doc = store.network_dict()
    doc["populations"][1]["label"] = "renamed"
    doc["stimuli"][1]["target"] = "renamed"
    store.replace(doc)
    assert panel.population.options == ["pi", "renamed"]


def test_serial_sweep_fills_curve_and_matches_the_engine():
    store = _store()
    panel = SweepPanel(store=store)
    panel.where.value = "serial"
    panel.x_param.value = "stimulus:drive.amplitude"
    panel.x_start.value, panel.x_stop.value, panel.x_n.value = 0.0625, 0.25, 4
    panel.measure.value, panel.population.value = "count", "pi"
    panel.start()
    assert panel.wait(60)
    panel.poll()
    assert panel.status.object.startswith("Done: 4 points")
    assert panel.progress.value == 4 and not panel.run_button.disabled
    got = panel.table()
    ref = sweep(store.network_dict(), {"stimulus:drive.amplitude": axis_values(0.0625, 0.25, 4)},
                duration=0.2, measures=("count",), backend="serial")
    pd.testing.assert_frame_equal(got.drop(columns="run_time_s"), ref.drop(columns="run_time_s"))
    assert got["count[pi]"].is_monotonic_increasing and got["count[pi]"].iloc[-1] > 0
    fig = panel.plot.object
    curve = fig.Curve.I
    assert list(curve.data.iloc[:, 1]) == list(got["count[pi]"])


def test_two_parameters_make_a_heat_map_and_bad_input_is_refused():
    store = _store()
    panel = SweepPanel(store=store)
    panel.where.value = "serial"
    panel.x_param.value = "stimulus:drive.amplitude"
    panel.y_param.value = "stimulus:drive.amplitude"
    panel.start()
    assert "Refused" in panel.status.object and "different parameter" in panel.status.object
    panel.y_param.value = "population:pi.capacitance"
    panel.x_start.value, panel.x_stop.value, panel.x_n.value = 0.125, 0.25, 2
    panel.y_start.value, panel.y_stop.value, panel.y_n.value = 1.0, 2.0, 2
    panel.start()
    assert panel.wait(60)
    panel.poll()
    import holoviews as hv

    hm = panel.plot.object
    assert isinstance(hm, hv.HeatMap)
    z = hm.dframe().iloc[:, 2].to_numpy()
    assert len(z) == 4 and (z > 0).all()


def test_a_failing_point_shows_the_error_and_keeps_the_page():
    store = _store()
    panel = SweepPanel(store=store)
    panel.where.value = "serial"
    panel.x_param.value = "population:pi.capacitance"
    panel.x_start.value, panel.x_stop.value, panel.x_n.value = -1.0, 1.0, 3
    panel.start()
    assert panel.wait(60)
    panel.poll()
    assert "failed" in panel.status.object and "capacitance" in panel.status.object
    assert not panel.run_button.disabled


def test_local_cluster_shows_the_dashboard_and_closes():
    store = _store()
    panel = SweepPanel(store=store)
    panel.x_param.value = "stimulus:drive.amplitude"
    panel.x_start.value, panel.x_stop.value, panel.x_n.value = 0.125, 0.25, 3
    panel.measure.value, panel.population.value = "count", "pi"
    try:
        panel.start()
        assert panel.wait(90)
        panel.poll()
        assert panel.status.object.startswith("Done: 3 points"), panel.status.object
        assert "Dask dashboard: [http://127.0.0.1:" in panel.status.object
        # one spike every ceil(C / I) steps (C = 1, dt = 1 ms), 2 neurons, 200 steps
        assert panel.table()["count[pi]"].tolist() == [2 * (200 // math.ceil(1 / a)) for a in (0.125, 0.1875, 0.25)]
    finally:
        panel.close()
    assert panel._client is None and panel._cluster is None
