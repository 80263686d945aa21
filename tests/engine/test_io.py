"""JSON save/load of networks: lossless round trips and hostile files."""

import json

import numpy as np
import pytest

import engine.network.io as nio
from engine.network import (ConstantCurrent, Network, PoissonInput, Population, Projection, RateMonitor,
                            SpikeMonitor, StateMonitor, StepCurrent, TimedArray)


def build():
    p = dict(tau=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, refractory_period=20)
    exc = Population("lif", 60, p, label="exc")
    inh = Population("LapicqueNeuron", 15, p, label="inh")
    rng = np.random.default_rng(4)
    exc.set_voltages(rng.uniform(-60, -50, 60))  # non-default state must survive the round trip
    inh.set_voltages(rng.uniform(-60, -50, 15))
    return Network(
        exc, inh,
        Projection(exc, exc, {"dist": "normal", "mean": 1.6, "std": 0.3}, probability=0.1, seed=1,
                   tau_syn=5.0, allow_self_connections=False),
        Projection(exc, inh, 1.6, probability=0.2, seed=2, delay=3),
        Projection(inh, exc, np.full((15, 60), -0.3), topology="all_to_all", tau_syn=10.0),
        PoissonInput(20, 300.0, 3.0, dt=1e-4, seed=5, target=exc),
        StepCurrent(100, 400, 2.0, target=inh),
        TimedArray(np.linspace(0.0, 1.0, 50), target=exc),
        ConstantCurrent(0.25),
        SpikeMonitor(exc), SpikeMonitor(inh), StateMonitor(inh, ["v"], record=[0, 3]),
        RateMonitor(exc, bin_ms=5), seed=11)


def run_and_collect(net, duration=0.08):
    net.run(duration, dt=1e-4)
    return [m.raster_data() for m in net.monitors if isinstance(m, SpikeMonitor)]


def test_save_load_round_trip_gives_identical_network_and_spikes(tmp_path):
    net = build()
    path = tmp_path / "net.json"
    net.save(path)
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == nio.SCHEMA_VERSION
    loaded = Network.load(path)
    assert [p.label for p in loaded.populations] == ["exc", "inh"]
    assert loaded.seed == 11
    for a, b in zip(net.projections, loaded.projections):
        for name in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert (a.delay, a.tau_syn, a.label) == (b.delay, b.tau_syn, b.label)
    assert [type(s).__name__ for s in loaded.stimuli] == [type(s).__name__ for s in net.stimuli]
    assert loaded.stimuli[1].target is loaded.populations[1] and loaded.stimuli[3].target is None
    assert [m.label for m in loaded.monitors] == [m.label for m in net.monitors]
    ref, got = run_and_collect(net), run_and_collect(loaded)
    assert ref[0][0].size > 30
    for (s1, i1), (s2, i2) in zip(ref, got):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(net.monitors[2].traces["v"], loaded.monitors[2].traces["v"])
    # edited (e.g. trained) weights are saved as they are
    net.projections[0].data *= 0.5
    again = Network.from_dict(json.loads(json.dumps(net.to_dict())))
    np.testing.assert_array_equal(again.projections[0].data, net.projections[0].data)


def test_spec_only_projection_regenerates_identically():
    net = build()
    doc = nio.network_to_dict(net, include_csr=False)
    assert "csr" not in doc["projections"][0] and "csr" in doc["projections"][2]  # dense array keeps csr
    loaded = Network.from_dict(doc)
    for a, b in zip(net.projections, loaded.projections):
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.data, b.data)


