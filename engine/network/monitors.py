"""Monitors: network objects that record what a population did.

A simulator hands every finished chunk (see ``engine.backends.base.Chunk``) to
``monitor.record(chunk)``; monitors only keep data, they never steal time from
the step loop.  Time stamps are step indices (``steps``) or seconds
(``t = step * dt``), where step ``t`` is the step whose update produced the
recorded value or spike.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from engine.network.population import Population, check_label

__all__ = ["Monitor", "SpikeMonitor", "StateMonitor", "RateMonitor"]


class Monitor:
    """Base class: the monitored ``population`` and an optional ``label``."""

    def __init__(self, population, label=None):
        if not isinstance(population, Population):
            raise TypeError(f"{type(self).__name__} needs a Population, got {type(population).__name__}")
        self.population = population
        self.label = None if label is None else check_label(label)
        self.dt = None
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def record(self, chunk) -> None:
        raise NotImplementedError

    def _check_dt(self, dt: float) -> None:
        if self.dt is not None and self.dt != dt:
            raise ValueError(f"{type(self).__name__} {self.label!r} recorded with dt={self.dt} and now "
                             f"dt={dt}; reset the network before changing dt")
        self.dt = dt

    def params(self) -> dict:
        return {}


class SpikeMonitor(Monitor):
    """Every spike of ``population``.

    ``spike_times``/``spike_ids``: step and neuron of each spike (time order);
    ``spike_trains``: ``{neuron: steps}``; ``count``: spikes per neuron."""

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
        if isinstance(n_steps, (bool, np.bool_)) or not isinstance(n_steps, numbers.Integral) or n_steps <= 0:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
        if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not math.isfinite(dt) or dt <= 0:
            raise ValueError(f"dt must be a positive number of seconds, got {dt!r}")
        return self.count / (int(n_steps) * float(dt))

    def isi(self, neuron) -> np.ndarray:
        """Inter-spike intervals of ``neuron`` in steps."""
        if isinstance(neuron, (bool, np.bool_)) or not isinstance(neuron, numbers.Integral) \
                or not 0 <= neuron < self.population.n:
            raise ValueError(f"neuron must be an index in [0, {self.population.n}), got {neuron!r}")
        steps, ids = self.raster_data()
        return np.diff(steps[ids == neuron])


def _record_indices(record, n):
    """``None`` for all neurons, else a sorted-as-given int64 index array."""
    if record is None or record is True:
        return None
    if record is False:
        raise ValueError("record=False records nothing; use record=None or True for all neurons")
    if isinstance(record, (bool, np.bool_)):
        raise TypeError("record must be None, True, an int or a list of ints")
    if isinstance(record, numbers.Integral):
        record = [record]
    try:
        idx = np.asarray(record)
    except (TypeError, ValueError):
        raise TypeError("record must be None, True, an int or a list of ints") from None
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"record must be None, True, an int or a non-empty list of ints, got {record!r}")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"record indices must lie in [0, {n}), got min {idx.min()} max {idx.max()}")
    return idx.astype(np.int64)


class StateMonitor(Monitor):
    """Traces of state variables after every step.

    ``variables`` are names of the model's state (default: the model's
    voltage variable, ``"v"`` for most models); ``record`` is
    ``None``/``True`` (all neurons), an index or a list of indices.
    ``traces[name]`` has shape ``(n_steps, n_recorded)``; ``t`` in seconds."""

    def __init__(self, population, variables=None, record=None, label=None):
        if not isinstance(population, Population):
            raise TypeError(f"StateMonitor needs a Population, got {type(population).__name__}")
        if variables is None:
            # the reference's default ["v"], generalised to models whose
            # potential has another name (theta, x, E...)
            variables = [population.model.voltage_variable]
        if isinstance(variables, str):
            variables = [variables]
        valid = list(population.state)
        try:
            variables = list(variables)
        except TypeError:
            raise TypeError("variables must be a list of state-variable names") from None
        if not variables:
            raise ValueError(f"variables must name at least one state variable; valid: {', '.join(valid)}")
        for var in variables:
            if var not in valid:
                raise ValueError(f"unknown state variable {var!r} for {population.model_name}; "
                                 f"valid: {', '.join(valid)}")
        self.variables = variables
        self.record_indices = _record_indices(record, population.n)
        super().__init__(population, label)

    @property
    def n_recorded(self) -> int:
        return self.population.n if self.record_indices is None else int(self.record_indices.size)

    def reset(self):
        self._chunks: dict[str, list[np.ndarray]] = {v: [] for v in self.variables}
        self._steps: list[np.ndarray] = []
        self.dt = None

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

    def params(self):
        rec = None if self.record_indices is None else self.record_indices.tolist()
        return {"variables": list(self.variables), "record": rec}


class RateMonitor(Monitor):
    """Population rate in Hz, averaged over bins of ``bin_ms`` milliseconds.

    ``rate[k]`` is the mean rate over bin ``k``; only complete bins are
    reported; ``t[k]`` is the bin's start time in seconds.  ``instantaneous``
    holds spikes per step / n for every step."""

    def __init__(self, population, bin_ms=10, label=None):
        if isinstance(bin_ms, (bool, np.bool_)) or not isinstance(bin_ms, numbers.Real) \
                or not math.isfinite(bin_ms) or bin_ms <= 0:
            raise ValueError(f"bin_ms must be a positive number of milliseconds, got {bin_ms!r}")
        self.bin_ms = float(bin_ms)
        super().__init__(population, label)

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

    def params(self):
        return {"bin_ms": self.bin_ms}
