"""Network objects declared once, the way neuron models are.

Each projection, stimulus and monitor class lists its parameters in a nested
``Params`` class of ``param`` declarations (default, bounds, unit, doc)::

    class PoissonInput(Stimulus):
        class Params(param.Parameterized):
            n = Count(1, bounds=(1, None), unit="neurons", doc="neurons driven (the first n)")
            rate_hz = Real(10.0, bounds=(0, None), unit="Hz", doc="rate of each input train")
            ...

That one declaration is read by the constructor (positional order = the
reference's argument order, then keywords), by validation (every value goes
through :func:`engine.validation.check_param`, also on assignment and
``network.set``), by the JSON reader and writer (:mod:`engine.network.io`),
and by the app, which builds its editors and its generated scripts from
:func:`declarations`.  Adding a parameter is one line in ``Params`` (plus
the code that uses it).
"""

from __future__ import annotations

import inspect
from typing import ClassVar

import numpy as np
import param

from engine.validation import check_param

__all__ = ["Declared", "Field", "declarations", "declared_kinds"]


class Field(param.Parameter):
    """A declared parameter with a structured value (weight spec, list of
    names, array...): ``check(value, where)`` validates and normalises it,
    ``to_json(value)`` gives the value a document stores."""

    __slots__ = ["unit", "check", "to_json", "kind"]

    def __init__(self, default=None, *, check, to_json=None, unit: str = "", kind: str = "object", **kwargs):
        super().__init__(default=default, **kwargs)
        self.check = check
        self.to_json = to_json
        self.unit = unit
        self.kind = kind


class Declared:
    """Mixin: parameters from ``Params``, validated on construction and on
    every assignment.  Subclasses set ``Params`` and ``_positional`` (names
    that may be given positionally, in order) and may override
    :meth:`_check_consistency` for rules that involve several parameters."""

    class Params(param.Parameterized):
        pass

    _positional: ClassVar[tuple[str, ...]] = ()
    #: declared name -> attribute holding its value, where the two differ
    #: (``StateMonitor``'s ``record`` is kept as ``record_indices`` because
    #: ``record(chunk)`` is the simulator hook)
    _attributes: ClassVar[dict[str, str]] = {}

    # -- the declaration -----------------------------------------------------
    @classmethod
    def declarations(cls) -> dict[str, param.Parameter]:
        """``{name: param declaration}`` in declaration order."""
        cached = cls.__dict__.get("_declared_cache")
        if cached is None:
            cached = {name: cls.Params.param[name] for name in cls.Params.param if name != "name"}
            cls._declared_cache = cached
        return cached

    @classmethod
    def defaults(cls) -> dict:
        return {name: _copy(p.default) for name, p in cls.declarations().items()}

    def _what(self) -> str:
        """How errors name this object, e.g. ``PoissonInput 'noise'``."""
        label = self.__dict__.get("label")
        return f"{type(self).__name__} {label!r}" if label else type(self).__name__

    # -- construction and assignment -------------------------------------------------
    def _init_declared(self, args: tuple, kwargs: dict) -> None:
        decl = self.declarations()
        if len(args) > len(self._positional):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._positional)} positional "
                            f"parameter(s) ({', '.join(self._positional)}), got {len(args)}")
        values = dict(zip(self._positional, args))
        for key, value in kwargs.items():
            if key in values:
                raise TypeError(f"{type(self).__name__} got parameter {key!r} twice")
            if key not in decl:
                raise TypeError(f"{type(self).__name__} has no parameter {key!r}; "
                                f"parameters: {', '.join(decl)}")
            values[key] = value
        for name, p in decl.items():
            required = getattr(p, "kind", None) == "required"
            if name not in values and required:
                raise TypeError(f"{type(self).__name__} needs the parameter {name!r}")
            value = values[name] if name in values else _copy(p.default)
            object.__setattr__(self, self._attributes.get(name, name),
                               check_param(p, value, f"{self._what()} {name}"))
        self._check_consistency()
        self.__dict__["_init_done"] = True

    def __setattr__(self, name, value):
        if "_init_done" not in self.__dict__:
            object.__setattr__(self, name, value)
            return
        pname = self._param_names().get(name)
        if pname is None:
            object.__setattr__(self, name, value)
            return
        self.set_param(pname, value)

    @classmethod
    def _param_names(cls) -> dict[str, str]:
        """attribute -> declared name, for every declared parameter."""
        cached = cls.__dict__.get("_param_names_cache")
        if cached is None:
            cached = {cls._attributes.get(n, n): n for n in cls.declarations()}
            cls._param_names_cache = cached
        return cached

    def get_param(self, name: str):
        if name not in self.declarations():
            raise ValueError(f"{self._what()} has no parameter {name!r}; parameters: "
                             f"{', '.join(self.declarations())}")
        return self.__dict__.get(self._attributes.get(name, name))

    def set_param(self, name: str, value) -> None:
        """Validate and set declared parameter ``name`` (rolled back when the
        new value disagrees with the others)."""
        decl = self.declarations()
        if name not in decl:
            raise ValueError(f"{self._what()} has no parameter {name!r}; parameters: {', '.join(decl)}")
        new = check_param(decl[name], value, f"{self._what()} {name}")
        attr = self._attributes.get(name, name)
        old = self.__dict__.get(attr)
        object.__setattr__(self, attr, new)
        try:
            self._check_consistency()
        except Exception:
            object.__setattr__(self, attr, old)
            raise
        self._changed(name)

    def _check_consistency(self) -> None:
        """Raise ``ValueError`` when parameters disagree with each other."""

    def _changed(self, name: str) -> None:
        """Called after a validated assignment of parameter ``name``."""

    def params(self) -> dict:
        """Parameter values as JSON-able data (what a document stores)."""
        out = {}
        for name, p in self.declarations().items():
            value = self.__dict__.get(self._attributes.get(name, name))
            to_json = getattr(p, "to_json", None)
            out[name] = to_json(value) if callable(to_json) else value
        return out


