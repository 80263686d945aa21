"""Monitors: network objects that record what a population did.

A simulator hands every finished chunk (see ``engine.backends.base.Chunk``) to
``monitor.record(chunk)``; monitors only keep data, they never steal time from
the step loop.  Time stamps are step indices (``steps``) or seconds
(``t = step * dt``), where step ``t`` is the step whose update produced the
recorded value or spike.
"""

from __future__ import annotations

import numbers

import numpy as np
import param

from engine.models.base import Real
from engine.network.declare import Declared, Field, finish
from engine.network.population import Population, check_label
from engine.validation import ArgumentTypeError, describe, integer

__all__ = ["Monitor", "SpikeMonitor", "StateMonitor", "RateMonitor"]

#: most state variables one StateMonitor may name
_MAX_VARIABLES = 64


class Monitor(Declared):
    """Base class: the monitored ``population``, an optional ``label`` and
    the declared parameters (``Params``)."""

    _leading = ("population",)
    _trailing = ("label",)

    def __init__(self, population, *args, label=None, **kwargs):
        if not isinstance(population, Population):
            raise TypeError(f"{type(self).__name__} needs a Population, got {type(population).__name__}")
        self.population = population
        self.label = None if label is None else check_label(label)
        self._init_declared(args, kwargs)
        self.dt = None
        self.reset()

    def _what(self) -> str:
        label = self.__dict__.get("label")
        if label:
            return f"{type(self).__name__} {label!r}"
        return f"{type(self).__name__} of {self.population.label!r}"

    def reset(self) -> None:
        raise NotImplementedError

    def record(self, chunk) -> None:
        raise NotImplementedError

    def _check_dt(self, dt: float) -> None:
        if self.dt is not None and self.dt != dt:
            raise ValueError(f"{type(self).__name__} {self.label!r} recorded with dt={self.dt} and now "
                             f"dt={dt}; reset the network before changing dt")
        self.dt = dt

    def bytes_per_step(self) -> int:
        """Memory one recorded step costs (the resource budget's estimate)."""
        return 0


