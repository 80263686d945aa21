"""Warnings that point at the user's line."""

from __future__ import annotations

import sys
import warnings

__all__ = ["warn_at_caller"]

#: top-level modules whose frames are not the user's: the engine itself, and
#: mutmut's trampolines (tools/mutation.py runs the engine through them)
INTERNAL = ("engine", "mutmut")


def warn_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first frame outside the engine.

    A fixed ``stacklevel`` points inside the engine: the depth of engine calls
    between the user's line and the warning differs by path (``Simulator``,
    ``NumpySimulator``, ``Network.run``, a compile)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in INTERNAL:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
