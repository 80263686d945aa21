"""Canvas <-> network round trips of hand-written documents (no browser).

The other round-trip tests start from documents the engine wrote; people also
write files by hand, leaving out what the engine would fill in (labels,
targets, seed) or writing ``"label": null``.  Such a file must come back from
the canvas meaning the same network: the engine builds the same thing from
the original and from the round-tripped copy."""

import copy
import json

import pytest

from engine.network import Network
from neurocore_gui import graph
from neurocore_gui.graph import DocumentError, canvas_to_network, from_document, network_to_canvas, to_document
from neurocore_gui.store import SessionStore

HAND = {
    "schema_version": 1,
    "populations": [
        {"model": "LapicqueNeuron", "n": 3},                                   # no label: the model's name
        {"label": "B", "model": "StochasticLIFNeuron", "n": 2, "params": {"tau_mem": 5.0}},
    ],
    "projections": [
        {"source": "LapicqueNeuron", "target": "B", "weight": 0.5, "delay": 2},   # no label
        {"label": "rec", "source": "B", "target": "B", "weight": -0.25},
    ],
    "stimuli": [
        {"type": "ConstantCurrent", "label": None, "target": "LapicqueNeuron", "amplitude": 1.5},
        {"type": "ConstantCurrent", "amplitude": 0.5},                        # no label, no target
        {"type": "StepCurrent", "label": "kick", "target": "B", "amplitude": 2.0, "onset": 10, "offset": 20},
    ],
    "monitors": [{"type": "SpikeMonitor", "population": "B"}],
}


def engine_view(doc):
    """What the engine makes of a document (its own, complete description)."""
    return Network.from_dict(copy.deepcopy(doc)).to_dict(include_state=False)


def round_trip(doc):
    nodes, edges, meta = network_to_canvas(copy.deepcopy(doc))
    return canvas_to_network(nodes, edges, meta), (nodes, edges, meta)


def test_hand_written_document_means_the_same_network_after_the_canvas():
    back, _ = round_trip(HAND)
    assert engine_view(back) == engine_view(HAND)


def test_null_and_missing_stimulus_labels_stay_unset():
    back, (nodes, edges, _) = round_trip(HAND)
    stim_nodes = [n for n in nodes if n["type"] == "stimulus"]
    # the canvas shows names that collide with nothing ...
    shown = [n["data"]["label"] for n in stim_nodes]
    assert shown == ["ConstantCurrent", "ConstantCurrent_1", "kick"]
    assert [n["label"] for n in stim_nodes] == ["ConstantCurrent · ConstantCurrent",
                                                "ConstantCurrent_1 · ConstantCurrent", "kick · StepCurrent"]
    # ... but writes back "no label", so the engine still names them
    assert [s["label"] for s in back["stimuli"]] == [None, None, "kick"]
    assert [s["target"] for s in back["stimuli"]] == ["LapicqueNeuron", None, "B"]
    assert back["stimuli"][0] == {"type": "ConstantCurrent", "label": None, "target": "LapicqueNeuron",
                                  "amplitude": 1.5}
    assert back["stimuli"][2] == {"type": "StepCurrent", "label": "kick", "target": "B", "amplitude": 2.0,
                                  "onset": 10, "offset": 20}
    # only targeted stimuli get a drive edge
    drives = sorted((e["source"], e["target"]) for e in edges if e["id"].startswith("d"))
    assert drives == [("s1", "p1"), ("s3", "p2")]


def test_auto_label_avoids_a_population_of_the_same_name():
    doc = {"schema_version": 1, "populations": [{"label": "ConstantCurrent", "model": "LapicqueNeuron", "n": 1}],
           "stimuli": [{"type": "ConstantCurrent", "label": None, "target": "ConstantCurrent", "amplitude": 1.0}]}
    back, (nodes, _, _) = round_trip(doc)
    assert [n["data"]["label"] for n in nodes] == ["ConstantCurrent", "ConstantCurrent_1"]
    assert back["stimuli"] == [{"type": "ConstantCurrent", "label": None, "target": "ConstantCurrent",
                                "amplitude": 1.0}]
    assert engine_view(back) == engine_view(doc)


