"""Stimuli: network objects that add an input current to one population.

Every stimulus has a settable ``target`` (a :class:`Population`; also the
``target=`` keyword).  Left as ``None``, it drives the network's first
population.  Times are in **steps** (as in the reference): step ``t`` is the
``t``-th step since the network was created or reset; a second ``run``
continues counting.

A simulator calls ``stim.apply(step, out)`` once per step, where ``out`` is the
target's input-current array (length ``target.n``) to add into, and
``stim.reset()`` when the network is reset.
"""

from __future__ import annotations

import numbers

import numpy as np

from engine.network.population import Population, check_label
from engine.validation import finite, whole_steps

__all__ = ["Stimulus", "StepCurrent", "ConstantCurrent", "TimedArray", "PoissonInput"]

MAX_TIMED_VALUES = 50_000_000


def _positive_dt(dt) -> float:
    dt = finite(dt, "dt")
    if dt <= 0:
        raise ValueError(f"dt must be > 0 seconds, got {dt}")
    return dt


class Stimulus:
    """Base class: ``target`` handling and the simulator hooks."""

    def __init__(self, target=None, label=None):
        self.target = target
        self.label = None if label is None else check_label(label)

    @property
    def target(self):
        return self._target

    @target.setter
    def target(self, pop):
        if pop is not None and not isinstance(pop, Population):
            raise TypeError(f"{type(self).__name__}.target must be a Population or None, "
                            f"got {type(pop).__name__}")
        self._target = pop

    def check_target(self, pop: Population) -> None:
        """Raise ``ValueError`` when this stimulus cannot drive ``pop``."""

    def apply(self, step: int, out: np.ndarray) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget any internal random state (called when the network resets)."""

    def params(self) -> dict:
        """Constructor arguments as JSON-able values (used by ``io``)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "values")
        return f"{type(self).__name__}({args})"


class StepCurrent(Stimulus):
    """``amplitude`` during steps ``onset <= t < offset``, zero otherwise."""

    def __init__(self, onset, offset, amplitude, *, target=None, label=None):
        super().__init__(target, label)
        self.onset = whole_steps(onset, "onset")
        self.offset = whole_steps(offset, "offset")
        if self.offset < self.onset:
            raise ValueError(f"offset ({self.offset}) must be >= onset ({self.onset})")
        self.amplitude = finite(amplitude, "amplitude")

    def apply(self, step, out):
        if self.onset <= step < self.offset:
            out += self.amplitude

    def params(self):
        return {"onset": self.onset, "offset": self.offset, "amplitude": self.amplitude}


class ConstantCurrent(Stimulus):
    """*Ours:* the same ``amplitude`` on every step."""

    def __init__(self, amplitude, *, target=None, label=None):
        super().__init__(target, label)
        self.amplitude = finite(amplitude, "amplitude")

    def apply(self, step, out):
        out += self.amplitude

    def params(self):
        return {"amplitude": self.amplitude}


class TimedArray(Stimulus):
    """``values[t]`` at step ``t``, held at the last value after the end.

    ``values`` is 1-D ``(T,)`` (the same current for every neuron) or 2-D
    ``(T, n)`` (one column per target neuron).  ``dt`` (s) documents the
    sampling interval; values are indexed by step."""

    def __init__(self, values, dt=0.001, *, target=None, label=None):
        super().__init__(target, label)
        try:
            arr = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("values must be a 1-D or 2-D array of numbers") from None
        if arr.ndim not in (1, 2) or arr.shape[0] == 0:
            raise ValueError(f"values must be a non-empty 1-D (T,) or 2-D (T, n) array, got shape {arr.shape}")
        if arr.size > MAX_TIMED_VALUES:
            raise ValueError(f"values has {arr.size} entries, more than the limit {MAX_TIMED_VALUES}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("values contains non-finite entries")
        self.values = arr
        self.dt = _positive_dt(dt)

    def check_target(self, pop):
        if self.values.ndim == 2 and self.values.shape[1] != pop.n:
            raise ValueError(f"TimedArray values have {self.values.shape[1]} columns but target "
                             f"population {pop.label!r} has n={pop.n}")

    def apply(self, step, out):
        v = self.values
        out += v[step if step < v.shape[0] else -1]

    def params(self):
        return {"values": self.values.tolist(), "dt": self.dt}


class PoissonInput(Stimulus):
    """``weight`` x Bernoulli(``rate_hz * dt``) spikes into the first ``n`` neurons.

    Has its own generator seeded by ``seed`` (re-seeded on reset), so the input
    is reproducible and independent of the populations' generators.  ``dt`` (s)
    should equal the run's ``dt``; it sets the per-step spike probability."""

    def __init__(self, n, rate_hz, weight, dt=0.001, seed=42, *, target=None, label=None):
        super().__init__(target, label)
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n <= 0:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n = int(n)
        self.rate_hz = finite(rate_hz, "rate_hz")
        if self.rate_hz < 0:
            raise ValueError(f"rate_hz must be >= 0, got {self.rate_hz}")
        self.weight = finite(weight, "weight")
        self.dt = _positive_dt(dt)
        if self.rate_hz * self.dt > 1.0:
            raise ValueError(f"rate_hz * dt = {self.rate_hz * self.dt:g} exceeds 1 "
                             f"(at most one spike per step); lower rate_hz or dt")
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self.reset()

    def reset(self):
        self.rng = np.random.default_rng(self.seed)

    def check_target(self, pop):
        if self.n > pop.n:
            raise ValueError(f"PoissonInput n={self.n} exceeds the size of target population "
                             f"{pop.label!r} (n={pop.n})")

    def apply(self, step, out):
        p = self.rate_hz * self.dt
        hits = self.rng.random(self.n) < p
        out[: self.n] += self.weight * hits

    def params(self):
        return {"n": self.n, "rate_hz": self.rate_hz, "weight": self.weight, "dt": self.dt, "seed": self.seed}
