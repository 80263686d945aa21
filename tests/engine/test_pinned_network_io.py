"""Pinned behaviour of the document reader/writer helpers, array validation,
CSR input and the save-size checks (engine/network/{io,declare,projection,
monitors,stimuli}.py), found unpinned by mutation testing.  Expected values are
worked out by hand; size limits are lowered with monkeypatch so the boundary
cases stay tiny."""

import gzip
import json
import warnings

import numpy as np
import pytest

from engine.network import (ConstantCurrent, Network, Population, Projection, RateMonitor, StateMonitor,
                            StepCurrent, TimedArray)
from engine.network import io as nio
from engine.network.declare import as_array
from engine.network.io import DocumentError, dump_document, network_to_dict, save_network
from engine.validation import ArgumentTypeError, describe


# -- DocumentError ------------------------------------------------------------------------
def test_document_error_text_and_path():
    e = DocumentError("", "bad")
    assert str(e) == "bad" and e.path == ""
    e = DocumentError("populations[0].n", "bad")
    assert str(e) == "populations[0].n: bad" and e.path == "populations[0].n"
    named = nio._named("net.json", e)
    assert str(named) == "net.json: populations[0].n: bad" and named.path == "populations[0].n"


# -- number lists in documents -----------------------------------------------------------
def test_float_array():
    arr = nio._float_array([1, 2.5], "w")
    assert arr.dtype == np.float64 and arr.tolist() == [1.0, 2.5]
    arr = nio._float_array([1, 2], "w")  # whole numbers are read as floats too
    assert arr.dtype == np.float64 and arr.tolist() == [1.0, 2.0]
    for items, msg in (([1, "x"], "w[1]: expected a number, got a string"),
                       ([1.0, True], "w[1]: expected a number, got a boolean"),
                       ([1.0, 2.0, float("nan"), float("inf")], "w[2]: expected a finite number, got "),
                       ([float("-inf")], "w[0]: expected a finite number, got ")):
        with pytest.raises(DocumentError) as e:
            nio._float_array(items, "w")
        assert str(e.value).startswith(msg) and e.value.path == msg.split(":")[0]
        if "finite" in msg:  # the first bad entry is named (NumPy's repr of it)
            assert str(e.value).endswith(repr(np.float64(items[int(msg[2])])))
    with pytest.raises(DocumentError, match=r"^w: expected a list, got a string$"):
        nio._float_array("1,2", "w")


@pytest.mark.parametrize("items, j", [
    ([-2 ** 63, 2 ** 64], 1), ([2 ** 63, -2 ** 64], 0), ([5, 2 ** 63], 1), ([-1000, 1000, 2 ** 63], 2),
    ([-2 ** 63 - 1, 2 ** 63], 0), ([2 ** 63, -2 ** 63 - 1], 0),
])
def test_int_array_names_the_first_out_of_range_entry(items, j):
    # int64 holds -2**63 .. 2**63 - 1
    with pytest.raises(DocumentError) as e:
        nio._int_array(items, "ix")
    assert str(e.value) == f"ix[{j}]: {describe(items[j])} is out of range" and e.value.path == f"ix[{j}]"


def test_int_array_values_and_types():
    arr = nio._int_array([0, -2 ** 63, 2 ** 63 - 1], "ix")
    assert arr.dtype == np.int64 and arr.tolist() == [0, -2 ** 63, 2 ** 63 - 1]
    with pytest.raises(DocumentError, match=r"^ix\[1\]: expected an integer, got a number$"):
        nio._int_array([1, 2.0], "ix")
    with pytest.raises(DocumentError, match=r"^ix: expected a list, got null$"):
        nio._int_array(None, "ix")


