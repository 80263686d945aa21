"""Stimuli: network objects that add an input current to one population.

Every stimulus has a settable ``target`` (a :class:`Population`; also the
``target=`` keyword).  Left as ``None``, it drives the network's first
population.  Times are in **steps** (as in the reference): step ``t`` is the
``t``-th step since the network was created or reset; a second ``run``
continues counting.

Parameters are declared once in each class's ``Params`` (see
:mod:`engine.network.declare`): the constructor, validation, JSON io and the
app's editors read that declaration.

``dt``: a stimulus follows the run's step (SPEC 2.3), so a 20 Hz
``PoissonInput`` stays 20 Hz whatever ``dt`` the run uses.  A ``dt`` given
explicitly is honoured (the reference's meaning: the per-step spike
probability is ``rate_hz * dt``), and when it differs from the run's step the
simulator warns once, naming the stimulus.

A simulator calls ``stim.bind(dt)`` at the start of every chunk (so edits
apply at the next chunk), then ``stim.apply(step, out)`` once per step,
where ``out`` is the target's input-current array (length ``target.n``) to
add into, and ``stim.reset()`` when the network is reset.
"""

from __future__ import annotations

import numpy as np
import param

from engine.models.base import Count, Real
from engine.network._warn import warn_at_caller
from engine.network.declare import Declared, Field, as_array, finish
from engine.network.population import Population, check_label

__all__ = ["Stimulus", "StepCurrent", "ConstantCurrent", "TimedArray", "PoissonInput"]

MAX_TIMED_VALUES = 50_000_000

#: relative difference between a stimulus's own dt and the run's step that
#: counts as "the same step" (float noise from unit conversions)
_DT_TOLERANCE = 1e-9


def _dt_field():
    return Real(None, allow_None=True, bounds=(0.0, None), inclusive_bounds=(False, True), unit="s",
                doc="step the stimulus assumes, in seconds; empty = the run's step (recommended)")


class Stimulus(Declared):
    """Base class: ``target`` handling, the declaration and the simulator hooks."""

    _trailing = ("target", "label")

    def __init__(self, *args, target=None, label=None, **kwargs):
        self.target = target
        self.label = None if label is None else check_label(label)
        self._warned_dt = None
        self._rt = None
        self._init_declared(args, kwargs)
        self.reset()

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

    # -- simulator hooks --------------------------------------------------------------
    def step_dt(self, run_dt: float) -> float:
        """The step (s) this stimulus uses in a run of step ``run_dt``: its own
        ``dt`` when given (with a warning if it differs), else the run's."""
        own = self.__dict__.get("dt")
        if own is None:
            return run_dt
        if abs(own - run_dt) > _DT_TOLERANCE * max(own, run_dt) and self._warned_dt != run_dt:
            self._warned_dt = run_dt
            warn_at_caller(f"{self._what()}: its dt={own:g} s differs from the run's step {run_dt:g} s; "
                           f"it keeps its own dt (leave dt unset to follow the run)", RuntimeWarning)
        return own

    def bind(self, run_dt: float) -> None:
        """Snapshot the parameters for the next chunk of a run with step ``run_dt`` (s)."""
        self._rt = self._runtime(run_dt)
        self._bound = True

    def _runtime(self, run_dt: float):
        return None

    def _changed(self, name):
        if not self.__dict__.get("_bound"):
            self._rt = None  # standalone use: the next apply re-reads the parameters

    def _ensure_bound(self):
        if self._rt is None:
            self._rt = self._runtime(self.__dict__.get("dt") or 0.001)

    def apply(self, step: int, out: np.ndarray) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget any internal random state (called when the network resets)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "values")
        return f"{type(self).__name__}({args})"


@finish
class StepCurrent(Stimulus):
    """``amplitude`` during steps ``onset <= t < offset``, zero otherwise."""

    class Params(param.Parameterized):
        onset = Count(0, doc="first step with the current")
        offset = Count(0, doc="first step without it again (>= onset)")
        amplitude = Real(1.0, unit="input units", doc="current added to every target neuron")

    _positional = ("onset", "offset", "amplitude")

    def _check_consistency(self):
        if self.offset < self.onset:
            raise ValueError(f"{self._what()} offset ({self.offset}) must be >= onset ({self.onset})")

    def _runtime(self, run_dt):
        return (self.onset, self.offset, self.amplitude)

    def apply(self, step, out):
        self._ensure_bound()
        onset, offset, amplitude = self._rt
        if onset <= step < offset:
            out += amplitude


