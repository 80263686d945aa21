"""Builder files and surrogate choice without a browser (issues 14, 16, 19):
NIR export/import, the surrogate pickers writing the document and the
generated script, and a network too big for plain JSON saved as .json.gz."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from neurocore_gui.builder import EXAMPLES_DIR, NETWORK_DEFAULT, Builder
from neurocore_gui.store import SessionStore


def _example(name: str) -> dict:
    return json.loads((EXAMPLES_DIR / f"{name}.json").read_text())


def _upload(widget_handler, widget, data: bytes, filename: str):
    widget.filename = filename
    return widget_handler(type("E", (), {"new": data})())


@pytest.fixture
def builder():
    b = Builder(store=SessionStore())
    b.load_document(_example("two_population_ei"), name="two_population_ei")
    return b


def _pop_node(b, label):
    return next(n for n in b.nodes if n["type"] == "population" and n["data"]["label"] == label)


def _select(b, node_id):
    b.flow.selection = {"nodes": [node_id], "edges": []}
    b._on_selection(None)


# -- surrogates (issue 14 item 1) ------------------------------------------------------------------
def test_network_surrogate_picker_writes_document_and_script(builder):
    b = builder
    picker = b.surrogate_picker()
    assert b.sidebar() is not None and b.surrogate_picker() is picker  # one picker, in the sidebar
    picker.surrogate.value = "triangular"
    assert b.store.document["training"] == {"surrogate": "triangular", "path": "custom_op",
                                            "params": {"width": 1.0}}
    picker.shape.value = 0.5
    picker.path.value = "legacy_autograd"
    assert b.store.document["training"] == {"surrogate": "triangular", "path": "legacy_autograd",
                                            "params": {"width": 0.5}}
    b.show_python()
    assert "net.training = {'surrogate': 'triangular', 'path': 'legacy_autograd', " \
           "'params': {'width': 0.5}}" in b._code_text
    # the canvas keeps it: a later canvas edit does not drop the choice
    b.add_population("LapicqueNeuron", 5)
    assert b.store.document["training"]["surrogate"] == "triangular"


def _editor_widget(b, css):
    for w in b._editor_box.objects:
        if css in (getattr(w, "css_classes", None) or []):
            return w
    raise AssertionError(f"no widget {css} in the editor")


def test_population_override_in_the_editor(builder):
    b = builder
    _select(b, _pop_node(b, "E")["id"])
    name = _editor_widget(b, "nc-pop-surrogate")
    path = _editor_widget(b, "nc-pop-surrogate-path")
    shape = _editor_widget(b, "nc-pop-surrogate-shape")
    assert name.value == NETWORK_DEFAULT and not path.visible and not shape.visible
    name.value = "superspike"
    entry = b.store.entry("population", "E")
    assert entry["surrogate"] == {"name": "superspike", "params": {"beta": 10.0}}
    assert shape.visible and shape.label == "beta" and shape.value == 10.0
    shape.value = 4.0
    path.value = "legacy_autograd"
    assert b.store.entry("population", "E")["surrogate"] == {
        "name": "superspike", "params": {"beta": 4.0}, "path": "legacy_autograd"}
    assert "surrogate" not in b.store.entry("population", "I")
    b.show_python()
    assert "surrogate = {'name': 'superspike', 'params': {'beta': 4.0}, 'path': 'legacy_autograd'}" \
        in b._code_text
    # a refused shape value names the reason and leaves the document as it was
    before = b.store.network_dict()
    shape.value = -1.0
    assert shape.error_state and "Refused" in shape.helper_text
    assert b.store.document == before
    # the engine builds what to_torch would use from it
    from engine.training.spec import resolve_spec
    net = b.store.build()
    assert resolve_spec(getattr(net, "training", None),
                        b.store.entry("population", "E")["surrogate"]) == \
        ("superspike", "legacy_autograd", {"beta": 4.0})
    # back to the network's default removes the entry
    _select(b, _pop_node(b, "E")["id"])
    _editor_widget(b, "nc-pop-surrogate").value = NETWORK_DEFAULT
    assert "surrogate" not in b.store.entry("population", "E")


def test_network_picker_and_editor_agree(builder):
    """The picker's per-population override and the editor show the same entry."""
    b = builder
    picker = b.surrogate_picker()
    picker.population.value = "I"
    picker.override.value = "fast_sigmoid"
    assert b.store.entry("population", "I")["surrogate"] == {"name": "fast_sigmoid", "params": {"slope": 25.0}}
    _select(b, _pop_node(b, "I")["id"])
    assert _editor_widget(b, "nc-pop-surrogate").value == "fast_sigmoid"
    assert _editor_widget(b, "nc-pop-surrogate-shape").value == 25.0