# -- as_array (nested lists before NumPy sees them) ------------------------------------------
def test_as_array_accepts():
    np.testing.assert_array_equal(as_array([1, 2.0], "w"), [1.0, 2.0])
    np.testing.assert_array_equal(as_array([[1.0, 2.0], [3, 4]], "w", ndims=(2,)), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(as_array([[1.0, 2.0], [3.0, 4.0]], "w", ndims=(2,), max_len=4),
                                  [[1, 2], [3, 4]])
    np.testing.assert_array_equal(as_array([1.0, 2.0, 3.0], "w", max_len=3), [1, 2, 3])
    assert as_array(2.5, "w", ndims=(0,)) == 2.5
    assert as_array([2 ** 1022], "w")[0] == 2.0 ** 1022  # 1023 bits: still a float


@pytest.mark.parametrize("value, kw, exc, msg", [
    ([[1.0, 2.0], [3.0, 4.0]], {"max_len": 3}, ValueError, "w has more than the limit of 3 entries"),
    ([1.0, 2.0, 3.0], {"max_len": 2}, ValueError, "w has 3 entries, more than the limit 2"),
    ([[1.0], 2.0], {}, ValueError, "w mixes numbers and lists"),
    ([[1.0, 2.0], [True, 3.0]], {}, ArgumentTypeError, "w must hold real numbers, got a bool (True)"),
    ([[[1.0]], [[2.0]]], {}, ValueError, "w is nested too deeply (at most 2-D)"),
    ([2 ** 1023], {}, ValueError, f"w holds an out-of-range number: {describe(2 ** 1023)}"),
])
def test_as_array_refuses(value, kw, exc, msg):
    with pytest.raises(exc) as e:
        as_array(value, "w", ndims=(1, 2), **kw)
    assert str(e.value) == msg


# -- StateMonitor record / variables ----------------------------------------------------------
@pytest.mark.parametrize("record, exc, msg", [
    ([], ArgumentTypeError, "must be None, True, an index or a non-empty list of indices, got a list of length 0"),
    ("abc", ArgumentTypeError, "must be None, True, an index or a non-empty list of indices, got 'abc'"),
    ([0, 1.0], ArgumentTypeError, "record[1] must be an integer, got 1.0"),
    (False, ValueError, "record=False records nothing; use None or True for all neurons"),
    (np.array([[0, 1]]), ArgumentTypeError,
     "must be None, True, an index or a list of indices, got an array of shape (1, 2) of dtype int64"),
])
def test_state_monitor_record_refused(record, exc, msg):
    p = Population("LapicqueNeuron", 3, label="p")
    with pytest.raises(exc) as e:
        StateMonitor(p, "v", record=record)
    assert str(e.value).endswith(msg)


def test_state_monitor_record_forms_and_memory():
    p = Population("LapicqueNeuron", 5, label="p")
    assert StateMonitor(p, "v", record=True).record_indices is None
    m = StateMonitor(p, ["v", "refractory"], record=np.array([0, 2, 4]))
    assert m.record_indices.dtype == np.int64 and m.record_indices.tolist() == [0, 2, 4]
    # 8 bytes per recorded value and one int64 step index per step
    assert m.bytes_per_step() == 8 * 3 * 2 + 8
    assert RateMonitor(p).bytes_per_step() == 8


def test_state_monitor_steps_across_chunks():
    p = Population("LapicqueNeuron", 2, label="p")
    m = StateMonitor(p, "v")
    net = Network(p, ConstantCurrent(0.5, target=p), m)
    net.run(0.005, backend="numpy")
    net.run(0.003, backend="numpy")
    assert m.steps.dtype == np.int64 and m.steps.tolist() == list(range(8))
    assert m.traces["v"].shape == (8, 2)


# -- stimuli: re-reading parameters -----------------------------------------------------------
def test_standalone_stimulus_rereads_parameters_bound_one_keeps_its_snapshot():
    c = StepCurrent(0, 10, 1.0)
    out = np.zeros(2)
    c.apply(0, out)
    c.amplitude = 2.0  # standalone: the next apply sees the change
    c.apply(1, out)
    np.testing.assert_array_equal(out, [3.0, 3.0])
    c.bind(0.001)
    c.amplitude = 5.0  # bound for a chunk: the snapshot holds until the next bind
    c.apply(2, out)
    np.testing.assert_array_equal(out, [5.0, 5.0])
    c.bind(0.001)
    c.apply(3, out)
    np.testing.assert_array_equal(out, [10.0, 10.0])


def test_timed_array_checks_its_dt_against_the_run():
    ta = TimedArray([1.0, 2.0], dt=0.002)
    with pytest.warns(RuntimeWarning, match="dt=0.002 s differs from the run's step 0.001 s"):
        ta._runtime(0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TimedArray([1.0], dt=0.001)._runtime(0.001)


# -- CSR input ----------------------------------------------------------------------------------
def _proj():
    return Projection(Population("LapicqueNeuron", 2, label="a"), Population("LapicqueNeuron", 3, label="b"), 0.5)


def test_set_csr_accepts_and_converts():
    pr = _proj()
    pr.set_csr([0, 2, 3], [0, 2, 1], [1, 2, 3])
    assert pr.data.dtype == np.float64 and pr.indptr.dtype == np.int64
    np.testing.assert_array_equal(pr.to_dense(), [[1, 0, 2], [0, 3, 0]])
    pr.set_csr([0, 1, 1], [2], [4.0])  # one synapse
    np.testing.assert_array_equal(pr.to_dense(), [[0, 0, 4], [0, 0, 0]])


@pytest.mark.parametrize("indptr, indices, data, msg", [
    ([[0, 1, 2]], [0, 1], [1.0, 1.0], "indptr must be a 1-D integer array"),
    ([0.0, 1.0, 2.0], [0, 1], [1.0, 1.0], "indptr must be a 1-D integer array"),
    ([0, 1, 2], [0.0, 1.0], [1.0, 1.0], "indices must be a 1-D integer array"),
    ([0, 2], [0, 1], [1.0, 1.0], "indptr must have length n_source + 1 = 3, got 2"),
    ([1, 1, 2], [0, 1], [1.0, 1.0], "indptr must start at 0 and be non-decreasing"),
    ([0, 2, 1], [0, 1], [1.0, 1.0], "indptr must start at 0 and be non-decreasing"),
    ([0, 1, 2], [0], [1.0, 1.0], "indices and data must have length indptr[-1] = 2, got 1 and 2"),
    ([0, 1, 2], [0, 1], 5.0, "indices and data must have length indptr[-1] = 2, got 2 and 0"),
    ([0, 1, 2], [0, 1], [1.0, float("nan")], "data (weights) contains non-finite values"),
    ([0, 1, 3], [0, 1, 0], [1.0, 1.0, 1.0],
     "indices must be strictly increasing within each row (no duplicate synapses)"),
])
def test_set_csr_refuses(indptr, indices, data, msg):
    with pytest.raises(ValueError) as e:
        _proj().set_csr(indptr, indices, data)
    assert str(e.value) == msg


def test_from_csr_metadata():
    a, b = Population("LapicqueNeuron", 2, label="a"), Population("LapicqueNeuron", 2, label="b")
    pr = Projection.from_csr(a, b, [0, 1, 2], [1, 0], [0.5, 0.25], weight=np.array([[0.0, 0.5], [0.25, 0.0]]))
    assert pr.weight is None and pr.weight_spec is None
    np.testing.assert_array_equal(pr.to_dense(), [[0, 0.5], [0.25, 0]])
    pr = Projection.from_csr(a, b, [0, 1, 2], [1, 0], [0.5, 0.25], weight=0.5, topology="all_to_all")
    assert (pr.weight, pr.topology, pr.probability) == (0.5, "all_to_all", 1.0)
    for kw, name in (({"topology": "bogus"}, "topology"), ({"probability": 2.0}, "probability"),
                     ({"weight": "x"}, "weight")):
        with pytest.raises((ValueError, TypeError), match=f"Projection 'a->b' {name}"):
            Projection.from_csr(a, b, [0, 0, 0], [], [], **kw)


def test_from_csr_does_not_sample_the_placeholder():
    # 200 000 x 200 000 all-to-all would be 4e10 synapses; the placeholder is empty
    big_a = Population("LapicqueNeuron", 200_000, label="a")
    big_b = Population("LapicqueNeuron", 200_000, label="b")
    pr = Projection.from_csr(big_a, big_b, np.zeros(200_001, dtype=np.int64), [], [])
    assert pr.nnz == 0


# -- writing documents --------------------------------------------------------------------------
def _doc():
    net = Network(Population("LapicqueNeuron", 2, label="p"))
    net.populations[0].state["v"][:] = 0.5
    return net, network_to_dict(net)


def test_dump_document_plain_and_gzip():
    _, doc = _doc()
    raw = dump_document(doc)
    assert json.loads(raw) == doc and b", " not in raw and b": " not in raw  # compact JSON
    gz = dump_document(doc, compress=True)
    assert gz[:2] == b"\x1f\x8b" and json.loads(gzip.decompress(gz)) == doc
    assert gz[4:8] == b"\0\0\0\0"  # mtime 0: the same network gives the same bytes
    assert gz[8] == 0  # XFL 0: neither the fastest nor the best compression level (6)
    assert dump_document(doc, compress=True) == gz
    with pytest.raises(DocumentError, match=r"^expected an object, got a list$") as e:
        dump_document([1])
    assert e.value.path == ""  # the document itself


def test_dump_document_size_limits(monkeypatch):
    _, doc = _doc()
    n = len(dump_document(doc))
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", n)
    assert dump_document(doc)[:1] == b"{"  # exactly at the limit: plain
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", n - 1)
    assert dump_document(doc)[:2] == b"\x1f\x8b"  # over: compressed automatically
    with pytest.raises(ValueError) as e:
        dump_document(doc, compress=False)
    assert str(e.value) == (f"document: {n} bytes, more than the {n - 1}-byte limit load accepts; "
                            f"save it as .json.gz (compressed)")
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", 10)
    with pytest.raises(ValueError) as e:
        dump_document(doc, compress=True, name="x.json.gz")
    assert str(e.value).startswith("x.json.gz: ") and str(e.value).endswith(
        " bytes compressed, more than the 10-byte limit load accepts")
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", 10 ** 6)
    monkeypatch.setattr(nio, "MAX_DECOMPRESSED_BYTES", n)
    dump_document(doc, compress=True)
    monkeypatch.setattr(nio, "MAX_DECOMPRESSED_BYTES", n - 1)
    with pytest.raises(ValueError) as e:
        dump_document(doc, compress=True)
    assert str(e.value) == (f"document: {n} bytes of JSON, more than the limit of {n - 1} bytes a "
                            f"compressed file may expand to")


def test_dump_document_at_the_limit_without_compression(monkeypatch):
    _, doc = _doc()
    n = len(dump_document(doc))
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", n)
    assert json.loads(dump_document(doc, compress=False)) == doc


def test_save_network_compression_state_and_name(tmp_path, monkeypatch):
    net, doc = _doc()
    save_network(net, tmp_path / "a.json.gz")
    assert json.loads(gzip.decompress((tmp_path / "a.json.gz").read_bytes())) == doc
    save_network(net, tmp_path / "b.json", include_state=False)
    assert "state" not in json.loads((tmp_path / "b.json").read_text())["populations"][0]
    net.save(tmp_path / "c.json", include_state=False)
    assert "state" not in json.loads((tmp_path / "c.json").read_text())["populations"][0]
    net.save(tmp_path / "d.json")
    assert json.loads((tmp_path / "d.json").read_text())["populations"][0]["state"] == {"v": [0.5, 0.5]}
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", 100)
    path = str(tmp_path / "e.json")
    with pytest.raises(ValueError, match="^" + path + ": .* bytes, more than the 100-byte limit"):
        save_network(net, path)


def test_json_chars_estimate():
    assert nio._json_chars(np.zeros(0)) == 0.0
    assert nio._json_chars(np.array([1.5])) == 4.0  # "1.5" and a separator
    # three values, all sampled: ("1.0" + "22.0" + "22.0") / 3 + 1 separator, times 3
    assert nio._json_chars(np.array([1.0, 22.0, 22.0])) == pytest.approx(14.0)
    # 2000 values: every 2nd is sampled, here all "1.0"
    assert nio._json_chars(np.tile([1.0, 22.0], 1000)) == pytest.approx(8000.0)


def _sized_net():
    a = Population("LapicqueNeuron", 3, label="a")
    b = Population("LapicqueNeuron", 2, label="b")
    pr = Projection(a, b, 0.5, topology="all_to_all")
    ta = TimedArray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], target=b)
    return Network(a, b, pr, ta, StepCurrent(0, 1, 1.0, target=a)), a, b, pr, ta


