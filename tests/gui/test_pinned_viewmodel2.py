"""Pinned values for the GUI view-model (neurocore_gui/graph.py, store.py) that
the mutation run found unchecked (round 3b)."""
from __future__ import annotations

import copy

import pytest

from neurocore_gui import graph
from neurocore_gui.store import EMPTY_DOCUMENT, SessionStore


def _doc(**meta):
    d = {"schema_version": 1, "populations": [{"label": "A", "model": "LapicqueNeuron", "n": 2,
                                                "params": {"tau": 0.02}}]}
    if meta:
        d["meta"] = meta
    return d


# -- SessionStore ------------------------------------------------------------------
def test_constructor_keeps_a_given_document_and_copies_the_empty_one():
    d = _doc()
    assert SessionStore(document=d).document is d
    s = SessionStore()
    assert s.document == EMPTY_DOCUMENT and s.document is not EMPTY_DOCUMENT
    # a deep copy: filling one session's lists leaves the template and other sessions empty
    s.document["populations"].append({"label": "X"})
    assert EMPTY_DOCUMENT["populations"] == [] and SessionStore().document["populations"] == []


def test_network_dict_and_entry_are_deep_copies():
    s = SessionStore(document=_doc())
    nd = s.network_dict()
    nd["populations"][0]["params"]["tau"] = 9.0
    e = s.entry("population", "A")
    assert e == {"label": "A", "model": "LapicqueNeuron", "n": 2, "params": {"tau": 0.02}}
    e["params"]["tau"] = 7.0
    assert s.entry("population", 0)["params"] == {"tau": 0.02}
    assert s.document["populations"][0]["params"] == {"tau": 0.02}


def test_find_by_index_and_label_errors():
    s = SessionStore(document=_doc())
    with pytest.raises(KeyError) as e:
        s.entry("population", 1)  # one past the end
    assert e.value.args[0] == "no population number 1 in the network (1 there)"
    with pytest.raises(KeyError) as e:
        s.entry("population", "B")
    assert e.value.args[0] == "no population labelled 'B' in the network"
    with pytest.raises(ValueError) as e:
        s.entry("neuron", "A")
    assert str(e.value) == ("kind must be one of ['monitor', 'population', 'projection', 'stimulus'], "
                            "not 'neuron'")


def test_a_missing_collection_reads_as_empty():
    s = SessionStore(document=_doc())  # no "stimuli" / "monitors" keys
    assert s.labels("stimulus") == [] and s.labels("population") == ["A"]
    with pytest.raises(KeyError) as e:
        s.entry("stimulus", "S")
    assert e.value.args[0] == "no stimulus labelled 'S' in the network"
    with pytest.raises(KeyError) as e:
        s.entry("monitor", 0)
    assert e.value.args[0] == "no monitor number 0 in the network (0 there)"


def test_replace_argument_errors_name_the_argument():
    s = SessionStore()
    with pytest.raises(ValueError) as e:
        s.replace(_doc(), kind="params")
    assert str(e.value) == "kind must be 'structure' or 'layout', not 'params'"
    with pytest.raises(ValueError) as e:
        s.replace([1, 2])
    assert str(e.value) == "document must be a dict, not list"


def test_replace_counts_and_copies():
    s = SessionStore()
    s.mark_saved()
    d = _doc(run={"dt": 0.0004})
    s.replace(d)
    assert s.dirty is True  # the default
    assert (s.revision, s.structure_revision) == (1, 1)
    assert s.run_dt == 0.0004  # a structural replace takes the document's step
    d["populations"][0]["params"]["tau"] = 1.0  # the caller's copy is not the store's
    assert s.document["populations"][0]["params"] == {"tau": 0.02}
    s.replace(_doc(run={"dt": 0.0002}), kind="layout")
    # a layout change is not a rebuild and leaves the run step alone
    assert (s.revision, s.structure_revision) == (2, 1) and s.run_dt == 0.0004
    assert s.last_change == {"kind": "layout", "origin": None}
    s.replace(_doc(), dirty=False)
    assert (s.revision, s.structure_revision) == (3, 2) and s.dirty is False
    assert s.run_dt == 0.0004  # no step in the document: unchanged


def test_set_param_live_change_counts_one_revision():
    s = SessionStore()
    s.replace(_doc())
    rev, srev = s.revision, s.structure_revision
    s.set_param("population", "A", "tau", 0.03)
    assert (s.revision, s.structure_revision) == (rev + 1, srev)
    assert s.document["populations"][0]["params"] == {"tau": 0.03}


@pytest.mark.parametrize("dt, expected", [(1e-7, 1e-7), (0.1, 0.1), (0.10000001, None), (0.5, None),
                                          (9e-8, None), (True, None), ("0.001", None), (0.001, 0.001)])
