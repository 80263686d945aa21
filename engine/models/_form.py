"""The one form of a model's dynamics, and the mechanics every model shares.

A model writes its dynamics once, as a **pure elementwise function**::

    @staticmethod
    def dynamics(p, I, noise, dt, v, refractory):    # state in state_variables order
        ...                                          # NumPy ufuncs only (np.where, np.exp, ...)
        return spikes, v_new, refractory_new         # output first, then every state variable

* ``p`` holds the parameter values and the model's :meth:`constants` as
  attributes (``p.tau``); ``I`` the input current, ``noise`` a standard draw
  already scaled to the model's per-step std (0 without noise), ``dt`` the
  step in ms; the state variables come positionally.
* Only elementwise operations: arithmetic, comparisons, ``&``/``|`` on
  booleans, NumPy ufuncs and ``np.where``; Python ``if``/``for`` only on
  parameters (e.g. the number of RK4 substeps).  No indexing, no in-place
  writes, no methods of ``p``; helpers are module-level functions written the
  same way (such as the ones below).

The same source then runs on every backend, because NumPy's ufuncs accept
arrays and scalars alike:

* **NumPy**: called once per step with whole state arrays (:func:`form_step`);
* **torch**: the function (and every helper it calls) is re-bound to a copy of
  its globals where ``np`` is a torch-backed namespace (:func:`rebind`);
* **compiled** (numba): the unchanged function is ``njit``-compiled and
  called per neuron with scalars inside the compiled chunk loop.

Parameter-only expressions that a model wants computed once (e.g. the decay
``exp(-dt/tau)``) go in ``constants(p, dt)``: they are evaluated by NumPy for
every backend, so all backends use the very same float.

May import: numpy only.
"""

from __future__ import annotations

import math
import types

import numpy as np

__all__ = ["refractory_count", "hold", "spike_reset", "rk4_step", "substeps", "form_step",
           "Constants", "rebind"]


# -- the shared mechanics ------------------------------------------------------------
def refractory_count(refractory, spikes, period):
    """Refractory counter after a step: ``period`` where the neuron spiked,
    else counted down to 0 (a counter of 0 means "active")."""
    return np.where(spikes, period * 1.0, np.maximum(refractory - 1.0, 0.0))


def hold(active, new, held):
    """``new`` for active neurons, ``held`` for refractory ones."""
    return np.where(active, new, held)


def spike_reset(spikes, value, reset):
    """``reset`` where the neuron spiked, else ``value``."""
    return np.where(spikes, reset, value)


# -- the same three helpers for whole NumPy arrays ---------------------------------------
# ``np.where`` costs about three arithmetic ufuncs on a few thousand elements
# (a data-dependent select per element), and these helpers run every step of
# most models.  On the NumPy backend :func:`form_step` evaluates a form
# re-bound to the versions below: a fresh copy plus a masked ``np.copyto`` of
# the few changed elements (spikes, refractory neurons) -- the same values,
# elementwise, as the ``np.where`` above.  Anything else (scalars, broadcasting,
# other dtypes, a refractory period per neuron) takes the ``np.where`` path.
# They always return a new array: a form may return its arguments, and
# form_step writes the outputs back into the state one after another.
def _np_refractory_count(refractory, spikes, period):
    if (type(refractory) is np.ndarray and type(spikes) is np.ndarray and spikes.dtype == np.bool_
            and refractory.shape == spikes.shape and isinstance(period, (int, float))):
        out = np.subtract(refractory, 1.0)
        if out.dtype == np.float64:
            np.maximum(out, 0.0, out=out)
            np.copyto(out, period * 1.0, where=spikes)
            return out
    return refractory_count(refractory, spikes, period)


def _np_hold(active, new, held):
    if (type(new) is np.ndarray and type(active) is np.ndarray and active.dtype == np.bool_
            and new.dtype == np.float64 and new.shape == active.shape
            and (isinstance(held, (int, float)) or (type(held) is np.ndarray and held.dtype == np.float64
                                                     and held.shape == new.shape))):
        out = new.copy()
        np.copyto(out, held, where=~active)
        return out
    return hold(active, new, held)


