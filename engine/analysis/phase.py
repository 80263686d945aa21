"""Phase plane of a model from its own kernel: vector field, nullclines,
fixed points with the eigenvalues of their Jacobian, and their type.

The flow is read off the kernel by finite difference: one step of a short
``h`` from a grid of states gives f(x) ~ (step_h(x) - x) / h, and the
Richardson combination 2 D(h/2) - D(h) removes the O(h) term (for any
one-step method of order >= 1, step_h(x) = x + h f + h^2/2 f' f + O(h^3);
Hairer, Norsett & Wanner, *Solving ODEs I*, section II.1).  Points where the
kernel fires are masked: there the step is a reset, not the flow.  State
variables off the plane are frozen at their initial values or at
``frozen``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.analysis.protocols import AnalysisInputError, number
from engine.analysis.single import make_model, resolve_model

__all__ = ["FixedPoint", "plane_candidates", "plane_variables", "phase_plane_note", "flow", "jacobian",
           "classify", "fixed_points", "nullclines", "vector_field", "phase_box"]


@dataclass
class FixedPoint:
    x: float
    y: float
    eigenvalues: tuple
    kind: str          # "stable node", "unstable focus", "saddle"...

    @property
    def stable(self) -> bool:
        return all(np.real(e) < 0 for e in self.eigenvalues)


def plane_candidates(model) -> list[str]:
    """State variables that flow in continuous time (not step counters)."""
    cls = resolve_model(model)
    return [k for k in cls.state_variables if cls.state_units.get(k) != "steps"
            and "refractory" not in k and "counter" not in k]


def plane_variables(model) -> tuple[str, str] | None:
    """The declared phase plane, else (voltage, last other continuous
    variable) for higher-dimensional models (HH: (v, n)), else ``None``."""
    cls = resolve_model(model)
    if cls.phase_plane is not None:
        return tuple(cls.phase_plane)
    cands = plane_candidates(cls)
    if len(cands) < 2:
        return None
    other = [c for c in cands if c != cls.voltage_variable]
    return (cls.voltage_variable, other[-1]) if cls.voltage_variable in cands else (cands[0], cands[1])


def phase_plane_note(model, params: dict | None = None) -> str:
    """Why ``model`` has no phase plane ("" when it has one): maps and
    integer hardware models have no flow, noisy kernels no deterministic
    vector field, one-variable models no plane."""
    cls = resolve_model(model)
    name = cls.registry_name()
    if cls.integer:
        return f"{name} is an integer (bit-true hardware) model: its state moves on a lattice, no flow."
    if not cls.uses_dt:
        return f"{name} is a map (one jump per step, dt ignored): it has no flow, so no nullclines."
    if plane_variables(cls) is None:
        return f"No phase plane: {name} has one continuous state variable; its dynamics live on a line."
    if make_model(cls, params).draws_random():
        return f"{name} is stochastic with these parameters: no deterministic vector field."
    return ""


def _pair(cls, pair):
    pair = plane_variables(cls) if pair is None else tuple(pair)
    if pair is None or len(pair) != 2 or any(p not in cls.state_variables for p in pair) or pair[0] == pair[1]:
        raise AnalysisInputError("pair", f"needs two distinct state variables of {cls.registry_name()}, got {pair!r}")
    return pair


def flow(model, current, x, y, *, params: dict | None = None, pair=None, frozen: dict | None = None):
    """``(fx, fy, valid)``: the flow at the points ``(x[i], y[i])`` (any equal
    shapes), with ``valid`` False where the kernel fired or gave non-finite
    values."""
    if isinstance(model, (str, type)):
        m = make_model(model, params)
        note = phase_plane_note(type(m), m.values())
        if note:
            raise AnalysisInputError("model", note)
    else:  # an instance: the caller has checked it (building a model per call costs ms)
        m = model
    cls = type(m)
    xv, yv = _pair(cls, pair)
    i = number(current, "current")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    shape = x.shape
    x, y = x.ravel(), y.ravel()
    h = cls.default_dt * 1e-3
    view, step = m.view(), type(m).step

    def diff(hh):
        st = m.initial_state(x.size)
        for k, v in (frozen or {}).items():
            if k not in st:
                raise AnalysisInputError("frozen", f"{cls.registry_name()} has no state variable {k!r}")
            st[k][...] = v
        st[xv][...] = x
        st[yv][...] = y
        out = np.asarray(step(view, st, np.full(x.size, i), hh, None))
        return (st[xv] - x) / hh, (st[yv] - y) / hh, out

    with np.errstate(all="ignore"):
        fx1, fy1, o1 = diff(h)
        fx2, fy2, o2 = diff(0.5 * h)
        fx, fy = 2.0 * fx2 - fx1, 2.0 * fy2 - fy1
    valid = np.isfinite(fx) & np.isfinite(fy)
    if cls.output == "spikes":
        valid &= (o1 == 0) & (o2 == 0)
    return fx.reshape(shape), fy.reshape(shape), valid.reshape(shape)


def jacobian(model, current, x: float, y: float, *, params=None, pair=None, frozen=None,
             eps: tuple | None = None) -> np.ndarray:
    """2x2 Jacobian of the flow at ``(x, y)`` by central differences."""
    ex, ey = eps or (1e-4 * max(1.0, abs(x)), 1e-4 * max(1.0, abs(y)))
    px = np.array([x + ex, x - ex, x, x])
    py = np.array([y, y, y + ey, y - ey])
    fx, fy, ok = flow(model, current, px, py, params=params, pair=pair, frozen=frozen)
    if not ok.all():
        raise AnalysisInputError("point", f"the flow is not defined around ({x:g}, {y:g}) (the kernel fires there)")
    return np.array([[(fx[0] - fx[1]) / (2 * ex), (fx[2] - fx[3]) / (2 * ey)],
                     [(fy[0] - fy[1]) / (2 * ex), (fy[2] - fy[3]) / (2 * ey)]])


def classify(eigenvalues, tol: float = 1e-9) -> str:
    """Type of a planar fixed point from its two eigenvalues (Strogatz,
    *Nonlinear Dynamics and Chaos*, section 5.2)."""
    e = np.asarray(eigenvalues, dtype=complex)
    re, im = e.real, e.imag
    scale = max(1.0, float(np.max(np.abs(e))))
    if np.any(np.abs(im) > tol * scale):
        if np.all(np.abs(re) <= tol * scale):
            return "centre"
        return "stable focus" if re[0] < 0 else "unstable focus"
    if re[0] * re[1] < 0:
        return "saddle"
    if np.any(np.abs(re) <= tol * scale):
        return "degenerate"
    return "stable node" if re[0] < 0 else "unstable node"


def fixed_points(model, current, x_range, y_range, *, params=None, pair=None, frozen=None,
                 n: int = 81) -> list[FixedPoint]:
    """Fixed points of the flow in the box, with eigenvalues and type.

    Cells of an ``n`` x ``n`` grid where both flow components change sign
    seed Newton's method (finite-difference Jacobian); converged points in
    (or just around) the box are kept once each."""
    m = make_model(model, params) if isinstance(model, (str, type)) else model
    (x0, x1), (y0, y1) = (tuple(map(float, x_range)), tuple(map(float, y_range)))
    if not (x1 > x0 and y1 > y0):
        raise AnalysisInputError("x_range", f"empty phase-plane box: {x_range}, {y_range}")
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    fx, fy, ok = flow(m, current, gx, gy, pair=pair, frozen=frozen)

    def changes(f):
        c = np.stack([f[:-1, :-1], f[1:, :-1], f[:-1, 1:], f[1:, 1:]])
        good = ok[:-1, :-1] & ok[1:, :-1] & ok[:-1, 1:] & ok[1:, 1:]
        return good & (c.min(axis=0) <= 0) & (c.max(axis=0) >= 0)

    rows, cols = np.nonzero(changes(fx) & changes(fy))
    seeds = [(0.5 * (xs[c] + xs[c + 1]), 0.5 * (ys[r] + ys[r + 1])) for r, c in zip(rows, cols)]
    sx, sy = (x1 - x0), (y1 - y0)
    found: list[FixedPoint] = []
    for px, py in seeds:
        p = np.array([px, py])
        conv = False
        for _ in range(30):
            try:
                jac = jacobian(m, current, p[0], p[1], pair=pair, frozen=frozen)
            except AnalysisInputError:
                break
            f = np.array([c[0] for c in flow(m, current, [p[0]], [p[1]], pair=pair, frozen=frozen)[:2]])
            try:
                dp = np.linalg.solve(jac, -f)
            except np.linalg.LinAlgError:
                break
            p = p + dp
            # relative to the box and the point: the flow is a finite difference
            # with ~1e-12 round-off, so a tiny box must not ask for more
            if abs(dp[0]) < 1e-9 * max(sx, abs(p[0]), 1.0) and abs(dp[1]) < 1e-9 * max(sy, abs(p[1]), 1.0):
                conv = True
                break
        if not conv or not (x0 - 0.05 * sx <= p[0] <= x1 + 0.05 * sx and y0 - 0.05 * sy <= p[1] <= y1 + 0.05 * sy):
            continue
        if any(abs(q.x - p[0]) < 1e-6 * sx and abs(q.y - p[1]) < 1e-6 * sy for q in found):
            continue
        ev = np.linalg.eigvals(jacobian(m, current, p[0], p[1], pair=pair, frozen=frozen))
        ev = tuple(sorted(ev, key=lambda e: (e.real, e.imag)))
        found.append(FixedPoint(float(p[0]), float(p[1]), ev, classify(ev)))
    return sorted(found, key=lambda q: (q.x, q.y))


def nullclines(model, current, x_range, y_range, *, n: int = 161, params=None, pair=None, frozen=None) -> dict:
    """Nullclines as zero contours (marching squares, contourpy) of each
    flow component on an ``n`` x ``n`` grid.  Returns ``{"variables": (x, y),
    "x": [segments], "y": [segments]}``, each segment an ``(m, 2)`` array;
    "x" is the x-nullcline (dx/dt = 0)."""
    import contourpy

    m = make_model(model, params) if isinstance(model, (str, type)) else model
    xv, yv = _pair(type(m), pair)
    (x0, x1), (y0, y1) = (tuple(map(float, x_range)), tuple(map(float, y_range)))
    if not (x1 > x0 and y1 > y0):
        raise AnalysisInputError("x_range", f"empty phase-plane box: {x_range}, {y_range}")
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)  # shape (n_y, n_x), as contourpy expects
    fx, fy, ok = flow(m, current, gx, gy, pair=pair, frozen=frozen)
    result = {"variables": (xv, yv)}
    for key, f in (("x", fx), ("y", fy)):
        z = np.ma.masked_array(np.where(ok, f, 0.0), mask=~ok)
        lines = contourpy.contour_generator(xs, ys, z).lines(0.0)
        result[key] = [np.asarray(seg, dtype=np.float64) for seg in lines if len(seg) > 1]
    return result


def vector_field(model, current, x_range, y_range, *, n: int = 17, params=None, pair=None, frozen=None) -> dict:
    """Arrows of the flow on an ``n`` x ``n`` grid: ``{"x", "y", "u", "v",
    "valid"}`` (flattened), ``u, v`` the flow components."""
    m = make_model(model, params) if isinstance(model, (str, type)) else model
    (x0, x1), (y0, y1) = x_range, y_range
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    fx, fy, ok = flow(m, current, gx, gy, pair=pair, frozen=frozen)
    return {"x": gx.ravel(), "y": gy.ravel(), "u": np.where(ok, fx, 0).ravel(),
            "v": np.where(ok, fy, 0).ravel(), "valid": ok.ravel()}


def _padded(a, frac: float = 0.15) -> tuple[float, float]:
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    # a resting trajectory is (nearly) a point: give the box a size of its own
    pad = max(frac * (hi - lo), 0.05 * max(abs(lo), abs(hi)), 0.05)
    return lo - pad, hi + pad


def phase_box(model, current, x, y, *, params=None, pair=None, frozen=None, grow: float = 2.0,
              tries: int = 12):
    """Plot box of the phase plane: the trajectory's box, widened until a
    coarse grid finds both nullclines (at rest the trajectory is a point and
    the nullclines may lie far from it).  A missing x-nullcline is first
    sought by widening y (it is usually a graph y(x)) and a missing
    y-nullcline by widening x, then the other way round, then both; the
    smallest box that works is kept, else the trajectory's box."""
    m = make_model(model, params) if isinstance(model, (str, type)) else model
    base = (_padded(x), _padded(y))

    def widen(r, g):
        c, h = 0.5 * (r[0] + r[1]), 0.5 * g * (r[1] - r[0])
        return (c - h, c + h)

    found = []
    for mode in ("natural", "swapped", "both"):
        xr, yr = base
        for _ in range(tries + 1):
            nc = nullclines(m, current, xr, yr, n=31, pair=pair, frozen=frozen)
            if nc["x"] and nc["y"]:
                found.append((xr, yr))
                break
            missing_x, missing_y = not nc["x"], not nc["y"]
            if mode == "swapped":
                missing_x, missing_y = missing_y, missing_x
            g = grow if mode != "both" else 0.75 * grow
            if mode == "both" or missing_y:
                xr = widen(xr, g)
            if mode == "both" or missing_x:
                yr = widen(yr, g)
        if found:  # the first strategy that works is enough (each try costs a grid of the kernel)
            break
    return min(found, key=lambda b: (b[0][1] - b[0][0]) * (b[1][1] - b[1][0]), default=base)
