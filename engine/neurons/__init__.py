"""Single neurons: the reference API's scalar classes.

Every scalar class wraps a model declaration from :mod:`engine.models` and
advances it as a population of one, so the scalar and the vectorised forms
agree by construction.  Each exposes ``declaration`` (the model class).

* :class:`StochasticLIFNeuron`, :class:`HomeostaticLIFNeuron` -- dataclasses
  with the reference field order and validation;
* :class:`SCIzhikevichNeuron`, :class:`StochasticDendriticNeuron`,
  ``LapicqueNeuron`` -- the reference signatures;
* ``FixedPointLIFNeuron`` -- re-exported from
  :mod:`engine.models.fixed_point_lif` (its own hand-written bit-true class);
* :func:`scalar_class` gives every registered model a scalar class
  (``step(current)``, ``reset_state()``, ``get_state()``; parameters as
  keyword arguments plus ``dt`` and ``seed``), and each registered model is
  available here under its registry name, e.g. ``engine.neurons.AdExNeuron``;
* :mod:`engine.neurons.models` gives the reference's "individual file
  import", ``from engine.neurons.models.hodgkin_huxley import
  HodgkinHuxleyNeuron``, for every model file (see that module).

May import: numpy, param, ``engine.models``.
"""

from __future__ import annotations

import abc
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from engine import models as _models
from engine.models.base import NeuronModel, get_model
from engine.models.dendritic import StochasticDendritic
from engine.models.homeostatic_lif import HomeostaticLIF
from engine.models.sc_izhikevich import SCIzhikevich
from engine.models.stochastic_lif import StochasticLIF
from engine.validation import finite, positive

__all__ = [
    "BaseNeuron",
    "ModelNeuron",
    "StochasticLIFNeuron",
    "HomeostaticLIFNeuron",
    "SCIzhikevichNeuron",
    "StochasticDendriticNeuron",
    "LapicqueNeuron",
    "FixedPointLIFNeuron",
    "scalar_class",
]


# -- validation helpers -----------------------------------------------------------


def _check_seed(seed) -> None:
    if seed is None:
        return
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")


class _EntropyRNG:
    """Adapts an ``entropy_source`` (anything with ``sample_normal(mean,
    std)``) to the ``normal(loc, scale, size)`` call the kernels make."""

    def __init__(self, source):
        if not callable(getattr(source, "sample_normal", None)):
            raise ValueError("entropy_source must provide a sample_normal(mean, std) method")
        self.source = source

    def normal(self, loc=0.0, scale=1.0, size=None):
        if size is None:
            return float(self.source.sample_normal(loc, scale))
        return np.array([float(self.source.sample_normal(loc, scale)) for _ in range(int(np.prod(size)))],
                        dtype=np.float64).reshape(size)


# -- the abstract interface -----------------------------------------------------------
class BaseNeuron(abc.ABC):
    """One neuron: ``step(input_current) -> int`` (0 or 1), ``reset_state()``,
    ``get_state() -> dict``."""

    @abc.abstractmethod
    def step(self, input_current):
        """Advance one time step; return 1 on a spike, else 0."""

    @abc.abstractmethod
    def reset_state(self) -> None:
        """Return the dynamic state to its initial value."""

    @abc.abstractmethod
    def get_state(self) -> dict:
        """The dynamic state as plain Python numbers."""


def _kernel_self(model: NeuronModel):
    """The model's parameter view, refreshed on every parameter change so a
    scalar neuron never steps with stale values."""
    view = model.view()
    model.param.watch(view.refresh, model.parameter_names())
    return view


def _scalar_state(state: dict[str, np.ndarray]) -> dict:
    return {k: (int(a[0]) if np.issubdtype(a.dtype, np.integer) else float(a[0])) for k, a in state.items()}


