"""The one declaration every neuron model is built from.

A model is a :class:`param.Parameterized` subclass of :class:`NeuronModel`:

* its **parameters** are ``param`` declarations (default, bounds, unit in the
  ``label``/``doc``), validated on construction and on every assignment, and
  read by the GUI to build editors;
* its **state** is a dict of per-neuron arrays built by :meth:`initial_state`;
* its **dynamics** -- update, threshold, reset, refractoriness -- are one
  pure elementwise function, :attr:`dynamics` (rules in
  :mod:`engine.models._form`); :meth:`step` evaluates it with NumPy on ``n``
  neurons in place, the torch backend re-binds it to torch and the compiled
  backend compiles its source per neuron, so no backend has a kernel of its
  own;
* its **equations** live in the class docstring and its literature
  **reference** in :attr:`reference`.

The scalar classes of :mod:`engine.neurons`, the network's
:class:`~engine.network.Population`, the backends, the GUI palette and the
neuron lab are all derived from this declaration.
"""

from __future__ import annotations

import inspect
import math
import numbers
import types
from typing import ClassVar

import numpy as np
import param

from engine.models._form import Constants, form_step

__all__ = [
    "NeuronModel",
    "ParameterView",
    "Real",
    "Count",
    "register",
    "registry",
    "get_model",
    "model_names",
]


def _finite_check(parameter: param.Parameter, value) -> None:
    if value is None or callable(value):
        return
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"parameter {parameter.name!r} must be a number, got a bool")
    from engine.validation import ArgumentTypeError, describe, real  # the engine's one validation path

    if not isinstance(value, numbers.Real):  # complex, arrays, strings: refused before param compares them
        raise ArgumentTypeError(f"parameter {parameter.name!r} must be a real number, got {describe(value)}")

    real(value, f"parameter {parameter.name!r}")  # finite, and ints too large for a float refused


class Real(param.Number):
    """A finite real parameter: NaN and +/-inf are refused with a ``ValueError``
    naming the parameter; bounds are inclusive unless ``inclusive_bounds`` says
    otherwise.  Put the unit in ``unit=``; it is shown next to the editor."""

    __slots__ = ["unit"]

    def __init__(self, default=0.0, *, unit: str = "", **kwargs):
        super().__init__(default=default, **kwargs)
        self.unit = unit

    def _validate_value(self, value, allow_None):
        _finite_check(self, value)
        super()._validate_value(value, allow_None)

    def __set__(self, obj, val):
        # stored as a float: an int (y_init=-1) would make kernels build integer
        # arrays that float results cannot be cast into
        if isinstance(val, numbers.Integral) and not isinstance(val, (bool, np.bool_)):
            _finite_check(self, val)
            val = float(val)
        super().__set__(obj, val)


class Count(param.Integer):
    """A non-negative (by default) integer parameter such as a refractory
    period in steps."""

    __slots__ = ["unit"]

    def __init__(self, default=0, *, unit: str = "steps", bounds=(0, None), **kwargs):
        super().__init__(default=default, bounds=bounds, **kwargs)
        self.unit = unit

    def _validate_value(self, value, allow_None):
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"parameter {self.name!r} must be an integer, got a bool")
        if value is not None and not callable(value):
            from engine.validation import integer

            integer(value, f"parameter {self.name!r}", bounds=self.bounds or (None, None))  # bounded, |v| <= 2**53
        if isinstance(value, float) and value.is_integer():
            return  # accepted, stored as an int by __set__
        super()._validate_value(value, allow_None)

    def __set__(self, obj, val):
        if isinstance(val, float) and val.is_integer():
            val = int(val)
        super().__set__(obj, val)


class ParameterView:
    """Plain-attribute copy of a model's parameter values, used as ``self``
    when a simulator calls the kernel (``type(model).step(view, ...)``).

    Reading a ``param`` parameter costs microseconds (descriptor machinery);
    a kernel reading six of them per step of a small population spends more
    time there than in its arithmetic.  The view copies the values into its
    own ``__dict__``; methods of the model class are re-bound to the view (so
    helpers called from ``step`` read the copy too) and every other attribute
    is forwarded to the model.  Call :meth:`refresh` after a parameter
    change; simulators refresh at every ``advance``, which is why live edits
    apply at the next chunk.

    The contract this imposes on kernels (checked for every registered model
    by ``tests/engine/test_models_contract.py``): read parameters as
    attributes, never use zero-argument ``super()`` or ``isinstance(self,
    ...)`` inside ``step`` and the helpers it calls, and never assign to
    parameters there.
    """

    def __init__(self, model: "NeuronModel"):
        self.__dict__["_model"] = model
        self.refresh()

    def refresh(self, *_events) -> None:
        self.__dict__.update(self._model.values())
        self.__dict__["dt"] = self._model.dt  # values() leaves an unset dt out
        self.__dict__.pop("_form_cache", None)  # parameters + constants of the one form

    def __getattr__(self, name):
        model = self.__dict__.get("_model")
        if model is None or name.startswith("__"):  # half-built (copy) or protocol lookups
            raise AttributeError(name)
        raw = inspect.getattr_static(type(model), name, None)
        if isinstance(raw, types.FunctionType):
            bound = self.__dict__[name] = types.MethodType(raw, self)  # methods never change
            return bound
        return getattr(model, name)


