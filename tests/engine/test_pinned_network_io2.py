"""engine.network.io pinned (round 3b): the size and memory limits of
parse_document / load_network at their exact boundary, over-long integers,
the default names and paths in messages, and network_from_dict's defaults."""
import gzip
import json
import tracemalloc

import pytest

from engine import resources
from engine.network import io

NET = {"schema_version": 1, "populations": []}


def _msg(exc_info):
    return str(exc_info.value)


@pytest.mark.parametrize("text, digits", [("1" * 21, 21), ("-" + "9" * 21, 21), ("-" + "1" * 30, 30)])
def test_over_long_integers_are_refused_with_their_digit_count(text, digits):
    with pytest.raises(ValueError) as e:
        io.parse_document('{"seed": ' + text + "}")
    assert _msg(e) == f"document: seed: <an integer of {digits} digits> is out of range"


@pytest.mark.parametrize("text", ["9" * 20, "-" + "9" * 20])
def test_twenty_digits_are_still_an_integer(text):
    assert io.parse_document('{"seed": ' + text + "}") == {"seed": int(text)}


def test_parse_document_accepts_text_and_names_the_document_by_default():
    assert io.parse_document('{"a": "\u00e9"}') == {"a": "\u00e9"}  # text is read as UTF-8
    with pytest.raises(TypeError) as e:
        io.parse_document(5)
    assert _msg(e) == "document: expected bytes, got int"
    with pytest.raises(ValueError) as e:
        io.parse_document(b"[")
    assert _msg(e) == "document: malformed JSON at line 1 column 2 (char 1): Expecting value"
    with pytest.raises(ValueError) as e:
        io.parse_document(b'{"a": [1, NaN]}', "f.json")
    assert _msg(e) == "f.json: a[1]: NaN is not allowed in a network file (numbers must be finite)"


def test_file_size_limit_is_inclusive(monkeypatch):
    data = json.dumps(NET).encode()
    monkeypatch.setattr(io, "MAX_FILE_BYTES", len(data))
    assert io.parse_document(data) == NET
    monkeypatch.setattr(io, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ValueError) as e:
        io.parse_document(data, "n.json")
    assert _msg(e) == f"n.json: file is {len(data)} bytes, more than the limit of {len(data) - 1} bytes"


def test_decompressed_size_limit_is_inclusive(monkeypatch):
    data = json.dumps(NET).encode()
    packed = gzip.compress(data)
    monkeypatch.setattr(io, "MAX_DECOMPRESSED_BYTES", len(data))
    assert io.parse_document(packed) == NET
    monkeypatch.setattr(io, "MAX_DECOMPRESSED_BYTES", len(data) - 1)
    with pytest.raises(ValueError) as e:
        io.parse_document(packed)
    assert _msg(e) == f"document: expands to more than {len(data) - 1} bytes"


