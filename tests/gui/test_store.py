"""The per-session store and the defects of "one network per app session"
(issue 11) and "nothing lost on upload" (issue 19, items 3-4), driven through
the same objects the page uses, without a browser."""

from __future__ import annotations

import json
import math
import time

import pytest

from neurocore_gui.builder import EXAMPLES_DIR
from neurocore_gui.store import SessionStore


@pytest.fixture
def app():
    import holoviews as hv

    hv.extension("bokeh")
    from neurocore_gui.session import create_app

    a = create_app(example="two_population_ei")
    yield a
    a.close()


def _tick_until(rv, cond, timeout=20.0, what="condition"):
    t0 = time.time()
    while not cond():
        rv.tick()
        if time.time() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _example(name: str) -> dict:
    return json.loads((EXAMPLES_DIR / f"{name}.json").read_text())


FIXED_POINT_NET = {"schema_version": 1, "seed": 1,
                   "populations": [{"label": "F", "model": "FixedPointLIFNeuron", "n": 20}],
                   "projections": [],
                   "stimuli": [{"type": "ConstantCurrent", "label": "drive", "target": "F",
                                "amplitude": 300.0}],
                   "monitors": []}


# -- the store ---------------------------------------------------------------------------
def test_refused_document_or_value_leaves_the_store_as_it_was():
    s = SessionStore()
    s.replace(_example("two_population_ei"), name="ei")
    before, rev = s.network_dict(), s.revision
    with pytest.raises(ValueError, match="NoSuchNeuron"):
        s.replace({"schema_version": 1, "populations": [{"model": "NoSuchNeuron", "n": 3}]})
    with pytest.raises(ValueError, match="tau"):
        s.set_param("population", "E", "tau", -5.0)
    assert s.document == before and s.revision == rev and s.source == "ei"


def test_set_param_reports_a_live_change_and_finds_unlabelled_projections_by_index():
    s = SessionStore()
    doc = _example("two_population_ei")
    doc["projections"][1].pop("label", None)
    s.replace(doc)
    seen = []
    s.param.watch(lambda e: seen.append(dict(s.last_change)), "revision")
    structure = s.structure_revision
    assert s.document["projections"][1].get("label") is None
    s.set_param("projection", 1, "weight", -2.5)
    s.set_param("population", "E", "tau", 12.0)
    assert s.document["projections"][1]["weight"] == -2.5
    assert s.document["populations"][0]["params"]["tau"] == 12.0
    assert [c["kind"] for c in seen] == ["param", "param"] and s.structure_revision == structure
    assert seen[0]["index"] == 1 and seen[1]["label"] == "E"
    s.set_param("population", "E", "n", 50)  # a size is structure: the simulator is rebuilt
    assert s.last_change["kind"] == "structure" and s.structure_revision == structure + 1


def test_canvas_and_store_are_one_network(app):
    """An edit on the canvas is in the store at once; a change made to the
    store from elsewhere (a lab) is drawn on the canvas."""
    b, store = app.builder, app.store
    b.add_population("LapicqueNeuron", 7)
    assert [p["n"] for p in store.document["populations"]][-1] == 7
    assert store.document == b.document()
    b.flow.selection = {"nodes": [b.nodes[0]["id"]], "edges": []}
    assert store.selection == {"kind": "population", "label": b.nodes[0]["data"]["label"]}
    lab_doc = _example("cuba")
    store.replace(lab_doc)
    assert sorted(n["data"]["label"] for n in b.nodes) == sorted(p["label"] for p in lab_doc["populations"])
    assert b.network_dict()["populations"] == lab_doc["populations"]


# -- issue 11: the listed defects ------------------------------------------------------------------
def test_loading_an_example_while_paused_runs_the_new_network(app):
    rv, b = app.run, app.builder
    rv.speed.value = "as fast as possible"
    rv.start()
    _tick_until(rv, lambda: rv.raster.total_spikes > 0, what="spikes of the first network")
    rv.pause()
    b.examples.value = "poisson_feedforward"
    labels = [p["label"] for p in app.store.document["populations"]]
    assert labels != ["E", "I"]
    rv.start()
    _tick_until(rv, lambda: rv.live is not None and rv.raster.total_spikes > 0, what="new spikes")
    assert [p.label for p in rv.live.network.populations] == labels
    assert [p[0] for p in rv._pop_sizes] == labels and rv.rates.labels == labels