class NeuronModel(param.Parameterized):
    """Base class of every neuron model declaration (see module docstring).

    Subclasses set the class attributes below, declare their parameters with
    :class:`Real` / :class:`Count` (or any ``param`` type) and implement
    :meth:`step`; :meth:`initial_state` defaults to :attr:`state_variables`.
    """

    #: name used by the registry, ``Population(model=...)`` and JSON files
    #: (e.g. ``"LapicqueNeuron"``); defaults to the class name.
    model_name: ClassVar[str] = ""
    #: other accepted names (case-insensitive), e.g. ``("lif",)``
    aliases: ClassVar[tuple[str, ...]] = ()
    #: palette group: "reference", "integrate-and-fire", "conductance-based",
    #: "oscillator", "map", "rate", "hardware"
    category: ClassVar[str] = "integrate-and-fire"
    #: literature reference for the equations
    reference: ClassVar[str] = ""
    #: state variable names -> initial value (per neuron)
    state_variables: ClassVar[dict[str, float]] = {"v": 0.0}
    #: physical unit of each state variable (for plots / editors)
    state_units: ClassVar[dict[str, str]] = {}
    #: the variable plotted as "membrane potential"
    voltage_variable: ClassVar[str] = "v"
    #: unit of the input current the kernel expects
    current_unit: ClassVar[str] = "a.u."
    #: "spikes" (0/1 output) or "rate" (graded output, e.g. Wilson-Cowan)
    output: ClassVar[str] = "spikes"
    #: False for maps and discrete-time hardware neurons, whose step ignores dt
    uses_dt: ClassVar[bool] = True
    #: True when state and arithmetic are integer (bit-true models)
    integer: ClassVar[bool] = False
    #: two state variables spanning the phase plane of a 2-D model, else None
    phase_plane: ClassVar[tuple[str, str] | None] = None
    #: default integration step of the scalar form, in ms
    default_dt: ClassVar[float] = 1.0
    #: typical input range (low, high) in :attr:`current_unit`, spanning rest
    #: to brisk firing: slider bounds for the neuron lab / F-I curves and the
    #: input scale of the scalar-vs-population property test
    current_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    #: largest step (ms) the model integrates stably, or None; a run with a
    #: longer step is refused (``engine.resources.check_step``; models with
    #: internal substeps are also bounded through ``max_substep``)
    max_dt: ClassVar[float | None] = None

    #: The reference's per-population integration step (SPEC 2.3): ``None``
    #: (the default) follows the run's step; a value is the step, in ms, the
    #: population's neurons integrate with, and a simulator warns once when it
    #: differs from the run's step.  It is not one of :meth:`parameter_names`
    #: (editors and the scalar classes, which own their ``dt``, leave it out)
    #: but :meth:`values` carries it when set, so JSON keeps it.
    dt = Real(None, allow_None=True, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms",
              doc="integration step of this population (None: the run's step)")

    # -- state ---------------------------------------------------------------
    def initial_state(self, n: int) -> dict[str, np.ndarray]:
        """Fresh state for ``n`` neurons (float64 arrays unless ``integer``)."""
        dtype = np.int64 if self.integer else np.float64
        return {name: np.full(n, value, dtype=dtype) for name, value in self.state_variables.items()}

    # -- dynamics: the one form (see engine.models._form) --------------------------
    #: ``dynamics(p, I, noise, dt, *state) -> (output, *new_state)``: the
    #: model's update, threshold, reset and refractoriness written once as a
    #: pure elementwise function (a ``staticmethod``); every backend derives
    #: its kernel from it.  ``None`` only for a model with a hand-written
    #: :meth:`step` (the fixed-point RTL model).
    dynamics: ClassVar = None
    #: what :meth:`step_noise` scales: ``"normal"`` (``noise ~ N(0, std)``) or
    #: ``"uniform_int"`` (``noise`` an integer uniform in ``[0, step_noise)``)
    noise_kind: ClassVar[str] = "normal"
    #: refuse non-finite input currents (models whose integrators would
    #: otherwise propagate NaN silently)
    checks_current: ClassVar[bool] = False

    @staticmethod
    def constants(p, dt):
        """Parameter-only values the form reads from ``p`` (e.g. a decay
        factor), computed once per step size with NumPy: a dict or None."""
        return None

    @staticmethod
    def step_noise(p, dt) -> float:
        """Per-step std of the form's ``noise`` input (0: no noise drawn)."""
        return 0.0

    @staticmethod
    def draws(p, *state):
        """Elementwise mask of the neurons that consume a noise draw this
        step (None: all), so the draw order matches the reference scalar."""
        return None

    @classmethod
    def form_state(cls) -> tuple[str, ...]:
        """State variables in the order the form takes and returns them."""
        return tuple(cls.state_variables)

    def step(self, state: dict[str, np.ndarray], current: np.ndarray, dt: float,
             rng: np.random.Generator | None = None) -> np.ndarray:
        """Advance every neuron one step of ``dt`` ms **in place**.

        ``current`` has one entry per neuron, in :attr:`current_unit`.
        Returns a length-``n`` array: 0/1 spikes (``output == "spikes"``, as
        bools) or the graded output of a rate model.  Evaluates
        :attr:`dynamics` with NumPy (:func:`engine.models._form.form_step`).
        """
        return form_step(self, state, current, dt, rng)

    def draws_random(self) -> bool:
        """Whether :meth:`step` draws from ``rng`` with the current parameters
        (e.g. ``noise_std > 0``).  Deterministic populations of one model with
        equal parameters may be stepped as one block by the NumPy backend;
        random ones keep their own generator stream.  Derived from
        :meth:`step_noise` for models in the one form."""
        if type(self).dynamics is None:
            return False
        return bool(type(self).step_noise(Constants(self.values()), 1.0))

    def view(self) -> ParameterView:
        """A fast, refreshable parameter view to call the kernel with."""
        return ParameterView(self)

    # -- introspection -----------------------------------------------------------
    @classmethod
    def registry_name(cls) -> str:
        return cls.model_name or cls.__name__

    @classmethod
    def parameter_names(cls) -> list[str]:
        """The model's own parameters (``dt`` and param's ``name`` excluded)."""
        return [p for p in cls.param if p not in ("name", "dt")]

    @classmethod
    def accepted_parameters(cls) -> list[str]:
        """What ``Population(params=...)`` takes: the parameters plus ``dt``."""
        return [*cls.parameter_names(), "dt"]

    @classmethod
    def equations(cls) -> str:
        return (cls.__doc__ or "").strip()

    def values(self) -> dict:
        """Current parameter values as plain Python numbers (``dt`` only when set)."""
        out = {p: getattr(self, p) for p in self.parameter_names()}
        if self.dt is not None:
            out["dt"] = self.dt
        return out

    def describe(self) -> dict:
        """Everything the GUI / docs need to know about the model, as data."""
        params = {}
        for pname in self.parameter_names():
            p = self.param[pname]
            params[pname] = {
                "default": p.default,
                "bounds": getattr(p, "bounds", None),
                "unit": getattr(p, "unit", ""),
                "doc": p.doc or "",
                "type": type(p).__name__,
            }
        return {
            "name": self.registry_name(),
            "category": self.category,
            "reference": self.reference,
            "equations": self.equations(),
            "state_variables": dict(self.state_variables),
            "voltage_variable": self.voltage_variable,
            "current_unit": self.current_unit,
            "output": self.output,
            "current_range": tuple(self.current_range),
            "parameters": params,
        }


