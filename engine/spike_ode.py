"""Spiking neural ODE layer with adaptive, event-located integration (SPEC 2.7).

A layer of ``n_neurons`` spiking neurons driven by ``n_inputs`` inputs through
a weight matrix.  Input ``x`` is held constant over each ``interval`` (zero-
order hold), so every neuron sees a constant current I = W x + b during an
interval, and the membrane follows dv/dt = f(v, I) between spikes.  When v
reaches ``v_threshold`` the neuron spikes, v is set to ``v_reset`` and
integration continues from the spike time; several spikes per neuron and
interval are allowed.

Two integration paths, chosen per dynamics object:

* **Closed form (event-driven)** -- dynamics that provide ``advance`` (exact
  solution over a step) and ``crossing_time`` (exact time to threshold), such
  as :class:`ODELIFDynamics`.  For the LIF membrane under constant input

      v(t) = v_inf + (v0 - v_inf) exp(-t / tau),   v_inf = v_rest + tau I / C,

  so the threshold crossing is at t* = tau ln((v_inf - v0)/(v_inf - v_th))
  when v_inf > v_th, and never otherwise (Gerstner & Kistler 2002, sec. 4.1.1;
  Brette 2006, "Exact simulation of integrate-and-fire models with synaptic
  conductances").  Each neuron jumps straight to its own next spike or to the
  end of the interval: one step per spike plus one, with spike times exact to
  rounding.
* **Adaptive fallback** -- any other dynamics (subclass
  :class:`SpikingDynamics` or wrap a function in :class:`CallableDynamics`).
  Per-neuron adaptive Bogacki-Shampine 3(2) steps (Bogacki & Shampine 1989,
  Appl. Math. Lett. 2:321; step control as in Hairer, Norsett & Wanner,
  "Solving ODEs I", sec. II.4), with the step also capped at twice the linear
  time-to-threshold estimate (v_th - v) / f(v, I): steps are long far from
  threshold and shorten as a neuron approaches it, so a brief excursion above
  threshold is not stepped over.  A step that ends at or above threshold is
  refined by bisection, per neuron, on the step's cubic Hermite interpolant
  (built from v and f(v, I) at both ends, which the step has already
  computed; 3rd-order accurate like the step itself, Hairer et al. II.6), to
  ``spike_time_tol`` -- no extra evaluations of f.

The layer is plain NumPy (no torch): it is a simulator, not a training
module; the event-driven solver needs per-neuron control flow that autograd
would not differentiate usefully anyway.  ``step_count`` counts integration
steps (accepted and rejected, one per closed-form jump) and ``rhs_evals``
counts evaluations of f, for a fair comparison with a fixed-step reference
(:func:`fixed_step_euler`).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.validation import finite, positive

__all__ = [
    "CallableDynamics",
    "ODELIFDynamics",
    "SpikingDynamics",
    "SpikingODELayer",
    "fixed_step_euler",
]


class SpikingDynamics:
    """Membrane dynamics dv/dt = f(v, I) with threshold and reset.

    Subclasses implement :meth:`dvdt`.  Those with an exact solution under
    constant input also set ``has_closed_form = True`` and implement
    :meth:`advance` and :meth:`crossing_time`; the layer then uses the
    event-driven path.  All methods work element-wise on NumPy arrays.
    """

    has_closed_form = False

    def __init__(self, v_threshold: float = 1.0, v_reset: float = 0.0, v_rest: float = 0.0):
        self.v_threshold = finite(v_threshold, "v_threshold")
        self.v_reset = finite(v_reset, "v_reset")
        self.v_rest = finite(v_rest, "v_rest")
        if self.v_reset >= self.v_threshold:
            raise ValueError(f"v_reset ({v_reset}) must be below v_threshold ({v_threshold})")

    def dvdt(self, v, I):
        raise NotImplementedError

    def advance(self, v, I, h):  # pragma: no cover - only for closed-form dynamics
        raise NotImplementedError(f"{type(self).__name__} has no closed-form solution")

    def crossing_time(self, v, I):  # pragma: no cover - only for closed-form dynamics
        raise NotImplementedError(f"{type(self).__name__} has no closed-form crossing time")


class ODELIFDynamics(SpikingDynamics):
    """Leaky integrate-and-fire: dv/dt = -(v - v_rest)/tau_mem + I/C_mem.

    Same membrane as SPEC 2.1's LIF with resistance = 1/C_mem (Lapicque 1907;
    Gerstner & Kistler 2002, eq. 4.3).  Units: ms, normalised voltage.
    """

    has_closed_form = True

    def __init__(self, tau_mem: float = 20.0, v_rest: float = 0.0, v_threshold: float = 1.0,
                 v_reset: float = 0.0, C_mem: float = 1.0):
        super().__init__(v_threshold=v_threshold, v_reset=v_reset, v_rest=v_rest)
        self.tau_mem = positive(tau_mem, "tau_mem")
        self.C_mem = positive(C_mem, "C_mem")

    def v_inf(self, I):
        """Steady-state potential under constant current I."""
        return self.v_rest + self.tau_mem * np.asarray(I, dtype=float) / self.C_mem

    def dvdt(self, v, I):
        return -(v - self.v_rest) / self.tau_mem + I / self.C_mem

    def advance(self, v, I, h):
        """Exact v after time h: v_inf + (v - v_inf) exp(-h / tau)."""
        vi = self.v_inf(I)
        return vi + (v - vi) * np.exp(-np.asarray(h, dtype=float) / self.tau_mem)

    def crossing_time(self, v, I):
        """Exact time until v reaches threshold; inf when it never does.

        t* = tau ln((v_inf - v) / (v_inf - v_th)) for v < v_th < v_inf.
        """
        v = np.asarray(v, dtype=float)
        vi = np.broadcast_to(self.v_inf(I), v.shape)
        out = np.full(v.shape, np.inf)
        out[v >= self.v_threshold] = 0.0
        ok = (v < self.v_threshold) & (vi > self.v_threshold)
        out[ok] = self.tau_mem * np.log((vi[ok] - v[ok]) / (vi[ok] - self.v_threshold))
        return out

    def isi(self, I) -> float:
        """Analytic inter-spike interval from reset under constant I (inf if silent)."""
        return float(self.crossing_time(np.array([self.v_reset]), np.array([float(I)]))[0])


class CallableDynamics(SpikingDynamics):
    """Arbitrary dynamics from a vectorised function ``f(v, I) -> dv/dt``.

    No closed form, so the layer uses the adaptive fallback.  Example, the
    quadratic integrate-and-fire normal form (Ermentrout & Kopell 1986):
    ``CallableDynamics(lambda v, I: v**2 + I, v_threshold=1.0, v_reset=0.0)``.
    """

    def __init__(self, f: Callable, v_threshold: float = 1.0, v_reset: float = 0.0,
                 v_rest: float = 0.0):
        if not callable(f):
            raise TypeError("f must be callable as f(v, I) -> dv/dt")
        super().__init__(v_threshold=v_threshold, v_reset=v_reset, v_rest=v_rest)
        self._f = f

    def dvdt(self, v, I):
        return np.asarray(self._f(v, I), dtype=float)


class SpikingODELayer:
    """A layer of spiking neurons integrated as an ODE between spikes.

    Parameters
    ----------
    n_inputs, n_neurons : int
    dynamics : SpikingDynamics, default ODELIFDynamics()
    dt_init : float
        First step proposal of the adaptive integrator (ms).
    dt_min : float
        Smallest adaptive step; a step this short is accepted whatever its
        error estimate, which guarantees progress.
    max_steps_per_interval : int
        Work limit per neuron per interval; exceeding it raises RuntimeError
        (e.g. a current so large that the neuron fires almost continuously).
    seed : int
        Seeds the weight initialisation, uniform in +-1/sqrt(n_inputs).
    use_closed_form : bool
        Use the dynamics' exact solution when it has one (default).  False
        forces the adaptive path (for testing and comparison).
    rtol, atol : float
        Local error tolerances of the adaptive steps.
    spike_time_tol : float
        Bisection stops when the spike time is bracketed this tightly (ms).
    """

    def __init__(self, n_inputs: int, n_neurons: int, dynamics: SpikingDynamics | None = None,
                 dt_init: float = 0.1, dt_min: float = 1e-4, max_steps_per_interval: int = 10_000,
                 seed: int | None = 0, *, use_closed_form: bool = True, rtol: float = 1e-6,
                 atol: float = 1e-8, spike_time_tol: float = 1e-9):
        for name, val in (("n_inputs", n_inputs), ("n_neurons", n_neurons),
                          ("max_steps_per_interval", max_steps_per_interval)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"{name} must be a positive int, got {val!r}")
        dynamics = ODELIFDynamics() if dynamics is None else dynamics
        if not isinstance(dynamics, SpikingDynamics):
            raise TypeError(f"dynamics must be a SpikingDynamics, got {type(dynamics).__name__}")
        self.n_inputs, self.n_neurons = int(n_inputs), int(n_neurons)
        self.dynamics = dynamics
        self.dt_init = positive(dt_init, "dt_init")
        self.dt_min = positive(dt_min, "dt_min")
        if self.dt_min > self.dt_init:
            raise ValueError(f"dt_min ({dt_min}) must not exceed dt_init ({dt_init})")
        self.max_steps_per_interval = int(max_steps_per_interval)
        self.rtol = positive(rtol, "rtol")
        self.atol = positive(atol, "atol")
        self.spike_time_tol = positive(spike_time_tol, "spike_time_tol")
        self.use_closed_form = bool(use_closed_form) and dynamics.has_closed_form
        rng = np.random.default_rng(seed)
        bound = 1.0 / math.sqrt(self.n_inputs)
        self._weight = rng.uniform(-bound, bound, size=(self.n_neurons, self.n_inputs))
        self._bias = np.zeros(self.n_neurons)
        self.reset()

    # ----------------------------------------------------------- parameters
    @property
    def weight(self) -> np.ndarray:
        """Weights, shape (n_neurons, n_inputs)."""
        return self._weight

    @weight.setter
    def weight(self, w):
        w = np.array(w, dtype=float)
        if w.shape != (self.n_neurons, self.n_inputs):
            raise ValueError(f"weight must have shape {(self.n_neurons, self.n_inputs)}, got {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError("weight contains non-finite values")
        self._weight = w

    @property
    def bias(self) -> np.ndarray:
        """Constant bias current per neuron, shape (n_neurons,)."""
        return self._bias

    @bias.setter
    def bias(self, b):
        b = np.array(b, dtype=float)
        if b.shape != (self.n_neurons,):
            raise ValueError(f"bias must have shape {(self.n_neurons,)}, got {b.shape}")
        if not np.isfinite(b).all():
            raise ValueError("bias contains non-finite values")
        self._bias = b

    # ---------------------------------------------------------------- state
    def reset(self) -> None:
        """Membranes to v_rest, clock to 0, step counters to 0."""
        self._v = np.full(self.n_neurons, self.dynamics.v_rest, dtype=float)
        self._h = np.full(self.n_neurons, self.dt_init)
        self.t = 0.0
        self.step_count = 0
        self.rhs_evals = 0

    @property
    def voltage(self) -> np.ndarray:
        """Membrane potentials, shape (n_neurons,) (a copy)."""
        return self._v.copy()

    # ----------------------------------------------------------- simulation
    def step(self, x, interval: float = 1.0, return_spike_times: bool = False):
        """Advance by ``interval`` with input ``x`` (shape (n_inputs,)) held constant.

        Returns spike counts per neuron (int array), and with
        ``return_spike_times`` also a list of per-neuron arrays of absolute
        spike times.
        """
        x = np.asarray(x, dtype=float)
        if x.shape != (self.n_inputs,):
            raise ValueError(f"x must have shape ({self.n_inputs},), got {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError("x contains non-finite values")
        interval = positive(interval, "interval")
        current = self._weight @ x + self._bias
        if self.use_closed_form:
            counts, times = self._step_closed_form(current, interval)
        else:
            counts, times = self._step_adaptive(current, interval)
        t0 = self.t
        self.t += interval
        if return_spike_times:
            return counts, [t0 + np.asarray(ts) for ts in times]
        return counts

    def forward(self, inputs, interval: float = 1.0, return_spike_times: bool = False):
        """Run T intervals: ``inputs`` (T, n_inputs) -> counts (T, n_neurons)."""
        inputs = np.asarray(inputs, dtype=float)
        if inputs.ndim != 2 or inputs.shape[1] != self.n_inputs:
            raise ValueError(f"inputs must have shape (T, {self.n_inputs}), got {inputs.shape}")
        counts = np.zeros((inputs.shape[0], self.n_neurons), dtype=np.int64)
        times: list[list] = [[] for _ in range(self.n_neurons)]
        for k, x in enumerate(inputs):
            if return_spike_times:
                counts[k], tk = self.step(x, interval, return_spike_times=True)
                for n in range(self.n_neurons):
                    times[n].append(tk[n])
            else:
                counts[k] = self.step(x, interval)
        if return_spike_times:
            return counts, [np.concatenate(t) if t else np.zeros(0) for t in times]
        return counts

    __call__ = forward

    def _too_many(self):
        raise RuntimeError(
            f"more than max_steps_per_interval={self.max_steps_per_interval} steps in one interval; "
            "raise the limit or reduce the input current"
        )

    def _step_closed_form(self, current, interval):
        """Event-driven exact stepping: jump to the next crossing or the interval end."""
        dyn = self.dynamics
        n = self.n_neurons
        t = np.zeros(n)
        counts = np.zeros(n, dtype=np.int64)
        steps = np.zeros(n, dtype=np.int64)
        times: list[list] = [[] for _ in range(n)]
        active = np.arange(n)
        while active.size:
            v, I = self._v[active], current[active]
            tc = dyn.crossing_time(v, I)
            remaining = interval - t[active]
            fire = tc <= remaining
            steps[active] += 1
            self.step_count += active.size
            self.rhs_evals += active.size
            if (steps[active] > self.max_steps_per_interval).any():
                self._too_many()
            fi = active[fire]
            t[fi] += tc[fire]
            self._v[fi] = dyn.v_reset
            counts[fi] += 1
            for i, ti in zip(fi, t[fi]):
                times[i].append(ti)
            qi = active[~fire]
            self._v[qi] = dyn.advance(v[~fire], I[~fire], remaining[~fire])
            active = fi
        return counts, times

    # Bogacki-Shampine 3(2) tableau (Bogacki & Shampine 1989).
    def _bs3(self, v, I, h, k1):
        """One step from v with k1 = f(v, I) given; returns (y3, |y3 - y2|, k1, f(y3))."""
        f = self.dynamics.dvdt
        k2 = f(v + 0.5 * h * k1, I)
        k3 = f(v + 0.75 * h * k2, I)
        y3 = v + h * (2.0 / 9.0 * k1 + 1.0 / 3.0 * k2 + 4.0 / 9.0 * k3)
        k4 = f(y3, I)
        y2 = v + h * (7.0 / 24.0 * k1 + 0.25 * k2 + 1.0 / 3.0 * k3 + 0.125 * k4)
        return y3, np.abs(y3 - y2), k1, k4

    @staticmethod
    def _hermite(v0, f0, v1, f1, h, s):
        """Cubic Hermite interpolant of the step at time s in [0, h]."""
        u = s / h
        h00 = (1 + 2 * u) * (1 - u) ** 2
        h10 = u * (1 - u) ** 2
        h01 = u * u * (3 - 2 * u)
        h11 = u * u * (u - 1)
        return h00 * v0 + h10 * h * f0 + h01 * v1 + h11 * h * f1

    def _locate(self, v0, f0, v1, f1, h):
        """Per-neuron bisection for the crossing time in (0, h]: v(0) < v_th <= v(h)."""
        lo, hi = np.zeros_like(h), h.copy()
        vth = self.dynamics.v_threshold
        while True:
            wide = (hi - lo) > self.spike_time_tol
            if not wide.any():
                return hi
            mid = 0.5 * (lo + hi)
            up = self._hermite(v0, f0, v1, f1, h, mid) >= vth
            hi = np.where(wide & up, mid, hi)
            lo = np.where(wide & ~up, mid, lo)

    def _step_adaptive(self, current, interval):
        dyn = self.dynamics
        n = self.n_neurons
        t = np.zeros(n)
        counts = np.zeros(n, dtype=np.int64)
        steps = np.zeros(n, dtype=np.int64)
        times: list[list] = [[] for _ in range(n)]
        vth = dyn.v_threshold
        # Stop within a rounding error of the interval end.
        end_tol = 1e-12 * max(1.0, interval)
        active = np.flatnonzero(interval - t > end_tol)
        while active.size:
            v, I = self._v[active], current[active]
            remaining = interval - t[active]
            slope = dyn.dvdt(v, I)  # = k1 of the step below
            # Cap the step at twice the linear time-to-threshold when heading up.
            with np.errstate(divide="ignore", invalid="ignore"):
                t_lin = np.where(slope > 0, (vth - v) / slope, np.inf)
            h = np.minimum(self._h[active], 2.0 * t_lin)
            h = np.maximum(h, self.dt_min)
            h = np.minimum(h, remaining)
            y, err, f0, f1 = self._bs3(v, I, h, slope)
            self.rhs_evals += 4 * active.size
            steps[active] += 1
            self.step_count += active.size
            if (steps[active] > self.max_steps_per_interval).any():
                self._too_many()
            if not np.isfinite(y).all():
                raise FloatingPointError("membrane potential diverged (non-finite) in the adaptive integrator")
            tol = self.atol + self.rtol * np.maximum(np.abs(v), np.abs(y))
            accept = (err <= tol) | (h <= self.dt_min * (1 + 1e-12))
            # Standard step-size update for an order-3 error estimate, factor in [0.2, 5].
            with np.errstate(divide="ignore"):
                fac = np.where(err > 0, 0.9 * (tol / np.maximum(err, 1e-300)) ** (1.0 / 3.0), 5.0)
            fac = np.clip(fac, 0.2, 5.0)
            new_h = np.maximum(h * fac, self.dt_min)
            # Rejected steps only shrink the step; accepted ones may grow it.
            self._h[active] = np.where(accept, new_h, np.minimum(new_h, h))
            acc = active[accept]
            y_acc, h_acc = y[accept], h[accept]
            cross = y_acc >= vth
            ci = acc[cross]
            if ci.size:
                c = accept.nonzero()[0][cross]
                s = self._locate(v[c], f0[c], y[c], f1[c], h[c])
                t[ci] += s
                self._v[ci] = dyn.v_reset
                counts[ci] += 1
                for i, ti in zip(ci, t[ci]):
                    times[i].append(ti)
            ni = acc[~cross]
            t[ni] += h_acc[~cross]
            self._v[ni] = y_acc[~cross]
            active = np.flatnonzero(interval - t > end_tol)
        return counts, times


def fixed_step_euler(dynamics: SpikingDynamics, currents, interval: float = 1.0, dt: float = 1e-3):
    """Fixed-step forward-Euler reference: v += dt f(v, I); spike when v >= v_th,
    then v = v_reset (the SPEC 2.1 update rule).

    ``currents``: (T, n) constant current per interval and neuron.  Returns
    (counts (T, n), steps per neuron).  ``interval`` must be a multiple of dt.
    """
    currents = np.asarray(currents, dtype=float)
    if currents.ndim != 2:
        raise ValueError(f"currents must have shape (T, n), got {currents.shape}")
    interval = positive(interval, "interval")
    dt = positive(dt, "dt")
    k = interval / dt
    if abs(k - round(k)) > 1e-9 * k:
        raise ValueError(f"interval ({interval}) must be a whole multiple of dt ({dt})")
    k = round(k)
    v = np.full(currents.shape[1], dynamics.v_rest)
    counts = np.zeros(currents.shape, dtype=np.int64)
    for i, I in enumerate(currents):
        for _ in range(k):
            v = v + dt * dynamics.dvdt(v, I)
            s = v >= dynamics.v_threshold
            counts[i] += s
            v = np.where(s, dynamics.v_reset, v)
    return counts, currents.shape[0] * k
