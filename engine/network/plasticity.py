"""Synaptic plasticity rules for projections.

:class:`STDP` -- pair-based spike-timing-dependent plasticity with
exponential traces (all-to-all pairing; Song, Miller & Abbott 2000; Morrison,
Diesmann & Gerstner 2008).  Per step, after the populations stepped:

    x_i <- x_i * exp(-dt/tau_plus)       (pre-synaptic trace, one per source neuron)
    y_j <- y_j * exp(-dt/tau_minus)      (post-synaptic trace, one per target neuron)
    pre  spike i:  w_ij <- w_ij - a_minus * y_j   for every synapse i->j
    post spike j:  w_ij <- w_ij + a_plus  * x_i   for every synapse i->j
    then x_i += 1 for pre spikes, y_j += 1 for post spikes; w clipped to [w_min, w_max]

So a pre spike ``d > 0`` steps before a post spike potentiates by
``a_plus * exp(-d dt / tau_plus)``, the reverse order depresses by
``a_minus * exp(-d dt / tau_minus)``, simultaneous spikes change nothing.
Spike times are emission times (synaptic delays are not subtracted).  The
rule edits ``projection.data`` in place; its traces live on the projection
(``projection.plasticity_state``), so they survive recompiling and are zeroed
by a network reset.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["STDP", "make_plasticity"]


def _num(value, name, *, positive=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"STDP {name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"STDP {name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"STDP {name} must be > 0, got {value!r}")
    return value


class STDP:
    """Pair-based STDP (see module docstring); time constants in ms."""

    rule = "stdp"

    def __init__(self, tau_plus=20.0, tau_minus=20.0, a_plus=0.01, a_minus=0.012, w_min=0.0, w_max=1.0):
        self.tau_plus = _num(tau_plus, "tau_plus", positive=True)
        self.tau_minus = _num(tau_minus, "tau_minus", positive=True)
        self.a_plus = _num(a_plus, "a_plus")
        self.a_minus = _num(a_minus, "a_minus")
        self.w_min = _num(w_min, "w_min")
        self.w_max = _num(w_max, "w_max")
        if self.a_plus < 0 or self.a_minus < 0:
            raise ValueError("STDP a_plus and a_minus must be >= 0 (their signs are fixed by the rule)")
        if self.w_max < self.w_min:
            raise ValueError(f"STDP w_max ({self.w_max}) must be >= w_min ({self.w_min})")

    def to_dict(self) -> dict:
        return {"rule": self.rule, "tau_plus": self.tau_plus, "tau_minus": self.tau_minus,
                "a_plus": self.a_plus, "a_minus": self.a_minus, "w_min": self.w_min, "w_max": self.w_max}

    def __repr__(self) -> str:
        return "STDP(" + ", ".join(f"{k}={v}" for k, v in self.to_dict().items() if k != "rule") + ")"


_RULES = {"stdp": STDP}


def make_plasticity(spec):
    """``None``, an :class:`STDP` or a dict ``{"rule": "stdp", ...parameters}``."""
    if spec is None or isinstance(spec, STDP):
        return spec
    if isinstance(spec, str):
        if spec.lower() in _RULES:
            return _RULES[spec.lower()]()
        raise NotImplementedError(f"plasticity={spec!r} is not implemented; available: "
                                  f"{', '.join(_RULES)} (or None)")
    if isinstance(spec, dict):
        spec = dict(spec)
        rule = spec.pop("rule", None)
        if rule not in _RULES:
            raise NotImplementedError(f"plasticity rule {rule!r} is not implemented; available: {', '.join(_RULES)}")
        try:
            return _RULES[rule](**spec)
        except TypeError as exc:
            raise ValueError(f"bad STDP parameters {sorted(spec)}: {exc}") from None
    raise NotImplementedError(f"plasticity={spec!r} is not implemented; use None, STDP(...) or "
                              f"{{'rule': 'stdp', ...}}")


class STDPRuntime:
    """Per-simulator helper applying :class:`STDP` to one projection."""

    def __init__(self, proj, dt_ms):
        self.proj = proj
        rule = proj.plasticity
        self.a_plus, self.a_minus = rule.a_plus, rule.a_minus
        self.w_min, self.w_max = rule.w_min, rule.w_max
        self.dec_pre = math.exp(-dt_ms / rule.tau_plus)
        self.dec_post = math.exp(-dt_ms / rule.tau_minus)
        n_src, n_tgt = proj.source.n, proj.target.n
        st = getattr(proj, "plasticity_state", None)
        if st is None or st["pre"].shape != (n_src,) or st["post"].shape != (n_tgt,):
            st = {"pre": np.zeros(n_src), "post": np.zeros(n_tgt)}
            proj.plasticity_state = st
        self.pre, self.post = st["pre"], st["post"]
        # column view of the CSR entries, for potentiation on post spikes
        self.indptr, self.indices = proj.indptr, proj.indices
        self.entry_row = np.repeat(np.arange(n_src, dtype=np.int64), np.diff(proj.indptr))
        self.by_col = np.argsort(proj.indices, kind="stable")
        self.col_ptr = np.zeros(n_tgt + 1, dtype=np.int64)
        np.cumsum(np.bincount(proj.indices, minlength=n_tgt), out=self.col_ptr[1:])

    def apply(self, pre_idx, post_idx) -> None:
        pre, post, w = self.pre, self.post, self.proj.data
        pre *= self.dec_pre
        post *= self.dec_post
        touched = []
        if pre_idx.size:
            from engine.backends.base import row_positions

            pos = row_positions(self.indptr, pre_idx)
            if pos.size:
                w[pos] -= self.a_minus * post[self.indices[pos]]
                touched.append(pos)
        if post_idx.size:
            from engine.backends.base import row_positions

            pos = self.by_col[row_positions(self.col_ptr, post_idx)]
            if pos.size:
                w[pos] += self.a_plus * pre[self.entry_row[pos]]
                touched.append(pos)
        for pos in touched:
            w[pos] = np.clip(w[pos], self.w_min, self.w_max)
        if pre_idx.size:
            pre[pre_idx] += 1.0
        if post_idx.size:
            post[post_idx] += 1.0