# -- registry -------------------------------------------------------------------
registry: dict[str, type[NeuronModel]] = {}
_aliases: dict[str, str] = {}


def register(cls: type[NeuronModel]) -> type[NeuronModel]:
    """Class decorator adding a model to the registry under ``cls.registry_name()`` and
    its aliases (case-insensitive)."""
    key = cls.registry_name()
    if key in registry and registry[key] is not cls:
        raise ValueError(f"model name {key!r} is registered twice")
    registry[key] = cls
    for alias in (key, *cls.aliases):
        _aliases[alias.lower()] = key
    return cls


def get_model(name_or_cls) -> type[NeuronModel]:
    """Resolve a registry name, alias or class to a model declaration class."""
    from engine import models  # noqa: F401 - importing registers every model

    if isinstance(name_or_cls, type) and issubclass(name_or_cls, NeuronModel):
        return name_or_cls
    declaration = getattr(name_or_cls, "declaration", None)  # a scalar class
    if isinstance(declaration, type) and issubclass(declaration, NeuronModel):
        return declaration
    if not isinstance(name_or_cls, str):
        raise TypeError(f"model must be a model name or class, got {type(name_or_cls).__name__}")
    key = _aliases.get(name_or_cls.lower())
    if key is None:
        import difflib

        close = difflib.get_close_matches(name_or_cls, list(registry), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown neuron model {name_or_cls!r}{hint} (known: {', '.join(sorted(registry))})")
    return registry[key]


def model_names() -> list[str]:
    from engine import models  # noqa: F401

    return sorted(registry)
