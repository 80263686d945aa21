"""JSON form of a network: ``to_dict``/``from_dict`` and ``save``/``load``.

The document (``schema_version`` 1)::

    {"schema_version": 1, "seed": 42,
     "training": {"surrogate", "path", "params": {...}}?,
     "populations": [{"label", "model", "n", "params": {...}, "state": {var: [...]}?,
                      "surrogate": {"name", "path"?, "params"?}?}],
     "projections": [{"label", "source", "target", "weight", "probability", "delay",
                      "topology", "seed", "weight_threshold", "allow_self_connections",
                      "tau_syn", "plasticity", "csr": {"indptr", "indices", "data"}?}],
     "stimuli":  [{"type", "label", "target", ...constructor arguments}],
     "monitors": [{"type", "label", "population", ...constructor arguments}]}

Populations, stimulus targets and monitors refer to populations by label.
A projection with ``"csr"`` is restored exactly (also after its weights were
edited or trained); without it, it is regenerated from its spec and seed
(what the GUI's canvas writes).  ``"state"`` (optional) restores state
variables, e.g. random initial potentials.  ``"training"`` and a
population's ``"surrogate"`` are the surrogate choice ``Network.to_torch``
uses (see ``engine.training.spec``).  Floats are written with Python's
shortest round-trip repr, so a save/load round trip is lossless: the loaded
network produces identical connectivity and identical spikes.

Loading only parses JSON (never pickle or code).  Files over
:data:`MAX_FILE_BYTES`, malformed JSON, NaN/Infinity literals, unknown keys,
types, models or labels, and a different ``schema_version`` raise
``ValueError`` naming the file and the place inside the document (e.g.
``populations[2].model``).
"""

from __future__ import annotations

import json
import math
import numbers
import os

import numpy as np

from engine.network.monitors import RateMonitor, SpikeMonitor, StateMonitor
from engine.network.network import Network
from engine.network.population import Population
from engine.network.projection import Projection
from engine.network.stimuli import ConstantCurrent, PoissonInput, StepCurrent, TimedArray

__all__ = ["SCHEMA_VERSION", "MAX_FILE_BYTES", "network_to_dict", "network_from_dict",
           "save_network", "load_network"]

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 50 * 1024 * 1024

STIMULI = {c.__name__: c for c in (StepCurrent, ConstantCurrent, TimedArray, PoissonInput)}
MONITORS = {c.__name__: c for c in (SpikeMonitor, StateMonitor, RateMonitor)}

_TOP_KEYS = {"schema_version", "seed", "populations", "projections", "stimuli", "monitors", "meta",
             "training"}
_POP_KEYS = {"label", "model", "n", "params", "state", "surrogate"}
_PROJ_KEYS = {"label", "source", "target", "weight", "probability", "delay", "topology", "seed",
              "weight_threshold", "allow_self_connections", "tau_syn", "plasticity", "csr"}


class DocumentError(ValueError):
    """A problem at a place inside a network document."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


# -- writing ---------------------------------------------------------------------------
def _plain(value, where: str):
    """``value`` as plain JSON types (numpy scalars converted)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f):
            raise ValueError(f"{where}: cannot store the non-finite value {f!r} in JSON")
        return f
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ValueError(f"{where}: a {type(value).__name__} cannot be stored in a network file")