def test_save_size_budget_request(monkeypatch):
    from engine import resources

    net, a, b, pr, ta = _sized_net()
    seen = []
    monkeypatch.setattr(resources, "check", lambda what, nbytes: seen.append((what, nbytes)))
    nio._check_save_size(net, "n.json", False)
    # values: every state entry (2 variables x 5 neurons), 2 per synapse (6) + indptr (4), the 6 timed values
    values = 2 * 5 + 2 * 6 + 4 + 6
    arrays = [*a.state.values(), *b.state.values(), pr.data, pr.indices, pr.indptr, ta.values]
    chars = sum(nio._json_chars(x) for x in arrays)
    assert seen == [("saving n.json", pytest.approx(values * 32 + chars + resources.network_bytes(net)))]

    def refuse(what, nbytes):
        raise resources.ResourceError(what, nbytes, 1)

    monkeypatch.setattr(resources, "check", refuse)
    with pytest.raises(ValueError, match=r"^saving n\.json needs about .*, more than the memory budget of 1 B "):
        nio._check_save_size(net, "n.json", False)


def test_save_size_file_limit_ignores_population_state(monkeypatch):
    net, a, b, pr, ta = _sized_net()
    required = sum(nio._json_chars(x) for x in (pr.data, pr.indices, pr.indptr, ta.values))
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", required)
    nio._check_save_size(net, "n.json", False)  # at the limit: fine
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", required - 1)
    with pytest.raises(ValueError, match=r"^n.json: the network's file would hold about .* of JSON, more "
                                         r"than the .* load accepts; save it as .json.gz \(compressed\)$"):
        nio._check_save_size(net, "n.json", False)
    nio._check_save_size(net, "n.json.gz", True)  # the compressed limit is the decompressed size
    monkeypatch.setattr(nio, "MAX_DECOMPRESSED_BYTES", required - 1)
    with pytest.raises(ValueError, match=r"load accepts$"):
        nio._check_save_size(net, "n.json.gz", True)