def test_missing_labels_and_meta_are_filled_as_the_engine_would():
    back, (nodes, edges, meta) = round_trip(HAND)
    assert back["populations"][0] == {"label": "LapicqueNeuron", "model": "LapicqueNeuron", "n": 3}
    assert back["populations"][1] == HAND["populations"][1]
    assert back["projections"] == HAND["projections"]  # kept as written, labels absent stay absent
    assert (meta["schema_version"], meta["seed"]) == (1, 42)
    assert list(back)[:3] == ["schema_version", "monitors", "seed"]
    assert back["monitors"] == HAND["monitors"]
    assert [e["data"] for e in edges if e["id"].startswith("e")] == [
        {"weight": 0.5, "delay": 2}, {"label": "rec", "weight": -0.25}]


def test_round_trip_is_stable():
    once, _ = round_trip(HAND)
    twice, _ = round_trip(once)
    assert twice == once


def test_saved_file_round_trip_keeps_positions_and_meaning():
    nodes, edges, meta = network_to_canvas(copy.deepcopy(HAND), layout={"B": {"x": 10.04, "y": -3.0}})
    pos = {n["data"]["label"]: n["position"] for n in nodes}
    assert pos["B"] == {"x": 10.04, "y": -3.0}
    text = json.dumps(to_document(nodes, edges, meta))
    net, layout = from_document(text)
    assert layout["B"] == {"x": 10.0, "y": -3.0}  # positions are saved to 0.1 px
    assert set(layout) == {"LapicqueNeuron", "B", "ConstantCurrent", "ConstantCurrent_1", "kick"}
    assert "meta" not in net  # the layout was all there was
    assert engine_view(net) == engine_view(HAND)
    # and the file still loads with the engine directly
    assert Network.from_dict(json.loads(text)).to_dict(include_state=False)["stimuli"][0]["label"] \
        == "ConstantCurrent"


@pytest.mark.parametrize("text, match", [
    ('{"schema_version": 1, "meta": {"x": NaN}}', "NaN is not allowed"),
    ('{"schema_version": 1, "meta": {"layout": {"A": {"x": true, "y": 0}}}}', r"meta.layout\['A'\]"),
    ('{"schema_version": 1, "meta": {"layout": {"A": {"x": 1}}}}', r"meta.layout\['A'\]"),
    ('{"schema_version": 1, "meta": {"layout": {"A": {"x": 1e400, "y": 0}}}}', r"meta.layout.A.x: inf is not allowed"),
    ('{"schema_version": 1, "meta": 3}', "meta must be a JSON object"),
    ('[1, 2]', "must hold a JSON object, got list"),
    ('{"schema_version": ', "not a JSON file"),
])
def test_bad_hand_written_files_name_the_culprit(text, match):
    with pytest.raises(DocumentError, match=match):
        from_document(text)


@pytest.mark.parametrize("doc, match", [
    ({"populations": [{"n": 3}]}, r"populations\[0\] must be an object with a 'label' or 'model'"),
    ({"populations": [], "stimuli": ["x"]}, r"stimuli\[0\] must be an object"),
    ({"populations": [], "stimuli": [{"type": "ConstantCurrent", "target": "nope"}]},
     r"stimuli\[0\] targets unknown population 'nope'"),
    ({"populations": [{"model": "LapicqueNeuron", "n": 1}], "projections": [{"source": "LapicqueNeuron"}]},
     r"projections\[0\] target None is not a population"),
])
def test_bad_hand_written_networks_name_the_entry(doc, match):
    with pytest.raises(DocumentError, match=match):
        network_to_canvas(doc)


def test_store_takes_the_round_tripped_document_and_builds_it():
    back, _ = round_trip(HAND)
    store = SessionStore()
    store.replace(back, name="hand.json")
    assert store.document == back and store.source == "hand.json"
    net = store.build()
    assert [s.label for s in net.stimuli] == ["ConstantCurrent", "ConstantCurrent_1", "kick"]
    assert [p.label for p in net.populations] == ["LapicqueNeuron", "B"]
    assert [(p.source.label, p.target.label, p.delay) for p in net.projections] == [
        ("LapicqueNeuron", "B", 2), ("B", "B", 0)]
    assert store.labels("stimulus") == [None, None, "kick"]


def test_rename_population_rewrites_monitor_references():
    meta = {"monitors": [{"type": "SpikeMonitor", "population": "B"}, {"type": "SpikeMonitor", "population": "C"}]}
    graph.rename_population(meta, "B", "Z")
    assert [m["population"] for m in meta["monitors"]] == ["Z", "C"]
