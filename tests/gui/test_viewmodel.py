"""View model: canvas JSON <-> engine network dict, lossless both ways; the
example networks; "show as Python"."""

from __future__ import annotations

import copy
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from engine.backends import compile as compile_network
from engine.network import ConstantCurrent, Network, PoissonInput, Population, Projection, StepCurrent
from engine.network.io import network_to_dict
from neurocore_gui import graph
from neurocore_gui.codegen import network_to_python

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "assets" / "networks").glob("*.json"))
REQUIRED = {"single_lif_step", "two_population_ei", "synfire_chain", "poisson_feedforward", "cuba",
            "lateral_inhibition", "recurrent_inhibition", "disinhibition", "half_centre_oscillator"}


def _sample_network() -> Network:
    a = Population("LapicqueNeuron", 30, {"tau": 15.0, "refractory_period": 2}, label="A")
    b = Population("AdExNeuron", 10, label="B")
    c = Population("LapicqueNeuron", 5, label="C")
    return Network(
        a, b, c,
        Projection(a, b, 0.7, probability=0.3, delay=2, seed=3, tau_syn=4.0),
        Projection(b, a, {"dist": "normal", "mean": -0.5, "std": 0.1}, probability=0.5, seed=4),
        Projection(a, a, 0.1, probability=0.2, allow_self_connections=False, seed=5),
        Projection(c, c, 0.2, topology="one_to_one"),
        StepCurrent(10, 50, 1.5, target=a, label="step"),
        PoissonInput(5, 100.0, 2.0, dt=0.001, seed=9, target=c),
        ConstantCurrent(0.5),  # no target: drives the first population
        seed=11)


def test_network_to_canvas_and_back_is_lossless():
    net = network_to_dict(_sample_network(), include_state=False, include_csr=False)
    nodes, edges, meta = graph.network_to_canvas(net)
    assert [n["type"] for n in nodes].count("population") == 3
    assert [n["type"] for n in nodes].count("stimulus") == 3
    by_id = {n["id"]: n for n in nodes}
    kinds = [graph.edge_kind(e, by_id) for e in edges]
    assert kinds.count("projection") == 4 and kinds.count("drive") == 2  # ConstantCurrent has no target
    assert graph.canvas_to_network(nodes, edges, meta) == net


def test_canvas_to_network_and_back_is_lossless():
    """Start from canvas JSON (what the builder holds) and come back to it."""
    nodes = [
        {"id": "p1", "type": "population", "position": {"x": 0, "y": 0},
         "data": graph.population_entry("LapicqueNeuron", 10, "E", {"tau": 12.0})},
        {"id": "p2", "type": "population", "position": {"x": 300, "y": 0},
         "data": graph.population_entry("LapicqueNeuron", 4, "I")},
        {"id": "s1", "type": "stimulus", "position": {"x": -300, "y": 0},
         "data": graph.stimulus_entry("StepCurrent", "step", {"onset": 1, "offset": 9, "amplitude": 2.0})},
    ]
    edges = [{"id": "e1", "source": "p1", "target": "p2", "data": graph.projection_data(weight=0.4)},
             {"id": "e2", "source": "p2", "target": "p1", "data": graph.projection_data(weight=-1.0, delay=3)},
             {"id": "d1", "source": "s1", "target": "p1", "data": {}}]
    meta = {"schema_version": 1, "seed": 7}
    net = graph.canvas_to_network(nodes, edges, meta)
    Network.from_dict(copy.deepcopy(net))  # the engine accepts it
    nodes2, edges2, meta2 = graph.network_to_canvas(net, {n["data"]["label"]: n["position"] for n in nodes})
    strip = lambda items, keys: [{k: v for k, v in i.items() if k in keys} for i in items]  # noqa: E731
    assert strip(nodes2, ("type", "position", "data")) == strip(nodes, ("type", "position", "data"))
    # ids are canvas-local; compare edges by endpoint labels and data
    lab = {n["id"]: n["data"]["label"] for n in nodes}
    lab2 = {n["id"]: n["data"]["label"] for n in nodes2}
    e1 = sorted((lab[e["source"]], lab[e["target"]], json.dumps(e["data"], sort_keys=True)) for e in edges)
    e2 = sorted((lab2[e["source"]], lab2[e["target"]], json.dumps(e["data"], sort_keys=True)) for e in edges2)
    assert e1 == e2
    assert meta2 == meta


def test_document_keeps_positions_and_loads_in_the_engine():
    net = network_to_dict(_sample_network(), include_state=False, include_csr=False)
    nodes, edges, meta = graph.network_to_canvas(net)
    nodes[0]["position"] = {"x": 123.5, "y": -40.0}
    doc = graph.to_document(nodes, edges, meta)
    assert doc["meta"]["layout"]["A"] == {"x": 123.5, "y": -40.0}
    Network.from_dict(json.loads(json.dumps(doc)))  # a saved file is a valid engine document
    net2, layout = graph.from_document(json.dumps(doc))
    assert net2 == net and layout["A"] == {"x": 123.5, "y": -40.0}


