"""Integration helpers shared by the continuous-time model kernels."""

from __future__ import annotations

import math

import numpy as np


def substeps(dt: float, max_step: float) -> tuple[int, float]:
    """Number and length of equal internal substeps no longer than ``max_step``."""
    n = max(1, math.ceil(dt / max_step - 1e-9))
    return n, dt / n


def rk4(f, y, h, *args):
    """One classical Runge-Kutta step of ``dy/dt = f(y, *args)`` for a stacked array ``y``."""
    k1 = f(y, *args)
    k2 = f(y + (0.5 * h) * k1, *args)
    k3 = f(y + (0.5 * h) * k2, *args)
    k4 = f(y + h * k3, *args)
    return y + (h / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)


def finite_current(current, shape):
    """The input current as a float64 array of ``shape``; non-finite values are refused."""
    i_ext = np.broadcast_to(np.asarray(current, dtype=np.float64), shape)
    if not np.all(np.isfinite(i_ext)):
        raise ValueError("current must be finite")
    return i_ext


def rk4_with_crossing(f, y, dt, max_step, threshold, *args):
    """Advance the stacked state ``y`` (row 0 = voltage) over ``dt`` by RK4 substeps
    of at most ``max_step``; return the new state and a boolean array marking the
    neurons whose row 0 crossed ``threshold`` from below in any substep."""
    n_sub, h = substeps(dt, max_step)
    crossed = np.zeros(y.shape[1], dtype=bool)
    for _ in range(n_sub):
        below = y[0] < threshold
        y = rk4(f, y, h, *args)
        crossed |= below & (y[0] >= threshold)
    return y, crossed
