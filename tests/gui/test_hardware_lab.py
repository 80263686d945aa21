"""Hardware lab view-model without a browser: code <-> float edits write the
store, float vs fixed is recomputed on a change, warnings name the culprit,
the sweep, co-simulation, resources and export run off the page thread."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neurocore_gui.labs.hardware import HardwareLab
from neurocore_gui.store import SessionStore
from tests.conftest import require_tool

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "networks"


def store_of(name):
    return SessionStore(document=json.loads((ASSETS / f"{name}.json").read_text()), name=name)


def small_cuba():
    """CUBA's neurons and wiring, shrunk to 100 neurons so the lab answers fast."""
    doc = json.loads((ASSETS / "cuba.json").read_text())
    for p, n in zip(doc["populations"], (80, 20)):
        p["n"] = n
        p.pop("state", None)
    return SessionStore(document=doc, name="cuba-small")


@pytest.fixture
def lab():
    return HardwareLab(store=store_of("poisson_feedforward"))


def test_controls_show_codes_and_floats_and_write_back(lab):
    assert lab.population.value == "layer"          # the output population by default
    lab.population.value = "input"
    assert lab.leak_k.value == 46                   # q(1 - exp(-1/5)) = round(46.4)
    lab.population.value = "layer"
    e = lab.store.entry("population", "layer")["params"]
    tau = e.get("tau", 20.0)
    m = lab.mapping()
    assert lab.leak_k.value == m.codes["leak_k"] and lab.tau.value == pytest.approx(tau)
    assert lab.volt_codes["v_threshold"].value == 256 and lab.volts["v_threshold"].value == 1.0
    before = lab.agreement()["layer"]
    rev = lab.store.revision
    lab.leak_k.value = 40                 # a code typed in -> the float that maps onto it, in the store
    assert lab.store.revision == rev + 1
    new_tau = lab.store.entry("population", "layer")["params"]["tau"]
    assert new_tau == pytest.approx(-1.0 / np.log1p(-40 / 256))
    assert lab.leak_k.value == 40 and lab.tau.value == pytest.approx(new_tau, rel=1e-5)
    lab.tau.value = 3.0                   # and the float side
    assert lab.store.entry("population", "layer")["params"]["tau"] == 3.0
    assert lab.leak_k.value == round((1 - np.exp(-1 / 3.0)) * 256)
    assert lab.result is not None and lab.agreement()["layer"] != before
    lab.volt_codes["v_threshold"].value = 300
    assert lab.store.entry("population", "layer")["params"]["v_threshold"] == pytest.approx(300 / 256)


def test_format_change_recomputes_within_budget_and_warns():
    lab = HardwareLab(store=small_cuba())
    lab.population.value = "exc"
    lab.neurons.value = "0, 3"
    assert lab.result.v_float.shape == (1000, 2) and lab.result.v_fixed.shape == (1000, 2)
    # the CUBA neuron holds v_reset while refractory in fixed point as in float
    fixed = lab.result.v_fixed[:, 0]
    assert np.isclose(fixed, -60.0).sum() >= 5
    times = []
    for w, f in ((16, 8), (12, 4), (10, 2), (16, 8)):
        lab.data_width.value, lab.fraction.value = w, f
        times.append(lab.last_seconds)
    assert "Q8.2" in lab.metrics.object or "Q6.4" in lab.metrics.object or "Q8.8" in lab.metrics.object
    lab.data_width.value, lab.fraction.value = 8, 2    # Q6.2: -60 does not fit
    assert lab.warnings_pane.visible and "population 'exc'" in lab.warnings_pane.object
    assert "saturates" in lab.warnings_pane.object
    print("lab refresh seconds", [round(t, 3) for t in times])


def test_bad_input_is_refused_on_the_page(lab):
    lab.neurons.value = "0, 999"
    assert lab.result is None and "neurons must be indices" in lab.status.object
    lab.neurons.value = "1"
    assert lab.result is not None
    assert lab.population.value == "layer"
    rev = lab.store.revision
    lab.leak_k.value = 400                # leak 1.56: no Lapicque time constant
    assert lab.store.revision == rev and "Refused" in lab.status.object


def test_sweep_runs_off_thread_with_progress_and_cancel():
    lab = HardwareLab(store=store_of("poisson_feedforward"))
    lab.n_steps.value = 300
    lab.sweep_from.value, lab.sweep_to.value = 4, 12
    assert not lab.sweep_plot.visible      # no empty figure before there is a sweep
    assert lab.start_sweep()
    assert lab.sweep_button.disabled
    assert not lab.start_sweep()          # one at a time
    assert lab.wait("sweep", 300)
    res = lab.sweep_result
    assert [r.data_width for r in res.rows] == list(range(4, 13))
    assert "Smallest format" in lab.sweep_status.object and lab.sweep_progress.value == 9
    assert lab.sweep_plot.visible
    lab.sweep_to.value = 32
    lab.start_sweep()
    lab.cancel("sweep")
    assert lab.wait("sweep", 300)
    assert "cancelled" in lab.sweep_status.object.lower() or "Smallest" in lab.sweep_status.object


def test_cosim_resources_and_export():
    require_tool("iverilog")
    lab = HardwareLab(store=store_of("poisson_feedforward"))
    assert lab.start_cosim()
    assert lab.wait("cosim", 300)
    assert "PASS" in lab.cosim_status.object and "cycles" in lab.cosim_status.object, lab.cosim_status.object
    z = zipfile.ZipFile(io.BytesIO(lab._export_file().getvalue()))
    assert {"network_params.vh", "README.md", "constants.mem"} <= set(z.namelist())
    lab2 = HardwareLab(store=small_cuba())
    lab2.population.value = "exc"
    assert lab2.start_cosim() and lab2.wait("cosim", 300)
    assert "PASS" in lab2.cosim_status.object and "neuron of 'exc'" in lab2.cosim_status.object


def test_figures_are_updated_in_place_with_the_result(lab):
    """A change writes the new traces and rasters into the same Bokeh models
    (no figure rebuilt) and records where the time went."""
    v_fig, r_fig = lab.v_plot.object, lab.raster_plot.object
    lab.neurons.value = "3, 7, 11"
    lab.data_width.value = 14
    r = lab.result
    assert lab.v_plot.object is v_fig and lab.raster_plot.object is r_fig
    assert r.report.qformat == "Q6.8" and f"float vs {r.report.qformat}" in v_fig.title.text
    shown = [(lf, lx) for lf, lx in lab._v_lines if lf.visible]
    assert len(shown) == 3 and not any(lx.visible for _, lx in lab._v_lines[3:])
    for j, (lf, lx) in enumerate(shown):
        assert np.array_equal(lf.data_source.data["v"], r.v_float[:, j])
        assert np.array_equal(lx.data_source.data["v"], r.v_fixed[:, j])
    assert [it.label["value"] for it in lab._v_items[:6]] == ["float #3", "fixed #3", "float #7", "fixed #7",
                                                              "float #11", "fixed #11"]
    steps_x, ids_x = r.spikes_fixed["layer"]
    assert len(lab._r_src[1].data["t"]) == steps_x.size > 0
    assert np.allclose(lab._r_src[1].data["neuron"], ids_x + 0.4)
    t = lab.timings
    assert set(t) >= {"float", "fixed", "metrics", "controls", "figures", "total"}
    assert 0 < t["float"] + t["fixed"] + t["controls"] + t["figures"] <= t["total"]
