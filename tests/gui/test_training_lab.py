"""Training and conversion lab without a browser: the view-model's surrogate
figure data, training the store's network in a worker (pause, stop, write
back, refusal of unsupported networks), conversion with its cache, the
surrogate picker and the generated script."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("torch")

import holoviews as hv  # noqa: E402

hv.extension("bokeh", logo=False)  # the lab styles its figures with Bokeh options

from neurocore_gui.codegen import network_to_python  # noqa: E402
from neurocore_gui.labs.training import SurrogatePicker, TrainingLab, surrogate_curves  # noqa: E402
from neurocore_gui.store import SessionStore  # noqa: E402

from engine.training.spec import SURROGATE_NAMES  # noqa: E402
from engine.training.tasks import proposed_network  # noqa: E402


@pytest.fixture
def lab():
    lab = TrainingLab(store=SessionStore())
    yield lab
    lab.close()


@pytest.mark.parametrize("name", SURROGATE_NAMES)
def test_both_paths_agree_and_the_gradient_is_the_formula(name):
    d = surrogate_curves(name, all_six=True, timing=False)
    assert d["max_diff"] == 0.0
    x = d["x"]
    assert np.array_equal(d["forward"], (x > 0).astype(float))
    np.testing.assert_allclose(d["grad"], d["others"][name])
    assert set(d["others"]) == set(SURROGATE_NAMES)


def test_triangular_width_shapes_the_gradient():
    d = surrogate_curves("triangular", 0.5, timing=False)
    x, g = d["x"], d["grad"]
    np.testing.assert_allclose(g, np.maximum(0, 1 - np.abs(x) / 0.5) / 0.5, atol=1e-12)
    assert g.max() == pytest.approx(2.0)


def test_surrogate_controls_redraw_fast_and_change_the_data(lab):
    lab.sg_name.value = "fast_sigmoid"
    a = lab.update_surrogates()
    lab.sg_shape.value = 5.0
    b = lab.update_surrogates()
    assert b["params"] == {"slope": 5.0} and a["grad"].max() > b["grad"].max()
    assert "**0**" in lab.sg_info.object and "µs" in lab.sg_info.object
    times = []
    for v in (10.0, 40.0, 70.0, 90.0, 20.0):
        lab.sg_shape.value = v
        lab.update_surrogates()
        times.append(lab.last_update_s)
    assert np.median(times) < 0.1, times  # the target: <= 100 ms per slider change
    lab.sg_name.value = "straight_through"
    assert not lab.sg_shape.visible
    lab.sg_all.value = True
    assert set(lab._sg_pipe.data["others"]) == set(SURROGATE_NAMES)


def test_use_for_training_writes_the_network_choice(lab):
    lab.propose_network()
    lab.sg_name.value = "superspike"
    lab.sg_shape.value = 4.0
    rev = lab.store.revision
    lab.use_surrogate()
    assert lab.store.revision == rev + 1
    assert lab.store.document["training"] == {"surrogate": "superspike", "path": "custom_op",
                                              "params": {"beta": 4.0}}
    assert lab.store.build().to_torch().surrogate_specs[0] == ("superspike", "custom_op", {"beta": 4.0})


def test_picker_sets_network_choice_and_population_override():
    store = SessionStore()
    store.replace(proposed_network("two_pattern"))
    pick = SurrogatePicker(store=store)
    assert pick.surrogate.value == "atan_surrogate" and pick.shape.value == 2.0
    pick.surrogate.value = "triangular"
    assert store.document["training"] == {"surrogate": "triangular", "path": "custom_op", "params": {"width": 1.0}}
    pick.shape.value = 0.25
    pick.path.value = "legacy_autograd"
    assert store.document["training"] == {"surrogate": "triangular", "path": "legacy_autograd",
                                          "params": {"width": 0.25}}
    pick.population.value = "out"
    pick.override.value = "sigmoid_surrogate"
    out = store.document["populations"][2]
    assert out["surrogate"] == {"name": "sigmoid_surrogate", "params": {"slope": 5.0}}
    specs = store.build().to_torch().surrogate_specs
    assert specs == [("triangular", "legacy_autograd", {"width": 0.25})] * 2 + [
        ("sigmoid_surrogate", "legacy_autograd", {"slope": 5.0})]
    pick.override.value = "(network's)"
    assert "surrogate" not in store.document["populations"][2]
    # a change made elsewhere shows in the picker
    doc = store.network_dict()
    doc["training"] = {"surrogate": "superspike", "params": {"beta": 3.0}}
    store.replace(doc)
    assert pick.surrogate.value == "superspike" and pick.shape.value == 3.0


def test_unsupported_network_shows_the_bridge_reason_and_is_kept(lab):
    doc = proposed_network("two_pattern")
    doc["populations"][1]["model"] = "ExpIFNeuron"
    doc["populations"][1]["params"] = {}
    lab.store.replace(doc)
    before = lab.store.network_dict()
    assert lab.start_training() is None
    assert lab.train_msg.visible
    assert "hidden" in lab.train_msg.object and "ExpIFNeuron" in lab.train_msg.object
    assert "not supported" in lab.train_msg.object
    assert lab.store.document == before


def test_train_two_pattern_then_write_back(lab):
    lab.task.value = "two_pattern"
    lab.propose_network()
    w0 = lab.store.build().projections[1].data.copy()
    lab.epochs.value = 8
    job = lab.start_training()
    assert job is not None and lab.train_btn.disabled and not lab.stop_btn.disabled
    lab.wait(120)
    assert job.error is None
    _, _, data = job.snapshot()
    assert data["loss"][-1] < 0.5 * data["loss"][0]
    assert data["test_acc"][-1] >= 95.0
    assert data["elapsed_s"] < 60
    assert lab.hist_pane.visible and not lab.write_btn.disabled
    # the pipe got the whole history, the status the result
    assert len(lab._loss_pipe.data["loss"]) == len(data["loss"])
    assert "Done after 8 epoch" in lab.train_status.object
    rev = lab.store.structure_revision
    assert lab.write_back()
    assert lab.store.structure_revision == rev + 1
    w1 = lab.store.build().projections[1].data
    assert not np.allclose(w0, w1)
    assert lab.store.document["projections"][1]["csr"]["data"] == pytest.approx(list(w1))
    # the learned network classifies the task as well after a rebuild from the document
    from engine.training.tasks import evaluate, make_task

    import torch

    m = lab.store.build().to_torch(dtype=torch.float32)
    task = make_task("two_pattern", T=25, input_dim=m.input_dim)
    assert evaluate(m, task.x_test, task.y_test) >= 95.0


def test_write_back_refused_after_a_structural_change(lab):
    lab.propose_network()
    lab.epochs.value = 1
    lab.start_training()
    lab.wait(60)
    doc = lab.store.network_dict()
    doc["populations"][1]["n"] = 21
    lab.store.replace(doc)
    assert not lab.write_back()
    assert "changed since training" in lab.train_msg.object
    assert lab.store.document["populations"][1]["n"] == 21


def test_pause_holds_and_stop_ends_the_worker(lab):
    lab.propose_network()
    lab.epochs.value = 200
    job = lab.start_training()
    deadline = time.time() + 30
    while not job.snapshot()[2].get("loss") and time.time() < deadline:
        time.sleep(0.05)
    lab.toggle_pause()
    assert lab.pause_btn.label == "Resume"
    time.sleep(0.4)  # let the batch in flight finish
    n = len(job.snapshot()[2]["loss"])
    time.sleep(0.6)
    assert len(job.snapshot()[2]["loss"]) == n  # paused: no progress
    lab.poll()
    assert "(paused)" in lab.train_status.object
    lab.toggle_pause()
    lab.stop_training()
    lab.wait(30)
    assert job.done.is_set() and "Stopped" in lab.train_status.object
    assert len(job.snapshot()[2]["loss"]) < 200 * 8
    assert not lab.train_btn.disabled


def test_two_sessions_train_at_once_without_interference():
    labs = [TrainingLab(store=SessionStore()) for _ in range(2)]
    for lab in labs:
        lab.propose_network()
        lab.epochs.value = 3
    jobs = [lab.start_training() for lab in labs]
    for lab in labs:
        lab.wait(120)
    a, b = (j.snapshot()[2]["loss"] for j in jobs)
    assert a == b  # same network, task and seed: the same run, whatever ran beside it
    labs[0].write_back()
    assert "csr" in labs[0].store.document["projections"][0]
    assert "csr" not in labs[1].store.document["projections"][0]


def test_conversion_runs_caches_and_draws(lab):
    lab.cv_models.value = ["mlp/relu", "mlp/qcfs"]
    lab.cv_epochs.value = 4
    job = lab.start_conversion()
    assert lab.cv_run.disabled
    lab.wait(300)
    assert job.error is None and len(job.result) == 2
    assert lab.cv_progress.value == 100
    assert lab.cv_plot.visible and lab.digits_pane.visible
    table = lab.cv_table.object
    for t in (4, 8, 16, 32, 64, 128):
        assert f"T={t}" in table
    assert "MLP ReLU" in table and "MLP QCFS" in table
    for c in job.result:
        assert c.curve_s < 10.0  # the target, on this machine
    # the overlay: per model a curve, its points and the ANN line
    assert len(lab.cv_plot.object) == 6
    # the same request again is served from the cache, instantly
    t0 = time.perf_counter()
    again = lab.start_conversion()
    lab.wait(30)
    assert time.perf_counter() - t0 < 1.0 and again.result[0] is job.result[0]
    # the digits follow the T slider without recomputation
    def bars_total():
        return sum(float(row[1].object.data["spikes"].sum()) for row in lab.digits_pane.objects)

    lab.cv_T.value = 4
    few = bars_total()
    lab.cv_T.value = 128
    assert len(lab.digits_pane.objects) == 4 and bars_total() > 4 * few > 0
    # another percentile has no curve yet: nothing stale is drawn
    lab.cv_percentile.value = 99.0
    assert not lab.cv_plot.visible
    lab.cv_percentile.value = 99.9
    assert lab.cv_plot.visible


def test_conversion_cancel_and_bad_input(lab):
    lab.cv_models.value = []
    assert lab.start_conversion() is None and "Models" in lab.cv_msg.object
    lab.cv_models.value = ["cnn/qcfs"]
    lab.cv_epochs.value = 200
    job = lab.start_conversion()
    lab.cancel_conversion()
    lab.wait(120)
    assert job.cancelled and "Cancelled" in lab.cv_status.object
    assert lab.cache.curves() == [] and not lab.cv_run.disabled


def test_generated_script_keeps_the_surrogate_choice():
    doc = proposed_network("two_pattern")
    doc["training"] = {"surrogate": "fast_sigmoid", "path": "legacy_autograd", "params": {"slope": 9.0}}
    doc["populations"][2]["surrogate"] = {"name": "triangular", "params": {"width": 0.5}}
    src = network_to_python(doc, duration=0.01)
    ns: dict = {}
    exec(compile(src, "generated", "exec"), ns)  # noqa: S102 - our own generated script
    specs = ns["net"].to_torch().surrogate_specs
    assert specs[0] == ("fast_sigmoid", "legacy_autograd", {"slope": 9.0})
    assert specs[2] == ("triangular", "legacy_autograd", {"width": 0.5})


def test_canvas_edges_show_the_written_back_weights(lab):
    from neurocore_gui import graph

    def labels():
        net, layout = graph.from_document(lab.store.document)
        return [e["label"] for e in graph.network_to_canvas(net, layout)[1]]

    lab.propose_network()
    before = labels()
    assert before == ["w=uniform, p=0.8", "w=uniform"]
    lab.epochs.value = 2
    lab.start_training()
    lab.wait(60)
    assert lab.write_back()
    after = labels()
    means = [float(np.mean(lab.store.document["projections"][k]["csr"]["data"])) for k in (0, 1)]
    assert after[0].startswith(f"w={means[0]:.3g} (mean of ") and after[0].endswith(", p=0.8")
    assert after[1] == f"w={means[1]:.3g} (mean of 40)"


def test_the_canvas_round_trip_keeps_the_surrogate_choice():
    from neurocore_gui import graph

    doc = proposed_network("two_pattern")
    doc["populations"][2]["surrogate"] = {"name": "triangular", "params": {"width": 0.5}}
    nodes, edges, meta = graph.network_to_canvas(*graph.from_document(doc))
    back = graph.to_document(nodes, edges, meta)
    assert back["training"] == doc["training"]
    assert back["populations"][2]["surrogate"] == {"name": "triangular", "params": {"width": 0.5}}
