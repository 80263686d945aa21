"""One-step spiking cells for surrogate-gradient training (``torch.nn.Module``).

Every cell advances one time step per call; the state is passed in and returned
(spikes first), so a training loop owns the time axis and the state (the style
of Norse and snnTorch).  A state argument may be ``None`` on the first step
(it then starts at rest: ``v_rest`` for the membrane, 0 for currents and
adaptation).  Shapes broadcast like ordinary tensor arithmetic, typically
``(batch, n)``.

Common conventions
------------------
* **Spike**: ``spike = surrogate_fn(v - threshold)`` -- forward is the Heaviside
  step (fires where ``v > threshold``, see :mod:`engine.training.surrogate`),
  backward the surrogate derivative.  Any callable ``f(x) -> tensor`` works
  as ``surrogate_fn`` (e.g. ``functools.partial(fast_sigmoid, slope=10,
  path="legacy_autograd")``); the default is :func:`atan_surrogate`.
* **Reset** (``reset_mechanism``): ``"subtract"`` --
  ``v -= spike * (threshold - v_rest)`` (for ``v_rest = 0`` this is the
  reference's ``v -= spike*threshold``); ``"zero"`` -- ``v = v_rest`` where a
  spike occurred (``torch.where``: exactly ``v_rest``, gradient ``1 - spike``).  The spike is detached
  in the reset, as in the reference (the reset does not carry gradient back
  into the spike decision).
* **Learnable constants**: ``learn_beta`` (and ``learn_alpha`` where the cell
  has a synaptic decay) store ``logit(beta)`` and use ``sigmoid(.)``, so a
  decay stays in (0, 1); ``learn_threshold`` stores ``log(threshold)`` and uses
  ``exp(.)``, so the threshold stays > 0.  Scalars or per-neuron tensors are
  accepted.  Read the effective value through the attribute (``cell.beta``).
* Discrete-time LIF form ``v = beta*v + current`` with ``beta = exp(-dt/tau)``
  (exact) or ``1 - dt/tau`` (Euler); ``current`` already carries the factor
  ``R*dt/tau`` (Neftci, Mostafa & Zenke 2019, eq. 2-4).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from engine.training.surrogate import atan_surrogate

__all__ = [
    "LIFCell", "IFCell", "SynapticCell", "ALIFCell", "RecurrentLIFCell",
    "ExpIFCell", "AdExCell", "LapicqueCell", "AlphaCell", "SecondOrderLIFCell",
]

RESET_MECHANISMS = ("subtract", "zero")


def _as_value(cls_name, name, value):
    """A float, or a float tensor for per-neuron values; every entry finite."""
    if isinstance(value, bool):
        raise TypeError(f"{cls_name}: {name} must be a number or tensor, got a bool")
    if isinstance(value, torch.Tensor):
        t = value.detach().clone()
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        if not torch.isfinite(t).all():
            raise ValueError(f"{cls_name}: {name} must be finite")
        return t
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{cls_name}: {name} must be a number or tensor, got {type(value).__name__}") from None
    if not math.isfinite(v):
        raise ValueError(f"{cls_name}: {name} must be finite, got {value!r}")
    return v


def _in_range(value, lo, hi, lo_open, hi_open):
    t = torch.as_tensor(value, dtype=torch.float64)
    ok_lo = (t > lo) if lo_open else (t >= lo)
    ok_hi = (t < hi) if hi_open else (t <= hi)
    return bool((ok_lo & ok_hi).all())


def _param_property(name):
    def get(self):
        return self._value(name)

    return property(get, doc=f"effective value of {name!r} (float, or tensor when learnable / per-neuron)")


class _SpikingCell(nn.Module):
    """Shared machinery: constants (fixed or learnable), spiking and reset."""

    def __init__(self, surrogate_fn, reset_mechanism, v_rest=0.0):
        super().__init__()
        if surrogate_fn is None:
            surrogate_fn = atan_surrogate
        if not callable(surrogate_fn):
            raise TypeError(f"{type(self).__name__}: surrogate_fn must be callable, got {type(surrogate_fn).__name__}")
        if reset_mechanism not in RESET_MECHANISMS:
            raise ValueError(f"{type(self).__name__}: reset_mechanism must be one of {RESET_MECHANISMS}, "
                             f"got {reset_mechanism!r}")
        self.surrogate_fn = surrogate_fn
        self.reset_mechanism = reset_mechanism
        self._fixed = {}
        self._kind = {}
        self._add_real("v_rest", v_rest)

    v_rest = _param_property("v_rest")

    # -- constants ----------------------------------------------------------
    def _add_decay(self, name, value, learn):
        """A decay factor in [0, 1]; learnable ones live in (0, 1) as logits."""
        value = _as_value(type(self).__name__, name, value)
        if learn:
            if not _in_range(value, 0.0, 1.0, True, True):
                raise ValueError(f"{type(self).__name__}: a learnable {name} must lie in (0, 1), got {value!r}")
            raw = torch.logit(torch.as_tensor(value, dtype=torch.get_default_dtype()))
            self.register_parameter(f"{name}_logit", nn.Parameter(raw))
            self._kind[name] = "sigmoid"
        else:
            if not _in_range(value, 0.0, 1.0, False, False):
                raise ValueError(f"{type(self).__name__}: {name} must lie in [0, 1], got {value!r}")
            self._store_fixed(name, value)

    def _add_threshold(self, value, learn, name="threshold"):
        value = _as_value(type(self).__name__, name, value)
        if learn:
            if not _in_range(value, 0.0, math.inf, True, True):
                raise ValueError(f"{type(self).__name__}: a learnable {name} must be > 0, got {value!r}")
            raw = torch.log(torch.as_tensor(value, dtype=torch.get_default_dtype()))
            self.register_parameter(f"log_{name}", nn.Parameter(raw))
            self._kind[name] = "exp"
        else:
            self._store_fixed(name, value)

    def _add_real(self, name, value, positive=False):
        value = _as_value(type(self).__name__, name, value)
        if positive and not _in_range(value, 0.0, math.inf, True, True):
            raise ValueError(f"{type(self).__name__}: {name} must be > 0, got {value!r}")
        self._store_fixed(name, value)

    def _store_fixed(self, name, value):
        if isinstance(value, torch.Tensor):
            self.register_buffer(f"_{name}_buf", value)  # moves with .to(device)
            self._kind[name] = "buffer"
        else:
            self._fixed[name] = value
            self._kind[name] = "float"

    def _value(self, name):
        kind = self._kind[name]
        if kind == "float":
            return self._fixed[name]
        if kind == "buffer":
            return getattr(self, f"_{name}_buf")
        if kind == "sigmoid":
            return torch.sigmoid(getattr(self, f"{name}_logit"))
        return torch.exp(getattr(self, f"log_{name}"))

    # -- dynamics helpers ------------------------------------------------------------
    @staticmethod
    def _decay_add(decay, state, drive):
        """``decay*state + drive``; one fused kernel when ``decay`` is a float."""
        if isinstance(decay, float):
            return torch.add(drive, state, alpha=decay)
        return decay * state + drive

    def _fire_and_reset(self, v, threshold):
        spike = self.surrogate_fn(v - threshold)
        s = spike.detach()
        if self.reset_mechanism == "subtract":
            jump = threshold - self.v_rest
            if isinstance(jump, float):
                v = torch.sub(v, s, alpha=jump)
            else:
                v = v - s * jump
        else:
            # exact v_rest where it fired; the gradient w.r.t. v is (1 - spike),
            # as for the written-out form v - spike*(v - v_rest)
            v = torch.where(s > 0, self.v_rest, v)
        return spike, v

    def _rest(self, like):
        if isinstance(self.v_rest, float):
            return torch.full_like(like, self.v_rest)
        return torch.zeros_like(like) + self.v_rest

    def extra_repr(self):
        parts = [f"{k}={v!r}" for k, v in self._fixed.items()]
        parts += [f"{k} learnable ({kind})" for k, kind in self._kind.items() if kind in ("sigmoid", "exp")]
        parts.append(f"reset={self.reset_mechanism}")
        parts.append(f"surrogate={getattr(self.surrogate_fn, '__name__', self.surrogate_fn)!s}")
        return ", ".join(parts)


class LIFCell(_SpikingCell):
    """Leaky integrate-and-fire, discrete time (Neftci et al. 2019, eq. 2-4)::

        v     = beta*v + current
        spike = surrogate(v - threshold)
        v     = v - spike.detach()*threshold            (reset_mechanism="subtract")

    State ``v`` (membrane).  ``forward(current, v) -> (spike, v)``.
    Maps to the Euler-integrated ``StochasticLIFNeuron`` (noise 0, v_rest 0) with
    ``beta = 1 - dt/tau_mem`` and ``current = resistance*dt*I``.
    """

    beta = _param_property("beta")
    threshold = _param_property("threshold")

    def __init__(self, beta=0.9, threshold=1.0, surrogate_fn=atan_surrogate, learn_beta=False,
                 learn_threshold=False, *, reset_mechanism="subtract"):
        super().__init__(surrogate_fn, reset_mechanism)
        self._add_decay("beta", beta, learn_beta)
        self._add_threshold(threshold, learn_threshold)

    def forward(self, current, v=None):
        if v is None:
            v = torch.zeros_like(current)
        v = self._decay_add(self.beta, v, current)
        return self._fire_and_reset(v, self.threshold)


class IFCell(_SpikingCell):
    """Non-leaky integrate-and-fire (Lapicque's "perfect integrator")::

        v = v + current;  spike = surrogate(v - threshold);  reset

    State ``v``.  ``forward(current, v) -> (spike, v)``.  With subtractive reset
    this is the neuron of rate-coded ANN-to-SNN conversion (Rueckauer et al. 2017).
    """

    threshold = _param_property("threshold")

    def __init__(self, threshold=1.0, surrogate_fn=atan_surrogate, learn_threshold=False, *,
                 reset_mechanism="subtract"):
        super().__init__(surrogate_fn, reset_mechanism)
        self._add_threshold(threshold, learn_threshold)

    def forward(self, current, v=None):
        v = current if v is None else v + current
        return self._fire_and_reset(v, self.threshold)


class SynapticCell(_SpikingCell):
    """Current-based LIF with an exponential synapse (Zenke & Ganguli 2018; snnTorch
    "Synaptic")::

        i_syn = alpha*i_syn + current
        v     = beta*v + i_syn
        spike = surrogate(v - threshold);  reset v

    State ``(i_syn, v)``.  ``forward(current, i_syn, v) -> (spike, i_syn, v)``.
    """

    alpha = _param_property("alpha")
    beta = _param_property("beta")
    threshold = _param_property("threshold")

    def __init__(self, alpha=0.9, beta=0.8, threshold=1.0, surrogate_fn=atan_surrogate, learn_beta=False,
                 learn_threshold=False, *, learn_alpha=False, reset_mechanism="subtract"):
        super().__init__(surrogate_fn, reset_mechanism)
        self._add_decay("alpha", alpha, learn_alpha)
        self._add_decay("beta", beta, learn_beta)
        self._add_threshold(threshold, learn_threshold)

    def forward(self, current, i_syn=None, v=None):
        if i_syn is None:
            i_syn = torch.zeros_like(current)
        if v is None:
            v = torch.zeros_like(current)
        i_syn = self._decay_add(self.alpha, i_syn, current)
        v = self._decay_add(self.beta, v, i_syn)
        spike, v = self._fire_and_reset(v, self.threshold)
        return spike, i_syn, v


class ALIFCell(_SpikingCell):
    """Adaptive-threshold LIF (Bellec et al. 2020, Nat. Commun. 11:3625, "ALIF")::

        v     = beta*v + current
        A     = threshold + beta_adapt*a                 (effective threshold)
        spike = surrogate(v - A)
        v     = v - spike.detach()*threshold             (subtract the base threshold, as in Bellec 2020;
                                                          "zero": v = 0)
        a     = rho*a + spike                            (adaptation; gradient flows through it)

    State ``(v, a)``.  ``forward(current, v, a) -> (spike, v, a)``.
    """

    beta = _param_property("beta")
    threshold = _param_property("threshold")
    rho = _param_property("rho")
    beta_adapt = _param_property("beta_adapt")

    def __init__(self, beta=0.9, threshold=1.0, rho=0.99, beta_adapt=1.8, surrogate_fn=atan_surrogate,
                 learn_beta=False, learn_threshold=False, *, reset_mechanism="subtract"):
        super().__init__(surrogate_fn, reset_mechanism)
        self._add_decay("beta", beta, learn_beta)
        self._add_threshold(threshold, learn_threshold)
        self._add_decay("rho", rho, False)
        self._add_real("beta_adapt", beta_adapt)

    def forward(self, current, v=None, a=None):
        if v is None:
            v = torch.zeros_like(current)
        if a is None:
            a = torch.zeros_like(current)
        threshold = self.threshold
        v = self._decay_add(self.beta, v, current)
        spike = self.surrogate_fn(v - (threshold + self.beta_adapt * a))
        s = spike.detach()
        if self.reset_mechanism == "subtract":
            v = v - s * threshold
        else:
            v = torch.where(s > 0, 0.0, v)
        a = self._decay_add(self.rho, a, spike)
        return spike, v, a


class RecurrentLIFCell(LIFCell):
    """LIF with all-to-all recurrent weights ``W_rec`` (``self.recurrent``, an
    ``nn.Linear(n_neurons, n_neurons, bias=False)``; Bellec et al. 2018)::

        v = beta*v + current + spike_prev @ W_rec.T;  spike = surrogate(v - threshold);  reset

    State ``(v, spike_prev)``.  ``forward(current, v, spike_prev) -> (spike, v)``;
    feed the returned spike back as the next ``spike_prev``.
    """

    def __init__(self, n_neurons, beta=0.9, threshold=1.0, surrogate_fn=atan_surrogate, learn_beta=False,
                 learn_threshold=False, *, reset_mechanism="subtract"):
        if isinstance(n_neurons, bool) or not isinstance(n_neurons, int) or n_neurons < 1:
            raise ValueError(f"RecurrentLIFCell: n_neurons must be a positive int, got {n_neurons!r}")
        super().__init__(beta, threshold, surrogate_fn, learn_beta, learn_threshold,
                         reset_mechanism=reset_mechanism)
        self.n_neurons = n_neurons
        self.recurrent = nn.Linear(n_neurons, n_neurons, bias=False)

    def forward(self, current, v=None, spike_prev=None):
        if current.shape[-1] != self.n_neurons:
            raise ValueError(f"RecurrentLIFCell: current's last dimension is {current.shape[-1]}, "
                             f"expected n_neurons={self.n_neurons}")
        if v is None:
            v = torch.zeros_like(current)
        drive = current if spike_prev is None else current + self.recurrent(spike_prev)
        v = self._decay_add(self.beta, v, drive)
        return self._fire_and_reset(v, self.threshold)


class ExpIFCell(_SpikingCell):
    """Exponential integrate-and-fire (Fourcaud-Trocme et al. 2003, J. Neurosci.
    23:11628), explicit Euler with ``beta = 1 - dt/tau``::

        v = v_rest + beta*(v - v_rest) + (1 - beta)*delta_t*exp((v - v_rh)/delta_t) + current
        spike = surrogate(v - threshold);  reset

    The exponential uses the state before the update.  Its exponent is capped
    at ``exp_cap`` (default 20, i.e. exact unless ``v > v_rh + 20*delta_t``) so
    a runaway state stays finite instead of overflowing to inf/NaN.
    State ``v`` (starts at ``v_rest``).  ``forward(current, v) -> (spike, v)``.
    """

    beta = _param_property("beta")
    threshold = _param_property("threshold")
    delta_t = _param_property("delta_t")
    v_rh = _param_property("v_rh")

    def __init__(self, beta=0.9, threshold=1.0, delta_t=0.5, v_rh=0.8, surrogate_fn=atan_surrogate,
                 learn_beta=False, learn_threshold=False, *, reset_mechanism="subtract", exp_cap=20.0,
                 v_rest=0.0):
        super().__init__(surrogate_fn, reset_mechanism, v_rest=v_rest)
        self._add_decay("beta", beta, learn_beta)
        self._add_threshold(threshold, learn_threshold)
        self._add_real("delta_t", delta_t, positive=True)
        self._add_real("v_rh", v_rh)
        self.exp_cap = float(_as_value("ExpIFCell", "exp_cap", exp_cap))

    def _exp_term(self, v):
        return self.delta_t * torch.exp(((v - self.v_rh) / self.delta_t).clamp(max=self.exp_cap))

    def forward(self, current, v=None):
        if v is None:
            v = self._rest(current)  # at rest, as every other cell
        beta = self.beta
        # leak towards v_rest, as AdExCell (which this is with a = b = 0)
        v = self.v_rest + beta * (v - self.v_rest) + (1.0 - beta) * self._exp_term(v) + current
        return self._fire_and_reset(v, self.threshold)


class AdExCell(ExpIFCell):
    """Adaptive exponential integrate-and-fire (Brette & Gerstner 2005,
    J. Neurophysiol. 94:3637), explicit Euler with ``beta = 1 - dt/tau_m`` and
    ``rho = 1 - dt/tau_w``; ``a`` and ``b`` are per-step couplings (dt absorbed)::

        v' = v_rest + beta*(v - v_rest) + (1 - beta)*delta_t*exp((v - v_rh)/delta_t) - w + current
        w' = rho*w + a*(v - v_rest)                 (both from the state before the step)
        spike = surrogate(v' - threshold);  reset v' (towards v_rest);  w' += b*spike

    State ``(v, w)``.  ``forward(current, v, w) -> (spike, v, w)``.  The
    exponent is capped as in :class:`ExpIFCell`.
    """

    a = _param_property("a")
    b = _param_property("b")
    rho = _param_property("rho")

    def __init__(self, beta=0.9, threshold=1.0, delta_t=0.5, v_rh=0.8, a=0.01, b=0.1, rho=0.99, v_rest=0.0,
                 surrogate_fn=atan_surrogate, learn_beta=False, learn_threshold=False, *,
                 reset_mechanism="subtract", exp_cap=20.0):
        super().__init__(beta, threshold, delta_t, v_rh, surrogate_fn, learn_beta, learn_threshold,
                         reset_mechanism=reset_mechanism, exp_cap=exp_cap, v_rest=v_rest)
        self._add_real("a", a)
        self._add_real("b", b)
        self._add_decay("rho", rho, False)

    def forward(self, current, v=None, w=None):
        if v is None:
            v = self._rest(current)
        if w is None:
            w = torch.zeros_like(current)
        beta = self.beta
        dv = v - self.v_rest
        v_new = self.v_rest + beta * dv + (1.0 - beta) * self._exp_term(v) - w + current
        w_new = self._decay_add(self.rho, w, self.a * dv)
        spike, v_new = self._fire_and_reset(v_new, self.threshold)
        return spike, v_new, w_new + self.b * spike


class LapicqueCell(_SpikingCell):
    """Lapicque's RC neuron, integrated exactly like the engine's
    ``LapicqueNeuron`` (input held constant over a step; Lapicque 1907)::

        v_inf = v_rest + r*current
        v     = v_inf + (v - v_inf)*exp(-dt/tau)
        spike = surrogate(v - threshold);  v = v_rest where it spiked

    The default reset is ``"zero"`` (to ``v_rest``), the engine model's reset
    with ``v_reset = v_rest`` and ``refractory_period = 0``; with those
    settings the membrane trajectory equals the engine model's on the same
    currents.  One difference: the engine fires at ``v >= v_threshold``, the
    surrogate at ``v > threshold`` (a tie at exactly threshold).
    State ``v`` (starts at ``v_rest``).  ``forward(current, v) -> (spike, v)``.
    """

    threshold = _param_property("threshold")

    def __init__(self, tau=20.0, r=1.0, dt=1.0, threshold=1.0, v_rest=0.0, surrogate_fn=atan_surrogate,
                 learn_threshold=False, *, reset_mechanism="zero"):
        super().__init__(surrogate_fn, reset_mechanism, v_rest=v_rest)
        for name, value in (("tau", tau), ("dt", dt)):
            v = _as_value("LapicqueCell", name, value)
            if isinstance(v, torch.Tensor) or v <= 0:
                raise ValueError(f"LapicqueCell: {name} must be a number > 0, got {value!r}")
        r = _as_value("LapicqueCell", "r", r)
        if isinstance(r, torch.Tensor) or r < 0:
            raise ValueError(f"LapicqueCell: r must be a number >= 0, got {r!r}")
        self.tau, self.r, self.dt = float(tau), r, float(dt)
        self.decay = math.exp(-self.dt / self.tau)
        self._add_threshold(threshold, learn_threshold)

    def forward(self, current, v=None):
        if v is None:
            v = self._rest(current)
        v_inf = self.v_rest + self.r * current
        v = v_inf + (v - v_inf) * self.decay
        return self._fire_and_reset(v, self.threshold)


class AlphaCell(_SpikingCell):
    """LIF driven by separate excitatory and inhibitory exponential synapses
    (a difference-of-exponentials, "alpha"-like PSP; Gerstner et al. 2014,
    Neuronal Dynamics ch. 3)::

        i_exc = alpha_exc*i_exc + exc_current
        i_inh = alpha_inh*i_inh + inh_current           (inh_current >= 0 inhibits)
        v     = beta*v + i_exc - i_inh
        spike = surrogate(v - threshold);  reset v

    State ``(i_exc, i_inh, v)``.
    ``forward(exc_current, inh_current, i_exc, i_inh, v) -> (spike, i_exc, i_inh, v)``.
    """

    alpha_exc = _param_property("alpha_exc")
    alpha_inh = _param_property("alpha_inh")
    beta = _param_property("beta")
    threshold = _param_property("threshold")

    def __init__(self, alpha_exc=0.9, alpha_inh=0.85, beta=0.9, threshold=1.0, surrogate_fn=atan_surrogate,
                 learn_beta=False, learn_threshold=False, *, reset_mechanism="subtract"):
        super().__init__(surrogate_fn, reset_mechanism)
        self._add_decay("alpha_exc", alpha_exc, False)
        self._add_decay("alpha_inh", alpha_inh, False)
        self._add_decay("beta", beta, learn_beta)
        self._add_threshold(threshold, learn_threshold)

    def forward(self, exc_current, inh_current, i_exc=None, i_inh=None, v=None):
        zeros = torch.zeros_like(exc_current)
        i_exc = self._decay_add(self.alpha_exc, zeros if i_exc is None else i_exc, exc_current)
        i_inh = self._decay_add(self.alpha_inh, zeros if i_inh is None else i_inh, inh_current)
        v = self._decay_add(self.beta, zeros if v is None else v, i_exc - i_inh)
        spike, v = self._fire_and_reset(v, self.threshold)
        return spike, i_exc, i_inh, v


class SecondOrderLIFCell(SynapticCell):
    """Second-order LIF: the membrane is a second-order low-pass of the input
    (impulse response ``(alpha^(t+1) - beta^(t+1))/(alpha - beta)``; cf. the
    synaptic cascade of Zenke & Ganguli 2018)::

        a = alpha*a + current        (first-order filtered input, "acceleration")
        v = beta*v + a
        spike = surrogate(v - threshold);  reset v (``a`` is not reset)

    The same recursion as :class:`SynapticCell` (``a`` plays ``i_syn``), with
    the reference's slower defaults.  State ``(a, v)``.
    ``forward(current, a, v) -> (spike, a, v)``.
    """

    def __init__(self, alpha=0.95, beta=0.9, threshold=1.0, surrogate_fn=atan_surrogate, learn_beta=False,
                 learn_threshold=False, *, learn_alpha=False, reset_mechanism="subtract"):
        super().__init__(alpha, beta, threshold, surrogate_fn, learn_beta, learn_threshold,
                         learn_alpha=learn_alpha, reset_mechanism=reset_mechanism)

    def forward(self, current, a=None, v=None):
        return super().forward(current, a, v)
