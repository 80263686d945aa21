"""Slider ranges for a model's parameters, from its declaration."""

from __future__ import annotations

import math

import param

from engine.models import get_model

__all__ = ["parameter_ranges", "nice_step"]


def nice_step(span: float, n: int = 200) -> float:
    """A 1-2-5 step giving about ``n`` positions over ``span``."""
    if not span > 0:
        return 0.01
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def parameter_ranges(model) -> dict[str, dict]:
    """``{name: {"kind", "start", "end", "step", "value", "unit", "doc", "options"}}`` for
    every parameter: declared bounds where given (open bounds nudged inside),
    else a range around the default (four times it, or +-2 around 0), so the
    default sits inside a range a student can sweep; integers get step 1."""
    cls = get_model(model)
    out = {}
    for name in cls.parameter_names():
        p = cls.param[name]
        unit = getattr(p, "unit", "") or ""
        if isinstance(p, param.Selector):
            out[name] = {"kind": "select", "options": list(p.objects), "value": p.default, "unit": unit,
                         "doc": p.doc or ""}
            continue
        if isinstance(p, param.Boolean) or not isinstance(p, param.Number):
            continue
        d = float(p.default)
        lo, hi = getattr(p, "bounds", None) or (None, None)
        # potentials: a fixed window (a default of -70 mV does not make -210 mV sensible)
        span = 30.0 if unit == "mV" else max(abs(d), 1.0)
        if unit == "mV" and lo is None and hi is None:
            lo_, hi_ = d - span, d + span
            out[name] = {"kind": "float", "start": lo_, "end": hi_, "step": nice_step(hi_ - lo_),
                         "value": p.default, "unit": unit, "doc": p.doc or ""}
            continue
        start = float(lo) if lo is not None else (d - 2 * span if d <= 0 else min(0.0, d - 2 * span))
        end = float(hi) if hi is not None else (d + 2 * span if d >= 0 else max(0.0, d + 2 * span))
        if lo is not None and hi is None:
            end = max(float(lo) + 1.0, 4.0 * d) if d > 0 else float(lo) + 4 * span
        integer = isinstance(p, param.Integer)
        step = 1 if integer else nice_step(end - start)
        inc = getattr(p, "inclusive_bounds", (True, True))
        if lo is not None and not inc[0]:
            start = float(lo) + step
        if hi is not None and not inc[1]:
            end = float(hi) - step
        if integer:
            start, end = math.floor(start), max(math.ceil(end), math.floor(start) + 10)
        out[name] = {"kind": "int" if integer else "float", "start": start, "end": end, "step": step,
                     "value": p.default, "unit": unit, "doc": p.doc or ""}
    return out