@finish
class ConstantCurrent(Stimulus):
    """*Ours:* the same ``amplitude`` on every step."""

    class Params(param.Parameterized):
        amplitude = Real(1.0, unit="input units", doc="current added to every target neuron, every step")

    _positional = ("amplitude",)

    def _runtime(self, run_dt):
        return self.amplitude

    def apply(self, step, out):
        self._ensure_bound()
        out += self._rt


def _check_values(value, where):
    arr = as_array(value, where, ndims=(1, 2), max_len=MAX_TIMED_VALUES)
    if arr.shape[0] == 0 or arr.size == 0:
        raise ValueError(f"{where} must be a non-empty 1-D (T,) or 2-D (T, n) array, got shape {arr.shape}")
    return arr


@finish
class TimedArray(Stimulus):
    """``values[t]`` at step ``t``, held at the last value after the end.

    ``values`` is 1-D ``(T,)`` (the same current for every neuron) or 2-D
    ``(T, n)`` (one column per target neuron); values are indexed by step.
    ``dt`` (s), when given, is the sampling interval the values were written
    for; a run with another step warns."""

    class Params(param.Parameterized):
        values = Field([0.0], check=_check_values, to_json=lambda a: a.tolist(), kind="required",
                       unit="input units", doc="current at each step: (T,) or (T, n_target)")
        dt = _dt_field()

    _positional = ("values", "dt")

    def check_target(self, pop):
        if self.values.ndim == 2 and self.values.shape[1] != pop.n:
            raise ValueError(f"{self._what()} values have {self.values.shape[1]} columns but target "
                             f"population {pop.label!r} has n={pop.n}")

    def _runtime(self, run_dt):
        self.step_dt(run_dt)
        return self.values

    def apply(self, step, out):
        self._ensure_bound()
        v = self._rt
        out += v[step if step < v.shape[0] else -1]


@finish
class PoissonInput(Stimulus):
    """``weight`` x Bernoulli(``rate_hz * dt``) spikes into the first ``n`` neurons.

    Has its own generator seeded by ``seed`` (re-seeded on reset), so the input
    is reproducible and independent of the populations' generators.  ``dt``
    follows the run's step unless given (see the module docstring)."""

    class Params(param.Parameterized):
        n = Count(1, bounds=(1, None), unit="neurons", doc="number of target neurons driven (the first n)")
        rate_hz = Real(10.0, bounds=(0.0, None), unit="Hz", doc="rate of each neuron's input spike train")
        weight = Real(1.0, unit="input units", doc="current of one input spike")
        dt = _dt_field()
        seed = Count(42, unit="", doc="seed of the input's own random generator")

    _positional = ("n", "rate_hz", "weight", "dt", "seed")

    def reset(self):
        self.rng = np.random.default_rng(self.seed)

    def _changed(self, name):
        super()._changed(name)
        if name == "seed":
            self.reset()

    def check_target(self, pop):
        if self.n > pop.n:
            raise ValueError(f"{self._what()} n={self.n} exceeds the size of target population "
                             f"{pop.label!r} (n={pop.n})")

    def _check_consistency(self):
        if self.dt is not None:
            self._check_probability(self.dt)

    def _check_probability(self, dt):
        if self.rate_hz * dt > 1.0:
            raise ValueError(f"{self._what()} rate_hz * dt = {self.rate_hz * dt:g} exceeds 1 "
                             f"(at most one spike per step); lower rate_hz or dt")

    def _runtime(self, run_dt):
        dt = self.step_dt(run_dt)
        self._check_probability(dt)
        return (self.n, self.rate_hz * dt, self.weight)

    def apply(self, step, out):
        self._ensure_bound()
        n, p, weight = self._rt
        hits = self.rng.random(n) < p
        out[:n] += weight * hits