def write(tmp_path, text, name="bad.json"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_truncated_and_malformed_json(tmp_path):
    good = json.dumps(build().to_dict())
    path = write(tmp_path, good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"bad\.json: malformed JSON at line 1 column \d+"):
        Network.load(path)
    with pytest.raises(ValueError, match="NaN is not allowed"):
        Network.load(write(tmp_path, '{"schema_version": 1, "populations": [], "seed": NaN}'))
    with pytest.raises(ValueError, match="not UTF-8"):
        path = tmp_path / "bin.json"
        path.write_bytes(b"\xff\xfe\x00garbage")
        Network.load(path)
    with pytest.raises(ValueError, match="nested too deeply"):
        Network.load(write(tmp_path, "[" * 100000 + "]" * 100000))
    with pytest.raises(ValueError, match="missing.json: cannot read"):
        Network.load(tmp_path / "missing.json")


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", 100)
    path = write(tmp_path, json.dumps(build().to_dict()))
    with pytest.raises(ValueError, match=r"bad\.json: file is \d+ bytes, more than the limit of 100"):
        Network.load(path)


def doc_with(mutate):
    doc = json.loads(json.dumps(build().to_dict()))
    mutate(doc)
    return doc


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.update(schema_version=99), "schema_version: unsupported version 99"),
    (lambda d: d.pop("schema_version"), "schema_version: missing"),
    (lambda d: d.update(extra=1), r"^extra: unknown key"),
    (lambda d: d["populations"][1].update(model="NoSuchNeuron"), r"populations\[1\]\.model: unknown neuron model"),
    (lambda d: d["populations"][0].update(foo=2), r"populations\[0\]\.foo: unknown key"),
    (lambda d: d["populations"][0].update(n="60"), r"populations\[0\]\.n: expected an integer"),
    (lambda d: d["populations"][0].update(n=0), r"populations\[0\]\.n must be >= 1, got 0"),
    (lambda d: d["populations"][0]["params"].update(tau=-5.0), r"populations\[0\]\.params\.tau must be >= .*got -5\.0"),
    (lambda d: d["populations"][0]["params"].update(zeta=1.0), r"populations\[0\]\.params\.zeta: unknown parameter"),
    (lambda d: d["populations"][1].update(label="exc"), r"populations\[1\]\.label: duplicate"),
    (lambda d: d["populations"][0]["state"].update(v=[0.0]), r"populations\[0\]\.state\.v: .*shape"),
    (lambda d: d["projections"][1].update(source="ghost"), r"projections\[1\]\.source: no population labelled 'ghost'"),
    (lambda d: d["projections"][0].update(delay=1.5), r"projections\[0\]\.delay must be a whole number, got 1\.5"),
    (lambda d: d["projections"][0]["csr"]["indices"].__setitem__(0, "x"), r"projections\[0\]\.csr\.indices\[0\]"),
    (lambda d: d["projections"][0]["csr"].update(indptr=[0, 1]), r"projections\[0\]\.csr: indptr"),
    (lambda d: d["projections"][0].update(plasticity={"rule": "hebb"}), r"projections\[0\]\.plasticity: .*'hebb'"),
    (lambda d: d["projections"][0].update(plasticity={"rule": "stdp", "tau_plus": -1}), r"projections\[0\]\.plasticity"),
    (lambda d: d["stimuli"][0].update(type="Laser"), r"stimuli\[0\]\.type: unknown stimulus type 'Laser'"),
    (lambda d: d["stimuli"][1].update(onset=-3), r"stimuli\[1\]\.onset must be >= 0, got -3"),
    (lambda d: d["stimuli"][1].update(colour="red"), r"stimuli\[1\]\.colour: unknown key"),
    (lambda d: d["stimuli"][0].update(target="nowhere"), r"stimuli\[0\]\.target: no population"),
    (lambda d: d["monitors"][2].update(variables=["w"]), r"monitors\[2\]: StateMonitor .* variables: unknown state variable 'w'"),
    (lambda d: d["monitors"][0].update(type="Camera"), r"monitors\[0\]\.type: unknown monitor type"),
    (lambda d: d["monitors"][1].pop("population"), r"monitors\[1\]: missing key 'population'"),
    (lambda d: d.update(populations={}), r"populations: expected a list"),
])
def test_bad_documents_name_the_place(mutate, where, tmp_path):
    doc = doc_with(mutate)
    with pytest.raises(ValueError, match=where):
        Network.from_dict(doc)
    path = write(tmp_path, json.dumps(doc), "doc.json")
    with pytest.raises(ValueError, match="doc.json") as info:
        Network.load(path)
    assert isinstance(info.value, ValueError)


