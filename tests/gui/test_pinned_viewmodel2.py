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


# -- round 4: display labels, node widths, edge looks ---------------------------------
def test_display_label_per_node_type():
    pop = {"label": "A", "model": "LIFNeuron", "n": 3}
    assert graph.display_label("population", pop) == "A · LIFNeuron · n=3"
    assert graph.display_label("stimulus", {"label": "S", "type": "PoissonInput"}) == "S · PoissonInput"
    # any other node: just its label, as text
    assert graph.display_label("note", {"label": 7, "model": "x"}) == "7"
    assert graph.display_label("stimulus", {}) == "None · None"


def test_node_width_grows_with_the_label():
    # 28 + len(" · LIF · n=1") = 40 characters: 6.8 px each plus 16 px padding = 288 px
    wide = {"type": "population", "data": {"label": "x" * 28, "model": "LIF", "n": 1}}
    assert graph.node_width(wide) == pytest.approx(288.0)
    # a short label keeps the 190 px minimum (13 characters would need only 104.4 px)
    assert graph.node_width({"type": "population", "data": {"label": "A", "model": "LIF", "n": 1}}) == 190


_BLUE, _RED = "#1f77b4", "#d62728"  # excitatory / inhibitory (the plots' palette)


@pytest.mark.parametrize("weight, colour", [(0.5, _BLUE), (-0.5, _RED)])
def test_projection_look_is_exact(weight, colour):
    assert graph.edge_look("projection", {"weight": weight}) == {
        "label": f"w={weight:g}", "style": {"stroke": colour, "strokeWidth": 2},
        "markerEnd": {"type": "arrowclosed", "color": colour}}


def test_drive_look_is_a_grey_dashed_unlabelled_arrow():
    assert graph.edge_look("drive", {"weight": -1}) == {
        "label": None, "style": {"stroke": "#888", "strokeDasharray": "5 4"},
        "markerEnd": {"type": "arrow", "color": "#888"}}


def test_loop_look_and_its_copy():
    look = graph.edge_look("projection", {"weight": 1}, loop=True)
    loop_fields = {"type": "smoothstep", "sourceHandle": "loop_out", "targetHandle": "loop_in",
                   "className": "nc-selfloop",
                   "pathOptions": {"offset": 38, "borderRadius": 7, "stepPosition": 1.0}}
    assert {k: look[k] for k in loop_fields} == loop_fields
    # loop=True wins over a route
    assert graph.edge_look("projection", {"weight": 1}, loop=True, route="back")["type"] == "smoothstep"
    look["pathOptions"]["offset"] = 0  # one edge's look is not every loop's look
    assert graph.edge_look("projection", {"weight": 1}, route="loop")["pathOptions"]["offset"] == 38


# -- edge routes from positions --------------------------------------------------------
def _pop(nid, x, y):
    # a short label: the node is the minimum 190 px wide
    return {"id": nid, "type": "population", "position": None if x is None else {"x": x, "y": y},
            "data": {"label": nid, "model": "LIF", "n": 1}}


def _route(s, t, stype="population"):
    src, tgt = _pop("a", *s), _pop("b", *t)
    src["type"] = stype
    return graph.edge_routes([src, tgt], [{"id": "e", "source": "a", "target": "b"}])["e"]


# a projection counts as left to right when its target starts at least 190 + 10 px right of
# the source's left edge; rows differ when the heights differ by 50 + 20 px or more; "back"
# needs the target's right edge plus 10 px at or left of the source's left edge
@pytest.mark.parametrize("s, t, route", [
    ((40, 40), (310, 40), "forward"),
    ((40, 40), (240, 140), "forward"),   # exactly 200 px on: left to right
    ((40, 40), (235, 140), "around"),    # 195 px: not clear of the source, other row
    ((400, 40), (100, 110), "around"),   # exactly 70 px lower: another row
    ((400, 40), (100, 90), "back"),      # 50 px: same row
    ((400, 40), (200, 40), "back"),      # the gap is exactly 10 px
    ((400, 40), (205, 40), "forward"),   # 5 px gap: overlapping ends draw straight
    ((400, 40), (350, 40), "forward"),   # overlapping nodes
    ((None, None), (100, 40), "forward"),  # no position yet
])
def test_edge_route_boundaries(s, t, route):
    assert _route(s, t) == route