def test_a_gzip_bomb_is_refused_without_expanding_it(monkeypatch):
    # 64 MiB of spaces compress to ~64 KiB; only limit + 1 bytes may be expanded
    bomb = gzip.compress(b" " * (64 << 20))
    monkeypatch.setattr(io, "MAX_DECOMPRESSED_BYTES", 1000)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="expands to more than 1000 bytes"):
            io.parse_document(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_the_parse_memory_check_is_twelve_bytes_per_byte():
    data = b" " * 1000 + b"{}"  # 1002 bytes -> 12 024 bytes estimated
    try:
        resources.set_memory_budget(12 * 1002)
        assert io.parse_document(data) == {}
        resources.set_memory_budget(12 * 1002 - 1)
        with pytest.raises(ValueError) as e:
            io.parse_document(data, "m.json")
        assert _msg(e).startswith("m.json: parsing 1002 bytes of JSON needs about 11.7 KiB, "
                                  "more than the memory budget of 11.7 KiB")
    finally:
        resources.set_memory_budget(None)


def test_load_network_messages_and_size_limit(tmp_path, monkeypatch):
    missing = tmp_path / "none.json"
    with pytest.raises(ValueError) as e:
        io.load_network(missing)
    assert _msg(e) == f"{missing}: cannot read network file: No such file or directory"
    p = tmp_path / "n.json"
    p.write_text(json.dumps({**NET, "seed": 7}))
    size = p.stat().st_size
    monkeypatch.setattr(io, "MAX_FILE_BYTES", size)  # exactly at the limit: read whole
    assert io.load_network(p).seed == 7
    monkeypatch.setattr(io, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(ValueError) as e:
        io.load_network(p)
    assert _msg(e) == f"{p}: file is {size} bytes, more than the limit of {size - 1} bytes"


def test_network_from_dict_messages_name_the_place():
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict([])
    assert _msg(e) == "expected an object, got a list" and e.value.path == ""
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict({**NET, "bogus": 1})
    assert e.value.path == "bogus"
    assert _msg(e) == ("bogus: unknown key (allowed: meta, monitors, populations, projections, "
                       "schema_version, seed, stimuli, training)")
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict({"populations": []})
    assert _msg(e) == "schema_version: missing; this is not a NeuroCore network document"
    for version, shown in (("2", "a string"), (2, "2"), (1.5, "a number")):
        with pytest.raises(io.DocumentError) as e:
            io.network_from_dict({**NET, "schema_version": version})
        assert _msg(e) == f"schema_version: unsupported version {shown}; this NeuroCore reads version 1"
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict({**NET, "seed": "x"})
    assert _msg(e) == "seed: expected an integer, got a string" and e.value.path == "seed"


def test_network_from_dict_default_seed_is_42():
    assert io.network_from_dict(dict(NET)).seed == 42
    assert io.network_from_dict({**NET, "seed": 3}).seed == 3


def test_a_missing_top_level_key_has_the_empty_path():
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict({"schema_version": 1})
    assert _msg(e) == "missing key 'populations'" and e.value.path == ""


# -- round 4: network_from_dict / network_to_dict / _scan / _plain, hand-written documents --
LIF = "LapicqueNeuron"
LIF_PARAMS = "tau, resistance, v_rest, v_reset, v_threshold, refractory_period, dt"
PROJ_KEYS = ("allow_self_connections, csr, delay, label, plasticity, probability, seed, source, target, "
             "tau_syn, topology, weight, weight_threshold")
SURROGATES = "fast_sigmoid, superspike, atan_surrogate, sigmoid_surrogate, straight_through, triangular"


def _two_pops(**extra):
    return {"schema_version": 1, "populations": [{"model": "lif", "n": 2, "label": "a"},
                                                 {"model": "lif", "n": 3, "label": "b"}], **extra}


def test_a_hand_written_document_takes_the_defaults():
    doc = {"schema_version": 1,
           "populations": [{"model": "lif", "n": 2}],  # no label (the model as written), no params
           "projections": [{"source": "lif", "target": "lif", "weight": 0.5, "topology": "one_to_one"},
                           {"source": "lif", "target": "lif", "weight": 0.25, "label": "syn"}],
           "stimuli": [{"type": "StepCurrent", "label": None, "onset": 0, "offset": 3, "amplitude": 2.0}],
           "monitors": [{"type": "SpikeMonitor", "population": "lif", "label": "spk"},
                        {"type": "SpikeMonitor", "population": "lif"}]}
    net = io.network_from_dict(doc)
    pop = net.populations[0]
    assert pop.label == "lif" and pop.model_name == LIF and pop.params["tau"] == 20.0
    assert [p.label for p in net.projections] == ["lif->lif", "syn"]
    assert net.projections[0].to_dense().tolist() == [[0.5, 0.0], [0.0, 0.5]]
    assert net.projections[1].to_dense().tolist() == [[0.25, 0.25], [0.25, 0.25]]
    assert [s.label for s in net.stimuli] == ["StepCurrent"]
    assert [m.label for m in net.monitors] == ["spk", "SpikeMonitor_lif"]


def test_training_and_surrogate_entries_load_and_save():
    doc = _two_pops(training={"surrogate": "fast_sigmoid", "params": {"slope": 10}})
    doc["populations"][1]["surrogate"] = {"name": "triangular", "params": {"width": 0.5}}
    net = io.network_from_dict(doc)
    # defaults completed (path custom_op), numbers as floats
    assert net.training == {"surrogate": "fast_sigmoid", "path": "custom_op", "params": {"slope": 10.0}}
    assert getattr(net.populations[0], "surrogate", None) is None
    assert net.populations[1].surrogate == {"name": "triangular", "params": {"width": 0.5}}
    out = io.network_to_dict(net)
    assert out["training"] == {"surrogate": "fast_sigmoid", "path": "custom_op", "params": {"slope": 10.0}}
    assert "surrogate" not in out["populations"][0]
    assert out["populations"][1]["surrogate"] == {"name": "triangular", "params": {"width": 0.5}}
    assert "training" not in io.network_to_dict(io.network_from_dict(_two_pops()))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(training={"surrogate": "nope"}),
     f"training.surrogate: unknown surrogate 'nope'; choose one of {SURROGATES}"),
    (lambda d: d.update(training=[1]), "training: expected an object, got list"),
    (lambda d: d["populations"][0].update(surrogate={"name": "nope"}),
     f"populations[0].surrogate.name: unknown surrogate 'nope'; choose one of {SURROGATES}"),
    (lambda d: d["populations"][1].update(surrogate={"params": {}}), "populations[1].surrogate: missing key 'name'"),
])
def test_surrogate_errors_name_the_place_inside_training(change, message):
    doc = _two_pops()
    change(doc)
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict(doc)
    assert _msg(e) == message and e.value.path == ""


