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

The keys a projection, stimulus or monitor entry may hold are the
parameters of its class's declaration (:mod:`engine.network.declare`), read
and written through that declaration: a parameter added there is saved and
loaded with no change here.  ``"meta"`` is free-form data of the app (e.g.
the canvas layout): an object, bounded in depth, with finite numbers.

Loading only parses JSON (never pickle or code) into a *new* network: it
either fully succeeds or raises, and nothing else changes.  Files over
:data:`MAX_FILE_BYTES` (compressed ``.json.gz`` files: over
:data:`MAX_DECOMPRESSED_BYTES` once decompressed), malformed JSON,
NaN/Infinity, integers too long for a number, nesting deeper than
:data:`MAX_DEPTH`, lists longer than :data:`MAX_LIST_LENGTH`, unknown keys,
types, models or labels, values out of range, a network over the memory
budget (:mod:`engine.resources`, estimated before anything is allocated) and
a different ``schema_version`` raise ``ValueError`` naming the file and the
place inside the document (e.g. ``populations[2].params.tau``).

Saving writes only what loading accepts: the document is validated by
building it again before anything is written, and a document too big for a
plain JSON file must be saved as ``.json.gz`` (gzip-compressed JSON).
"""

from __future__ import annotations

import gzip
import io as _io
import json
import math
import numbers
import os

import numpy as np

from engine.models.base import Count
from engine.network.monitors import RateMonitor, SpikeMonitor, StateMonitor
from engine.network.network import Network
from engine.network.population import Population
from engine.network.projection import Projection
from engine.network.stimuli import ConstantCurrent, PoissonInput, StepCurrent, TimedArray
from engine.validation import HugeInteger, check_param, describe

__all__ = ["SCHEMA_VERSION", "MAX_FILE_BYTES", "MAX_DECOMPRESSED_BYTES", "MAX_DEPTH", "MAX_LIST_LENGTH",
           "DocumentError", "network_to_dict", "network_from_dict", "save_network", "load_network",
           "parse_document", "dump_document", "sanitize_meta", "validate_document"]

SCHEMA_VERSION = 1
#: largest file (as stored: compressed or not) load accepts
MAX_FILE_BYTES = 50 * 1024 * 1024
#: largest JSON text a ``.json.gz`` file may expand to
MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024
#: deepest nesting of objects and lists (documents are ~5 deep)
MAX_DEPTH = 32
#: longest list (a TimedArray's values or a CSR array)
MAX_LIST_LENGTH = 50_000_000
#: longest integer literal (digits); longer ones cannot be a valid value
_MAX_INT_DIGITS = 20
#: parsed JSON costs several times its text in Python objects
_PARSE_FACTOR = 12
_GZIP_MAGIC = b"\x1f\x8b"

STIMULI = {c.__name__: c for c in (StepCurrent, ConstantCurrent, TimedArray, PoissonInput)}
MONITORS = {c.__name__: c for c in (SpikeMonitor, StateMonitor, RateMonitor)}

_TOP_KEYS = {"schema_version", "seed", "populations", "projections", "stimuli", "monitors", "meta",
             "training"}
_POP_KEYS = {"label", "model", "n", "params", "state", "surrogate"}
#: keys of a projection entry besides its declared parameters
_PROJ_KEYS = {"label", "source", "target", "csr"}


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
        entry = {"label": pr.label, "source": pr.source.label, "target": pr.target.label}
        entry.update(_plain(pr.params(), f"projections[{i}]"))
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


def dump_document(doc, *, compress=None, name: str = "document") -> bytes:
    """A network document as file bytes, written only if loading accepts it:
    ``meta`` is sanitised (:func:`sanitize_meta`), the document is validated
    by building it (:func:`validate_document`), and the text is gzip-compressed
    when ``compress`` is true, or -- with ``compress=None`` -- when it is over
    :data:`MAX_FILE_BYTES` (save such bytes as ``.json.gz``).  A document too
    big even compressed raises ``ValueError``."""
    doc = dict(_obj(doc, ""))
    if "meta" in doc:
        doc["meta"] = sanitize_meta(doc["meta"])
    validate_document(doc)
    raw = json.dumps(doc, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if compress is None:
        compress = len(raw) > MAX_FILE_BYTES
    if compress:
        if len(raw) > MAX_DECOMPRESSED_BYTES:
            raise ValueError(f"{name}: {len(raw)} bytes of JSON, more than the limit of "
                             f"{MAX_DECOMPRESSED_BYTES} bytes a compressed file may expand to")
        raw = gzip.compress(raw, compresslevel=6, mtime=0)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"{name}: {len(raw)} bytes{' compressed' if compress else ''}, more than the "
                         f"{MAX_FILE_BYTES}-byte limit load accepts" +
                         ("" if compress else "; save it as .json.gz (compressed)"))
    return raw


def save_network(net: Network, path, include_state: bool = True) -> None:
    """Write ``net`` to ``path``: plain JSON, or gzip-compressed JSON when the
    name ends in ``.gz``.  Only what :func:`load_network` accepts is written
    (see :func:`dump_document`); a network too big for a plain JSON file
    raises ``ValueError`` asking for a ``.json.gz`` name."""
    name = os.fspath(path)
    compress = name.endswith(".gz")
    _check_save_size(net, name, compress)
    doc = network_to_dict(net, include_state=include_state)
    data = dump_document(doc, compress=compress, name=name)
    tmp = f"{name}.tmp"
    # write then rename, so a crash never leaves a half-written network behind
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, name)


def _json_chars(arr: np.ndarray) -> float:
    """Estimated JSON characters of ``arr``'s values (with separators), from
    the repr length of up to 1000 evenly spaced samples."""
    if arr.size == 0:
        return 0.0
    sample = arr.ravel()[:: max(1, arr.size // 1000)]
    return arr.size * (1 + sum(len(repr(x)) for x in sample.tolist()) / sample.size)


def _check_save_size(net: Network, name: str, compress: bool) -> None:
    """Refuse, before building the document, a network whose file could not
    be loaded back (or whose document would not fit the memory budget)."""
    from engine import resources

    chars, values = 0.0, 0
    for p in net.populations:
        for arr in p.state.values():  # an upper bound: only changed state is written
            chars += _json_chars(arr)
            values += arr.size
    for pr in net.projections:
        chars += _json_chars(pr.data) + _json_chars(pr.indices) + _json_chars(pr.indptr)
        values += 2 * pr.nnz + pr.indptr.size
    for s in net.stimuli:
        arr = getattr(s, "values", None)
        if isinstance(arr, np.ndarray):
            chars += _json_chars(arr)
            values += arr.size
    limit = MAX_DECOMPRESSED_BYTES if compress else MAX_FILE_BYTES
    # the populations' state may be left out (unchanged), so judge by the rest when it alone is too much
    required = chars - sum(_json_chars(a) for p in net.populations for a in p.state.values())
    if required > limit:
        hint = "" if compress else "; save it as .json.gz (compressed)"
        raise ValueError(f"{name}: the network's file would hold about {resources.format_bytes(required)} of "
                         f"JSON, more than the {resources.format_bytes(limit)} load accepts{hint}")
    try:
        # Python numbers in lists (~32 bytes each), the JSON text, and a rebuilt copy
        resources.check(f"saving {name}", values * 32 + chars + resources.network_bytes(net))
    except resources.ResourceError as exc:
        raise ValueError(str(exc)) from None


def validate_document(doc) -> None:
    """Raise the error :func:`network_from_dict` would raise, or nothing."""
    network_from_dict(doc)


def sanitize_meta(meta):
    """``meta`` with non-finite numbers (e.g. a NaN canvas position) replaced
    by ``None``, so that the saved file loads; anything that is not JSON data
    raises ``ValueError``."""
    def clean(value, depth):
        if depth > MAX_DEPTH:
            raise DocumentError("meta", f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            return {str(k): clean(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v, depth + 1) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
        if isinstance(value, numbers.Real):
            f = float(value)
            return f if math.isfinite(f) else None
        raise DocumentError("meta", f"a {type(value).__name__} cannot be stored in a network file")

    if not isinstance(meta, dict):
        raise DocumentError("meta", f"expected an object, got {_tname(meta)}")
    return clean(meta, 1)


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
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "an integer", float: "a number"}.get(type(value), describe(value))


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


def _call(path, fn, *args, **kwargs):
    """Run a constructor, re-raising its errors with the document path."""
    try:
        return fn(*args, **kwargs)
    except DocumentError:
        raise
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise DocumentError(path, str(exc)) from None


def _checked(parameter, value, path):
    """A declared value validated by the engine's one validation path, errors
    naming the place in the document (``stimuli[1].rate_hz``)."""
    try:
        return check_param(parameter, value, path)
    except (ValueError, TypeError, NotImplementedError) as exc:
        err = DocumentError("", str(exc))
        err.path = path
        raise err from None


def _int_array(value, path) -> np.ndarray:
    items = _list(value, path)
    if not set(map(type, items)) <= {int}:
        for j, x in enumerate(items):
            if isinstance(x, bool) or not isinstance(x, int):
                raise DocumentError(f"{path}[{j}]", f"expected an integer, got {_tname(x)}")
    try:
        return np.asarray(items, dtype=np.int64)
    except OverflowError:
        j = next(j for j, x in enumerate(items) if not -2 ** 63 <= x < 2 ** 63)
        raise DocumentError(f"{path}[{j}]", f"{describe(items[j])} is out of range") from None


def _float_array(value, path) -> np.ndarray:
    items = _list(value, path)
    if not set(map(type, items)) <= {int, float}:
        for j, x in enumerate(items):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise DocumentError(f"{path}[{j}]", f"expected a number, got {_tname(x)}")
    arr = np.asarray(items, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DocumentError(f"{path}[{bad[0]}]", f"expected a finite number, got {arr[bad[0]]!r}")
    return arr


def _declared_entry(cls, entry: dict, path: str, skip: set) -> dict:
    """Constructor keywords of ``cls`` from a document entry: only its declared
    parameters, each validated with the entry's path."""
    decl = cls.declarations()
    out = {}
    for key, value in entry.items():
        if key in skip:
            continue
        if key not in decl:
            allowed = sorted(set(decl) | skip)
            raise DocumentError(f"{path}.{key}", f"unknown key for {cls.__name__} (allowed: {', '.join(allowed)})")
        out[key] = _checked(decl[key], value, f"{path}.{key}")
    return out