# -- generic scalar class over any declaration ---------------------------------------
class ModelNeuron(BaseNeuron):
    """A single neuron of model :attr:`declaration` (a population of one).

    ``ModelNeuron(dt=None, seed=None, **parameters)``: parameters are the
    declaration's (validated by it; invalid values raise ``ValueError``
    naming the parameter) and readable/settable as attributes; ``dt`` (ms)
    defaults to the model's ``default_dt``; ``seed`` seeds the generator of
    noisy models.  ``reset_state()`` resets the dynamic state, not the
    random stream.
    """

    declaration: ClassVar[type[NeuronModel]]

    def __init__(self, dt: float | None = None, seed: int | None = None, **parameters):
        decl = type(self).declaration
        object.__setattr__(self, "_names", frozenset(decl.parameter_names()))
        object.__setattr__(self, "_model", decl(**parameters))
        object.__setattr__(self, "_kself", _kernel_self(self._model))
        self.dt = decl.default_dt if dt is None else dt
        self.seed = seed  # validated; also creates the generator
        self.reset_state()

    # parameters live on the declaration instance, which validates them
    def __getattr__(self, name):
        names = self.__dict__.get("_names", ())
        if name in names:
            return getattr(self.__dict__["_model"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name in self.__dict__.get("_names", ()):
            setattr(self._model, name, value)
            return
        if name == "dt":
            value = positive(value, "dt")
        elif name == "seed":
            _check_seed(value)
            object.__setattr__(self, "_rng", np.random.default_rng(value))
        object.__setattr__(self, name, value)

    @property
    def model(self) -> NeuronModel:
        """The declaration instance holding this neuron's parameters."""
        return self._model

    def parameters(self) -> dict:
        return self._model.values()

    def reset_state(self) -> None:
        self._state = self._model.initial_state(1)

    def get_state(self) -> dict:
        return _scalar_state(self._state)

    def _advance(self, current: np.ndarray):
        out = type(self._model).step(self._kself, self._state, current, self.dt, self._rng)
        value = out[0]
        return float(value) if self.declaration.output == "rate" else int(value)

    def step(self, input_current=0.0):
        """Advance one step of ``dt`` ms under ``input_current``; return the
        spike (0/1), or the graded output of a rate model."""
        current = np.array([finite(input_current, "input_current")])
        if self.declaration.integer:  # as Population.step feeds integer models
            current = current.astype(np.int64)
        return self._advance(current)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._model.values().items())
        return f"{type(self).__name__}({args}, dt={self.dt!r})"


# -- the reference classes -------------------------------------------------------------
@dataclass
class StochasticLIFNeuron(BaseNeuron):
    """Noisy leaky integrate-and-fire neuron of the reference API (see
    :class:`engine.models.stochastic_lif.StochasticLIF` for the equations).

    Noise comes from ``entropy_source.sample_normal(mean, std)`` when an
    entropy source is given, else from ``numpy.random.default_rng(seed)``.
    Fields may be changed after construction; they are re-validated.
    """

    declaration: ClassVar[type[NeuronModel]] = StochasticLIF

    v_rest: float = 0.0
    v_reset: float = 0.0
    v_threshold: float = 1.0
    tau_mem: float = 20.0
    dt: float = 1.0
    noise_std: float = 0.0
    resistance: float = 1.0
    refractory_period: int = 0
    seed: int | None = None
    entropy_source: Any = None

    def __post_init__(self):
        names = self.declaration.parameter_names()
        model = self.declaration(**{n: getattr(self, n) for n in names})
        positive(self.dt, "dt")
        _check_seed(self.seed)
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_kself", _kernel_self(model))
        self._make_rng()
        self.reset_state()

    def _make_rng(self):
        rng = (_EntropyRNG(self.entropy_source) if self.entropy_source is not None
               else np.random.default_rng(self.seed))
        object.__setattr__(self, "_rng", rng)

    def __setattr__(self, name, value):
        if "_model" in self.__dict__:  # after construction: keep the declaration in sync
            if name in self._names:
                setattr(self._model, name, value)
            elif name == "dt":
                positive(value, "dt")
            elif name == "seed":
                _check_seed(value)
            elif name == "entropy_source" and value is not None:
                _EntropyRNG(value)
            object.__setattr__(self, name, value)
            if name in ("seed", "entropy_source"):
                self._make_rng()
            return
        object.__setattr__(self, name, value)

    def reset_state(self) -> None:
        object.__setattr__(self, "_state", self._model.initial_state(1))

    def get_state(self) -> dict:
        return {"v": float(self._state["v"][0]), "refractory": int(self._state["refractory"][0])}

    def step(self, input_current) -> int:
        current = np.array([finite(input_current, "input_current")])
        return int(type(self._model).step(self._kself, self._state, current, self.dt, self._rng)[0])

    def process_bitstream(self, bits, input_scale: float = 1.0) -> np.ndarray:
        """Step once per bit with current ``bit*input_scale``; return the
        spikes as a uint8 array of the same length."""
        scale = finite(input_scale, "input_scale")
        arr = np.asarray(bits)
        if arr.ndim != 1:
            raise ValueError(f"bits must be a 1-D array, got shape {arr.shape}")
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"bits must be numeric 0/1 values, got dtype {arr.dtype}")
        values = arr.astype(np.float64)
        if not np.all((values == 0.0) | (values == 1.0)):
            raise ValueError("bits must contain only 0 and 1")
        out = np.empty(values.size, dtype=np.uint8)
        for i, bit in enumerate(values):
            out[i] = self.step(bit * scale)
        return out