def _pops(*sizes):
    return [{"model": "lif", "n": n, "label": lab} for n, lab in zip(sizes, "ab")]


@pytest.mark.parametrize("doc, message, path", [
    ({"seed": -1}, "seed: seed must be >= 0, got -1", "seed"),
    ({"populations": [5]}, "populations[0]: expected an object, got an integer", "populations[0]"),
    ({"populations": [{"model": 5, "n": 1}]}, "populations[0].model: expected a string, got an integer",
     "populations[0].model"),
    ({"populations": [{"model": "lif", "n": 1, "label": 5}]},
     "populations[0].label: expected a string, got an integer", "populations[0].label"),
    ({"populations": [{"model": "lif", "n": 1, "params": []}]},
     "populations[0].params: expected an object, got a list", "populations[0].params"),
    ({"populations": [{"model": "lif", "n": 1, "params": {"bogus": 1}}]},
     f"populations[0].params.bogus: unknown parameter for model {LIF!r}; valid: {LIF_PARAMS}",
     "populations[0].params.bogus"),
    ({"populations": [{"model": "lif", "n": 1, "label": " "}]},
     "populations[0]: label must be a non-empty string", "populations[0]"),
    ({"populations": [{"model": "lif", "n": 1, "state": []}]},
     "populations[0].state: expected an object, got a list", "populations[0].state"),
    ({"populations": [{"model": "lif", "n": 1, "state": {"v": 1}}]},
     "populations[0].state.v: expected a list, got an integer", "populations[0].state.v"),
    ({"populations": _pops(2, 3), "projections": {}}, "projections: expected a list, got an object",
     "projections"),
    ({"populations": _pops(2, 3), "projections": [1]}, "projections[0]: expected an object, got an integer",
     "projections[0]"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": "b", "bogus": 1}]},
     f"projections[0].bogus: unknown key (allowed: {PROJ_KEYS})", "projections[0].bogus"),
    ({"populations": _pops(2, 3), "projections": [{"source": 5, "target": "b"}]},
     "projections[0].source: expected a string, got an integer", "projections[0].source"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": 5}]},
     "projections[0].target: expected a string, got an integer", "projections[0].target"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": "c", "weight": 1.0}]},
     "projections[0].target: no population labelled 'c' (have: a, b)", "projections[0].target"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": "b", "weight": 1.0, "label": 5}]},
     "projections[0].label: expected a string, got an integer", "projections[0].label"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": "b", "csr": []}]},
     "projections[0].csr: expected an object, got a list", "projections[0].csr"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": "b", "csr": {"indptr": [0, 0, 0]}}]},
     "projections[0].csr: missing key 'data'", "projections[0].csr"),
    ({"populations": _pops(2, 3), "projections": [
        {"source": "a", "target": "b", "csr": {"indptr": [0, "x", 0], "indices": [], "data": []}}]},
     "projections[0].csr.indptr[1]: expected an integer, got a string", "projections[0].csr.indptr[1]"),
    ({"populations": _pops(2, 3), "projections": [
        {"source": "a", "target": "b", "csr": {"indptr": [0, 1, 1], "indices": [0], "data": ["x"]}}]},
     "projections[0].csr.data[0]: expected a number, got a string", "projections[0].csr.data[0]"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": "b", "topology": "all_to_all",
                                                   "probability": 0.5, "csr": {"indptr": [0, 0, 0],
                                                                               "indices": [], "data": []}}]},
     "projections[0]: Projection 'a->b' probability applies to the 'random' topology only; topology "
     "'all_to_all' needs probability=1.0, got 0.5", "projections[0]"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": "b"}]},
     "projections[0].weight: needed when the projection has no 'csr'", "projections[0].weight"),
    ({"populations": _pops(2, 3), "projections": [{"source": "a", "target": "b", "weight": 1.0,
                                                   "topology": "one_to_one"}]},
     "projections[0]: Projection 'a->b' one_to_one topology needs equal sizes, got source n=2 and "
     "target n=3", "projections[0]"),
    ({"populations": _pops(2, 3), "stimuli": {}}, "stimuli: expected a list, got an object", "stimuli"),
    ({"populations": _pops(2, 3), "monitors": {}}, "monitors: expected a list, got an object", "monitors"),
    ({"populations": _pops(2, 3), "stimuli": [3]}, "stimuli[0]: expected an object, got an integer", "stimuli[0]"),
    ({"populations": _pops(2, 3), "stimuli": [{"target": "a"}]}, "stimuli[0]: missing key 'type'", "stimuli[0]"),
    ({"populations": _pops(2, 3), "stimuli": [{"type": 5}]}, "stimuli[0].type: expected a string, got an integer",
     "stimuli[0].type"),
    ({"populations": _pops(2, 3), "stimuli": [{"type": "Nope"}]},
     "stimuli[0].type: unknown stimulus type 'Nope' (known: StepCurrent, ConstantCurrent, TimedArray, "
     "PoissonInput)", "stimuli[0].type"),
    ({"populations": _pops(2, 3), "monitors": [{"type": "Nope", "population": "a"}]},
     "monitors[0].type: unknown monitor type 'Nope' (known: SpikeMonitor, StateMonitor, RateMonitor)",
     "monitors[0].type"),
    ({"populations": _pops(2, 3), "stimuli": [{"type": "ConstantCurrent", "label": 5}]},
     "stimuli[0].label: expected a string, got an integer", "stimuli[0].label"),
    ({"populations": _pops(2, 3), "stimuli": [{"type": "ConstantCurrent", "target": 5}]},
     "stimuli[0].target: expected a string, got an integer", "stimuli[0].target"),
    ({"populations": [], "stimuli": [{"type": "ConstantCurrent", "target": "x"}]},
     "stimuli[0].target: no population labelled 'x' (have: none)", "stimuli[0].target"),
    ({"populations": _pops(2, 3), "stimuli": [{"type": "StepCurrent", "onset": 5, "offset": 1}]},
     "stimuli[0]: StepCurrent offset (1) must be >= onset (5)", "stimuli[0]"),
    ({"populations": _pops(2, 3), "monitors": [{"type": "SpikeMonitor", "population": "a", "label": " "}]},
     "monitors[0]: label must be a non-empty string", "monitors[0]"),
])
def test_document_errors_name_the_place(doc, message, path):
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict({"schema_version": 1, "populations": [], **doc})
    assert _msg(e) == message
    assert e.value.path == path