def network_to_dict(net: Network, include_state: bool = True, include_csr: bool = True) -> dict:
    """The network as plain JSON-able data (see module docstring)."""
    pops = []
    for i, p in enumerate(net.populations):
        entry = {"label": p.label, "model": p.model_name, "n": p.n,
                 "params": _plain(p.model.values(), f"populations[{i}].params")}
        if getattr(p, "surrogate", None) is not None:
            entry["surrogate"] = _plain(p.surrogate, f"populations[{i}].surrogate")
        if include_state:
            fresh = p.model.initial_state(p.n)
            changed = {k: v.tolist() for k, v in p.state.items()
                       if k not in fresh or not np.array_equal(v, fresh[k])}
            if changed:
                entry["state"] = _plain(changed, f"populations[{i}].state")
        pops.append(entry)
    projs = []
    for i, pr in enumerate(net.projections):
        entry = {"label": pr.label, "source": pr.source.label, "target": pr.target.label,
                 "weight": _plain(pr.weight_spec, f"projections[{i}].weight"),
                 "probability": pr.probability, "delay": pr.delay, "topology": pr.topology,
                 "seed": pr.seed, "weight_threshold": pr.weight_threshold,
                 "allow_self_connections": pr.allow_self_connections, "tau_syn": pr.tau_syn,
                 "plasticity": None if pr.plasticity is None else pr.plasticity.to_dict()}
        if include_csr or pr.weight_spec is None:
            entry["csr"] = {"indptr": pr.indptr.tolist(), "indices": pr.indices.tolist(),
                            "data": _plain(pr.data.tolist(), f"projections[{i}].csr.data")}
        projs.append(entry)
    stims = []
    for i, s in enumerate(net.stimuli):
        entry = {"type": type(s).__name__, "label": s.label,
                 "target": None if s.target is None else s.target.label}
        entry.update(_plain(s.params(), f"stimuli[{i}]"))
        stims.append(entry)
    mons = []
    for i, m in enumerate(net.monitors):
        entry = {"type": type(m).__name__, "label": m.label, "population": m.population.label}
        entry.update(_plain(m.params(), f"monitors[{i}]"))
        mons.append(entry)
    doc = {"schema_version": SCHEMA_VERSION, "seed": net.seed, "populations": pops,
           "projections": projs, "stimuli": stims, "monitors": mons}
    if getattr(net, "training", None) is not None:
        doc["training"] = _plain(net.training, "training")
    return doc


def save_network(net: Network, path, include_state: bool = True) -> None:
    doc = network_to_dict(net, include_state=include_state)
    text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    tmp = f"{os.fspath(path)}.tmp"
    # write then rename, so a crash never leaves a half-written network behind
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


# -- reading ---------------------------------------------------------------------------
def _obj(value, path) -> dict:
    if not isinstance(value, dict):
        raise DocumentError(path, f"expected an object, got {_tname(value)}")
    return value


def _list(value, path) -> list:
    if not isinstance(value, list):
        raise DocumentError(path, f"expected a list, got {_tname(value)}")
    return value