def test_no_code_execution_paths():
    # a JSON string that looks like code is just an unknown model name
    doc = doc_with(lambda d: d["populations"][0].update(model="__import__('os').system('true')"))
    with pytest.raises(ValueError, match=r"populations\[0\]\.model: unknown neuron model"):
        Network.from_dict(doc)
    with pytest.raises(ValueError, match="expected an object"):
        Network.from_dict([1, 2])


# -- issue 19: every number validated with its path, nothing lost, every save loads --------------
def test_huge_and_odd_numbers_in_a_file_name_the_field(tmp_path):
    base = json.dumps(build().to_dict(), separators=(",", ":"))
    cases = [
        (base.replace('"tau":20.0', '"tau":1' + "0" * 400, 1), r"populations\[0\]\.params\.tau: .* out of range"),
        (base.replace('"tau":20.0', '"tau":' + "9" * 5000, 1), r"populations\[0\]\.params\.tau: .*5000 digits"),
        (base.replace('"seed":11', '"seed":NaN'), r"seed: NaN is not allowed"),
        (base.replace('"bin_ms":5.0', '"bin_ms":Infinity'), r"monitors\[3\]\.bin_ms: Infinity is not allowed"),
    ]
    for text, match in cases:
        path = write(tmp_path, text)
        with pytest.raises(ValueError, match=match):
            Network.load(path)


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d["projections"][1].update(weight={"dist": ["normal"]}), r"projections\[1\]\.weight\['dist'\] must be one of"),
    (lambda d: d["projections"][1].update(weight=10 ** 400), r"projections\[1\]\.weight\b.*out of range"),
    (lambda d: d["projections"][1].update(delay=10 ** 400), r"projections\[1\]\.delay\b.*out of range"),
    (lambda d: d["stimuli"][0].update(rate_hz=1 + 2j), r"stimuli\[0\]\.rate_hz must be a real number"),
    (lambda d: d["stimuli"][2].update(values=[1.0, 10 ** 400]), r"stimuli\[2\]\.values\[1\]: .* out of range"),
    (lambda d: d["stimuli"][2].update(values=[1.0, True]), r"stimuli\[2\]\.values must hold real numbers"),
    (lambda d: d["populations"][0]["params"].update(refractory_period=10 ** 400),
     r"populations\[0\]\.params\.refractory_period\b.*out of range"),
    (lambda d: d["populations"][0]["params"].update(tau=np.array([1.0, 2.0])),
     r"populations\[0\]\.params\.tau must be a real number, got an array"),
    (lambda d: d["populations"][0]["state"]["v"].__setitem__(3, float("nan")), r"populations\[0\]\.state\.v\[3\]: NaN"),
    (lambda d: d.update(meta=float("nan")), r"^meta: NaN is not allowed"),
    (lambda d: d.update(meta=5), r"^meta: expected an object"),
    (lambda d: d.update(meta="x"), r"^meta: expected an object"),
    (lambda d: d.update(meta={"layout": {"exc": {"x": float("inf")}}}), r"meta\.layout\.exc\.x: Infinity"),
])
def test_bad_values_name_the_field(mutate, where):
    with pytest.raises(ValueError, match=where):
        Network.from_dict(doc_with(mutate))


def test_nesting_and_list_limits(tmp_path, monkeypatch):
    doc = build().to_dict()
    deep = {}
    node = deep
    for _ in range(nio.MAX_DEPTH + 5):
        node["a"] = {}
        node = node["a"]
    doc["meta"] = deep
    with pytest.raises(ValueError, match=r"meta(\.a)+: nested too deeply"):
        Network.load(write(tmp_path, json.dumps(doc)))
    monkeypatch.setattr(nio, "MAX_LIST_LENGTH", 40)
    with pytest.raises(ValueError, match=r"^[a-z]+\[\d\]\.[a-z.]+: list of \d+ items, more than the limit 40"):
        Network.from_dict(build().to_dict())


