"""Argument checks shared by the engine: each error names the argument.

Numbers that are not real (strings, None, bools) raise :class:`ArgumentTypeError`,
which is both a ``TypeError`` and a ``ValueError`` (like NumPy's ``AxisError``),
so callers following either convention catch it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["ArgumentTypeError", "finite", "positive", "whole_steps"]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (e.g. a string where a number belongs)."""


def finite(value, name: str) -> float:
    """``value`` as a finite float, else an error naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def positive(value, name: str) -> float:
    """``value`` as a finite float > 0, else an error naming ``name``."""
    x = finite(value, name)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return x


def whole_steps(value, name: str) -> int:
    """A non-negative whole number of steps (``3`` or ``3.0``), else an error naming ``name``."""
    x = finite(value, name)
    if x != round(x):
        raise ValueError(f"{name} must be a whole number of steps, got {value!r}")
    if x < 0:
        raise ValueError(f"{name} must be >= 0 steps, got {value!r}")
    return int(round(x))