def test_a_drive_is_forward_wherever_the_stimulus_is():
    assert _route((400, 40), (100, 40), stype="stimulus") == "forward"
    assert _route((400, 40), (100, 40)) == "back"  # the same geometry for a projection


def test_reverse_pairs():
    def routes(b_pos):
        nodes = [_pop("a", 40, 40), _pop("b", *b_pos)]
        edges = [{"id": "ab", "source": "a", "target": "b"}, {"id": "ba", "source": "b", "target": "a"}]
        return graph.edge_routes(nodes, edges)
    assert routes((400, 40)) == {"ab": "pair", "ba": "back"}
    assert routes((40, 140)) == {"ab": "around_down", "ba": "around_up"}
    # the reverse goes around, this one runs forward: no pair
    assert routes((400, 140)) == {"ab": "forward", "ba": "around"}


# -- auto_layout, positions worked out by hand ------------------------------------------
# layer x: 40, then + layer width (>= 190) + 80, plus 50 + 60 before a layer with a
# self-loop; row y: 40 + row * (50 + 50)
def _layout(nodes, edges, **kw):
    graph.auto_layout(nodes, edges, **kw)
    return {n["id"]: (n["position"]["x"], n["position"]["y"]) for n in nodes}


def _e(src, tgt):
    return {"id": f"{src}-{tgt}", "source": src, "target": tgt}


def test_auto_layout_layers_rows_and_loop_room():
    stim = {"id": "s1", "type": "stimulus", "position": None, "data": {"label": "S", "type": "PoissonInput"}}
    nodes = [_pop("p1", None, None), _pop("p2", None, None), _pop("p3", None, None), stim,
             _pop("p4", None, None)]
    edges = [_e("s1", "p1"), _e("p1", "p2"), _e("p2", "p3"), _e("p3", "p3")]
    # layers: s1, p4 -> 0 (stimuli first in a layer), p1 -> 1, p2 -> 2, p3 -> 3 (looped: +110)
    assert _layout(nodes, edges) == {"s1": (40, 40), "p4": (40, 140), "p1": (310, 40),
                                     "p2": (580, 40), "p3": (960, 40)}


def test_auto_layout_overwrites_unless_only_missing():
    nodes = [_pop("p1", 999, 999), _pop("p2", None, None)]
    assert _layout(copy.deepcopy(nodes), []) == {"p1": (40, 40), "p2": (40, 140)}
    # a kept node still takes its row
    assert _layout(nodes, [], only_missing=True) == {"p1": (999, 999), "p2": (40, 140)}


def test_auto_layout_layer_width_is_its_widest_node():
    wide = _pop("p1", None, None)
    wide["data"]["label"] = "x" * 28  # 288 px (see test_node_width_grows_with_the_label)
    nodes = [wide, _pop("p2", None, None), _pop("p3", None, None)]
    assert _layout(nodes, [_e("p1", "p3")]) == {"p1": (40, 40), "p2": (40, 140), "p3": (408, 40)}


def test_auto_layout_longest_path_and_cycles():
    # p2 has two inputs (p1 and p3): it waits for both, so it lands after p3
    nodes = [_pop(f"p{i}", None, None) for i in range(1, 5)]
    edges = [_e("p1", "p2"), _e("p1", "p3"), _e("p3", "p2"), _e("p2", "p4")]
    assert _layout(nodes, edges) == {"p1": (40, 40), "p3": (310, 40), "p2": (580, 40), "p4": (850, 40)}
    # a cycle p1 <-> p2: the back edge p2 -> p1 is dropped, p2's other output still counts
    nodes = [_pop(f"p{i}", None, None) for i in range(1, 4)]
    edges = [_e("p1", "p2"), _e("p2", "p1"), _e("p2", "p3")]
    assert _layout(nodes, edges) == {"p1": (40, 40), "p2": (310, 40), "p3": (580, 40)}


