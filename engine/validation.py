"""The one validation path for every number that enters the engine.

Files (:mod:`engine.network.io`), the Python API (populations, projections,
stimuli, monitors, ``network.set``) and the app's editors all check values
here, so the rules and the error messages are the same everywhere:

* real numbers are finite, within bounds, and a *single* number where a
  scalar is declared (no bool, complex, string, NumPy array or list);
* integers are bounded *before* they are converted, so ``10**400`` or a
  5000-digit integer is refused with a message instead of an
  ``OverflowError`` or Python's int-string limit;
* every error names the place: ``where`` is a phrase such as
  ``"populations[2].params.tau"`` or ``"Projection 'E->I' weight"``.

Wrong kinds raise :class:`ArgumentTypeError`, which is both a ``TypeError``
and a ``ValueError`` (like NumPy's ``AxisError``), so callers following
either convention catch it; bad values raise ``ValueError``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["ArgumentTypeError", "HugeInteger", "MAX_INT", "finite", "positive", "whole_steps",
           "real", "integer", "boolean", "choice", "describe", "check_param"]

#: largest integer magnitude accepted anywhere (counts, seeds, steps, int
#: parameters): exactly representable as a float64 and far from int64 overflow
#: when kernels add a few of them
MAX_INT = 2 ** 53

#: largest float magnitude (values beyond this are not finite floats anyway)
_FLOAT_MAX_BITS = 1024


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind (e.g. a string where a number belongs)."""


class HugeInteger:
    """Stand-in for an integer literal too long to parse (the JSON reader
    produces it instead of hitting Python's int-string limit), so that the
    validator can refuse it with the document path."""

    __slots__ = ("digits",)

    def __init__(self, digits: int):
        self.digits = int(digits)

    def __repr__(self) -> str:
        return f"<an integer of {self.digits} digits>"


def describe(value) -> str:
    """A short description of ``value`` for an error message (never a huge repr)."""
    if isinstance(value, HugeInteger):
        return repr(value)
    if isinstance(value, (bool, np.bool_)):
        return f"a bool ({bool(value)})"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, dict):
        return "an object (dict)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_error(value, where: str, expected: str) -> ArgumentTypeError:
    return ArgumentTypeError(f"{where} must be {expected}, got {describe(value)}")


def _as_number(value, where: str, expected: str):
    """``value`` as a Python int or float (not yet range-checked)."""
    if isinstance(value, (bool, np.bool_)):
        raise _kind_error(value, where, expected)
    if isinstance(value, HugeInteger):
        raise ValueError(f"{where} is out of range: {describe(value)}")
    if isinstance(value, numbers.Integral):
        v = int(value)
        if v.bit_length() >= _FLOAT_MAX_BITS:
            raise ValueError(f"{where} is out of range: {describe(v)} does not fit a float")
        return v
    if isinstance(value, numbers.Real):
        return float(value)
    raise _kind_error(value, where, expected)


def real(value, where: str, *, bounds=(None, None), inclusive=(True, True)) -> float:
    """A finite real scalar as ``float`` within ``bounds`` (``None`` = open)."""
    x = float(_as_number(value, where, "a real number"))
    if not math.isfinite(x):
        raise ValueError(f"{where} must be finite, got {describe(value)}")
    lo, hi = bounds if bounds is not None else (None, None)
    inc_lo, inc_hi = inclusive
    if lo is not None and (x < lo or (x == lo and not inc_lo)):
        raise ValueError(f"{where} must be {'>=' if inc_lo else '>'} {lo}, got {describe(value)}")
    if hi is not None and (x > hi or (x == hi and not inc_hi)):
        raise ValueError(f"{where} must be {'<=' if inc_hi else '<'} {hi}, got {describe(value)}")
    return x


def integer(value, where: str, *, bounds=(None, None), allow_float=True) -> int:
    """A bounded integer as ``int``; a float with no fractional part (``3.0``)
    is accepted when ``allow_float``.  ``|value| <= MAX_INT`` always."""
    v = _as_number(value, where, "an integer")
    if isinstance(v, float):
        if not allow_float:
            raise _kind_error(value, where, "an integer")
        if not math.isfinite(v) or v != round(v):
            # a kind error (both TypeError and ValueError): 1.5 is no count
            raise ArgumentTypeError(f"{where} must be a whole number, got {describe(value)}")
        if abs(v) > MAX_INT:
            raise ValueError(f"{where} is out of range: |{describe(value)}| > {MAX_INT}")
        v = int(v)
    if abs(v) > MAX_INT:
        raise ValueError(f"{where} is out of range: |{describe(v)}| > {MAX_INT}")
    lo, hi = bounds if bounds is not None else (None, None)
    if lo is not None and v < lo:
        raise ValueError(f"{where} must be >= {lo}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{where} must be <= {hi}, got {v}")
    return v


def boolean(value, where: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise _kind_error(value, where, "true or false")
    return bool(value)


def choice(value, where: str, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{where} must be one of {', '.join(map(repr, options))}, got {describe(value)}")
    return value


def finite(value, name: str) -> float:
    """``value`` as a finite float, else an error naming ``name``."""
    return real(value, name)


def positive(value, name: str) -> float:
    """``value`` as a finite float > 0, else an error naming ``name``."""
    return real(value, name, bounds=(0.0, None), inclusive=(False, True))


def whole_steps(value, name: str) -> int:
    """A non-negative whole number of steps (``3`` or ``3.0``), else an error naming ``name``."""
    if isinstance(value, float) and math.isfinite(value) and value != round(value):
        raise ValueError(f"{name} must be a whole number of steps, got {value!r}")
    v = integer(value, name)
    if v < 0:
        raise ValueError(f"{name} must be >= 0 steps, got {v}")
    return v


def check_param(parameter, value, where: str):
    """Validate ``value`` against a ``param`` declaration and return the value
    to store (floats for real parameters, ints for integer ones).

    Knows ``param.Number``/``Integer``/``Boolean``/``Selector`` (and the
    engine's ``Real``/``Count`` subclasses); a declaration may also carry its
    own ``check(value, where)`` for structured values (weights, lists)."""
    import param

    if value is None and getattr(parameter, "allow_None", False):
        return None
    own = getattr(parameter, "check", None)
    if callable(own):
        return own(value, where)
    if isinstance(parameter, param.Boolean):
        return boolean(value, where)
    if isinstance(parameter, param.Selector):
        return choice(value, where, list(parameter.objects))
    if isinstance(parameter, param.Integer):
        return integer(value, where, bounds=parameter.bounds or (None, None))
    if isinstance(parameter, param.Number):
        inclusive = tuple(getattr(parameter, "inclusive_bounds", (True, True)))
        return real(value, where, bounds=parameter.bounds or (None, None), inclusive=inclusive)
    if isinstance(parameter, param.String):
        if not isinstance(value, str):
            raise _kind_error(value, where, "a string")
        return value
    return value