def test_a_refused_width_is_taken_once_the_fraction_allows_it(app):
    """FixedPointLIF: data_width 8 is refused while fraction is 8; after
    fraction 4 (and a threshold and gain that fit 8 bits) the same 8 is taken
    without typing it again, and the message always gives the current reason."""
    b = app.builder
    nid = b.add_population("FixedPointLIFNeuron", 10)
    label = next(n["data"]["label"] for n in b.nodes if n["id"] == nid)
    b.flow.selection = {"nodes": [nid], "edges": []}
    fe = b.field_editor
    fe.widgets["data_width"].value = 8
    assert fe.widgets["data_width"].error_state and "data_width" in fe.errors
    assert "fraction" in fe.widgets["data_width"].helper_text
    fe.widgets["fraction"].value = 4
    # judged again with fraction 4: the refusal now gives the reason that holds
    w = fe.widgets["data_width"]
    assert w.error_state and "v_threshold" in w.helper_text and "fraction" not in w.helper_text
    fe.widgets["v_threshold"].value = 100
    fe.widgets["gain_k"].value = 100
    assert not w.error_state and not fe.errors
    pop = next(p for p in app.store.document["populations"] if p["label"] == label)
    assert pop["params"]["data_width"] == 8 and pop["params"]["fraction"] == 4
    assert json.loads(b.save_text())["populations"][-1]["params"]["data_width"] == 8


@pytest.mark.parametrize("backend", ["numpy", "fixed_point"])
def test_q_format_change_while_running_applies_and_says_how(app, backend):
    """A new Q-format goes to the running simulator at the next chunk where
    the backend can take it; the fixed-point backend compiles the format in,
    so there the run restarts with it, and the page says so.  The run never
    stops."""
    rv, store = app.run, app.store
    store.replace(FIXED_POINT_NET)
    rv.backend_select.value = backend
    rv.speed.value = "as fast as possible"
    rv.start()
    _tick_until(rv, lambda: rv.raster.total_spikes > 0, what="fixed-point spikes")
    steps_before = rv.runner.steps_done
    store.set_param("population", "F", "fraction", 6)
    if backend == "fixed_point":
        _tick_until(rv, lambda: "restarted" in rv.info.object, what="the restart")
        assert "fraction" in rv.info.object
    else:
        _tick_until(rv, lambda: rv.runner.steps_done > steps_before + 100, what="more steps")
        assert "restarted" not in rv.info.object
    _tick_until(rv, lambda: rv.live.network.population("F").model.fraction == 6 and rv.raster.total_spikes > 0,
                what="spikes with the new Q-format")
    assert rv.runner.state == "running" and rv.runner.error is None and not rv.message.visible


def test_a_live_change_that_fails_while_the_page_draws_restarts_the_run(app):
    """The worker may fail on a live change while a tick is draining its
    chunks: that failure must still take the restart path (with the change),
    not the "simulation stopped" message, and the run goes on."""
    rv, store = app.run, app.store
    rv.speed.value = "as fast as possible"
    rv.start()
    _tick_until(rv, lambda: rv.raster.total_spikes > 0, what="spikes")
    r = rv.runner
    drain = r.drain

    def drain_then_fail():
        chunks = drain()
        sim = r.sim

        def failing(n):  # the chunk after a live change raises, in the worker
            del sim.advance  # once
            rv._live_applied = (r.steps_done, "tau")
            raise ValueError("planted")

        # planted in the worker's own path (setting the state from here raced
        # with a chunk in flight, whose steps then no longer matched the change)
        sim.advance = failing
        deadline = time.monotonic() + 60
        while r.state != "error" and time.monotonic() < deadline:
            time.sleep(0.005)
        assert r.state == "error", "the planted failure did not happen"
        r.drain = drain
        return chunks

    r.drain = drain_then_fail
    rv.tick()
    assert not rv.message.visible  # not reported as a stopped simulation
    rv.tick()
    assert "restarted" in rv.info.object and "tau" in rv.info.object and "planted" in rv.info.object
    _tick_until(rv, lambda: rv.runner.steps_done > 0 and rv.runner.state == "running", what="the new run")