def test_auto_layout_ignores_edges_to_unknown_nodes_and_empty_canvases():
    nodes = [_pop("p1", None, None), _pop("p2", None, None)]
    edges = [_e("p1", "p2"), _e("p1", "gone"), _e("gone", "p2")]
    assert _layout(nodes, edges) == {"p1": (40, 40), "p2": (310, 40)}
    graph.auto_layout([], [])  # nothing to place, no error


# -- network_to_canvas / canvas_to_network: errors, ids, copies -------------------------
_NET = {"schema_version": 1, "seed": 3, "monitors": [{"type": "SpikeMonitor", "population": "A"}],
        "populations": [{"label": "A", "model": "LapicqueNeuron", "n": 2, "params": {"tau": 0.02}}],
        "projections": [{"source": "A", "target": "A", "weight": {"dist": "normal", "mean": 1.0}}],
        "stimuli": [{"type": "PoissonInput", "label": "S0", "rates": [1.0, 2.0]},
                    {"type": "PoissonInput", "label": "S1", "target": "A", "rates": [3.0, 4.0]}]}


def test_canvas_edge_ids_follow_the_entry_numbers():
    nodes, edges, _ = graph.network_to_canvas(copy.deepcopy(_NET))
    # S0 has no target: the drive of stimuli[1] is d2
    assert [(e["id"], e["source"], e["target"]) for e in edges] == [("d2", "s2", "p1"), ("e1", "p1", "p1")]


def test_network_to_canvas_copies_the_network():
    net = copy.deepcopy(_NET)
    nodes, edges, meta = graph.network_to_canvas(net)
    by_id = {n["id"]: n for n in nodes}
    by_id["p1"]["data"]["params"]["tau"] = 9.0
    by_id["s1"]["data"]["rates"].append(5.0)
    edges[1]["data"]["weight"]["mean"] = -1.0
    meta["monitors"][0]["population"] = "B"
    assert net == _NET


def test_canvas_to_network_copies_the_canvas():
    nodes, edges, meta = graph.network_to_canvas(copy.deepcopy(_NET))
    canvas = copy.deepcopy((nodes, edges, meta))
    out = graph.canvas_to_network(nodes, edges, meta)
    out["monitors"][0]["population"] = "B"
    out["populations"][0]["params"]["tau"] = 9.0
    out["stimuli"][0]["rates"].append(5.0)
    out["projections"][0]["weight"]["mean"] = -1.0
    assert (nodes, edges, meta) == canvas


def test_network_to_canvas_errors_name_the_entry():
    with pytest.raises(graph.DocumentError) as e:
        graph.network_to_canvas([1])
    assert str(e.value) == "a network must be a JSON object, got list"
    pops = [{"label": "A", "model": "LapicqueNeuron", "n": 1}]
    with pytest.raises(graph.DocumentError) as e:
        graph.network_to_canvas({"populations": pops, "projections": [5]})
    assert str(e.value) == "projections[0] must be an object"
    with pytest.raises(graph.DocumentError) as e:
        graph.network_to_canvas({"populations": pops, "projections": [{"target": "A"}]})
    assert str(e.value) == "projections[0] source None is not a population of this network"


def test_a_stimulus_without_type_or_label_is_called_stimulus():
    nodes, _, _ = graph.network_to_canvas({"populations": [{"label": "A", "model": "LapicqueNeuron", "n": 1}],
                                           "stimuli": [{"target": "A"}]})
    assert nodes[1]["data"] == {"label": "stimulus", "_auto_label": True}