def _np_spike_reset(spikes, value, reset):
    if (type(value) is np.ndarray and type(spikes) is np.ndarray and spikes.dtype == np.bool_
            and value.dtype == np.float64 and value.shape == spikes.shape
            and (isinstance(reset, (int, float)) or (type(reset) is np.ndarray and reset.dtype == np.float64
                                                      and reset.shape == value.shape))):
        out = value.copy()
        np.copyto(out, reset, where=spikes)
        return out
    return spike_reset(spikes, value, reset)


_NUMPY_SWAP = {refractory_count: _np_refractory_count, hold: _np_hold, spike_reset: _np_spike_reset}
_numpy_forms: dict = {}


def numpy_form(dynamics):
    """``dynamics`` re-bound to the NumPy array versions of the shared helpers
    (cached per function)."""
    fn = _numpy_forms.get(dynamics)
    if fn is None:
        fn = _numpy_forms[dynamics] = rebind(dynamics, np, swap=_NUMPY_SWAP)
    return fn


def substeps(dt, max_step):
    """Number and length of equal substeps no longer than ``max_step`` (scalars)."""
    n = max(1, math.ceil(dt / max_step - 1e-9))
    return n, dt / n


def rk4_step(k1, k2, k3, k4, y, h):
    """Classical RK4 combination for one variable."""
    return y + (h / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)