# -- weight distribution specs ----------------------------------------------------------------
from engine.network.projection import check_weight_spec  # noqa: E402


@pytest.mark.parametrize("spec, msg", [
    ({}, "weight distribution spec needs a 'dist' key, one of normal, uniform, lognormal, constant"),
    ({"dist": "gamma"}, "weight['dist'] must be one of normal, uniform, lognormal, constant, got 'gamma'"),
    ({"dist": "normal", "mean": 1, "std": 1, "x": 1, "y": 2},
     "unknown key(s) 'x', 'y' in weight spec for 'normal'; expected mean, std"),
    ({"dist": "uniform"}, "weight spec for 'uniform' is missing 'low', 'high'"),
    ({"dist": "lognormal", "mean": 0.0, "sigma": -0.1}, "weight['sigma'] must be >= 0, got -0.1"),
    ({"dist": "lognormal", "mean": 700.0, "sigma": 0.5},
     "weight lognormal weights would overflow (mean + sigma^2 > 700)"),
    ({"dist": "lognormal", "mean": 692.0, "sigma": 3.0},
     "weight lognormal weights would overflow (mean + sigma^2 > 700)"),
    ({"dist": "uniform", "low": 2.0, "high": 1.0}, "weight['high'] (1.0) must be >= weight['low'] (2.0)"),
])
def test_weight_spec_refused(spec, msg):
    with pytest.raises(ValueError) as e:
        check_weight_spec(spec)
    assert str(e.value) == msg