def test_a_csr_entry_needs_no_weight_topology_or_probability():
    doc = _two_pops(projections=[{"source": "a", "target": "b",
                                  "csr": {"indptr": [0, 2, 3], "indices": [0, 2, 1], "data": [0.5, -1.0, 2.0]}}])
    proj = io.network_from_dict(doc).projections[0]
    assert proj.to_dense().tolist() == [[0.5, 0.0, -1.0], [0.0, 2.0, 0.0]]
    assert proj.weight_spec is None and proj.topology == "random" and proj.probability == 1.0
    doc["projections"][0].update(weight=0.75, topology="all_to_all")
    proj = io.network_from_dict(doc).projections[0]  # the metadata is kept, the arrays are the weights
    assert proj.weight_spec == 0.75 and proj.topology == "all_to_all"
    assert proj.to_dense().tolist() == [[0.5, 0.0, -1.0], [0.0, 2.0, 0.0]]


@pytest.fixture
def budget():
    yield resources.set_memory_budget
    resources.set_memory_budget(None)


def test_adding_a_population_over_the_budget_names_it(monkeypatch, budget):
    # the budget may shrink between the document's estimate and the build (it is read afresh)
    monkeypatch.setattr(io, "_estimate", lambda doc: None)
    budget(8 * 10 * (2 + 3))  # one LIF population of 10: 2 state variables + 3 buffers, 8 bytes each
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict({"schema_version": 1, "populations": [{"model": "lif", "n": 10, "label": "a"},
                                                                   {"model": "lif", "n": 10, "label": "b"}]})
    assert e.value.path == "populations[1]"
    assert _msg(e).startswith("populations[1]: the network with Population 'b' added needs about 800 B, "
                              "more than the memory budget of 400 B")