def _copy(value):
    return list(value) if isinstance(value, list) else value


def _signature(cls) -> inspect.Signature:
    """A readable ``help()`` signature built from the declaration."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for extra in getattr(cls, "_leading", ()):
        params.append(inspect.Parameter(extra, inspect.Parameter.POSITIONAL_OR_KEYWORD))
    decl = cls.declarations()
    for name in cls._positional:
        p = decl[name]
        default = inspect.Parameter.empty if getattr(p, "kind", None) == "required" else p.default
        params.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default))
    for name, p in decl.items():
        if name not in cls._positional:
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=p.default))
    for extra in getattr(cls, "_trailing", ()):
        params.append(inspect.Parameter(extra, inspect.Parameter.KEYWORD_ONLY, default=None))
    return inspect.Signature(params)


def finish(cls):
    """Class decorator: attach the generated signature (for ``help`` and the app)."""
    base_init = cls.__init__

    def __init__(self, *args, **kwargs):
        base_init(self, *args, **kwargs)

    # each class gets its own function: a shared one would carry one signature
    __init__.__signature__ = _signature(cls)
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = __init__
    return cls


def declared_kinds() -> dict[str, type]:
    """Every declared network object class by name (projection, stimuli, monitors)."""
    from engine.network.monitors import RateMonitor, SpikeMonitor, StateMonitor
    from engine.network.projection import Projection
    from engine.network.stimuli import ConstantCurrent, PoissonInput, StepCurrent, TimedArray

    return {c.__name__: c for c in (Projection, StepCurrent, ConstantCurrent, TimedArray, PoissonInput,
                                    SpikeMonitor, StateMonitor, RateMonitor)}


def declarations(kind) -> dict[str, param.Parameter]:
    """The ``param`` declarations of a network object kind or neuron model.

    ``kind``: ``"Projection"``, a stimulus (``"PoissonInput"``...), a monitor
    (``"StateMonitor"``...), a neuron model name (``"LapicqueNeuron"``), or
    one of those classes.  Each declaration has ``default``, ``bounds`` (where
    numeric), ``unit`` and ``doc``; the app builds editors and "show as
    Python" from them."""
    if isinstance(kind, type) and issubclass(kind, Declared):
        return dict(kind.declarations())
    kinds = declared_kinds()
    if isinstance(kind, str) and kind in kinds:
        return dict(kinds[kind].declarations())
    from engine.models import get_model

    try:
        model = get_model(kind)
    except (TypeError, ValueError):
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(kinds)} or a neuron model name") from None
    return {name: model.param[name] for name in model.parameter_names()}


def as_array(value, where: str, *, ndims=(1,), max_len=None) -> np.ndarray:
    """A finite float array of one of ``ndims`` dimensions (validation helper)."""
    from engine.validation import ArgumentTypeError, describe

    if isinstance(value, (str, bytes, dict)) or value is None:
        raise ArgumentTypeError(f"{where} must be an array of numbers, got {describe(value)}")
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise ArgumentTypeError(f"{where} must hold real numbers, got dtype {value.dtype}")
        arr = value.astype(np.float64)
    else:
        _check_items(value, where, max_len)
        try:
            arr = np.array(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise ArgumentTypeError(f"{where} must be a (rectangular) array of real numbers") from None
    if arr.ndim not in ndims:
        raise ValueError(f"{where} must have {' or '.join(f'{d}-D' for d in ndims)} shape, got {arr.shape}")
    if max_len is not None and arr.size > max_len:
        raise ValueError(f"{where} has {arr.size} entries, more than the limit {max_len}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr.ravel()))[0])
        at = tuple(int(i) for i in np.unravel_index(bad, arr.shape))
        raise ValueError(f"{where} contains non-finite values: entry {at[0] if len(at) == 1 else at} is "
                         f"{float(arr.ravel()[bad])}")
    return arr


def _check_items(value, where, max_len) -> None:
    """Refuse bools, complex, strings and huge ints inside a nested list
    before NumPy converts them (with unclear errors, or silently: NumPy turns
    ``"1"`` and ``True`` into 1.0)."""
    from engine.validation import ArgumentTypeError, describe

    rows = value if isinstance(value, (list, tuple)) else [value]
    nested = any(isinstance(r, (list, tuple)) for r in rows)
    if nested:
        if not all(isinstance(r, (list, tuple)) for r in rows):
            raise ValueError(f"{where} mixes numbers and lists")
        if max_len is not None and sum(map(len, rows)) > max_len:
            raise ValueError(f"{where} has more than the limit of {max_len} entries")
    else:
        rows = [rows]
        if max_len is not None and len(rows[0]) > max_len:
            raise ValueError(f"{where} has {len(rows[0])} entries, more than the limit {max_len}")
    for r, row in enumerate(rows):
        kinds = set(map(type, row))
        if kinds <= {float, np.float64}:
            continue
        for item in row:
            if isinstance(item, (list, tuple)):
                raise ValueError(f"{where} is nested too deeply (at most 2-D)")
            if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, float, np.integer, np.floating)):
                raise ArgumentTypeError(f"{where} must hold real numbers, got {describe(item)}")
            if isinstance(item, int) and item.bit_length() >= 1024:
                raise ValueError(f"{where} holds an out-of-range number: {describe(item)}")
