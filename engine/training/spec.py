"""The surrogate choice a network document stores (torch-free).

A network's JSON may carry a top-level ``"training"`` entry and, per
population, a ``"surrogate"`` override::

    "training": {"surrogate": "fast_sigmoid", "path": "custom_op", "params": {"slope": 25.0}}
    "populations": [{"label": "out", ..., "surrogate": {"name": "triangular", "params": {"width": 0.5}}}]

``Network.to_torch()`` without a ``surrogate_fn`` builds each population's
spike function from these (the override, else the network's entry, else
``atan_surrogate``); a ``surrogate_fn`` passed explicitly wins everywhere.
An override may also name a ``path``; without one it takes the network's.

This module holds only names, shape parameters and validation, so
``engine.network.io`` can check documents without importing torch;
:mod:`engine.training.surrogate` builds its functions from the same table.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["SURROGATE_NAMES", "SURROGATE_PATHS", "SHAPE_PARAMS", "DEFAULT_SURROGATE",
           "normalize_training", "normalize_override", "resolve_spec"]

#: the two autograd implementations every surrogate offers
SURROGATE_PATHS = ("custom_op", "legacy_autograd")

#: surrogate name -> (shape-parameter name or None, reference default)  (SPEC 2.4)
SHAPE_PARAMS = {
    "fast_sigmoid": ("slope", 25.0),
    "superspike": ("beta", 10.0),
    "atan_surrogate": ("alpha", 2.0),
    "sigmoid_surrogate": ("slope", 5.0),
    "straight_through": (None, None),
    "triangular": ("width", 1.0),
}
SURROGATE_NAMES = tuple(SHAPE_PARAMS)

#: what ``to_torch`` uses when the document says nothing (the cells' default too)
DEFAULT_SURROGATE = {"surrogate": "atan_surrogate", "path": "custom_op", "params": {"alpha": 2.0}}


def _name(value, where: str) -> str:
    if not isinstance(value, str) or value not in SHAPE_PARAMS:
        raise ValueError(f"{where}: unknown surrogate {value!r}; choose one of {', '.join(SURROGATE_NAMES)}")
    return value


def _path(value, where: str) -> str:
    if value not in SURROGATE_PATHS:
        raise ValueError(f"{where}: unknown path {value!r}; choose one of {', '.join(SURROGATE_PATHS)}")
    return value


def _params(name: str, value, where: str) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object of shape parameters, got {type(value).__name__}")
    pname, default = SHAPE_PARAMS[name]
    allowed = set() if pname is None else {pname}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: not a shape parameter of {name} "
                         f"(accepted: {', '.join(sorted(allowed)) or 'none'})")
    if pname is None:
        return {}
    v = value.get(pname, default)
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)) or float(v) <= 0:
        raise ValueError(f"{where}.{pname}: must be a finite number > 0, got {v!r}")
    return {pname: float(v)}


def _keys(entry, where: str, allowed: tuple) -> dict:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object, got {type(entry).__name__}")
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(allowed)})")
    return entry


def normalize_training(entry, where: str = "training") -> dict:
    """The document's ``"training"`` entry, checked and completed with defaults
    (``ValueError`` naming the place on anything unknown or out of range)."""
    entry = _keys(entry, where, ("surrogate", "path", "params"))
    name = _name(entry.get("surrogate", DEFAULT_SURROGATE["surrogate"]), f"{where}.surrogate")
    return {"surrogate": name, "path": _path(entry.get("path", "custom_op"), f"{where}.path"),
            "params": _params(name, entry.get("params"), f"{where}.params")}


def normalize_override(entry, where: str) -> dict:
    """A population's ``"surrogate"`` override, checked; ``path`` kept only if given."""
    entry = _keys(entry, where, ("name", "path", "params"))
    if "name" not in entry:
        raise ValueError(f"{where}: missing key 'name'")
    name = _name(entry["name"], f"{where}.name")
    out = {"name": name, "params": _params(name, entry.get("params"), f"{where}.params")}
    if "path" in entry:
        out["path"] = _path(entry["path"], f"{where}.path")
    return out


def resolve_spec(training: dict | None, override: dict | None) -> tuple[str, str, dict]:
    """``(name, path, params)`` a population trains with: its override, else the
    network's entry, else :data:`DEFAULT_SURROGATE`."""
    base = normalize_training(training) if training is not None else DEFAULT_SURROGATE
    if override is None:
        return base["surrogate"], base["path"], dict(base["params"])
    ov = normalize_override(override, "surrogate")
    return ov["name"], ov.get("path", base["path"]), dict(ov["params"])
