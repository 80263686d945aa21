"""A population: ``n`` neurons of one model, stepped together with array ops.

The population owns the model *declaration instance* (``pop.model``, whose
``param`` parameters may be changed at any time, also while a simulation
runs), the per-neuron state arrays (``pop.state``) and its own seeded
``numpy.random.Generator`` (``pop.rng``).  Backends step the state in place,
so ``pop.voltages`` always shows the latest simulated values.
"""

from __future__ import annotations

import numbers

import numpy as np

from engine.models import get_model

__all__ = ["Population", "MAX_NEURONS", "check_label"]

#: upper bound on one population's size; beyond this the arrays alone would
#: take gigabytes and a typo (an extra zero or two) is the likelier cause.
MAX_NEURONS = 10_000_000

#: seed of a population that is not (yet) part of a network
_STANDALONE_SEED = 42


def check_label(label, what: str = "label") -> str:
    if not isinstance(label, str):
        raise TypeError(f"{what} must be a string, got {type(label).__name__}")
    if not label.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return label


def check_size(n, what: str = "n") -> int:
    """``n`` as a Python int in ``[1, MAX_NEURONS]``, else a clear error."""
    from engine.validation import integer

    n = integer(n, what)
    if n <= 0:
        raise ValueError(f"{what} must be a positive integer, got {n}")
    if n > MAX_NEURONS:
        raise ValueError(f"{what}={n} exceeds the limit of {MAX_NEURONS} neurons per population")
    return n


def population_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of the ``index``-th population of a network seeded ``seed``.

    ``SeedSequence([seed, index])`` gives independent, reproducible streams."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


class Population:
    """``n`` neurons of one model.

    Parameters
    ----------
    model : str or class
        Registry name or alias (``"LapicqueNeuron"``, ``"lif"``), a
        :class:`~engine.models.NeuronModel` subclass, or a scalar neuron class
        exposing ``declaration``.
    n : int
        Number of neurons, ``1 <= n <= MAX_NEURONS``.
    params : dict, optional
        Model parameter values; validated by the model's declaration (unknown
        names and out-of-bounds values raise ``ValueError`` naming them).
    label : str, optional
        Name of the population; defaults to the model's registry name.  A
        network makes default labels unique by appending ``_1``, ``_2``...
    """

    def __init__(self, model, n, params=None, label=None):
        cls = get_model(model)
        self.n = check_size(n)
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of model parameters, got {type(params).__name__}")
        valid = cls.accepted_parameters()  # the model's parameters plus the reference's dt
        self.model_name = cls.registry_name()
        self._label_given = label is not None
        self.label = check_label(label) if label is not None else self.model_name
        unknown = [k for k in params if k not in valid]
        if unknown:
            raise ValueError(f"Population {self.label!r} params: unknown parameter(s) "
                             f"{', '.join(map(repr, unknown))} for model "
                             f"{cls.registry_name()!r}; valid: {', '.join(valid)}")
        from engine.validation import check_param

        checked = {}
        for key, value in params.items():
            checked[key] = check_param(cls.param[key], value, f"Population {self.label!r} params.{key}")
        try:
            self.model = cls(**checked)
        except (TypeError, ValueError) as exc:  # rules between parameters, checked by the model
            raise ValueError(f"Population {self.label!r}: {exc}") from None
        from engine.resources import check_population

        check_population(f"Population {self.label!r} ({self.n} x {self.model_name})",
                         len(cls.state_variables), self.n)
        self.state = self.model.initial_state(self.n)
        self._seed = (_STANDALONE_SEED, 0)
        self.rng = population_rng(*self._seed)

    # -- seeding (set by the network) ----------------------------------------
    def _set_seed(self, seed: int, index: int) -> None:
        self._seed = (int(seed), int(index))
        self.rng = population_rng(*self._seed)

    # -- the reference API -----------------------------------------------------
    @property
    def params(self) -> dict:
        """Current model parameter values (a copy)."""
        return self.model.values()

    def set_param(self, name: str, value):
        """Validate and set model parameter ``name``; returns the value stored."""
        from engine.validation import check_param

        accepted = getattr(self.model, "accepted_parameters", None)
        valid = accepted() if callable(accepted) else self.model.parameter_names()
        if name not in valid:
            raise ValueError(f"Population {self.label!r} has no parameter {name!r}; valid: {', '.join(valid)}")
        checked = check_param(self.model.param[name], value, f"Population {self.label!r} {name}")
        try:
            setattr(self.model, name, checked)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Population {self.label!r} {name}: {exc}") from None
        return getattr(self.model, name)

    def step_all(self, currents, dt=None) -> np.ndarray:
        """Advance every neuron one step; returns the model output (0/1 spikes).

        ``currents`` is a scalar or a length-``n`` array; ``dt`` in ms defaults
        to the population's ``dt`` parameter, else the model's ``default_dt``."""
        if dt is None:
            dt = self.model.default_dt if self.model.dt is None else self.model.dt
        if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not np.isfinite(dt) or dt <= 0:
            raise ValueError(f"dt must be a positive finite number of ms, got {dt!r}")
        cur = np.asarray(currents, dtype=np.float64)
        if cur.ndim == 0:
            cur = np.full(self.n, float(cur))
        elif cur.shape != (self.n,):
            raise ValueError(f"currents must have shape ({self.n},) for population {self.label!r}, "
                             f"got {cur.shape}")
        if not np.all(np.isfinite(cur)):
            raise ValueError(f"currents for population {self.label!r} contain non-finite values")
        if self.model.integer:
            # same rule as every simulator: integer models get the nearest integer
            cur = np.rint(cur).astype(np.int64)
        return self.model.step(self.state, cur, float(dt), self.rng)

    def reset_all(self) -> None:
        """Back to the model's initial state (in place) and a re-seeded generator."""
        fresh = self.model.initial_state(self.n)
        for name, arr in fresh.items():
            if name in self.state and self.state[name].shape == arr.shape:
                self.state[name][...] = arr
            else:
                self.state[name] = arr
        self.rng = population_rng(*self._seed)

    def get_states(self) -> dict:
        """A copy of every state variable: ``{name: ndarray (n,)}``."""
        return {k: np.array(v, copy=True) for k, v in self.state.items()}

    @property
    def voltages(self) -> np.ndarray:
        """Copy of the membrane-potential variable (``model.voltage_variable``)."""
        return np.array(self.state[self.model.voltage_variable], copy=True)

    def set_voltages(self, v) -> None:
        """Set the membrane potential: a scalar or a length-``n`` finite array."""
        self.set_state(self.model.voltage_variable, v)

    def set_state(self, name: str, values) -> None:
        """Overwrite state variable ``name`` in place (scalar or shape ``(n,)``)."""
        if name not in self.state:
            raise ValueError(f"unknown state variable {name!r} of {self.model_name}; "
                             f"valid: {', '.join(self.state)}")
        arr = np.asarray(values)
        if arr.ndim != 0 and arr.shape != (self.n,):
            raise ValueError(f"{name} for population {self.label!r} must be a scalar or have shape "
                             f"({self.n},), got {arr.shape}")
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} for population {self.label!r} contains non-finite values")
        target = self.state[name]
        if np.issubdtype(target.dtype, np.integer) and not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} of the integer model {self.model_name} must be whole numbers")
        target[...] = arr

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"Population({self.model_name!r}, n={self.n}, label={self.label!r})"