def test_adding_a_projection_over_the_budget_names_it(budget):
    # the estimate counts 40 bytes per stored synapse; an empty CSR still holds indptr (8 * 1001 bytes)
    budget(8 * 1000 * 5)
    doc = {"schema_version": 1, "populations": [{"model": "lif", "n": 1000, "label": "a"}],
           "projections": [{"source": "a", "target": "a", "label": "syn",
                            "csr": {"indptr": [0] * 1001, "indices": [], "data": []}}]}
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict(doc)
    assert e.value.path == "projections[0]"
    assert _msg(e).startswith("projections[0]: the network with Projection 'syn' added needs about 46.9 KiB")


def test_adding_a_stimulus_over_the_budget_names_it(budget):
    budget(8 * 1 * 5)  # the population fits exactly; a TimedArray's values are not in the estimate
    doc = {"schema_version": 1, "populations": [{"model": "lif", "n": 1, "label": "a"}],
           "stimuli": [{"type": "TimedArray", "label": "ta", "values": [1.0] * 100}]}
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict(doc)
    assert e.value.path == "stimuli[0]"
    assert _msg(e).startswith("stimuli[0]: the network with TimedArray 'ta' added needs about 840 B")


def test_a_zero_size_population_is_left_out_of_the_estimate(budget):
    # z (n=0) is refused by its size check; were it estimated, z->a would cost 8 bytes of indptr
    budget(8 * 1 * 5)
    doc = {"schema_version": 1, "populations": [{"model": "lif", "n": 0, "label": "z"},
                                                {"model": "lif", "n": 1, "label": "a"}],
           "projections": [{"source": "z", "target": "a", "weight": 1.0}]}
    with pytest.raises(io.DocumentError) as e:
        io.network_from_dict(doc)
    assert e.value.path == "populations[0].n"


def test_saving_non_finite_values_names_the_place():
    net = io.network_from_dict(_two_pops(projections=[{"source": "a", "target": "b", "weight": 1.0}]))
    net.populations[1].state["v"][2] = float("nan")  # a diverged simulation
    with pytest.raises(ValueError) as e:
        io.network_to_dict(net)
    assert _msg(e) == "populations[1].state.v[2]: cannot store the non-finite value nan in JSON"
    net.populations[1].state["v"][2] = 0.0
    net.projections[0].data[4] = float("inf")
    with pytest.raises(ValueError) as e:
        io.network_to_dict(net)
    assert _msg(e) == "projections[0].csr.data[4]: cannot store the non-finite value inf in JSON"