def _estimate(doc: dict) -> None:
    """Refuse a document whose network would not fit the memory budget,
    from the sizes it declares, before anything is built; the message names
    the largest entry."""
    from engine import resources
    from engine.models import get_model

    def entries(key):
        items = doc.get(key)
        return [(i, e) for i, e in enumerate(items) if isinstance(e, dict)] if isinstance(items, list) else []

    sizes, total, largest = {}, 0, (0, "")
    for i, entry in entries("populations"):
        n, model, label = entry.get("n"), entry.get("model"), entry.get("label", entry.get("model"))
        if isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 10 ** 12 and isinstance(model, str) \
                and isinstance(label, str):
            try:
                n_state = len(get_model(model).state_variables)
            except (TypeError, ValueError):
                continue
            sizes[label] = n
            cost = resources.population_bytes(n_state, n)
            total += cost
            largest = max(largest, (cost, f"populations[{i}] ({label!r}, n={n})"))
    for i, entry in entries("projections"):
        src, tgt = entry.get("source"), entry.get("target")
        if not (isinstance(src, str) and isinstance(tgt, str)):
            continue
        n_src, n_tgt = sizes.get(src), sizes.get(tgt)
        if n_src is None or n_tgt is None:
            continue
        topology = entry.get("topology", "random")
        p = entry.get("probability", 1.0)
        cost = 0
        if isinstance(entry.get("csr"), dict):
            data = entry["csr"].get("data")
            cost = 40 * (len(data) if isinstance(data, list) else 0)
        elif isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1 and topology in (
                "random", "all_to_all", "one_to_one"):
            cost = resources.projection_bytes(n_src, n_tgt, topology, p)[0]
        total += cost
        largest = max(largest, (cost, f"projections[{i}] ({src}->{tgt})"))
    try:
        resources.check(f"the network of this document (largest part: {largest[1]})", total)
    except resources.ResourceError as exc:
        err = DocumentError("", str(exc))
        err.path = largest[1].split(" ")[0]
        raise err from None


