"""Backends: compile a network into a simulator.

``compile(network, backend="numpy", dt=0.001)`` returns a
:class:`~engine.backends.base.Simulator` whose ``advance(n_steps)`` returns a
:class:`~engine.backends.base.Chunk`.  Backends register a factory
``factory(network, dt) -> Simulator`` with :func:`register_backend`.

* ``"numpy"`` (alias ``"python"``) -- :mod:`.numpy_backend`, always available;
* ``"compiled"`` -- ``engine/backends/compiled.py`` (numba: the whole chunk
  loop in compiled code);
* ``"torch"`` -- ``engine/backends/torch_backend.py``;
* ``"fixed_point"`` -- ``engine/backends/fixed_point.py``;
* ``"auto"`` -- :func:`auto_backend`: ``"compiled"`` for deterministic
  networks of at least :data:`AUTO_MIN_NEURONS` neurons when numba works,
  else ``"numpy"``.

The last three are imported only when asked for (so ``import engine`` never
imports torch); each registers itself on import.  When the import fails,
:func:`available_backends` lists the backend as unavailable with the reason,
which the GUI shows next to the disabled choice.

May import: numpy, ``engine.models``, ``engine.network`` (lazily), and in the
torch backend torch.
"""

from __future__ import annotations

import importlib

from engine.backends.base import Chunk, Simulator

__all__ = ["register_backend", "compile", "available_backends", "resolve_backend", "auto_backend", "Chunk",
           "Simulator", "AUTO_MIN_NEURONS"]

_factories: dict = {}
_available: dict = {}
_import_errors: dict = {}

ALIASES = {"python": "numpy", "auto": "numpy"}  # "auto" with a network: auto_backend(network)
#: backends living in their own modules, imported on first use
_LAZY_MODULES = {"compiled": "engine.backends.compiled", "torch": "engine.backends.torch_backend",
                 "fixed_point": "engine.backends.fixed_point"}
#: below this many neurons "auto" stays on NumPy: a first compile costs seconds
#: (then it is cached on disk), and small networks gain little from it
AUTO_MIN_NEURONS = 2000


def register_backend(name: str, factory, available=None) -> None:
    """Register ``factory(network, dt) -> Simulator`` under ``name``.

    ``available`` is an optional callable returning ``True``/``False`` or
    ``(ok, reason)``; it lets a backend say why it cannot run (e.g. no
    GPU-capable torch) without failing at import."""
    if not isinstance(name, str) or not name:
        raise ValueError("backend name must be a non-empty string")
    if not callable(factory):
        raise TypeError(f"factory for backend {name!r} must be callable")
    if available is not None and not callable(available):
        raise TypeError(f"available for backend {name!r} must be callable or None")
    _factories[name] = factory
    _available[name] = available
    _import_errors.pop(name, None)


def _load(name: str) -> None:
    if name in _factories or name not in _LAZY_MODULES:
        return
    try:
        importlib.import_module(_LAZY_MODULES[name])
    except Exception as exc:  # ImportError, or a broken optional dependency (OSError...)
        _import_errors[name] = f"cannot import {_LAZY_MODULES[name]}: {type(exc).__name__}: {exc}"
        return
    if name not in _factories:
        _import_errors[name] = f"{_LAZY_MODULES[name]} did not register a backend named {name!r}"


def _check(name: str) -> tuple[bool, str]:
    _load(name)
    if name not in _factories:
        return False, _import_errors.get(name, f"unknown backend {name!r}")
    probe = _available.get(name)
    if probe is None:
        return True, ""
    try:
        result = probe()
    except Exception as exc:  # a failing probe means "not available", with its reason
        return False, f"availability check failed: {exc}"
    if isinstance(result, tuple):
        ok, reason = bool(result[0]), str(result[1]) if len(result) > 1 else ""
    else:
        ok, reason = bool(result), ""
    return ok, reason if not ok else ""


def auto_backend(network=None) -> str:
    """What ``"auto"`` means for ``network``: ``"compiled"`` when numba works,
    the network has at least :data:`AUTO_MIN_NEURONS` neurons and every
    population is deterministic and written in the one form (the compiled
    backend then gives NumPy's spikes, faster); else ``"numpy"``."""
    if network is None or sum(p.n for p in network.populations) < AUTO_MIN_NEURONS:
        return "numpy"
    for pop in network.populations:
        if type(pop.model).dynamics is None or pop.model.draws_random():
            return "numpy"
    return "compiled" if _check("compiled")[0] else "numpy"


def resolve_backend(backend: str, network=None) -> str:
    """Canonical backend name (aliases resolved, ``"auto"`` by
    :func:`auto_backend` when ``network`` is given); ``ValueError`` if unknown."""
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a string, got {type(backend).__name__}")
    if backend.lower() == "auto" and network is not None:
        return auto_backend(network)
    name = ALIASES.get(backend.lower(), backend.lower())
    known = set(_factories) | set(_LAZY_MODULES)
    if name not in known:
        raise ValueError(f"unknown backend {backend!r}; choose one of "
                         f"{', '.join(sorted(known | set(ALIASES)))}")
    return name


def available_backends() -> dict[str, tuple[bool, str]]:
    """``{name: (ok, reason)}`` for every known backend (reason empty when ok)."""
    names = list(dict.fromkeys(["numpy", *_LAZY_MODULES, *_factories]))
    return {name: _check(name) for name in names}


def compile(network, backend: str = "numpy", dt: float = 0.001) -> Simulator:  # noqa: A001
    """Compile ``network`` for ``backend`` with time step ``dt`` (seconds)."""
    name = resolve_backend(backend, network)
    ok, reason = _check(name)
    if not ok:
        raise RuntimeError(f"backend {name!r} is not available: {reason}")
    return _factories[name](network, dt)


def _register_builtin() -> None:
    from engine.backends.numpy_backend import factory

    register_backend("numpy", factory)


_register_builtin()