def test_weight_spec_bad_number_names_its_key():
    with pytest.raises((ValueError, TypeError), match=r"w\['mean'\]"):
        check_weight_spec({"dist": "normal", "mean": "a", "std": 1.0}, "w")


@pytest.mark.parametrize("spec", [
    {"dist": "normal", "mean": 1, "std": 0},
    {"dist": "lognormal", "mean": 0.0, "sigma": 0.0},
    {"dist": "lognormal", "mean": 0.0, "sigma": 0.5},
    {"dist": "lognormal", "mean": 699.0, "sigma": 1.0},  # exactly 700: allowed
    {"dist": "lognormal", "mean": 690.0, "sigma": 3.0},  # 699
    {"dist": "uniform", "low": 1.5, "high": 1.5},
])
def test_weight_spec_boundaries_accepted(spec):
    out = check_weight_spec(spec)
    assert out == {k: (float(v) if k != "dist" else v) for k, v in spec.items()}


# -- document reading helpers -----------------------------------------------------------------
def test_scalar_readers_name_the_place():
    for fn, value, msg in ((nio._str, 5, "populations[0].label: expected a string, got an integer"),
                           (nio._int, True, "seed: expected an integer, got a boolean"),
                           (nio._list, "x", "stimuli: expected a list, got a string")):
        path = msg.split(":")[0]
        with pytest.raises(DocumentError) as e:
            fn(value, path)
        assert str(e.value) == msg and e.value.path == path