@finish
class SpikeMonitor(Monitor):
    """Every spike of ``population``.

    ``spike_times``/``spike_ids``: step and neuron of each spike (time order);
    ``spike_trains``: ``{neuron: steps}``; ``count``: spikes per neuron."""

    class Params(param.Parameterized):
        pass

    # bytes_per_step stays 0: what spikes cost depends on activity, not on sizes

    def reset(self):
        self._steps: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self._cache = None
        self.dt = None

    def record(self, chunk):
        self._check_dt(chunk.dt)
        steps, ids = chunk.spikes[self.population.label]
        if steps.size:
            self._steps.append(steps)
            self._ids.append(ids)
            self._cache = None

    def raster_data(self) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, neuron_ids)`` of every spike, int64, in time order."""
        if self._cache is None:
            if self._steps:
                self._cache = (np.concatenate(self._steps), np.concatenate(self._ids))
                self._steps, self._ids = [self._cache[0]], [self._cache[1]]
            else:
                self._cache = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        return self._cache

    @property
    def spike_times(self) -> np.ndarray:
        """Step index of every spike (parallel to :attr:`spike_ids`)."""
        return self.raster_data()[0]

    @property
    def spike_ids(self) -> np.ndarray:
        return self.raster_data()[1]

    @property
    def spike_trains(self) -> dict[int, np.ndarray]:
        """``{neuron: sorted spike steps}`` for every neuron of the population."""
        steps, ids = self.raster_data()
        order = np.argsort(ids, kind="stable")
        bounds = np.searchsorted(ids[order], np.arange(self.population.n + 1))
        s = steps[order]
        return {i: s[bounds[i]:bounds[i + 1]] for i in range(self.population.n)}

    @property
    def count(self) -> np.ndarray:
        """Spike count per neuron, shape ``(n,)``."""
        return np.bincount(self.raster_data()[1], minlength=self.population.n)

    @property
    def num_spikes(self) -> int:
        return int(self.raster_data()[0].size)

    def firing_rates(self, n_steps, dt=0.001) -> np.ndarray:
        """Mean rate per neuron in Hz over ``n_steps`` steps of ``dt`` seconds."""
        from engine.validation import positive

        n_steps = integer(n_steps, "n_steps", bounds=(1, None), allow_float=False)
        return self.count / (n_steps * positive(dt, "dt (s)"))

    def isi(self, neuron) -> np.ndarray:
        """Inter-spike intervals of ``neuron`` in steps."""
        neuron = integer(neuron, "neuron", bounds=(0, self.population.n - 1), allow_float=False)
        steps, ids = self.raster_data()
        return np.diff(steps[ids == neuron])


def _check_record(record, where):
    """``None`` for all neurons, else a non-empty int64 index array (range
    checked against the population by the monitor)."""
    if record is None or record is True:
        return None
    if record is False:
        raise ValueError(f"{where}=False records nothing; use None or True for all neurons")
    if isinstance(record, (numbers.Integral, float)) and not isinstance(record, (bool, np.bool_)):
        record = [record]
    if isinstance(record, np.ndarray):
        if record.ndim != 1 or record.dtype.kind not in "iu":
            raise ArgumentTypeError(f"{where} must be None, True, an index or a list of indices, "
                                    f"got {describe(record)} of dtype {record.dtype}")
        record = record.tolist()
    if not isinstance(record, (list, tuple)) or not record:
        raise ArgumentTypeError(f"{where} must be None, True, an index or a non-empty list of indices, "
                                f"got {describe(record)}")
    idx = [integer(r, f"{where}[{i}]", bounds=(0, None), allow_float=False) for i, r in enumerate(record)]
    return np.asarray(idx, dtype=np.int64)


def _check_variables(variables, where):
    """``None`` (the model's voltage variable) or a list of names."""
    if variables is None:
        return None
    if isinstance(variables, str):
        variables = [variables]
    if not isinstance(variables, (list, tuple)):
        raise ArgumentTypeError(f"{where} must be a list of state-variable names, got {describe(variables)}")
    if not variables:
        raise ValueError(f"{where} must name at least one state variable")
    if len(variables) > _MAX_VARIABLES:
        raise ValueError(f"{where} names {len(variables)} variables, more than {_MAX_VARIABLES}")
    for i, v in enumerate(variables):
        if not isinstance(v, str):
            raise ArgumentTypeError(f"{where}[{i}] must be a state-variable name, got {describe(v)}")
    return list(variables)


@finish
class StateMonitor(Monitor):
    """Traces of state variables after every step.

    ``variables`` are names of the model's state (default: the model's
    voltage variable, ``"v"`` for most models); ``record`` is
    ``None``/``True`` (all neurons), an index or a list of indices.
    ``traces[name]`` has shape ``(n_steps, n_recorded)``; ``t`` in seconds."""

    class Params(param.Parameterized):
        variables = Field(None, check=_check_variables, allow_None=True,
                          doc="state variables to record (empty: the model's voltage)")
        record = Field(None, check=_check_record, allow_None=True,
                       to_json=lambda r: None if r is None else r.tolist(),
                       doc="neuron indices to record (empty: all)")

    _positional = ("variables", "record")
    _attributes = {"record": "record_indices"}

    def _check_consistency(self):
        pop = self.population
        if self.variables is None:
            # the reference's default ["v"], generalised to models whose
            # potential has another name (theta, x, E...)
            self.__dict__["variables"] = [pop.model.voltage_variable]
        valid = list(pop.state)
        for var in self.variables:
            if var not in valid:
                raise ValueError(f"{self._what()} variables: unknown state variable {var!r} for "
                                 f"{pop.model_name}; valid: {', '.join(valid)}")
        rec = self.record_indices
        if rec is not None and rec.size and rec.max() >= pop.n:
            raise ValueError(f"{self._what()} record indices must lie in [0, {pop.n}), got {int(rec.max())}")

    @property
    def n_recorded(self) -> int:
        return self.population.n if self.record_indices is None else int(self.record_indices.size)

    def bytes_per_step(self) -> int:
        return 8 * self.n_recorded * len(self.variables) + 8

    def reset(self):
        self._chunks: dict[str, list[np.ndarray]] = {v: [] for v in self.variables}
        self._steps: list[np.ndarray] = []
        self.dt = None

    def _changed(self, name):
        self.reset()  # traces of other variables / neurons would not line up

    def record(self, chunk):
        self._check_dt(chunk.dt)
        data = chunk.traces.get(self.label)
        if data is None:
            return
        for var in self.variables:
            self._chunks[var].append(data[var])
        self._steps.append(np.arange(chunk.start_step, chunk.start_step + chunk.n_steps, dtype=np.int64))

    @property
    def traces(self) -> dict[str, np.ndarray]:
        out = {}
        for var, parts in self._chunks.items():
            if len(parts) > 1:
                parts[:] = [np.concatenate(parts)]
            out[var] = parts[0] if parts else np.zeros((0, self.n_recorded))
        return out

    @property
    def steps(self) -> np.ndarray:
        if len(self._steps) > 1:
            self._steps[:] = [np.concatenate(self._steps)]
        return self._steps[0] if self._steps else np.zeros(0, np.int64)

    @property
    def t(self) -> np.ndarray:
        """Time of each row of the traces, in seconds."""
        return self.steps * (self.dt or 0.0)

    def __getattr__(self, name):
        # mon.v as a shortcut for mon.traces["v"]
        if name.startswith("_") or name not in self.__dict__.get("variables", ()):
            raise AttributeError(name)
        return self.traces[name]


@finish
class RateMonitor(Monitor):
    """Population rate in Hz, averaged over bins of ``bin_ms`` milliseconds.

    ``rate[k]`` is the mean rate over bin ``k``; only complete bins are
    reported; ``t[k]`` is the bin's start time in seconds.  ``instantaneous``
    holds spikes per step / n for every step."""

    class Params(param.Parameterized):
        bin_ms = Real(10.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms",
                      doc="width of the averaging bins")

    _positional = ("bin_ms",)

    def bytes_per_step(self) -> int:
        return 8

    def reset(self):
        self._rates: list[np.ndarray] = []
        self._start = None
        self.dt = None

    def record(self, chunk):
        self._check_dt(chunk.dt)
        if self._start is None:
            self._start = chunk.start_step
        self._rates.append(chunk.rates[self.population.label])

    @property
    def instantaneous(self) -> np.ndarray:
        if len(self._rates) > 1:
            self._rates[:] = [np.concatenate(self._rates)]
        return self._rates[0] if self._rates else np.zeros(0)

    @property
    def bin_steps(self) -> int:
        if self.dt is None:
            raise ValueError("RateMonitor has not recorded anything yet")
        steps = int(round(self.bin_ms * 1e-3 / self.dt))
        if steps < 1:
            raise ValueError(f"bin_ms={self.bin_ms} is shorter than one step (dt={self.dt} s)")
        return steps

    @property
    def rate(self) -> np.ndarray:
        if self.dt is None:
            return np.zeros(0)
        inst, b = self.instantaneous, self.bin_steps
        k = inst.size // b
        return inst[: k * b].reshape(k, b).mean(axis=1) / self.dt

    @property
    def t(self) -> np.ndarray:
        if self.dt is None:
            return np.zeros(0)
        b = self.bin_steps
        return (self._start + np.arange(self.instantaneous.size // b) * b) * self.dt