@pytest.mark.parametrize("bad, match", [
    ("{not json", "not a JSON"),
    ("[1, 2]", "JSON object"),
    ('{"populations": [{"n": 3}]}', "label"),
    ('{"populations": [], "projections": [{"source": "X", "target": "Y"}]}', "X"),
    ('{"meta": {"layout": {"A": {"x": "left"}}}}', "layout"),
])
def test_bad_documents_raise_clear_errors(bad, match):
    with pytest.raises(graph.DocumentError, match=match):
        net, layout = graph.from_document(bad)
        graph.network_to_canvas(net, layout)


def test_self_projection_is_drawn_as_a_loop_and_round_trips():
    net = network_to_dict(_sample_network(), include_state=False, include_csr=False)
    nodes, edges, meta = graph.network_to_canvas(net)
    loops = [e for e in edges if graph.is_self_loop(e)]
    assert len(loops) == 2  # A -> A, C -> C
    for e in loops:  # its own handles and path, still labelled like any projection
        assert e["type"] == "smoothstep" and e["className"] == "nc-selfloop"
        assert (e["sourceHandle"], e["targetHandle"]) == (graph.LOOP_SOURCE, graph.LOOP_TARGET)
        assert e["label"] == graph.edge_look("projection", e["data"])["label"]
    assert not any(e.get("sourceHandle") == graph.LOOP_SOURCE or e.get("className") == "nc-selfloop"
                   for e in edges if e not in loops)
    assert graph.canvas_to_network(nodes, edges, meta) == net  # the look is display only
    doc = json.loads(json.dumps(graph.to_document(nodes, edges, meta)))
    net2, layout = graph.from_document(doc)
    assert net2 == net
    assert [e for e in graph.network_to_canvas(net2, layout)[1] if graph.is_self_loop(e)] == loops


def test_builder_gives_loop_handles_to_looped_populations_only():
    from neurocore_gui.builder import LOOP_NODE, Builder

    b = Builder()
    net = network_to_dict(_sample_network(), include_state=False, include_csr=False)
    b.load_network(net)
    # B -> A is drawn back through the gap too (B right of A): B needs its handles
    kinds = {n["data"]["label"]: n["type"] for n in b.flow.nodes}
    assert kinds == {"A": LOOP_NODE, "B": LOOP_NODE, "C": LOOP_NODE,
                     "step": "stimulus", "PoissonInput": "stimulus", "ConstantCurrent": "stimulus"}
    assert {n["type"] for n in b.nodes} == {"population", "stimulus"}  # the view model's types
    assert b.network_dict() == net
    pb = next(n["id"] for n in b.nodes if n["data"]["label"] == "B")
    eba = next(e["id"] for e in b.edges if graph.edge_routes(b.nodes, b.edges)[e["id"]] == "back")
    b.flow.remove_edge(eba)  # without its back edge, B has no hidden handles
    assert next(n for n in b.flow.nodes if n["id"] == pb)["type"] == "population"
    net = b.network_dict()
    eid = b.add_projection(pb, pb, weight=-0.3)
    assert next(n for n in b.flow.nodes if n["id"] == pb)["type"] == LOOP_NODE
    assert next(e for e in b.flow.edges if e["id"] == eid)["targetHandle"] == graph.LOOP_TARGET
    b.flow.remove_edge(eid)  # the canvas reports the deletion
    assert next(n for n in b.flow.nodes if n["id"] == pb)["type"] == "population"
    assert b.network_dict() == net


def test_back_edges_are_routed_by_position_and_round_trip():
    """A projection whose target is left of (or in the column of) its source is
    drawn clear of the nodes; the look follows the positions and is display only."""
    net = json.loads((ROOT / "assets" / "networks" / "cuba.json").read_text())
    nodes, edges, meta = graph.network_to_canvas(net)  # exc left of inh, one row
    by_label = {(e["data"]["label"]): e for e in edges}
    back, fwd = by_label["inh->exc"], by_label["exc->inh"]
    assert back["type"] == "straight" and "nc-back" in back["className"].split()
    assert (back["sourceHandle"], back["targetHandle"]) == (graph.BACK_SOURCE, graph.BACK_TARGET)
    assert back["label"] == "w=-9, p=0.02" and back["style"]["stroke"] == "#d62728"
    assert "nc-pair" in fwd["className"].split() and "sourceHandle" not in fwd and "type" not in fwd
    assert graph.canvas_to_network(nodes, edges, meta) == net
    doc = json.loads(json.dumps(graph.to_document(nodes, edges, meta)))
    net2, layout = graph.from_document(doc)
    assert net2 == net
    assert graph.network_to_canvas(net2, layout)[1] == edges
    pos = {n["data"]["label"]: n["position"] for n in nodes}
    # inh below exc: the back edge steps between the rows from the usual handles
    layout = {"exc": pos["exc"], "inh": {"x": pos["exc"]["x"] + 30, "y": pos["exc"]["y"] + 120}}
    edges = graph.network_to_canvas(net, layout)[1]
    back = next(e for e in edges if e["data"]["label"] == "inh->exc")
    fwd = next(e for e in edges if e["data"]["label"] == "exc->inh")
    assert back["type"] == fwd["type"] == "smoothstep"  # same column: both ways go around
    assert "sourceHandle" not in back and "sourceHandle" not in fwd
    # their runs meet half way between the rows: labels above and below it
    assert (back["className"], fwd["className"]) == ("nc-around-pair nc-label-above",
                                                     "nc-around-pair nc-label-below")
    # inh moved left of exc: the roles swap
    layout = {"exc": pos["inh"], "inh": pos["exc"]}
    routes = {e["data"]["label"]: graph.edge_routes(nodes, edges)[e["id"]]
              for nodes, edges, _ in [graph.network_to_canvas(net, layout)] for e in edges}
    assert routes == {"exc->exc": "loop", "exc->inh": "back", "inh->exc": "pair", "inh->inh": "loop"}