def test_exports_belong_to_the_network_on_the_canvas(app, tmp_path):
    rv, b = app.run, app.builder
    rv.speed.value = "as fast as possible"
    rv.start()
    _tick_until(rv, lambda: rv.recorder.count > 0 and len(rv.rates.t) > 0, what="a run's data")
    rv.pause()
    b.load_document((EXAMPLES_DIR / "cuba.json").read_text(), name="cuba.json")
    spikes = rv._spikes_csv().getvalue().splitlines()
    rates = rv._rates_csv().getvalue().splitlines()
    labels = [p["label"] for p in app.store.document["populations"]]
    assert spikes == ["population,neuron,step,time_s"]
    assert rates == ["time_s," + ",".join(labels)]


def test_hint_counts_what_the_canvas_shows(app):
    b = app.builder
    b.clear()
    item = b._palette_items[0]["items"][0]
    b._on_palette(item)
    b._on_palette(item)
    assert "2 population(s)" in b._editor_box.objects[0].object


def test_one_palette_click_adds_one_node(app):
    """A click sends a click message and (for a selectable entry) the menu's
    new ``active`` path; both arrive here as they do from the browser."""
    b = app.builder
    b.clear()
    for k in range(3):
        b.palette._handle_msg({"type": "click", "item": [0, 0]})
        b.palette.param.update(active=(0, 0))
        assert len(b.nodes) == k + 1


def test_examples_box_names_only_the_example_on_the_canvas(app):
    b = app.builder
    b.examples.value = "cuba"
    assert b.examples.value == "cuba"
    b.clear()
    assert b.examples.value == "" and b.store.document["populations"] == []


def test_old_errors_do_not_survive_new_or_load(app):
    rv, b = app.run, app.builder
    rv.trace_spec.value = "nonsense without colon"
    rv.start()
    assert rv.message.visible
    b.clear()
    assert not rv.message.visible and not b.message.visible
    rv.trace_spec.value = "nonsense without colon"
    rv.start()
    assert rv.message.visible
    b.load_example("cuba")
    assert not rv.message.visible and b.message.severity == "success"


def test_help_texts_show_no_markup():
    from engine.models import model_names
    from neurocore_gui import catalog
    from neurocore_gui.editors import _helper, model_fields

    # a docstring's reST, as class docstrings (the old stimulus help) have it
    assert _helper({"doc": "``amplitude`` during steps ``onset <= t < offset``; :math:`I` *per step*",
                    "bounds": None}) == "amplitude during steps onset <= t < offset; I per step"
    docs = [f for m in model_names() for f in model_fields(m)]
    docs += [f for k in catalog.stimulus_kinds() for f in catalog.stimulus_fields(k, {})]
    for f in docs:
        text = _helper(f)
        assert "``" not in text and ":math:" not in text, (f["name"], text)


# -- issue 19: nothing lost on upload, every saved file loads -----------------------------------
@pytest.mark.parametrize("meta", ["NaN", "Infinity", "-Infinity", "5", '"x"', "[1]",
                                  '{"layout": {"E": {"x": NaN, "y": 0}}}'])
def test_a_bad_upload_changes_nothing_and_save_keeps_working(app, meta):
    b, store = app.builder, app.store
    before, rev, canvas = store.network_dict(), store.revision, b.nodes
    doc = json.dumps(_example("cuba"))
    text = doc[:-1] + f', "meta": {meta}}}'
    b.upload.filename = "bad.json"
    assert b._on_upload(type("E", (), {"new": text.encode()})()) is False
    assert b.message.severity == "error" and "unchanged" in b.message.object
    assert store.document == before and store.revision == rev and b.nodes == canvas
    assert b.upload.value is None  # the widget does not keep claiming the file
    saved = b.save_text()
    assert json.loads(saved)["populations"] == before["populations"]


def test_save_writes_only_what_load_accepts(app):
    b = app.builder
    # a canvas glitch: a node dropped at a non-finite position
    nodes = b.flow.nodes
    nodes[0]["position"] = {"x": float("nan"), "y": 10.0}
    b._notify("layout")
    text = b._save_file().getvalue()
    doc = json.loads(text)  # strict JSON: no NaN literal in the file
    assert all(math.isfinite(v) for pos in doc["meta"]["layout"].values() for v in pos.values())
    b.clear()
    b.load_document(text, name="saved.json")
    assert [p["label"] for p in b.store.document["populations"]] == ["E", "I"]
    assert all(math.isfinite(n["position"]["x"]) for n in b.nodes)