def test_checked_values_carry_the_document_path():
    from engine.network import PoissonInput

    with pytest.raises(DocumentError) as e:
        nio._checked(PoissonInput.declarations()["rate_hz"], -1.0, "stimuli[1].rate_hz")
    assert e.value.path == "stimuli[1].rate_hz" and str(e.value).startswith("stimuli[1].rate_hz")


def test_population_params_accept_the_reference_dt():
    from engine.models import get_model

    assert nio._accepted(get_model("LapicqueNeuron")) == [
        "tau", "resistance", "v_rest", "v_reset", "v_threshold", "refractory_period", "dt"]


def test_memory_estimate_of_a_document(monkeypatch):
    from engine import resources

    seen = []
    monkeypatch.setattr(resources, "check", lambda what, n: seen.append((what, n)))
    doc = {"populations": [{"label": "a", "model": "LapicqueNeuron", "n": 10},
                           {"model": "LapicqueNeuron", "n": 1000},  # label defaults to the model name
                           "not an entry"],
           "projections": [{"source": "a", "target": "LapicqueNeuron", "csr": {"data": [0.1] * 5}}]}
    nio._estimate(doc)
    # Lapicque has 2 state variables: 8 bytes x n x (2 + 3); a CSR synapse is 40 bytes
    assert seen == [("the network of this document (largest part: populations[1] ('LapicqueNeuron', n=1000))",
                     8 * 10 * 5 + 8 * 1000 * 5 + 40 * 5)]
    seen.clear()
    nio._estimate({"populations": "nothing"})
    assert seen == [("the network of this document (largest part: )", 0)]

    def refuse(what, n):
        raise resources.ResourceError(what, n, 1)

    monkeypatch.setattr(resources, "check", refuse)
    with pytest.raises(DocumentError) as e:
        nio._estimate(doc)
    assert e.value.path == "populations[1]" and str(e.value).startswith("the network of this document")


