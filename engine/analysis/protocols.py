"""Injected-current protocols for single-neuron experiments."""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["PROTOCOLS", "AnalysisInputError", "protocol_current", "number", "integer", "n_steps",
           "MAX_STEPS"]

PROTOCOLS = ("step", "ramp", "noise", "pulses")
#: longest run in steps (~20 s of engine time for one neuron): keeps a lab responsive
MAX_STEPS = 1_000_000


class AnalysisInputError(ValueError):
    """Bad input to an analysis function; :attr:`field` names the parameter."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def number(value, field: str, *, minimum: float | None = None, strict: bool = False) -> float:
    if value is None:
        raise AnalysisInputError(field, "is empty; enter a number")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise AnalysisInputError(field, f"must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise AnalysisInputError(field, f"must be a finite number, got {value!r}")
    if minimum is not None and (x <= minimum if strict else x < minimum):
        raise AnalysisInputError(field, f"must be {'>' if strict else '>='} {minimum:g}, got {x:g}")
    return x


def integer(value, field: str, minimum: int) -> int:
    x = number(value, field, minimum=minimum)
    if not x.is_integer():
        raise AnalysisInputError(field, f"must be a whole number, got {x:g}")
    return int(x)


def n_steps(duration_ms, dt_ms: float) -> int:
    duration = number(duration_ms, "duration_ms", minimum=0.0, strict=True)
    n = int(round(duration / dt_ms))
    if n < 1:
        raise AnalysisInputError("duration_ms", f"is shorter than one step (dt = {dt_ms:g} ms)")
    if n > MAX_STEPS:
        raise AnalysisInputError("duration_ms", f"{duration:g} ms is {n} steps of {dt_ms:g} ms; "
                                                f"at most {MAX_STEPS} (<= {MAX_STEPS * dt_ms:g} ms)")
    return n


def protocol_current(protocol: str, duration_ms, dt_ms: float, *, amplitude=1.0, onset_ms=0.0,
                     offset_ms=None, start=0.0, end=1.0, mean=0.0, sd=0.0, seed=0,
                     width_ms=5.0, period_ms=20.0, count=5, baseline=0.0) -> np.ndarray:
    """The injected current, one value per step: entry ``k`` drives step ``k``
    (time ``k * dt_ms``).

    * ``step``: ``amplitude`` for ``onset_ms <= t < offset_ms``;
    * ``ramp``: linear from ``start`` at ``onset_ms`` towards ``end`` at ``offset_ms``;
    * ``noise``: ``mean + sd * N(0, 1)`` drawn independently each step in the
      window from ``numpy.random.default_rng(seed)`` (same seed, same current);
      ``sd`` is per step, not a density;
    * ``pulses``: ``count`` pulses of ``amplitude`` and ``width_ms``, one every
      ``period_ms`` from ``onset_ms`` (cut at the end of the run).

    ``baseline`` everywhere else (0 by default).  ``offset_ms`` defaults to
    the end of the run.
    """
    if protocol not in PROTOCOLS:
        raise AnalysisInputError("protocol", f"unknown protocol {protocol!r}; choose one of "
                                             f"{', '.join(PROTOCOLS)}")
    dt_ms = number(dt_ms, "dt_ms", minimum=0.0, strict=True)
    n = n_steps(duration_ms, dt_ms)
    duration = n * dt_ms
    onset = number(onset_ms, "onset_ms", minimum=0.0)
    on = min(n, int(round(onset / dt_ms)))
    out = np.full(n, number(baseline, "baseline"))
    if protocol == "pulses":
        amp = number(amplitude, "amplitude")
        width = number(width_ms, "width_ms", minimum=0.0, strict=True)
        period = number(period_ms, "period_ms", minimum=0.0, strict=True)
        if width > period:
            raise AnalysisInputError("width_ms", f"({width:g}) must not exceed the pulse period ({period:g} ms)")
        k = integer(count, "count", 1)
        w = max(1, int(round(width / dt_ms)))
        for j in range(k):
            a = on + int(round(j * period / dt_ms))
            if a >= n:
                break
            out[a:a + w] = amp
        return out
    offset = duration if offset_ms is None else number(offset_ms, "offset_ms", minimum=0.0)
    if offset < onset:
        raise AnalysisInputError("offset_ms", f"({offset:g}) must be >= onset ({onset:g} ms)")
    off = min(n, int(round(offset / dt_ms)))
    if protocol == "step":
        out[on:off] = number(amplitude, "amplitude")
    elif protocol == "ramp":
        i0, i1 = number(start, "start"), number(end, "end")
        span = max(1, int(round(offset / dt_ms)) - on)  # full ramp length even if the run ends first
        out[on:off] = i0 + (i1 - i0) * np.arange(off - on) / span
    else:  # noise
        mu = number(mean, "mean")
        sigma = number(sd, "sd", minimum=0.0)
        s = integer(seed, "seed", 0)
        out[on:off] = mu + sigma * np.random.default_rng(s).standard_normal(off - on)
    return out