# -- NIR (issue 16) -----------------------------------------------------------------------------
def _nir_network() -> dict:
    # leaky integrators and a weight: what NIR can express
    from engine.network import Network, Population, Projection

    a = Population("LapicqueNeuron", 4, params={"tau": 12.0}, label="A")
    b = Population("StochasticLIFNeuron", 3, label="B")
    return Network(a, b, Projection(a, b, 0.7, probability=0.5, seed=2)).to_dict()


def test_nir_export_import_round_trip(builder):
    pytest.importorskip("nir")
    b = builder
    b.load_document(_nir_network(), name="nir_net")
    data = b.nir_bytes()
    assert data.startswith(b"\x89HDF")
    assert b._nir_file().getvalue() == data and b.message.severity == "success"
    b.clear()
    assert _upload(b._on_nir_upload, b.nir_upload, data, "net.nir") is True
    assert b.message.severity == "success" and "net.nir" in b.message.object
    want = _nir_network()
    assert b.store.document["populations"] == want["populations"]
    assert b.store.document["projections"] == want["projections"]
    assert sorted((n["data"]["label"], n["data"]["model"], n["data"]["n"]) for n in b.nodes) == \
        [("A", "LapicqueNeuron", 4), ("B", "StochasticLIFNeuron", 3)]
    assert b.nir_upload.value is None


@pytest.mark.parametrize("data, reason", [(b"", "empty"), (b"{\"not\": \"nir\"}", "HDF5"),
                                          (b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "not a readable NIR graph")])
def test_nir_bad_file_is_refused_and_canvas_kept(builder, data, reason):
    pytest.importorskip("nir")
    b = builder
    before, rev, canvas = b.store.network_dict(), b.store.revision, b.nodes
    assert _upload(b._on_nir_upload, b.nir_upload, data, "bad.nir") is False
    assert b.message.severity == "error" and reason in b.message.object and "unchanged" in b.message.object
    assert b.store.document == before and b.store.revision == rev and b.nodes == canvas


def test_nir_export_of_an_unsupported_network_says_why(builder):
    pytest.importorskip("nir")
    b = builder
    doc = _nir_network()
    doc["populations"][1] = {"label": "B", "model": "AdExNeuron", "n": 3}
    b.load_document(doc)
    before = b.store.network_dict()
    assert b._nir_file().getvalue() == b""
    assert b.message.severity == "error" and "Could not export NIR" in b.message.object
    assert "AdExNeuron has no NIR equivalent" in b.message.object
    assert b.store.document == before


# -- a network too big for plain JSON (issue 19 item 4) ----------------------------------------------
@pytest.mark.slow
def test_a_network_over_50_mb_of_json_saves_compressed_and_loads_back():
    from engine.network.io import MAX_FILE_BYTES

    rng = np.random.default_rng(0)
    # 3.6 M random currents: about 15 bytes each as JSON (about 55 MB)
    values = rng.standard_normal(3_600_000).round(12).tolist()
    doc = {"schema_version": 1, "seed": 1,
           "populations": [{"label": "P", "model": "LapicqueNeuron", "n": 1}],
           "projections": [],
           "stimuli": [{"type": "TimedArray", "label": "drive", "target": "P", "values": values, "dt": 0.001}],
           "monitors": []}
    b = Builder(store=SessionStore())
    b.load_document(doc, name="big")
    plain = len(json.dumps(b.store.document, separators=(",", ":")).encode())
    assert plain > MAX_FILE_BYTES
    with pytest.raises(ValueError, match="json.gz"):
        b.save_text()
    f = b._save_file()
    data = f.getvalue()
    assert b.download.filename == "network.json.gz" and b.message.object.startswith("The network's JSON")
    assert data[:2] == b"\x1f\x8b" and len(data) <= MAX_FILE_BYTES
    assert len(gzip.decompress(data)) == plain
    saved = b.store.network_dict()
    b.clear()
    assert _upload(b._on_upload, b.upload, data, "network.json.gz") is True, b.message.object
    assert b.store.document["stimuli"][0]["values"] == values
    assert b.store.document["populations"] == saved["populations"]
    assert b.store.document == saved
    # a small network still saves as plain JSON under its usual name
    b.load_document(_example("two_population_ei"))
    assert json.loads(b._save_file().getvalue())["populations"] == b.store.document["populations"]
    assert b.download.filename == "network.json"