# -- argument lists from the engine's declarations ------------------------------------------------
def test_new_projections_take_the_engines_defaults():
    from engine.network.declare import declarations
    from neurocore_gui import graph

    data = graph.projection_data()
    for name, p in declarations("Projection").items():
        assert data[name] == p.default, name
    assert data["probability"] == 1.0 and data["allow_self_connections"] is True


def test_a_declared_parameter_reaches_editor_palette_and_script(app, monkeypatch):
    """The GUI lists a projection's and a stimulus's arguments from
    ``engine.network.declare.declarations``: one more declaration there (here
    patched in) is a field in the editor, a default of a new object and an
    argument of the generated script, with no GUI change."""
    import param

    from engine.network import declare
    from neurocore_gui import catalog, graph
    from neurocore_gui.codegen import network_to_python

    class Extra(param.Parameterized):
        jitter = param.Number(0.25, bounds=(0, 1), doc="test-only parameter")

    real = declare.declarations

    def patched(kind):
        found = real(kind)
        if getattr(kind, "__name__", kind) in ("Projection", "PoissonInput"):
            found["jitter"] = Extra.param["jitter"]
        return found

    monkeypatch.setattr(declare, "declarations", patched)
    assert graph.projection_data()["jitter"] == 0.25
    assert catalog.stimulus_defaults("PoissonInput")["jitter"] == 0.25
    field = next(f for f in catalog.stimulus_fields("PoissonInput", {}) if f["name"] == "jitter")
    assert field["bounds"] == (0, 1) and field["kind"] == "float" and field["doc"] == "test-only parameter"
    b = app.builder
    by_id = {n["id"]: n for n in b.nodes}
    edge = next(e for e in b.edges if graph.edge_kind(e, by_id) == "projection")
    b.flow.selection = {"nodes": [], "edges": [edge["id"]]}
    assert "jitter" in b.field_editor.widgets
    net = b.network_dict()
    net["projections"][0]["jitter"] = 0.5
    assert "jitter=0.5" in network_to_python(net)


def test_labs_are_tabs_over_the_session_store(app):
    """Every lab whose module exists is a tab, built on first opening with
    the session's store (a lab that fails to start shows why in its tab)."""
    from neurocore_gui.session import LABS, _lab_exists

    present = [(t, cls) for t, module, cls in LABS if _lab_exists(module) or module == "neuron"]
    assert app._tab_titles == ["Build & run"] + [t for t, _ in present]
    assert app.labs == {}  # nothing built with the first page
    for i, (title, cls) in enumerate(present, start=1):
        app.tabs.active = i
        lab = app.labs[title]
        assert type(lab).__name__ == cls, getattr(lab, "object", lab)
        if hasattr(lab, "store"):
            assert lab.store is app.store


def test_a_network_too_big_to_load_back_is_not_saved(app, monkeypatch):
    import engine.network.io as nio

    b = app.builder
    # over the limit even compressed (a bigger plain JSON is saved as .json.gz:
    # tests/gui/test_builder_files.py)
    size = len(nio.dump_document(app.store.document, compress=True))
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", size - 1)  # as if the file were over 50 MB
    assert b._save_file().getvalue() == b""
    assert b.message.severity == "error" and "limit load accepts" in b.message.object
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", 10 * size)
    assert json.loads(b._save_file().getvalue()) == app.store.document


def test_a_weight_drawn_on_the_canvas_changes_live(app):
    """A projection drawn on the canvas gets a label, so the running network
    takes a new weight at the next chunk (no restart)."""
    rv, b = app.run, app.builder
    b.clear()
    a = b.add_population("LapicqueNeuron", 20)
    c = b.add_population("LapicqueNeuron", 20)
    b.add_stimulus("ConstantCurrent")
    b._on_edge_added({"edge": {"id": "e9", "source": a, "target": c}})
    proj = app.store.document["projections"][0]
    assert proj["label"] == "LN->LN_1"
    rv.speed.value = "as fast as possible"
    rv.start()
    _tick_until(rv, lambda: rv.runner.steps_done > 50, what="a running network")
    steps = rv.runner.steps_done
    b.flow.selection = {"nodes": [], "edges": ["e9"]}
    b.field_editor.widgets["weight"].value = "2.5"
    _tick_until(rv, lambda: rv.live.network.find("LN->LN_1", "projection").weight_spec == 2.5,
                what="the new weight in the running network")
    assert "restarted" not in rv.info.object and rv.runner.steps_done >= steps