def test_meta_nan_positions_are_sanitised_on_save_and_the_file_loads(tmp_path):
    doc = build().to_dict()
    doc["meta"] = {"layout": {"exc": {"x": float("nan"), "y": 3.0}}, "name": "demo"}
    data = nio.dump_document(doc)
    loaded = nio.parse_document(data, "x.json")
    assert loaded["meta"] == {"layout": {"exc": {"x": None, "y": 3.0}}, "name": "demo"}
    Network.from_dict(loaded)
    with pytest.raises(ValueError, match="meta: expected an object"):
        nio.dump_document({**doc, "meta": 5})


def test_save_refuses_what_load_would_refuse(tmp_path):
    net = build()
    net.stimuli[2].__dict__["values"] = np.array([1.0, np.nan])  # corrupt behind validation's back
    with pytest.raises(ValueError, match=r"stimuli\[2\]"):
        net.save(tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()


def test_too_big_for_json_saves_and_loads_as_json_gz(tmp_path, monkeypatch):
    net = Network(Population("lif", 4, label="p"), TimedArray(np.linspace(0.0, 1.0, 30_000), label="ramp"))
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", 200_000)
    with pytest.raises(ValueError, match=r"save it as \.json\.gz"):
        net.save(tmp_path / "big.json")
    assert not (tmp_path / "big.json").exists()
    net.save(tmp_path / "big.json.gz")
    raw = (tmp_path / "big.json.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and len(raw) < 200_000
    loaded = Network.load(tmp_path / "big.json.gz")
    np.testing.assert_array_equal(loaded.stimuli[0].values, net.stimuli[0].values)
    # dump_document chooses compression by itself when the text is too big
    assert nio.dump_document(net.to_dict())[:2] == b"\x1f\x8b"


def test_gzip_bombs_and_bad_gzip_are_refused(monkeypatch):
    import gzip

    monkeypatch.setattr(nio, "MAX_DECOMPRESSED_BYTES", 10_000)
    bomb = gzip.compress(b"[" + b"0," * 100_000 + b"0]")
    with pytest.raises(ValueError, match="expands to more than 10000 bytes"):
        nio.parse_document(bomb, "bomb.json.gz")
    with pytest.raises(ValueError, match="not a valid gzip file"):
        nio.parse_document(b"\x1f\x8b" + b"junk" * 10, "junk.json.gz")


def test_a_failed_load_changes_nothing(tmp_path):
    # parse and validate into a new object: the error comes before anything is returned
    net = build()
    path = tmp_path / "net.json"
    net.save(path)
    doc = json.loads(path.read_text())
    doc["monitors"][1]["population"] = "ghost"  # the very last entry fails
    with pytest.raises(ValueError, match=r"monitors\[1\]\.population"):
        Network.from_dict(doc)
    assert len(net.populations) == 2 and Network.load(path).to_dict() == net.to_dict()


def test_a_network_too_big_even_compressed_is_refused_before_building_the_document(tmp_path, monkeypatch):
    a = Population("lif", 300, label="a")
    net = Network(a, Projection(a, a, {"dist": "normal", "mean": 0.0, "std": 1.0}, topology="all_to_all"))
    monkeypatch.setattr(nio, "MAX_FILE_BYTES", 200_000)
    monkeypatch.setattr(nio, "MAX_DECOMPRESSED_BYTES", 1_000_000)

    def never(*args, **kwargs):
        raise AssertionError("the document was built")

    monkeypatch.setattr(nio, "network_to_dict", never)
    with pytest.raises(ValueError, match=r"big\.json: the network's file would hold about 2\.0 MiB of JSON, "
                                         r"more than the 195\.3 KiB load accepts; save it as \.json\.gz"):
        net.save(tmp_path / "big.json")
    with pytest.raises(ValueError, match=r"more than the 976\.6 KiB load accepts$"):
        net.save(tmp_path / "big.json.gz")
    assert not list(tmp_path.iterdir())