def network_from_dict(doc, *, _scanned: bool = False) -> Network:
    """Rebuild a network from :func:`network_to_dict`'s output (validated),
    as a new object: it fully succeeds or raises."""
    doc = _obj(doc, "")
    if "schema_version" not in doc:
        raise DocumentError("schema_version", "missing; this is not a NeuroCore network document")
    version = doc["schema_version"]
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise DocumentError("schema_version", f"unsupported version {_tname(version) if not isinstance(version, int) else version}; "
                                              f"this NeuroCore reads version {SCHEMA_VERSION}")
    _keys(doc, "", _TOP_KEYS, {"schema_version", "populations"})
    if not _scanned:
        _scan(doc)
    if "meta" in doc:
        _obj(doc["meta"], "meta")
    seed = _int(doc.get("seed", 42), "seed")
    net = _call("seed", Network, seed=seed)
    _estimate(doc)
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

    from engine.models import get_model

    for i, entry in enumerate(_list(doc["populations"], "populations")):
        path = f"populations[{i}]"
        entry = _obj(entry, path)
        _keys(entry, path, _POP_KEYS, {"model", "n"})
        model = _str(entry["model"], f"{path}.model")
        label = _str(entry.get("label", model), f"{path}.label")
        if label in by_label:
            raise DocumentError(f"{path}.label", f"duplicate population label {label!r}")
        params = _obj(entry.get("params", {}), f"{path}.params")
        cls = _call(f"{path}.model", get_model, model)
        valid = _accepted(cls)
        for key, value in params.items():
            if key not in valid:
                raise DocumentError(f"{path}.params.{key}", f"unknown parameter for model {cls.registry_name()!r}; "
                                                          f"valid: {', '.join(valid)}")
            params[key] = _checked(cls.param[key], value, f"{path}.params.{key}")
        n = _checked(_SIZE, _int(entry["n"], f"{path}.n"), f"{path}.n")
        pop = _call(path, Population, model, n, params=params, label=label)
        if entry.get("surrogate") is not None:
            pop.surrogate = _call("", normalize_override, entry["surrogate"], f"{path}.surrogate")
        for var, values in _obj(entry.get("state", {}), f"{path}.state").items():
            _call(f"{path}.state.{var}", pop.set_state, var, _float_array(values, f"{path}.state.{var}"))
        _call(path, net.add, pop)
        by_label[label] = pop

    for i, entry in enumerate(_list(doc.get("projections", []), "projections")):
        path = f"projections[{i}]"
        entry = _obj(entry, path)
        _keys(entry, path, _PROJ_KEYS | set(Projection.declarations()), {"source", "target"})
        src = lookup(_str(entry["source"], f"{path}.source"), f"{path}.source")
        tgt = lookup(_str(entry["target"], f"{path}.target"), f"{path}.target")
        kwargs = _declared_entry(Projection, entry, path, _PROJ_KEYS)
        label = entry.get("label")
        if label is not None:
            kwargs["label"] = _str(label, f"{path}.label")
        if "csr" in entry:
            csr = _obj(entry["csr"], f"{path}.csr")
            _keys(csr, f"{path}.csr", {"indptr", "indices", "data"}, {"indptr", "indices", "data"})
            arrays = (_int_array(csr["indptr"], f"{path}.csr.indptr"),
                      _int_array(csr["indices"], f"{path}.csr.indices"),
                      _float_array(csr["data"], f"{path}.csr.data"))
            meta = {k: kwargs.pop(k) for k in ("weight", "topology", "probability") if k in kwargs}
            # arguments first (errors name the projection), then the arrays (errors name .csr)
            proj = _call(path, Projection.from_csr, src, tgt, np.zeros(src.n + 1, np.int64),
                         np.zeros(0, np.int64), np.zeros(0), **meta, **kwargs)
            _call(f"{path}.csr", proj.set_csr, *arrays)
        else:
            if kwargs.get("weight") is None:
                raise DocumentError(f"{path}.weight", "needed when the projection has no 'csr'")
            proj = _call(path, Projection, src, tgt, **kwargs)
        _call(path, net.add, proj)

    for kind_key, registry, role in (("stimuli", STIMULI, "target"), ("monitors", MONITORS, "population")):
        for i, entry in enumerate(_list(doc.get(kind_key, []), kind_key)):
            path = f"{kind_key}[{i}]"
            entry = _obj(entry, path)
            if "type" not in entry:
                _missing(path, "type")
            kind = _str(entry["type"], f"{path}.type")
            if kind not in registry:
                what = "stimulus" if kind_key == "stimuli" else "monitor"
                raise DocumentError(f"{path}.type", f"unknown {what} type {kind!r} (known: {', '.join(registry)})")
            cls = registry[kind]
            if role == "population" and "population" not in entry:
                _missing(path, "population")
            pop = lookup(entry.get(role), f"{path}.{role}")
            label = entry.get("label")
            label = None if label is None else _str(label, f"{path}.label")
            kwargs = _declared_entry(cls, entry, path, {"type", "label", role})
            if role == "target":
                obj = _call(path, cls, **kwargs, target=pop, label=label)
            else:
                obj = _call(path, cls, pop, **kwargs, label=label)
            _call(path, net.add, obj)
    return net