# -- monitor and stimulus checks ----------------------------------------------------------------
@pytest.mark.parametrize("variables, exc, msg", [
    (5, ArgumentTypeError, "StateMonitor 'm' variables must be a list of state-variable names, got 5"),
    ([], ValueError, "StateMonitor 'm' variables must name at least one state variable"),
    (["v"] * 65, ValueError, "StateMonitor 'm' variables names 65 variables, more than 64"),
    (["v", 3], ArgumentTypeError, "StateMonitor 'm' variables[1] must be a state-variable name, got 3"),
    (["bogus"], ValueError, "StateMonitor 'm' variables: unknown state variable 'bogus' for LapicqueNeuron; "
                            "valid: v, refractory"),
])
def test_state_monitor_variables_refused(variables, exc, msg):
    p = Population("LapicqueNeuron", 2, label="p")
    with pytest.raises(exc) as e:
        StateMonitor(p, variables, label="m")
    assert str(e.value) == msg


def test_state_monitor_at_the_variable_limit():
    p = Population("LapicqueNeuron", 2, label="p")
    assert len(StateMonitor(p, ["v"] * 64).variables) == 64


def test_step_current_may_be_empty_not_reversed():
    assert StepCurrent(5, 5, 1.0).offset == 5
    with pytest.raises(ValueError, match=r"StepCurrent offset \(4\) must be >= onset \(5\)"):
        StepCurrent(5, 4, 1.0)


def test_memory_estimate_skips_what_it_cannot_size(monkeypatch):
    from engine import resources

    seen = []
    monkeypatch.setattr(resources, "check", lambda what, n: seen.append((what, n)))
    pb = resources.projection_bytes
    lap = lambda n: 8 * n * 5  # noqa: E731  (Lapicque: 2 state variables + 3 buffers)
    pops = [{"label": "x", "model": "NoSuchModel", "n": 5}, {"label": "z", "model": "LapicqueNeuron", "n": 0},
            {"label": "t", "model": "LapicqueNeuron", "n": True}, {"label": "h", "model": "LapicqueNeuron",
                                                                    "n": 10 ** 12 + 1},
            {"label": "m", "model": 5, "n": 3}, {"label": 5, "model": "LapicqueNeuron", "n": 3},
            {"label": "a", "model": "LapicqueNeuron", "n": 10}, {"label": "b", "model": "LapicqueNeuron", "n": 20},
            {"label": "one", "model": "LapicqueNeuron", "n": 1}]
    skipped = [{"source": "a", "target": "zz"}, {"source": ["a"], "target": "b"}, {"source": "a", "target": 3},
               {"source": "a", "target": "b", "probability": True}, {"source": "a", "target": "b", "probability": 1.5},
               {"source": "a", "target": "b", "probability": -0.1}, {"source": "a", "target": "b", "topology": "ring"},
               {"source": "a", "target": "b", "csr": {"data": "x"}}]
    sized = [{"source": "a", "target": "b"}, {"source": "a", "target": "b", "topology": "all_to_all"},
             {"source": "b", "target": "b", "topology": "one_to_one", "probability": 0.5},
             {"source": "a", "target": "b", "probability": 0.25}, {"source": "a", "target": "b", "probability": 0}]
    nio._estimate({"populations": pops, "projections": skipped + sized})
    expected = (lap(10) + lap(20) + lap(1) + pb(10, 20, "random", 1.0)[0] + pb(10, 20, "all_to_all", 1.0)[0]
                + pb(20, 20, "one_to_one", 0.5)[0] + pb(10, 20, "random", 0.25)[0] + pb(10, 20, "random", 0)[0])
    assert [n for _, n in seen] == [expected]
    assert pb(10, 20, "random", 1.0)[0] > pb(10, 20, "random", 1.0)[1]  # the peak while building counts
    seen.clear()
    # a projection as the largest part, named by index and ends
    nio._estimate({"populations": [{"label": "a", "model": "LapicqueNeuron", "n": 300}],
                   "projections": [{"source": "a", "target": "a", "topology": "all_to_all"}]})
    assert seen == [("the network of this document (largest part: projections[0] (a->a))",
                     lap(300) + pb(300, 300, "all_to_all", 1.0)[0])]
    assert pb(300, 300, "all_to_all", 1.0)[0] > lap(300)
    seen.clear()
    nio._estimate({"populations": [{"label": "big", "model": "LapicqueNeuron", "n": 10 ** 12}]})
    assert seen == [("the network of this document (largest part: populations[0] ('big', n=1000000000000))",
                     lap(10 ** 12))]