def test_plain_converts_numpy_values_and_names_what_it_cannot_store():
    import numpy as np

    out = io._plain({"n": None, "f": np.float32(0.5), "l": [np.int64(3), True, "s"], 2: (1.5,)}, "w")
    assert out == {"n": None, "f": 0.5, "l": [3, True, "s"], "2": [1.5]}
    assert type(out["f"]) is float and type(out["l"][0]) is int and out["l"][1] is True
    with pytest.raises(ValueError) as e:
        io._plain({"k": [1, object()]}, "w")
    assert _msg(e) == "w.k[1]: a object cannot be stored in a network file"
    with pytest.raises(ValueError) as e:
        io._plain(np.float64("-inf"), "w")
    assert _msg(e) == "w: cannot store the non-finite value -inf in JSON"


def _deep(depth, kind):
    v = [1.5] if kind == "list" else {"x": 1}  # (a float in a dict is a level of its own)
    for _ in range(depth - 1):
        v = [v] if kind == "list" else {"k": v}
    return v


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_scan_depth_limit_is_exact(kind):
    # the document itself is level 1; MAX_DEPTH (32) levels pass, 33 do not
    io._scan(_deep(io.MAX_DEPTH, kind))
    with pytest.raises(io.DocumentError) as e:
        io._scan({"top": _deep(io.MAX_DEPTH, kind)})
    assert _msg(e).endswith(": nested too deeply (more than 32 levels)")
    inner = ".k" * (io.MAX_DEPTH - 1) if kind == "dict" else "[0]" * (io.MAX_DEPTH - 1)
    assert e.value.path == "top" + inner


def test_scan_refuses_integers_of_1024_bits_and_more():
    from engine.validation import describe

    big = 2 ** 1023  # 1024 bits
    io._scan({"a": big - 1, "b": [big - 1, "s"]})
    for doc, path in (({"a": big}, "a"), ({"p": {"a": big}}, "p.a"), ({"b": ["s", big]}, "b[1]")):
        with pytest.raises(io.DocumentError) as e:
            io._scan(doc)
        assert e.value.path == path and _msg(e) == f"{path}: {describe(big)} is out of range"


def test_scan_list_length_limit_is_inclusive(monkeypatch):
    monkeypatch.setattr(io, "MAX_LIST_LENGTH", 3)
    io._scan({"a": [1, 2, 3]})
    with pytest.raises(io.DocumentError) as e:
        io._scan({"a": [1, 2, 3, 4]})
    assert _msg(e) == "a: list of 4 items, more than the limit 3"


@pytest.mark.parametrize("values, at", [([1, float("inf"), float("nan")], "a[1]: Infinity"),
                                        ([float("nan"), 2.0, float("-inf")], "a[0]: NaN")])
def test_scan_reports_the_first_non_finite_number_of_a_list(values, at):
    with pytest.raises(io.DocumentError) as e:
        io._scan({"a": values})
    assert _msg(e) == f"{at} is not allowed in a network file (numbers must be finite)"


def test_saving_a_non_finite_surrogate_choice_names_the_place():
    # training and surrogate are plain attributes a user may set before saving
    net = io.network_from_dict(_two_pops())
    net.training = {"surrogate": "fast_sigmoid", "params": {"slope": float("nan")}}
    with pytest.raises(ValueError) as e:
        io.network_to_dict(net)
    assert _msg(e) == "training.params.slope: cannot store the non-finite value nan in JSON"
    net.training = None
    net.populations[0].surrogate = {"name": "triangular", "params": {"width": float("inf")}}
    with pytest.raises(ValueError) as e:
        io.network_to_dict(net)
    assert _msg(e) == "populations[0].surrogate.params.width: cannot store the non-finite value inf in JSON"