# -- parameters + constants as one attribute namespace ------------------------------------
class Constants:
    """Attribute namespace of parameter values and derived constants (the
    ``p`` of a form on NumPy/torch; the compiled backend passes a namedtuple)."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


def form_constants(model, values: dict, dt: float) -> dict:
    """Parameter values plus ``constants(p, dt)`` of ``model`` (the dt param left out)."""
    values = {k: v for k, v in values.items() if k != "dt"}
    extra = type(model).constants(Constants(values), dt)
    if extra:
        values.update(extra)
    # plain Python numbers: a NumPy scalar on the left of a torch tensor would
    # turn the tensor into an array
    return {k: (float(v) if isinstance(v, np.floating) else int(v) if isinstance(v, np.integer) else v)
            for k, v in values.items()}


def _plan(self, dt):
    """``(p, names, dynamics, std, draws, checks)`` of a kernel call on
    ``self`` (a model or its parameter view); cached on a view per ``dt``
    until its next refresh, so a step of a small population costs little
    more than its arithmetic."""
    d = self.__dict__
    view = "_model" in d
    if view:
        cache = d.get("_form_cache")
        if cache is not None and cache[0] == dt:
            return cache[1]
    model = d["_model"] if view else self
    cls = type(model)
    if cls.dynamics is None:
        raise NotImplementedError(f"model {cls.registry_name()} has no dynamics form and no step of its own")
    p = Constants(form_constants(model, model.values(), dt))
    std = cls.step_noise(p, dt)
    plan = (p, cls.form_state(), cls.dynamics, std if cls.noise_kind == "uniform_int" else float(std),
            cls.draws,
            cls.checks_current, bool(cls.integer))
    if view:
        d["_form_cache"] = (dt, plan)
    return plan


def form_params(self, dt):
    """The ``p`` namespace (parameters + constants) of a kernel call on ``self``."""
    return _plan(self, dt)[0]


# -- the NumPy evaluation ------------------------------------------------------------------
def form_step(self, state, current, dt, rng=None):
    """``NeuronModel.step`` of every model written in the one form: evaluate
    ``dynamics`` on the whole state arrays and write the new state in place."""
    p, names, dynamics, std, draws, checks, integer = _plan(self, dt)
    dynamics = _numpy_forms.get(dynamics) or numpy_form(dynamics)
    args = [state[n] for n in names]
    if checks and not np.all(np.isfinite(current)):
        raise ValueError("current must be finite")
    noise = 0 if integer else 0.0  # keeps integer arithmetic integer
    if integer:
        # bit-true models answer in their register type: 0/1 as int64
        out = dynamics(p, current, _int_noise(std, rng, args[0].shape), dt, *args)
        for arr, new in zip(args, out[1:]):
            arr[...] = new
        return np.asarray(out[0]).astype(np.int64)
    if std:
        if rng is None:
            raise ValueError("noise_std > 0 needs a random generator (rng); the population owns one")
        noise = np.zeros(args[0].shape, dtype=np.float64)
        mask = draws(p, *args)
        # draw only where the model consumes noise, in index order: a population
        # of one uses its generator exactly like the reference scalar neuron
        if mask is None:
            noise[...] = rng.normal(0.0, std, size=noise.shape)
        else:
            idx = np.flatnonzero(np.broadcast_to(mask, noise.shape))
            if idx.size:
                noise[idx] = rng.normal(0.0, std, size=idx.size)
    out = dynamics(p, current, noise, dt, *args)
    for arr, new in zip(args, out[1:]):
        arr[...] = new
    return out[0]


def _int_noise(bound, rng, shape):
    """The integer ``noise`` of a bit-true model: uniform in ``[0, bound)``, or 0."""
    if not bound:
        return 0
    if rng is None:
        raise ValueError("a random threshold needs a random generator (rng); the population owns one")
    return rng.integers(0, bound, size=shape, dtype=np.int64)


# -- re-binding a form to another array namespace (torch) ---------------------------------------
def rebind(func, namespace, memo=None, swap=None):
    """A copy of ``func`` whose global ``np`` is ``namespace``; module-level
    helper functions of ``engine.models`` it calls are re-bound the same way,
    or replaced by ``swap[helper]`` when given."""
    memo = {} if memo is None else memo
    swap = swap or {}
    key = id(func)
    if key in memo:
        return memo[key]
    glb = dict(func.__globals__)
    new = types.FunctionType(func.__code__, glb, func.__name__, func.__defaults__, func.__closure__)
    memo[key] = new
    for name in func.__code__.co_names:
        value = glb.get(name)
        if value is np:
            glb[name] = namespace
        elif isinstance(value, types.FunctionType) and value in swap:
            glb[name] = swap[value]
        elif isinstance(value, types.FunctionType) and value.__module__.startswith("engine.models"):
            glb[name] = rebind(value, namespace, memo, swap)
        elif isinstance(value, np.ndarray):
            glb[name] = namespace.asarray(value)
    return new


# -- RK4 with upward threshold-crossing detection, per number of state variables -------------
# ``rhs(p, I, *y) -> dy``.  The state is advanced over ``dt`` in equal substeps
# of at most ``max_step``; a spike is an upward crossing of ``threshold`` by
# the first variable in any substep (at most one per step).
def rk4_cross2(rhs, p, I, dt, max_step, threshold, a, b):
    n_sub, h = substeps(dt, max_step)
    hh = 0.5 * h
    crossed = a < -np.inf  # all False, elementwise
    for _ in range(n_sub):
        below = a < threshold
        ka1, kb1 = rhs(p, I, a, b)
        ka2, kb2 = rhs(p, I, a + hh * ka1, b + hh * kb1)
        ka3, kb3 = rhs(p, I, a + hh * ka2, b + hh * kb2)
        ka4, kb4 = rhs(p, I, a + h * ka3, b + h * kb3)
        a, b = rk4_step(ka1, ka2, ka3, ka4, a, h), rk4_step(kb1, kb2, kb3, kb4, b, h)
        crossed = crossed | (below & (a >= threshold))
    return crossed, a, b


def rk4_cross3(rhs, p, I, dt, max_step, threshold, a, b, c):
    n_sub, h = substeps(dt, max_step)
    hh = 0.5 * h
    crossed = a < -np.inf
    for _ in range(n_sub):
        below = a < threshold
        ka1, kb1, kc1 = rhs(p, I, a, b, c)
        ka2, kb2, kc2 = rhs(p, I, a + hh * ka1, b + hh * kb1, c + hh * kc1)
        ka3, kb3, kc3 = rhs(p, I, a + hh * ka2, b + hh * kb2, c + hh * kc2)
        ka4, kb4, kc4 = rhs(p, I, a + h * ka3, b + h * kb3, c + h * kc3)
        a, b, c = (rk4_step(ka1, ka2, ka3, ka4, a, h), rk4_step(kb1, kb2, kb3, kb4, b, h),
                   rk4_step(kc1, kc2, kc3, kc4, c, h))
        crossed = crossed | (below & (a >= threshold))
    return crossed, a, b, c


def rk4_cross4(rhs, p, I, dt, max_step, threshold, a, b, c, d):
    n_sub, h = substeps(dt, max_step)
    hh = 0.5 * h
    crossed = a < -np.inf
    for _ in range(n_sub):
        below = a < threshold
        ka1, kb1, kc1, kd1 = rhs(p, I, a, b, c, d)
        ka2, kb2, kc2, kd2 = rhs(p, I, a + hh * ka1, b + hh * kb1, c + hh * kc1, d + hh * kd1)
        ka3, kb3, kc3, kd3 = rhs(p, I, a + hh * ka2, b + hh * kb2, c + hh * kc2, d + hh * kd2)
        ka4, kb4, kc4, kd4 = rhs(p, I, a + h * ka3, b + h * kb3, c + h * kc3, d + h * kd3)
        a, b, c, d = (rk4_step(ka1, ka2, ka3, ka4, a, h), rk4_step(kb1, kb2, kb3, kb4, b, h),
                      rk4_step(kc1, kc2, kc3, kc4, c, h), rk4_step(kd1, kd2, kd3, kd4, d, h))
        crossed = crossed | (below & (a >= threshold))
    return crossed, a, b, c, d


# -- HH-type rate functions (elementwise) ----------------------------------------------------
def lin_rate(c, x, f):
    """``c x / (1 - exp(-x/f))``, with its limit ``c f`` at ``x = 0``."""
    em1 = np.expm1(-x / f)
    zero = em1 == 0.0
    return np.where(zero, c * f, c * x / np.where(zero, 1.0, -em1))


def exp_rate(c, x, f):
    """``c exp(-x/f)``."""
    return c * np.exp(-x / f)


def sig_rate(x, f):
    """``1 / (1 + exp(-x/f))``."""
    return 1.0 / (2.0 + np.expm1(-x / f))


def hh_rate_set(v, d_am, d_ah, d_an, d_bm, d_bh, d_bn):
    """(alpha_m, alpha_h, alpha_n, beta_m, beta_h, beta_n) in 1/ms of the HH
    functional forms with voltage offsets ``d_*`` (mV): HH 1952 in the modern
    convention uses (40, 65, 55, 65, 35, 65), Wang & Buzsaki 1996 (35, 58, 34,
    60, 28, 44)."""
    return (lin_rate(0.1, v + d_am, 10.0), exp_rate(0.07, v + d_ah, 20.0), lin_rate(0.01, v + d_an, 10.0),
            exp_rate(4.0, v + d_bm, 18.0), sig_rate(v + d_bh, 10.0), exp_rate(0.125, v + d_bn, 80.0))


# -- integer helpers for the bit-true hardware neurons (int64 in, int64 out) --------------------
def wrap_bits(x, bits):
    """Two's-complement wrap of integer ``x`` to ``bits`` (<= 32) bits."""
    half = 1 << (bits - 1)
    return ((x + half) & ((1 << bits) - 1)) - half


def to_int(x):
    """Float -> int64, truncating toward zero (C cast)."""
    return np.int64(x)


def round_half_away(x):
    """Round to nearest, ties away from zero (as float)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)