def _tname(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _keys(entry: dict, path: str, allowed: set, required: set) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise DocumentError(f"{path}.{unknown[0]}" if path else unknown[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")
    missing = sorted(required - set(entry))
    if missing:
        raise DocumentError(path, f"missing key {missing[0]!r}")


def _str(value, path) -> str:
    if not isinstance(value, str):
        raise DocumentError(path, f"expected a string, got {_tname(value)}")
    return value


def _int(value, path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DocumentError(path, f"expected an integer, got {_tname(value)}")
    return value


def _num(value, path, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DocumentError(path, f"expected a number{' or null' if allow_none else ''}, got {_tname(value)}")
    return value


def _call(path, fn, *args, **kwargs):
    """Run a constructor, re-raising its errors with the document path."""
    try:
        return fn(*args, **kwargs)
    except DocumentError:
        raise
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise DocumentError(path, str(exc)) from None


def _int_array(value, path) -> np.ndarray:
    items = _list(value, path)
    for j, x in enumerate(items):
        if isinstance(x, bool) or not isinstance(x, int):
            raise DocumentError(f"{path}[{j}]", f"expected an integer, got {_tname(x)}")
    return np.asarray(items, dtype=np.int64)


def _float_array(value, path) -> np.ndarray:
    items = _list(value, path)
    for j, x in enumerate(items):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise DocumentError(f"{path}[{j}]", f"expected a number, got {_tname(x)}")
    return np.asarray(items, dtype=np.float64)


def network_from_dict(doc) -> Network:
    """Rebuild a network from :func:`network_to_dict`'s output (validated)."""
    doc = _obj(doc, "")
    if "schema_version" not in doc:
        raise DocumentError("schema_version", "missing; this is not a NeuroCore network document")
    version = doc["schema_version"]
    if version != SCHEMA_VERSION:
        raise DocumentError("schema_version", f"unsupported version {version!r}; this NeuroCore reads "
                                              f"version {SCHEMA_VERSION}")
    _keys(doc, "", _TOP_KEYS, {"schema_version", "populations"})
    seed = _int(doc.get("seed", 42), "seed")
    net = _call("seed", Network, seed=seed)
    # the surrogate choice (engine.training.spec: torch-free); errors name the place
    from engine.training.spec import normalize_override, normalize_training

    if doc.get("training") is not None:
        net.training = _call("", normalize_training, doc["training"], "training")
    by_label: dict[str, Population] = {}

    def lookup(label, path):
        if label is None:
            return None
        label = _str(label, path)
        if label not in by_label:
            raise DocumentError(path, f"no population labelled {label!r} (have: {', '.join(by_label) or 'none'})")
        return by_label[label]

    for i, entry in enumerate(_list(doc["populations"], "populations")):
        path = f"populations[{i}]"
        entry = _obj(entry, path)
        _keys(entry, path, _POP_KEYS, {"model", "n"})
        model = _str(entry["model"], f"{path}.model")
        label = _str(entry.get("label", model), f"{path}.label")
        if label in by_label:
            raise DocumentError(f"{path}.label", f"duplicate population label {label!r}")
        params = _obj(entry.get("params", {}), f"{path}.params")
        from engine.models import get_model

        _call(f"{path}.model", get_model, model)
        pop = _call(path, Population, model, _int(entry["n"], f"{path}.n"), params=params, label=label)
        if entry.get("surrogate") is not None:
            pop.surrogate = _call("", normalize_override, entry["surrogate"], f"{path}.surrogate")
        for var, values in _obj(entry.get("state", {}), f"{path}.state").items():
            _call(f"{path}.state.{var}", pop.set_state, var, _float_array(values, f"{path}.state.{var}"))
        net.add(pop)
        by_label[label] = pop

    for i, entry in enumerate(_list(doc.get("projections", []), "projections")):
        path = f"projections[{i}]"
        entry = _obj(entry, path)
        _keys(entry, path, _PROJ_KEYS, {"source", "target"})
        src = lookup(entry["source"], f"{path}.source")
        tgt = lookup(entry["target"], f"{path}.target")
        kwargs = {}
        for key in ("probability", "weight_threshold"):
            if key in entry:
                kwargs[key] = _num(entry[key], f"{path}.{key}")
        if "delay" in entry:
            kwargs["delay"] = _num(entry["delay"], f"{path}.delay")
        if "topology" in entry:
            kwargs["topology"] = _str(entry["topology"], f"{path}.topology")
        if "seed" in entry:
            kwargs["seed"] = _int(entry["seed"], f"{path}.seed")
        if "allow_self_connections" in entry:
            if not isinstance(entry["allow_self_connections"], bool):
                raise DocumentError(f"{path}.allow_self_connections", "expected true or false")
            kwargs["allow_self_connections"] = entry["allow_self_connections"]
        if "tau_syn" in entry:
            kwargs["tau_syn"] = _num(entry["tau_syn"], f"{path}.tau_syn", allow_none=True)
        if entry.get("plasticity") is not None:
            kwargs["plasticity"] = _obj(entry["plasticity"], f"{path}.plasticity")
            from engine.network.plasticity import make_plasticity

            _call(f"{path}.plasticity", make_plasticity, kwargs["plasticity"])
        label = entry.get("label")
        if label is not None:
            kwargs["label"] = _str(label, f"{path}.label")
        weight = entry.get("weight")
        if weight is not None and not isinstance(weight, (dict, int, float)) or isinstance(weight, bool):
            raise DocumentError(f"{path}.weight", f"expected a number, a distribution object or null, "
                                                  f"got {_tname(weight)}")
        if "csr" in entry:
            csr = _obj(entry["csr"], f"{path}.csr")
            _keys(csr, f"{path}.csr", {"indptr", "indices", "data"}, {"indptr", "indices", "data"})
            arrays = (_int_array(csr["indptr"], f"{path}.csr.indptr"),
                      _int_array(csr["indices"], f"{path}.csr.indices"),
                      _float_array(csr["data"], f"{path}.csr.data"))
            # arguments first (errors name the projection), then the arrays (errors name .csr)
            proj = _call(path, Projection.from_csr, src, tgt, np.zeros(src.n + 1, np.int64),
                         np.zeros(0, np.int64), np.zeros(0), weight=weight, **kwargs)
            _call(f"{path}.csr", proj.set_csr, *arrays)
        else:
            if weight is None:
                raise DocumentError(f"{path}.weight", "needed when the projection has no 'csr'")
            proj = _call(path, Projection, src, tgt, weight, **kwargs)
        _call(path, net.add, proj)

    for i, entry in enumerate(_list(doc.get("stimuli", []), "stimuli")):
        path = f"stimuli[{i}]"
        entry = dict(_obj(entry, path))
        if "type" not in entry:
            _missing(path, "type")
        kind = _str(entry.pop("type"), f"{path}.type")
        if kind not in STIMULI:
            raise DocumentError(f"{path}.type", f"unknown stimulus type {kind!r} (known: {', '.join(STIMULI)})")
        target = lookup(entry.pop("target", None), f"{path}.target")
        label = entry.pop("label", None)
        _check_args(STIMULI[kind], entry, path)
        stim = _call(path, STIMULI[kind], **entry, target=target,
                     label=None if label is None else _str(label, f"{path}.label"))
        _call(path, net.add, stim)

    for i, entry in enumerate(_list(doc.get("monitors", []), "monitors")):
        path = f"monitors[{i}]"
        entry = dict(_obj(entry, path))
        if "type" not in entry:
            _missing(path, "type")
        kind = _str(entry.pop("type"), f"{path}.type")
        if kind not in MONITORS:
            raise DocumentError(f"{path}.type", f"unknown monitor type {kind!r} (known: {', '.join(MONITORS)})")
        if "population" not in entry:
            _missing(path, "population")
        pop = lookup(entry.pop("population"), f"{path}.population")
        label = entry.pop("label", None)
        _check_args(MONITORS[kind], entry, path)
        mon = _call(path, MONITORS[kind], pop, **entry,
                    label=None if label is None else _str(label, f"{path}.label"))
        _call(path, net.add, mon)
    return net


def _missing(path, key):
    raise DocumentError(path, f"missing key {key!r}")


_ARGS = {StepCurrent: {"onset", "offset", "amplitude"}, ConstantCurrent: {"amplitude"},
         TimedArray: {"values", "dt"}, PoissonInput: {"n", "rate_hz", "weight", "dt", "seed"},
         SpikeMonitor: set(), StateMonitor: {"variables", "record"}, RateMonitor: {"bin_ms"}}


def _check_args(cls, entry, path) -> None:
    allowed = _ARGS[cls]
    for key, value in entry.items():
        if key not in allowed:
            raise DocumentError(f"{path}.{key}", f"unknown key for {cls.__name__} "
                                                 f"(allowed: {', '.join(sorted(allowed | {'type', 'label'}))})")
        if isinstance(value, dict):
            raise DocumentError(f"{path}.{key}", "expected a number, string or list, got an object")


def load_network(path) -> Network:
    """Read a network file written by :func:`save_network` (validated; see module docstring)."""
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
    except OSError as exc:
        raise ValueError(f"{name}: cannot read network file: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{name}: file is {size} bytes, more than the limit of {MAX_FILE_BYTES} bytes")
    with open(name, "rb") as fh:
        raw = fh.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"{name}: file exceeds the limit of {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not UTF-8 text (byte {exc.start})") from None

    def no_constants(token):
        raise ValueError(f"{name}: {token} is not allowed in a network file")

    try:
        doc = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: malformed JSON at line {exc.lineno} column {exc.colno} "
                         f"(char {exc.pos}): {exc.msg}") from None
    except RecursionError:
        raise ValueError(f"{name}: JSON nested too deeply") from None
    try:
        return network_from_dict(doc)
    except DocumentError as exc:
        err = DocumentError("", f"{name}: {exc}")
        err.path = exc.path
        raise err from None
