"""The session store's run step, structural vs live parameter changes, the
saved flag, and the canvas helpers' labels, pinned to exact values."""
from __future__ import annotations

import json

import pytest

from neurocore_gui import graph
from neurocore_gui.builder import EXAMPLES_DIR
from neurocore_gui.store import SessionStore


def _store():
    s = SessionStore()
    s.replace(json.loads((EXAMPLES_DIR / "two_population_ei.json").read_text()), name="ei")
    return s


def test_set_run_dt_keeps_the_step_in_the_document():
    s = _store()
    old = s.document
    old_meta = json.loads(json.dumps(old.get("meta")))
    rev, srev = s.revision, s.structure_revision
    s.set_run_dt(0.0005)
    assert s.run_dt == 0.0005 and s.document["meta"]["run"]["dt"] == 0.0005
    assert s.last_change == {"kind": "run"}
    assert s.revision == rev + 1 and s.structure_revision == srev  # not a rebuild
    assert old.get("meta") == old_meta  # the previous document object is left as it was
    assert SessionStore.document_dt(s.document) == 0.0005
    for edge in (1e-7, 0.1):
        s.set_run_dt(edge)
        assert s.run_dt == edge and s.document["meta"]["run"]["dt"] == edge
    s.set_run_dt("0.002")  # a number given as text is read as a number
    assert s.run_dt == 0.002 and s.document["meta"]["run"]["dt"] == 0.002


@pytest.mark.parametrize("bad", [0.2, 1e-8, 0.0, -0.001])
def test_set_run_dt_bounds(bad):
    s = _store()
    before, rev = s.network_dict(), s.revision
    with pytest.raises(ValueError) as e:
        s.set_run_dt(bad)
    assert str(e.value) == f"run_dt must be between 1e-7 and 0.1 s, got {float(bad)!r}"
    assert s.document == before and s.revision == rev


@pytest.mark.parametrize("meta", ["absent", "not a dict", "empty"])
def test_set_run_dt_creates_the_meta_section(meta):
    s = SessionStore()
    doc = {"schema_version": 1, "populations": [{"label": "P", "model": "LapicqueNeuron", "n": 2}]}
    s.replace(doc)
    d = s.network_dict()
    if meta == "absent":
        d.pop("meta", None)
    else:
        d["meta"] = [] if meta == "not a dict" else {}
    s.document = d
    s.set_run_dt(0.003)
    assert s.document["meta"]["run"] == {"dt": 0.003}
    assert list(s.document) == list(d) + ([] if "meta" in d else ["meta"])


STRUCTURAL = [("population", "E", "n", 40), ("population", "E", "model", "LapicqueNeuron"),
              ("population", "E", "label", "E2"), ("projection", 0, "source", "I"),
              ("projection", 0, "target", "I"), ("projection", 0, "topology", "all_to_all"),
              ("projection", 0, "probability", 0.5), ("projection", 0, "seed", 7),
              ("projection", 0, "allow_self_connections", False), ("projection", 0, "delay", 2)]


@pytest.mark.parametrize("kind, label, name, value", STRUCTURAL, ids=[c[2] for c in STRUCTURAL])
def test_structural_changes_rebuild(kind, label, name, value):
    s = _store()
    srev = s.structure_revision
    s.set_param(kind, label, name, value, validate=False)
    assert s.last_change == {"kind": "structure", "origin": None}
    assert s.structure_revision == srev + 1
    entry = s.document[kind + "s"][label] if isinstance(label, int) else \
        next(p for p in s.document["populations"] if p.get("label") == (value if name == "label" else label))
    assert entry[name] == value  # a population's n, model and label are entry fields, not params
    assert name not in entry.get("params", {})


def test_a_stimulus_type_change_is_structural():
    s = _store()
    assert s.document["stimuli"], "the example has a stimulus"
    srev = s.structure_revision
    s.set_param("stimulus", 0, "type", "ConstantCurrent", validate=False)
    assert s.last_change["kind"] == "structure" and s.structure_revision == srev + 1


def test_a_weight_is_a_live_change():
    s = _store()
    srev = s.structure_revision
    s.set_param("projection", 0, "weight", 0.25, origin="editor")
    assert s.last_change == {"kind": "param", "what": "projection", "label": s.document["projections"][0].get(
        "label"), "index": 0, "name": "weight", "value": 0.25, "origin": "editor"}
    assert s.structure_revision == srev and s.dirty


def test_mark_saved_clears_dirty():
    s = _store()
    s.set_param("population", "E", "tau", 11.0)
    assert s.dirty is True
    s.mark_saved()
    assert s.dirty is False


def test_unique_label():
    assert graph.unique_label("P", []) == "P"
    assert graph.unique_label("P", ["P"]) == "P_1"
    assert graph.unique_label("P", ["P", "P_1", "P_2"]) == "P_3"
    assert graph.unique_label("P", ["P", "P_2"]) == "P_1"
    assert graph.unique_label("P", iter(["P", "P_1"])) == "P_2"


def test_stimulus_params_drop_private_and_canvas_keys():
    data = {graph.STIM_TYPE: "ConstantCurrent", "label": "s", graph.STIM_TARGET: "E", "_x": 1,
            "amplitude": 2.0, "x_": 3}
    assert graph.stimulus_params(data) == {"amplitude": 2.0, "x_": 3}


def test_projection_data_is_the_declared_defaults():
    d = graph.projection_data(weight=-0.5)
    assert d == {"label": None, "weight": -0.5, "probability": 1.0, "delay": 0, "topology": "random",
                 "plasticity": None, "seed": 42, "weight_threshold": 0.0, "allow_self_connections": True,
                 "tau_syn": None}


def test_set_run_dt_keeps_the_rest_of_meta():
    s = _store()
    d = s.network_dict()
    d["meta"] = {"layout": {"E": [1.0, 2.0]}, "run": {"dt": 0.001, "other": 3}}
    s.replace(d)
    s.set_run_dt(0.0002)
    assert s.document["meta"] == {"layout": {"E": [1.0, 2.0]}, "run": {"dt": 0.0002, "other": 3}}


def test_set_param_counts_one_revision_and_creates_params():
    s = SessionStore()
    s.replace({"schema_version": 1, "populations": [{"label": "P", "model": "LapicqueNeuron", "n": 2}]})
    rev, srev = s.revision, s.structure_revision
    s.set_param("population", "P", "tau", 5.0)
    assert s.document["populations"][0]["params"] == {"tau": 5.0}
    assert s.revision == rev + 1 and s.structure_revision == srev
    s.set_param("population", "P", "n", 3)
    assert s.revision == rev + 2 and s.structure_revision == srev + 1