def test_builder_redraws_back_edges_when_nodes_move():
    from neurocore_gui.builder import LOOP_NODE, Builder

    b = Builder()
    net = json.loads((ROOT / "assets" / "networks" / "half_centre_oscillator.json").read_text())
    b.load_network(net)
    ids = {n["data"]["label"]: n["id"] for n in b.nodes}
    looks = [(e.get("type"), e.get("className")) for e in b.flow.edges if e["source"][0] == "p"]
    assert set(looks) == {(None, "nc-pair nc-label-above"), ("straight", "nc-back nc-label-below")}
    far = {"x": 2000.0, "y": 40.0}  # A dragged right of B: A -> B is now the back edge
    b.flow._handle_msg({"type": "node_moved", "node_id": ids["A"], "position": far})  # as the canvas says
    back = [e for e in b.flow.edges if "nc-back" in (e.get("className") or "")]
    assert len(back) == 1 and (back[0]["source"], back[0]["target"]) == (ids["A"], ids["B"])
    assert {n["type"] for n in b.flow.nodes if n["id"] in (ids["A"], ids["B"])} == {LOOP_NODE}
    assert b.network_dict() == net
    doc = b.document()
    assert doc["meta"]["layout"]["A"] == far
    assert graph.from_document(doc)[0] == net


def test_auto_layout_places_sources_left_of_targets():
    net = network_to_dict(_sample_network(), include_state=False, include_csr=False)
    nodes, edges, _ = graph.network_to_canvas(net)
    graph.auto_layout(nodes, edges)
    pos = {n["data"]["label"]: n["position"] for n in nodes}
    assert pos["step"]["x"] < pos["A"]["x"] < pos["B"]["x"]
    assert len({(p["x"], p["y"]) for p in pos.values()}) == len(pos)  # no overlaps


def test_required_examples_exist():
    assert REQUIRED <= {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_loads_round_trips_and_spikes(path):
    doc = json.loads(path.read_text())
    net, layout = graph.from_document(doc)
    nodes, edges, meta = graph.network_to_canvas(net, layout)
    assert graph.canvas_to_network(nodes, edges, meta) == net
    dt = doc["meta"]["run"]["dt"]
    sim = compile_network(Network.from_dict(net), "numpy", dt)
    chunk = sim.advance(round(0.3 / dt) if path.stem != "cuba" else 500)
    total = sum(len(s) for s, _ in chunk.spikes.values())
    assert total > 0, f"{path.stem} produced no spikes"


def _spikes(net: Network, n_steps: int, dt: float) -> dict:
    chunk = compile_network(net, "numpy", dt).advance(n_steps)
    return {k: (s.tolist(), i.tolist()) for k, (s, i) in chunk.spikes.items()}


@pytest.mark.parametrize("name", ["two_population_ei", "half_centre_oscillator", "synfire_chain", "cuba"])
def test_generated_python_runs_and_gives_the_same_spikes(name, tmp_path):
    doc = json.loads((ROOT / "assets" / "networks" / f"{name}.json").read_text())
    net, _ = graph.from_document(doc)
    dt = doc["meta"]["run"]["dt"]
    n_steps = 300 if name != "cuba" else 400
    src = network_to_python(net, duration=n_steps * dt, dt=dt)
    script = tmp_path / "generated.py"
    script.write_text(src)
    ns = runpy.run_path(str(script))  # builds the network and runs it inside the script
    expected = _spikes(Network.from_dict(copy.deepcopy(net)), n_steps, dt)
    got = {label: (mon.raster_data()[0].tolist(), mon.raster_data()[1].tolist())
           for label, mon in ns["monitors"].items()}
    assert got == expected
    assert sum(len(s) for s, _ in got.values()) > 0


def test_generated_python_keeps_explicit_synapses(tmp_path):
    net_obj = _sample_network()
    net_obj.projections[0].data[:] = np.linspace(0.1, 2.0, net_obj.projections[0].nnz)  # "trained"
    net = network_to_dict(net_obj, include_state=False, include_csr=True)
    script = tmp_path / "generated.py"
    script.write_text(network_to_python(net, duration=0.05, dt=0.001))
    ns = runpy.run_path(str(script))
    rebuilt = ns["net"].projections[0]
    assert np.array_equal(rebuilt.data, net_obj.projections[0].data)