def test_document_dt_bounds(dt, expected):
    assert SessionStore.document_dt({"meta": {"run": {"dt": dt}}}) == expected


@pytest.mark.parametrize("doc", [None, [], "x", {"meta": 3}, {"meta": {"run": 1}}])
def test_document_dt_of_non_documents_is_none(doc):
    assert SessionStore.document_dt(doc) is None


# -- graph.py: files ↔ canvas -------------------------------------------------------
def test_to_document_rounds_positions_to_one_decimal_and_drops_bad_ones():
    net = {"schema_version": 1, "populations": [
        {"label": lab, "model": "LapicqueNeuron", "n": 2} for lab in ("A", "B", "C", "D")]}
    nodes, edges, meta = graph.network_to_canvas(net)
    by_label = {n["data"]["label"]: n for n in nodes}
    by_label["A"]["position"] = {"x": 10.26, "y": -3.36}
    by_label["B"]["position"] = {}  # missing coordinates
    by_label["C"]["position"] = {"x": "left", "y": 1}  # not a number
    by_label["D"]["position"] = None
    doc = graph.to_document(nodes, edges, meta)
    assert doc["meta"]["layout"] == {"A": {"x": 10.3, "y": -3.4}}


def test_from_document_meta_errors():
    with pytest.raises(graph.DocumentError) as e:
        graph.from_document({"meta": 5})
    assert str(e.value) == "meta must be a JSON object (free-form data), got int"
    with pytest.raises(graph.DocumentError) as e:
        graph.from_document({"meta": {"notes": [1.0, 2.0, float("nan")]}})
    assert str(e.value) == "meta.notes[2]: nan is not allowed in a network file"
    with pytest.raises(graph.DocumentError) as e:
        graph.from_document({"meta": {"layout": [1, 2]}})
    assert str(e.value) == "'layout' must map node labels to {x, y}"


@pytest.mark.parametrize("pos", [{"x": "nan", "y": 1}, {"x": 1, "y": "inf"}])
def test_from_document_refuses_a_non_finite_coordinate(pos):
    # a number written as text passes the meta check (strings are allowed there)
    # and becomes NaN / inf only when read as a coordinate
    with pytest.raises(graph.DocumentError) as e:
        graph.from_document({"meta": {"layout": {"A": pos}}})
    assert str(e.value) == "meta.layout['A'] must hold finite numbers"


def test_from_document_keeps_good_layout_and_other_meta():
    doc, layout = graph.from_document({"meta": {"layout": {"A": {"x": 1, "y": 2.5}}, "note": [1, 2]}})
    assert layout == {"A": {"x": 1.0, "y": 2.5}} and doc == {"meta": {"note": [1, 2]}}
    src = copy.deepcopy(doc)
    assert graph.from_document(src) == (doc, {})


# -- edge labels and the inhibitory colour -------------------------------------------
@pytest.mark.parametrize("data, label", [
    ({"weight": 0.5}, "w=0.5"),
    ({"weight": 2, "probability": 0.25}, "w=2, p=0.25"),
    ({"weight": 2, "probability": 1}, "w=2"),  # all-to-all: no p shown
    ({"weight": 1.0, "probability": "x"}, "w=1"),
    ({"weight": {"dist": "normal", "mean": 1}}, "w=normal"),
    ({"weight": {"mean": 1}}, "w=dist"),
    ({"weight": "strong"}, "w=strong"),
    ({"weight": 0.123456}, "w=0.123456"),
    ({"csr": {"data": [1.0, 2.0, 4.5]}, "weight": 9}, "w=2.5 (mean of 3)"),  # (1 + 2 + 4.5) / 3
    ({"csr": {"data": [1 / 3]}}, "w=0.333 (mean of 1)"),
    ({"csr": {"data": []}, "weight": 3}, "w=3"),  # no explicit synapses: the weight
    ({"csr": [1.0], "weight": 3}, "w=3"),  # not a CSR object
    ({"csr": {}, "weight": 3, "probability": 0.5}, "w=3, p=0.5"),
    ({}, "w=None"),
])
def test_edge_label(data, label):
    assert graph._edge_label(data) == label


@pytest.mark.parametrize("weight, inhibitory", [
    (-0.5, True), (0.5, False), (0, False), (-1, True), ("-2", True), ("x", False), (None, False),
    ({"mean": -1, "value": 1, "low": 1}, True), ({"mean": 1, "value": -1}, False),
    ({"value": -1, "low": 1}, True), ({"value": 1, "low": -1}, False),
    ({"low": -1}, True), ({"low": 1}, False), ({"dist": "normal"}, False), ({"mean": "x"}, False),
])
def test_is_inhibitory_reads_mean_then_value_then_low(weight, inhibitory):
    assert graph._is_inhibitory({"weight": weight}) is inhibitory