@dataclass
class HomeostaticLIFNeuron(StochasticLIFNeuron):
    """:class:`StochasticLIFNeuron` whose threshold tracks ``target_rate``
    (see :class:`engine.models.homeostatic_lif.HomeostaticLIF`).

    ``v_threshold`` follows the adapted threshold; ``initial_threshold``
    keeps the constructor's value (the ceiling is a multiple of it).
    """

    declaration: ClassVar[type[NeuronModel]] = HomeostaticLIF

    target_rate: float = 0.1
    adaptation_rate: float = 0.01
    trace_decay: float = 0.95
    threshold_floor: float = 0.1
    ceiling_multiple: float = 10.0

    def __post_init__(self):
        super().__post_init__()
        if self.threshold_floor > self.v_threshold * self.ceiling_multiple:
            raise ValueError(
                f"threshold_floor ({self.threshold_floor}) must not exceed the ceiling "
                f"v_threshold*ceiling_multiple ({self.v_threshold * self.ceiling_multiple})")

    @property
    def initial_threshold(self) -> float:
        return self._model.v_threshold

    def __setattr__(self, name, value):
        if name == "v_threshold" and "_model" in self.__dict__:
            # the live threshold is state; the declaration keeps the initial one
            self._state["threshold"][0] = finite(value, "v_threshold")
            object.__setattr__(self, name, float(value))
            return
        super().__setattr__(name, value)

    def reset_state(self) -> None:
        super().reset_state()
        object.__setattr__(self, "v_threshold", float(self._state["threshold"][0]))

    def get_state(self) -> dict:
        state = super().get_state()
        state["threshold"] = float(self._state["threshold"][0])
        state["rate_trace"] = float(self._state["rate_trace"][0])
        return state

    def step(self, input_current) -> int:
        spike = super().step(input_current)
        object.__setattr__(self, "v_threshold", float(self._state["threshold"][0]))
        return spike

    # the reference keeps the trace as a plain attribute: read and set it here
    @property
    def rate_trace(self) -> float:
        """Exponential trace of the spike train (spikes per step)."""
        return float(self._state["rate_trace"][0])

    @rate_trace.setter
    def rate_trace(self, value) -> None:
        value = finite(value, "rate_trace")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"rate_trace must be in [0, 1] spikes per step, got {value!r}")
        self._state["rate_trace"][0] = value


class SCIzhikevichNeuron(ModelNeuron):
    """Izhikevich (2003) neuron of the reference API (see
    :class:`engine.models.sc_izhikevich.SCIzhikevich`)."""

    declaration = SCIzhikevich

    def __init__(self, a: float = 0.02, b: float = 0.2, c: float = -65.0, d: float = 8.0, dt: float = 1.0,
                 noise_std: float = 0.0, seed: int | None = None, integrator: str = "baseline_half_euler"):
        super().__init__(dt=dt, seed=seed, a=a, b=b, c=c, d=d, noise_std=noise_std, integrator=integrator)


class StochasticDendriticNeuron(ModelNeuron):
    """Dendritic XOR unit: ``step(a, b)`` spikes when ``a + b - 2ab >
    threshold`` (see :class:`engine.models.dendritic.StochasticDendritic`)."""

    declaration = StochasticDendritic

    def __init__(self, threshold: float = 0.5, dt: float | None = None, seed: int | None = None):
        super().__init__(dt=dt, seed=seed, threshold=threshold)

    def step(self, a, b=0.0) -> int:
        self._state["b"][0] = finite(b, "b")
        return self._advance(np.array([finite(a, "a")]))


# -- every registered model gets a scalar class ---------------------------------------------
_HAND_WRITTEN: dict[type[NeuronModel], type] = {
    StochasticLIF: StochasticLIFNeuron,
    HomeostaticLIF: HomeostaticLIFNeuron,
    SCIzhikevich: SCIzhikevichNeuron,
    StochasticDendritic: StochasticDendriticNeuron,
}
_generated: dict[type[NeuronModel], type] = {}


def _module_scalar(decl: type[NeuronModel]):
    """A scalar class the declaration's own module defines under the registry
    name (e.g. ``FixedPointLIFNeuron`` in ``engine.models.fixed_point_lif``)."""
    module = sys.modules.get(decl.__module__)
    cls = getattr(module, decl.registry_name(), None)
    if isinstance(cls, type) and cls is not decl and not issubclass(cls, NeuronModel):
        return cls
    return None


def scalar_class(model) -> type:
    """The scalar class of a model (registry name, alias or declaration):
    the hand-written reference class where there is one, else a
    :class:`ModelNeuron` subclass generated once and cached."""
    decl = get_model(model)
    cls = _HAND_WRITTEN.get(decl) or _module_scalar(decl) or _generated.get(decl)
    if cls is None:
        name = decl.registry_name()
        if not name.isidentifier():
            name = decl.__name__ + "Neuron"
        doc = (f"Single {decl.registry_name()} neuron (a population of one); see "
               f":class:`{decl.__module__}.{decl.__qualname__}`.\n\n" + decl.equations())
        cls = type(name, (ModelNeuron,), {"declaration": decl, "__doc__": doc, "__module__": __name__})
        _generated[decl] = cls
    return cls


def _export_registry() -> None:
    module = sys.modules[__name__]
    for key, decl in list(_models.registry.items()):
        if key.isidentifier() and key not in module.__dict__:
            setattr(module, key, scalar_class(decl))


_export_registry()
# only names that exist, so ``from engine.neurons import *`` never fails
__all__ = [n for n in dict.fromkeys(__all__ + sorted(_models.registry)) if n in globals()]


def __getattr__(name):
    # models registered after this module was imported (or FixedPointLIFNeuron
    # before its file exists) are looked up on demand
    decl = _models.registry.get(name)
    if decl is not None:
        cls = scalar_class(decl)
        setattr(sys.modules[__name__], name, cls)
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
