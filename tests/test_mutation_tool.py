"""The mutation tool's scoring (tools/mutation.py): equivalent mutants and
mutants that differ only on a device this machine lacks are left out of the
score, and a device-only mutant that a run on such a device kills counts as
killed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("nc_mutation_tool", ROOT / "tools" / "mutation.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(spec.name, None)


def test_score_leaves_out_equivalent_and_device_only_mutants(mutation, monkeypatch):
    monkeypatch.setattr(mutation, "EQUIVALENT", {"m.eq": "why"})
    monkeypatch.setattr(mutation, "DEVICE_ONLY", {"m.dev": "cuda", "m.dev_killed": "cuda"})
    s = mutation.Score("x", {"m.k1": "killed", "m.k2": "killed", "m.s": "survived", "m.eq": "survived",
                             "m.dev": "survived", "m.dev_killed": "killed", "m.n": "no tests"})
    c = s.counts()
    assert (c["killed"], c["survived"], c["no tests"], c["equivalent"], c["device only"]) == (3, 1, 1, 1, 1)
    assert s.score() == pytest.approx(100.0 * 3 / 5)
    text = mutation.report([s])
    assert "m.dev: survived (device only)" in text and "m.s: survived" in text and "m.eq" not in text


def test_every_listed_mutant_names_a_module_of_the_tool(mutation):
    # a name from a renamed or removed source is a stale entry
    # (a package's __init__.py is named after the package alone)
    prefixes = tuple(src.removesuffix(".py").removesuffix("/*").removesuffix("__init__").replace("/", ".")
                     for m in mutation.MODULES.values() for src in m.sources)
    for name in list(mutation.EQUIVALENT) + list(mutation.DEVICE_ONLY):
        assert name.startswith(prefixes), name
    assert not set(mutation.EQUIVALENT) & set(mutation.DEVICE_ONLY)