def test_stimulus_dt_warning_tolerance_and_once_per_step():
    from engine.network import PoissonInput

    p = PoissonInput(1, 10.0, 1.0, dt=0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert p.step_dt(0.001) == 0.001  # equal: silent
        assert p.step_dt(0.001 * (1 + 1e-12)) == 0.001  # float noise: silent
    with pytest.warns(RuntimeWarning, match="its dt=0.001 s differs from the run's step 0.0010001 s"):
        assert p.step_dt(0.0010001) == 0.001
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p.step_dt(0.0010001)  # the same run step again: warned already


def test_poisson_input_adds_to_the_current_and_checks_its_target():
    from engine.network import PoissonInput

    p = PoissonInput(2, 1000.0, 0.5, dt=0.001)  # rate * dt = 1: a spike on every step
    out = np.ones(3)
    p.apply(0, out)
    np.testing.assert_array_equal(out, [1.5, 1.5, 1.0])
    with pytest.raises(ValueError) as e:
        PoissonInput(5, label="noise").check_target(Population("LapicqueNeuron", 3, label="p"))
    assert str(e.value) == "PoissonInput 'noise' n=5 exceeds the size of target population 'p' (n=3)"


def test_network_to_dict_passes_include_state():
    net, doc = _doc()
    assert net.to_dict()["populations"][0]["state"] == {"v": [0.5, 0.5]}
    assert "state" not in net.to_dict(include_state=False)["populations"][0]


def test_document_keys_unknown_and_missing():
    with pytest.raises(DocumentError) as e:
        nio._keys({"a": 1, "zz": 2, "yy": 3}, "populations[0]", {"a", "b"}, set())
    assert e.value.path == "populations[0].yy" and str(e.value) == "populations[0].yy: unknown key (allowed: a, b)"
    with pytest.raises(DocumentError) as e:
        nio._keys({"zz": 1}, "", {"a"}, set())
    assert e.value.path == "zz" and str(e.value) == "zz: unknown key (allowed: a)"
    with pytest.raises(DocumentError) as e:
        nio._keys({"a": 1}, "stimuli[2]", {"a", "b", "c"}, {"a", "c", "b"})
    assert e.value.path == "stimuli[2]" and str(e.value) == "stimuli[2]: missing key 'b'"
    nio._keys({"a": 1, "b": 2}, "x", {"a", "b"}, {"a", "b"})  # all present: fine


@pytest.mark.parametrize("how", ["step_dt", "base", "numpy", "run"])
def test_stimulus_dt_warning_points_at_the_callers_line(how):
    # it pointed at a line inside the engine (a fixed stacklevel), whatever the path
    from engine.backends.base import Simulator
    from engine.backends.numpy_backend import NumpySimulator
    from engine.network import PoissonInput

    pop = Population("LapicqueNeuron", 2, label="p")
    noise = PoissonInput(2, 10.0, 1.0, target=pop, dt=0.002, label="noise")
    net = Network(pop, noise)
    with pytest.warns(RuntimeWarning, match="^PoissonInput 'noise': its dt=0.002 s differs") as rec:
        if how == "step_dt":
            noise.step_dt(0.001)
        elif how == "base":
            Simulator(net, 0.001).advance(1)
        elif how == "numpy":
            NumpySimulator(net, 0.001).advance(1)
        else:
            net.run(0.002)
    assert [w.filename for w in rec] == [__file__]


def test_warn_at_caller_from_code_without_a_module_name():
    from engine.network._warn import warn_at_caller

    # exec with bare globals has no __name__: that frame is the caller, not skipped
    with pytest.warns(UserWarning, match="^here$") as rec:
        exec("warn_at_caller('here')", {"warn_at_caller": warn_at_caller})
    assert [w.filename for w in rec] == ["<string>"] and rec[0].category is UserWarning
