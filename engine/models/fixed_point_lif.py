"""Bit-true fixed-point LIF neuron: the Python twin of ``hdl/sc_lif_neuron.v``.

Three forms of the same integer update, all bit-exact with the RTL:

* :class:`FixedPointLIF` -- the model declaration (registry name
  ``"FixedPointLIFNeuron"``) used by populations; its :meth:`~FixedPointLIF.step`
  follows the engine's kernel contract (int64 state, integer current codes).
* :class:`FixedPointLIFNeuron` -- the reference API's scalar class
  (``step(leak_k, gain_k, I_t, noise_in=0) -> (spike, v_out)``) in pure Python
  ints, which is the fastest way to step a single neuron.
* :class:`FixedPointLIFArray` -- a pre-allocated, in-place population kernel on
  the narrowest exact dtype (see :func:`engine.fixedpoint.work_dtype`); the
  ``fixed_point`` backend and ``bench/fixed_point.py`` use it.

The update (W = ``data_width``, F = ``fraction``, all values integer codes)::

    if refractory_counter > 0:  counter -= 1; v = hold; spike = 0
    else:
        dv_leak = (wrap(v_rest - v, 2W) * leak_k + b) >> F      # arithmetic shift
        dv_in   = (I_t * gain_k + b) >> F
        v_next  = fit_W(v + dv_leak + dv_in + noise_in)
        if v_next >= v_threshold: spike = 1; v = v_reset; counter = refractory_period
        else:                     spike = 0; v = v_next
    v_out = v          # the register value after the clock edge

Options (the RTL parameters ``REFRACTORY_HOLD``, ``SATURATE``, ``ROUND``; the
defaults are the reference hardware): ``refractory_hold`` -- ``hold`` is
``v_rest`` (default) or ``v_reset``; ``saturate`` -- ``fit_W`` wraps
(default) or clips to the signed W-bit range; ``rounding`` -- ``b = 0``
(``"floor"``, default) or ``2**(F-1)`` (``"nearest"``, ties up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import param

from engine import fixedpoint as fx
from engine.models.base import Count, NeuronModel, register

__all__ = ["FixedPointLIF", "FixedPointLIFNeuron", "FixedPointLIFArray", "lif_reference_step"]


def lif_reference_step(v, counter, leak_k, gain_k, I_t, noise_in, *, data_width, fraction,
                       v_rest, v_reset, v_threshold, refractory_period, refractory_hold="v_rest",
                       saturate=False, rounding="floor"):
    """One step of one neuron on Python ints: ``-> (spike, v, counter)``.

    The single written-out statement of the arithmetic; everything else (the
    scalar class, the vectorised kernels, the co-simulation checker) is tested
    against it.
    """
    if counter > 0:
        return 0, (v_reset if refractory_hold == "v_reset" else v_rest), counter - 1
    w = data_width
    b = fx.round_bias(fraction, rounding)
    dv_leak = (fx.wrap(v_rest - v, 2 * w) * leak_k + b) >> fraction
    dv_in = (I_t * gain_k + b) >> fraction
    v_next = fx.fit_sum(v + dv_leak + dv_in + noise_in, w, saturate)
    if v_next >= v_threshold:
        return 1, v_reset, refractory_period
    return 0, v_next, 0


def _check_config(data_width, fraction, v_rest, v_reset, v_threshold, refractory_period,
                  refractory_hold="v_rest", saturate=False, rounding="floor"):
    fx.check_width(data_width, fraction)
    fx.check_options(refractory_hold, saturate, rounding)
    for name, value in (("v_rest", v_rest), ("v_reset", v_reset), ("v_threshold", v_threshold)):
        fx.check_fits(value, data_width, name)
    if isinstance(refractory_period, bool) or not isinstance(refractory_period, (int, np.integer)) \
            or refractory_period < 0:
        raise ValueError(f"refractory_period must be a non-negative integer, got {refractory_period!r}")
    if refractory_period >= 1 << 16:
        # the RTL's counter is sized from the parameter; keep it sane
        raise ValueError(f"refractory_period must be < 65536, got {refractory_period}")


@dataclass(eq=False)
class FixedPointLIFNeuron:
    """Scalar bit-true model of ``sc_lif_neuron`` (reference API, SPEC 2.1).

    All voltages are integer codes in Q(``data_width - fraction``).``fraction``;
    ``FixedPointLIFNeuron().step(leak_k=240, gain_k=16, I_t=100)`` advances one
    clock cycle and returns ``(spike, v_out)``.  The configuration fields are
    validated on construction (``ValueError`` naming the field); the state is
    ``v`` and ``refractory_counter``.
    """

    data_width: int = 16
    fraction: int = 8
    v_rest: int = 0
    v_reset: int = 0
    v_threshold: int = 256
    refractory_period: int = 2
    refractory_hold: str = "v_rest"
    saturate: bool = False
    rounding: str = "floor"
    v: int = field(init=False, repr=False, default=0)
    refractory_counter: int = field(init=False, repr=False, default=0)

    declaration: ClassVar = None  # the model declaration; set below once it exists

    def __post_init__(self):
        _check_config(self.data_width, self.fraction, self.v_rest, self.v_reset, self.v_threshold,
                      self.refractory_period, self.refractory_hold, self.saturate, self.rounding)
        self.saturate = bool(self.saturate)
        self._hold = self.v_reset if self.refractory_hold == "v_reset" else self.v_rest
        self._bias = fx.round_bias(self.fraction, self.rounding)
        for name in ("data_width", "fraction", "v_rest", "v_reset", "v_threshold", "refractory_period"):
            setattr(self, name, int(getattr(self, name)))  # numpy ints -> Python ints (exact, fast)
        self._lo, self._hi = fx.int_range(self.data_width)
        self._mask = (1 << self.data_width) - 1
        self._half = 1 << (self.data_width - 1)
        self._hold = int(self._hold)
        self.reset()

    @property
    def qformat(self) -> fx.QFormat:
        return fx.QFormat(self.data_width, self.fraction)

    def _check_input(self, name, value):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer code, got {value!r}")
        if not self._lo <= value <= self._hi:
            raise ValueError(f"{name}={value} does not fit a signed {self.data_width}-bit input "
                             f"[{self._lo}, {self._hi}]")

    def step(self, leak_k: int, gain_k: int, I_t: int, noise_in: int = 0) -> tuple[int, int]:
        """One rising clock edge.  Inputs are signed ``data_width``-bit codes."""
        check = self._check_input
        check("leak_k", leak_k)
        check("gain_k", gain_k)
        check("I_t", I_t)
        check("noise_in", noise_in)
        if self.refractory_counter > 0:
            self.refractory_counter -= 1
            self.v = self._hold
            return 0, self.v
        # inline wrap(): this is the hot path of single-neuron labs
        diff = self.v_rest - self.v  # |diff| < 2**W, already fits 2W bits
        b = self._bias
        v_next = self.v + ((diff * int(leak_k) + b) >> self.fraction) \
            + ((int(I_t) * int(gain_k) + b) >> self.fraction) + int(noise_in)
        if self.saturate:
            v_next = self._lo if v_next < self._lo else (self._hi if v_next > self._hi else v_next)
        else:
            v_next = ((v_next + self._half) & self._mask) - self._half
        if v_next >= self.v_threshold:
            self.v = self.v_reset
            self.refractory_counter = self.refractory_period
            return 1, self.v
        self.v = v_next
        return 0, v_next

    def reset(self) -> None:
        """What ``rst_n`` low does: ``v = v_rest``, counter 0."""
        self.v = self.v_rest
        self.refractory_counter = 0

    def reset_state(self) -> None:
        self.reset()

    def get_state(self) -> dict:
        return {"v": self.v, "refractory_counter": self.refractory_counter}


class FixedPointLIFArray:
    """In-place vectorised kernel for ``n`` fixed-point LIF neurons.

    State (``v``, ``counter``) and scratch buffers are allocated once in the
    narrowest exact dtype (int32 whenever ``W + F <= 32``); each
    :meth:`step` is a fixed sequence of in-place ufunc calls, processed in
    cache-sized blocks so the arrays stay in L2 between passes.  ``leak_k``,
    ``gain_k`` are scalars or per-neuron arrays; ``I_t``/``noise_in`` arrays of
    codes (already fitting W bits).

    With ``count_wraps=True`` the kernel also counts, per neuron, the steps
    whose sum ``v + dv_leak + dv_in + noise_in`` left the W-bit range and
    wrapped (``self.wraps``); it then computes in int64, where the sum is exact
    for every format with ``2W - F <= 62``.
    """

    BLOCK = 1 << 15

    def __init__(self, n: int, data_width: int = 16, fraction: int = 8, v_rest: int = 0, v_reset: int = 0,
                 v_threshold: int = 256, refractory_period: int = 2, refractory_hold: str = "v_rest",
                 saturate: bool = False, rounding: str = "floor", *, count_wraps: bool = False):
        _check_config(data_width, fraction, v_rest, v_reset, v_threshold, refractory_period,
                      refractory_hold, saturate, rounding)
        if saturate and 2 * data_width - fraction > 62:
            # the exact sum must fit int64 before it is clipped
            raise ValueError(f"saturate needs 2*data_width - fraction <= 62 in the vectorised kernel, got "
                             f"Q{data_width - fraction}.{fraction}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n = int(n)
        self.data_width, self.fraction = int(data_width), int(fraction)
        self.v_rest, self.v_reset = int(v_rest), int(v_reset)
        self.v_threshold, self.refractory_period = int(v_threshold), int(refractory_period)
        self.count_wraps = bool(count_wraps)
        self.refractory_hold, self.saturate, self.rounding = refractory_hold, bool(saturate), rounding
        self.v_hold = self.v_reset if refractory_hold == "v_reset" else self.v_rest
        self.bias = fx.round_bias(self.fraction, rounding)
        # saturation clips the exact sum, which needs int64 (as does counting wraps)
        exact = self.count_wraps or self.saturate
        self.dtype = np.int64 if exact else fx.work_dtype(self.data_width, self.fraction)
        self.wraps = np.zeros(self.n, dtype=np.int64)
        self.v = np.full(self.n, self.v_rest, dtype=self.dtype)
        self.counter = np.zeros(self.n, dtype=self.dtype)  # same dtype: one mask serves both
        self.spikes = np.zeros(self.n, dtype=np.bool_)
        b = min(self.BLOCK, self.n)
        self._t1 = np.empty(b, dtype=self.dtype)
        self._t2 = np.empty(b, dtype=self.dtype)
        self._refr = np.empty(b, dtype=np.bool_)
        self._mask = np.empty(b, dtype=self.dtype)
        self._raw = np.empty(b, dtype=self.dtype) if self.count_wraps else None
        self._lo, self._hi = (self.dtype(x) for x in fx.int_range(self.data_width))

    def reset(self) -> None:
        self.v.fill(self.v_rest)
        self.counter.fill(0)
        self.spikes.fill(False)
        self.wraps.fill(0)

    def step(self, leak_k, gain_k, I_t, noise_in=None) -> np.ndarray:
        """Advance every neuron one cycle; returns the (reused) bool spike array."""
        n, B = self.n, self._t1.size
        dt = self.dtype
        # the scalars are cast once to the work dtype so no ufunc upcasts
        leak = dt(leak_k) if np.ndim(leak_k) == 0 else np.asarray(leak_k, dtype=dt)
        gain = dt(gain_k) if np.ndim(gain_k) == 0 else np.asarray(gain_k, dtype=dt)
        I_t = np.asarray(I_t)
        if I_t.dtype != dt:
            I_t = I_t.astype(dt)
        if noise_in is not None:
            noise_in = np.asarray(noise_in)
            if noise_in.dtype != dt:
                noise_in = noise_in.astype(dt)
        F, W = self.fraction, self.data_width
        v_rest, thr, v_reset = dt(self.v_rest), dt(self.v_threshold), dt(self.v_reset)
        v_hold, bias = dt(self.v_hold), dt(self.bias)
        refr_period = dt(self.refractory_period)
        use_refr = self.refractory_period > 0
        for s in range(0, n, B):
            e = min(s + B, n)
            m = e - s
            v = self.v[s:e]
            t1, t2 = self._t1[:m], self._t2[:m]
            lk = leak if np.ndim(leak) == 0 else leak[s:e]
            gk = gain if np.ndim(gain) == 0 else gain[s:e]
            np.subtract(v_rest, v, out=t1)          # wraps mod 2**32/64: only low W+F bits matter
            np.multiply(t1, lk, out=t1)
            if bias:  # wrapping before the shift keeps the low W+F bits exact
                np.add(t1, bias, out=t1)
            np.right_shift(t1, F, out=t1)
            np.multiply(I_t[s:e], gk, out=t2)
            if bias:
                np.add(t2, bias, out=t2)
            np.right_shift(t2, F, out=t2)
            np.add(t1, t2, out=t1)
            np.add(t1, v, out=t1)
            if noise_in is not None:
                np.add(t1, noise_in[s:e], out=t1)
            if self.count_wraps:
                raw = self._raw[:m]
                raw[...] = t1
            if self.saturate:
                np.clip(t1, self._lo, self._hi, out=t1)
            else:
                fx.wrap_inplace(t1, W)
            if self.count_wraps:
                wrapped = raw != t1
                if self.refractory_period > 0:
                    wrapped &= self.counter[s:e] == 0  # refractory neurons discard the sum
                self.wraps[s:e] += wrapped
            spk = self.spikes[s:e]
            np.greater_equal(t1, thr, out=spk)
            # The selects below are branch-free: x ^ ((x ^ c) & mask) with
            # mask = 0 or -1 picks c where the mask is set.  Masked copies
            # (np.copyto(where=)) are ~10x slower on random masks.
            mk = self._mask[:m]
            if use_refr:
                cnt = self.counter[s:e]
                refr = self._refr[:m]
                np.greater(cnt, 0, out=refr)
                np.greater(spk, refr, out=spk)               # refractory neurons never spike
                np.negative(refr.view(np.int8), out=mk, casting="unsafe")
                np.add(cnt, mk, out=cnt)                     # count down
                np.bitwise_xor(t1, v_hold, out=t2)           # ... and hold v_rest (or v_reset)
                np.bitwise_and(t2, mk, out=t2)
                np.bitwise_xor(t1, t2, out=t1)
            np.negative(spk.view(np.int8), out=mk, casting="unsafe")
            if use_refr:
                np.bitwise_and(mk, refr_period, out=t2)      # spiking neurons had counter 0
                np.add(cnt, t2, out=cnt)
            np.bitwise_xor(t1, v_reset, out=t2)              # v = v_reset where spiking
            np.bitwise_and(t2, mk, out=t2)
            np.bitwise_xor(t1, t2, out=v)
        return self.spikes


def _naive_step(v, counter, leak_k, gain_k, I_t, noise_in, *, data_width, fraction, v_rest, v_reset,
                v_threshold, refractory_period, refractory_hold="v_rest", saturate=False, rounding="floor"):
    """Straightforward int64 NumPy version (allocating temporaries); the
    declaration's kernel and the benchmark's baseline."""
    refr = counter > 0
    dv_leak = fx.shift_product(fx.wrap(v_rest - v.astype(np.int64), 2 * data_width) * leak_k, fraction, rounding)
    dv_in = fx.shift_product(np.asarray(I_t, dtype=np.int64) * gain_k, fraction, rounding)
    v_next = fx.fit_sum(v + dv_leak + dv_in + noise_in, data_width, saturate)
    spikes = (v_next >= v_threshold) & ~refr
    v_next = np.where(refr, v_reset if refractory_hold == "v_reset" else v_rest, v_next)
    v_next = np.where(spikes, v_reset, v_next)
    counter = np.where(refr, counter - 1, counter)
    counter = np.where(spikes, refractory_period, counter)
    return spikes, v_next, counter


@register
class FixedPointLIF(NeuronModel):
    """Bit-true fixed-point leaky integrate-and-fire neuron (the RTL's ``sc_lif_neuron``).

    Integer codes in Q(W-F).F, W = ``data_width``, F = ``fraction``; one step = one clock::

        dv_leak = (wrap(v_rest - v, 2W) * leak_k) >> F
        dv_in   = (I_t * gain_k) >> F
        v_next  = wrap(v + dv_leak + dv_in + noise_in, W)
        spike when v_next >= v_threshold; then v = v_reset and the neuron is held
        at v_rest (or v_reset: refractory_hold) for refractory_period steps.
        Options: saturating instead of wrapping sum, round-to-nearest shifts.

    ``leak_k / 2**F`` plays the role of ``dt/tau`` and ``gain_k / 2**F`` of
    ``R*dt/tau``-like input gain.  The input current is an integer code
    (I_t); ``noise_amplitude > 0`` adds uniform integer noise in
    ``[-noise_amplitude, noise_amplitude]`` each step as ``noise_in``.
    """

    model_name = "FixedPointLIFNeuron"
    aliases = ("fixed_point_lif", "sc_lif", "fixedpointlif")
    category = "hardware"
    reference = ("Fixed-point LIF as in digital neuromorphic cores, e.g. A. Cassidy et al. (2013), "
                 "IJCNN, doi:10.1109/IJCNN.2013.6707077; bit-true model of hdl/sc_lif_neuron.v")
    state_variables = {"v": 0, "refractory_counter": 0}
    state_units = {"v": "LSB (Q-format code)", "refractory_counter": "steps"}
    current_unit = "LSB (I_t code)"
    uses_dt = False
    integer = True

    data_width = param.Integer(16, bounds=(1, 32), doc="register width W in bits")
    fraction = param.Integer(8, bounds=(0, 31), doc="fraction bits F (Q(W-F).F)")
    v_rest = param.Integer(0, doc="resting potential (code)")
    v_reset = param.Integer(0, doc="potential after a spike (code)")
    v_threshold = param.Integer(256, doc="spike threshold (code); 256 = 1.0 in Q8.8")
    refractory_period = Count(2, bounds=(0, 65535), doc="cycles held at v_rest after a spike")
    leak_k = param.Integer(16, doc="leak constant (code); leak per step = leak_k / 2**F")
    gain_k = param.Integer(256, doc="input gain (code); 256 = 1.0 in Q8.8")
    noise_amplitude = Count(0, unit="LSB", doc="uniform integer noise in [-a, a] added each step")
    refractory_hold = param.Selector(default="v_rest", objects=list(fx.REFRACTORY_HOLDS),
                                     doc="what the membrane holds while refractory (RTL REFRACTORY_HOLD)")
    saturate = param.Boolean(False, doc="clip the membrane sum to W bits instead of wrapping (RTL SATURATE)")
    rounding = param.Selector(default="floor", objects=list(fx.ROUNDINGS),
                              doc="shifted products: floor (arithmetic shift) or nearest, ties up (RTL ROUND)")

    def __init__(self, **params):
        super().__init__(**params)
        self.validate()

    def validate(self) -> None:
        """Check the whole configuration (cross-parameter: values must fit W bits)."""
        _check_config(self.data_width, self.fraction, self.v_rest, self.v_reset, self.v_threshold,
                      self.refractory_period, self.refractory_hold, self.saturate, self.rounding)
        fx.check_fits(self.leak_k, self.data_width, "leak_k")
        fx.check_fits(self.gain_k, self.data_width, "gain_k")
        if self.noise_amplitude > fx.int_range(self.data_width)[1]:
            raise ValueError(f"noise_amplitude={self.noise_amplitude} does not fit {self.data_width} bits")

    @property
    def qformat(self) -> fx.QFormat:
        return fx.QFormat(self.data_width, self.fraction)

    def config(self) -> dict:
        return {k: getattr(self, k) for k in ("data_width", "fraction", "v_rest", "v_reset", "v_threshold",
                                              "refractory_period", "refractory_hold", "saturate", "rounding")}

    def initial_state(self, n):
        return {"v": np.full(n, self.v_rest, dtype=np.int64),
                "refractory_counter": np.zeros(n, dtype=np.int64)}

    def draws_random(self) -> bool:
        return self.noise_amplitude > 0

    def draw_noise(self, n, rng):
        if self.noise_amplitude == 0:
            return 0
        if rng is None:
            raise ValueError("FixedPointLIFNeuron with noise_amplitude > 0 needs an rng")
        a = self.noise_amplitude
        return rng.integers(-a, a + 1, size=n, dtype=np.int64)

    def step(self, state, current, dt=None, rng=None):
        """``current`` holds integer I_t codes; float input is rounded and
        saturated to W bits (what a quantising input stage would do)."""
        self.validate()
        cur = np.asarray(current)
        lo, hi = fx.int_range(self.data_width)
        if not np.issubdtype(cur.dtype, np.integer):
            if not np.all(np.isfinite(cur)):
                raise ValueError("current must be finite")
            cur = np.rint(cur)
        cur = np.clip(cur, lo, hi).astype(np.int64)
        noise = self.draw_noise(cur.size, rng)
        spikes, v_next, counter = _naive_step(
            state["v"], state["refractory_counter"], self.leak_k, self.gain_k, cur, noise, **self.config())
        state["v"][...] = v_next
        state["refractory_counter"][...] = counter
        return spikes.astype(np.int64)


FixedPointLIFNeuron.declaration = FixedPointLIF