#: a population size, declared like any other parameter
_SIZE = Count(1, bounds=(1, None), unit="neurons")


def _accepted(cls) -> list:
    """Names a population's ``params`` take (the model's, plus the reference's ``dt``)."""
    accepted = getattr(cls, "accepted_parameters", None)
    return accepted() if callable(accepted) else cls.parameter_names()


def _missing(path, key):
    raise DocumentError(path, f"missing key {key!r}")


def _scan(doc) -> None:
    """Bound the nesting depth and list lengths, and find non-finite numbers
    and over-long integers anywhere (with their path), before building."""
    stack = [(doc, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DocumentError(path, f"nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, (dict, list, float, HugeInteger)):
                    stack.append((v, f"{path}.{k}" if path else str(k), depth + 1))
                elif isinstance(v, int) and v.bit_length() >= 1024:
                    raise DocumentError(f"{path}.{k}" if path else str(k), f"{describe(v)} is out of range")
        elif isinstance(value, list):
            if len(value) > MAX_LIST_LENGTH:
                raise DocumentError(path, f"list of {len(value)} items, more than the limit {MAX_LIST_LENGTH}")
            kinds = set(map(type, value))
            if kinds <= {int, float}:
                try:
                    arr = np.asarray(value, dtype=np.float64)
                except OverflowError:  # an int too large for a float: found below
                    arr = None
                if arr is not None:
                    bad = np.flatnonzero(~np.isfinite(arr))
                    if bad.size:
                        raise DocumentError(f"{path}[{bad[0]}]", f"{_literal(arr[bad[0]])} is not allowed in a "
                                                                 f"network file (numbers must be finite)")
                    continue
            for j, v in enumerate(value):
                if isinstance(v, (dict, list, float, HugeInteger)):
                    stack.append((v, f"{path}[{j}]", depth + 1))
                elif isinstance(v, int) and v.bit_length() >= 1024:
                    raise DocumentError(f"{path}[{j}]", f"{describe(v)} is out of range")
        elif isinstance(value, HugeInteger):
            raise DocumentError(path, f"{describe(value)} is out of range")
        elif isinstance(value, float) and not math.isfinite(value):
            raise DocumentError(path, f"{_literal(value)} is not allowed in a network file (numbers must be finite)")


def _literal(x) -> str:
    """How JSON writes a non-finite number."""
    return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")


def _parse_int(text: str):
    # an over-long literal becomes a marker the validator refuses with its
    # path (Python would raise its int-string limit, without one)
    if len(text) - text.startswith("-") > _MAX_INT_DIGITS:
        return HugeInteger(len(text) - text.startswith("-"))
    return int(text)


def parse_document(data, name: str = "document") -> dict:
    """Parse (never execute) and validate the bytes of a network file --
    JSON, or gzip-compressed JSON (detected by its magic bytes) -- into a
    document; raises ``ValueError`` naming ``name`` and the place."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name}: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{name}: file is {len(data)} bytes, more than the limit of {MAX_FILE_BYTES} bytes")
    if data[:2] == _GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=_io.BytesIO(data)) as fh:
                data = fh.read(MAX_DECOMPRESSED_BYTES + 1)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise ValueError(f"{name}: not a valid gzip file ({exc})") from None
        if len(data) > MAX_DECOMPRESSED_BYTES:
            raise ValueError(f"{name}: expands to more than {MAX_DECOMPRESSED_BYTES} bytes")
    from engine import resources

    try:
        resources.check(f"{name}: parsing {len(data)} bytes of JSON", _PARSE_FACTOR * len(data))
    except resources.ResourceError as exc:
        raise ValueError(str(exc)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    try:
        # NaN/Infinity parse as floats here; _scan refuses them with their path
        doc = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: malformed JSON at line {exc.lineno} column {exc.colno} "
                         f"(char {exc.pos}): {exc.msg}") from None
    except RecursionError:
        raise ValueError(f"{name}: JSON nested too deeply") from None
    try:
        _scan(doc)
    except DocumentError as exc:
        raise _named(name, exc) from None
    return doc


def _named(name: str, exc: DocumentError) -> DocumentError:
    err = DocumentError("", f"{name}: {exc}")
    err.path = exc.path
    return err


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
    doc = parse_document(raw, name)
    try:
        return network_from_dict(doc, _scanned=True)
    except DocumentError as exc:
        raise _named(name, exc) from None
