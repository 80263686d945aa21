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
