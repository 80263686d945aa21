"""``Network``: a container of populations, projections, stimuli and monitors
that compiles itself for a backend and runs.

``run`` is a loop over the compiled simulator's ``advance`` (the app's live
runner is the same loop in a worker thread); a second ``run`` continues where
the first stopped.  Changing ``dt`` between runs needs ``reset()`` first.
"""

from __future__ import annotations

import sys
import threading

from engine.network.monitors import Monitor
from engine.network.population import Population
from engine.network.projection import Projection
from engine.network.stimuli import Stimulus

__all__ = ["Network"]

#: steps simulated per ``advance`` call inside ``run``
RUN_CHUNK_STEPS = 1000
#: refuse runs longer than this many steps (a unit mix-up such as dt in ms)
MAX_RUN_STEPS = 1_000_000_000


def _unique(label: str, taken: set) -> str:
    if label not in taken:
        return label
    i = 1
    while f"{label}_{i}" in taken:
        i += 1
    return f"{label}_{i}"


class Network:
    """Populations, projections, stimuli and monitors, simulated together.

    ``Network(*objects, seed=42)``: populations get independent generators
    seeded from ``(seed, index)``, so a network built the same way runs the
    same way."""

    def __init__(self, *objects, seed=42):
        from engine.validation import integer

        self.seed = integer(seed, "seed", bounds=(0, None), allow_float=False)
        self.populations: list[Population] = []
        self.projections: list[Projection] = []
        self.stimuli: list[Stimulus] = []
        self.monitors: list[Monitor] = []
        # surrogate choice for to_torch, as in the document's "training" entry
        # (engine.training.spec); a population's own override is its .surrogate
        self.training: dict | None = None
        self._version = 0
        # held by a simulator for the length of each chunk, so that ``set``
        # from another thread (the app's live edits) applies between chunks
        self._lock = threading.RLock()
        self._sim = None
        self._sim_key = None
        # populations first, so Network(proj, pop_a, pop_b) works too
        objs = list(objects)
        for obj in objs:
            if isinstance(obj, Population):
                self.add(obj)
        for obj in objs:
            if not isinstance(obj, Population):
                self.add(obj)

    # a copy (copy.deepcopy) gets a lock of its own (a lock cannot be copied)
    # and no simulator: the old one indexes the original objects by identity,
    # so the copy compiles afresh, from its copied states, at step 0
    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_lock", None)
        state["_sim"] = state["_sim_key"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # -- building -----------------------------------------------------------------
    def add(self, *objects):
        """Add populations, projections, stimuli or monitors (anything else:
        ``TypeError``); returns the last object added."""
        last = None
        for obj in objects:
            self._add_one(obj)
            last = obj
        return last

    def _add_one(self, obj) -> None:
        if self.contains(obj):
            raise ValueError(f"{obj!r} is already in this network")
        from engine import resources

        if isinstance(obj, (Population, Projection, Stimulus)):
            resources.check_network(self, extra=_object_bytes(obj),
                                    what=f"the network with {type(obj).__name__} {obj.label!r} added")
        if isinstance(obj, Population):
            labels = {p.label for p in self.populations}
            if obj.label in labels:
                if obj._label_given:
                    raise ValueError(f"population label {obj.label!r} is already used in this network")
                obj.label = _unique(obj.label, labels)
            obj._set_seed(self.seed, len(self.populations))
            self.populations.append(obj)
        elif isinstance(obj, Projection):
            for role in ("source", "target"):
                pop = getattr(obj, role)
                if not self._has_population(pop):
                    raise ValueError(f"projection {role} population {pop.label!r} is not in this network; "
                                     f"add it before the projection")
            labels = {p.label for p in self.projections if p.label}
            obj.label = _unique(obj.label or f"{obj.source.label}->{obj.target.label}", labels)
            self.projections.append(obj)
        elif isinstance(obj, Stimulus):
            if obj.target is not None and not self._has_population(obj.target):
                raise ValueError(f"stimulus target population {obj.target.label!r} is not in this network")
            labels = {s.label for s in self.stimuli}
            obj.label = _unique(obj.label or type(obj).__name__, labels)
            self.stimuli.append(obj)
        elif isinstance(obj, Monitor):
            if not self._has_population(obj.population):
                raise ValueError(f"{type(obj).__name__} population {obj.population.label!r} "
                                 f"is not in this network")
            labels = {m.label for m in self.monitors}
            obj.label = _unique(obj.label or f"{type(obj).__name__}_{obj.population.label}", labels)
            self.monitors.append(obj)
        else:
            raise TypeError(f"Network accepts Population, Projection, stimulus and monitor objects, "
                            f"got {type(obj).__name__}")
        self._version += 1

    def _has_population(self, pop) -> bool:
        return any(p is pop for p in self.populations)

    def contains(self, obj) -> bool:
        return any(o is obj for o in self.objects)

    __contains__ = contains

    @property
    def objects(self) -> list:
        return [*self.populations, *self.projections, *self.stimuli, *self.monitors]

    def find(self, label: str, kind: str | None = None):
        """The population, projection, stimulus or monitor labelled ``label``
        (``kind`` = ``"population"``, ``"projection"``, ``"stimulus"`` or
        ``"monitor"`` when a label is used by objects of several kinds)."""
        groups = {"population": self.populations, "projection": self.projections,
                  "stimulus": self.stimuli, "monitor": self.monitors}
        if kind is not None and kind not in groups:
            raise ValueError(f"kind must be one of {', '.join(groups)}, got {kind!r}")
        found = [(k, o) for k, objs in groups.items() if kind in (None, k) for o in objs if o.label == label]
        if not found:
            have = ", ".join(repr(o.label) for objs in groups.values() for o in objs)
            raise ValueError(f"no {kind or 'object'} labelled {label!r} in this network (have: {have or 'none'})")
        if len(found) > 1:
            raise ValueError(f"label {label!r} names a {' and a '.join(k for k, _ in found)}; "
                             f"pass kind= to choose")
        return found[0][1]

    def set(self, label: str, name: str, value, *, kind: str | None = None):
        """Change parameter ``name`` of the object labelled ``label`` (a
        population's model parameter, or a declared parameter of a
        projection, stimulus or monitor), validated first; returns the value
        stored.  While a simulator runs in another thread the change waits
        for the current chunk to end, so it applies from the next chunk on.
        Changing a projection's weight spec, probability, topology, seed,
        threshold or self-connection flag regenerates its synapses."""
        obj = self.find(label, kind)
        why = self._blocker(obj, name)
        if why:
            raise ValueError(f"{label!r} {name} cannot change while this network runs on the "
                             f"{self._sim.backend_name} backend: {why}; call network.reset() first")
        with self._lock:
            if isinstance(obj, Population):
                return obj.set_param(name, value)
            obj.set_param(name, value)
            return obj.get_param(name)

    def live_change_blocker(self, label: str, name: str, *, kind: str | None = None) -> str | None:
        """Why ``set(label, name, ...)`` would be refused now (a compiled
        simulator that cannot take the change at its next chunk), else ``None``."""
        return self._blocker(self.find(label, kind), name)

    def _blocker(self, obj, name):
        sim = self._sim
        if sim is None or sim.step_count == 0:
            return None
        check = getattr(sim, "live_change_blocker", None)
        return check(obj, name) if check is not None else None

    def population(self, label: str) -> Population:
        for p in self.populations:
            if p.label == label:
                return p
        raise KeyError(f"no population labelled {label!r}; have {', '.join(p.label for p in self.populations)}")

    # -- running --------------------------------------------------------------------
    def simulator(self, backend: str = "auto", dt: float = 0.001):
        """The compiled simulator for ``backend``/``dt`` (compiled on demand,
        recompiled after objects were added, continuing from the current step)."""
        from engine.backends import compile as compile_network, resolve_backend

        from engine import resources
        from engine.validation import positive

        dt = positive(dt, "dt (s)")
        name = resolve_backend(backend, self)  # "auto" depends on the network (engine.backends.auto_backend)

        for pop in self.populations:
            resources.check_step(pop, float(dt) * 1e3)
        sim = self._sim
        if sim is not None and sim.dt != dt and sim.step_count > 0:
            raise ValueError(f"dt changed from {sim.dt} s to {dt} s between runs; call "
                             f"network.reset() before running with a different dt")
        key = (name, dt, self._version)
        if sim is None or self._sim_key != key:
            new = compile_network(self, name, dt)
            if sim is not None and sim.step_count > 0:
                new.inherit(sim.state_snapshot())
            self._sim, self._sim_key = new, key
        return self._sim

    @property
    def step_count(self) -> int:
        return 0 if self._sim is None else self._sim.step_count

    @property
    def t(self) -> float:
        """Simulated time in seconds."""
        return 0.0 if self._sim is None else self._sim.t

    def run(self, duration, dt=0.001, progress=False, backend="auto") -> dict:
        """Simulate ``duration`` seconds in steps of ``dt`` seconds
        (``n_steps = round(duration / dt)``).  Returns ``{"n_steps", "t",
        "spike_counts": {label: spikes during this run}}``."""
        from engine.validation import positive

        duration, dt = positive(duration, "duration (s)"), positive(dt, "dt (s)")
        n_steps = round(duration / dt) if duration / dt < 2 * MAX_RUN_STEPS else MAX_RUN_STEPS + 1
        if n_steps < 1:
            raise ValueError(f"duration={duration} s is shorter than half a step (dt={dt} s)")
        if n_steps > MAX_RUN_STEPS:
            raise ValueError(f"duration/dt = {n_steps} steps exceeds the limit of {MAX_RUN_STEPS}; "
                             f"are duration and dt both in seconds?")
        from engine import resources

        resources.check_run(self, n_steps, RUN_CHUNK_STEPS)
        sim = self.simulator(backend, float(dt))
        counts = {p.label: 0 for p in self.populations}
        done = 0
        while done < n_steps:
            k = min(RUN_CHUNK_STEPS, n_steps - done)
            chunk = sim.advance(k)
            for label, (steps, _) in chunk.spikes.items():
                counts[label] += int(steps.size)
            done += k
            if progress:
                _progress(done, n_steps)
        if progress:
            sys.stderr.write("\n")
            sys.stderr.flush()
        return {"n_steps": n_steps, "t": sim.t, "spike_counts": counts}

    def reset(self) -> None:
        """Back to step 0: population states, stimuli, synapses and monitors.
        The next run may use any ``dt``."""
        if self._sim is not None:
            self._sim.reset()
        else:
            for p in self.populations:
                p.reset_all()
            for s in self.stimuli:
                s.reset()
            for m in self.monitors:
                m.reset()
            for pr in self.projections:
                pr.reset_plasticity()
        self._sim, self._sim_key = None, None

    # -- conversion ------------------------------------------------------------------
    def to_torch(self, surrogate_fn=None, **kwargs):
        """A differentiable ``torch.nn.Module`` of this network (see
        ``engine.training.bridge``); imports torch only when called.  Without
        ``surrogate_fn`` each population trains with its ``surrogate``
        override, else :attr:`training`, else ``atan_surrogate``."""
        from engine.training.bridge import network_to_torch

        return network_to_torch(self, surrogate_fn=surrogate_fn, **kwargs)

    def to_dict(self, include_state: bool = True) -> dict:
        from engine.network.io import network_to_dict

        return network_to_dict(self, include_state=include_state)

    @classmethod
    def from_dict(cls, doc: dict) -> "Network":
        from engine.network.io import network_from_dict

        return network_from_dict(doc)

    def save(self, path, include_state: bool = True) -> None:
        from engine.network.io import save_network

        save_network(self, path, include_state=include_state)

    @classmethod
    def load(cls, path) -> "Network":
        from engine.network.io import load_network

        return load_network(path)

    def save_nir(self, path, dt: float = 0.001, **kwargs) -> None:
        """Write a ``.nir`` (HDF5) file; see ``engine.interop.nir.to_nir``."""
        from engine.interop.nir import write_nir

        write_nir(self, path, dt=dt, **kwargs)

    @classmethod
    def load_nir(cls, path, dt=None, **kwargs) -> "Network":
        """Read a ``.nir`` file; see ``engine.interop.nir.from_nir``."""
        from engine.interop.nir import read_nir

        return read_nir(path, dt=dt, **kwargs).network

    def __repr__(self) -> str:
        return (f"Network({len(self.populations)} populations, {len(self.projections)} projections, "
                f"{len(self.stimuli)} stimuli, {len(self.monitors)} monitors, seed={self.seed})")


def _object_bytes(obj) -> int:
    """Memory an object about to be added holds (for the network's budget check)."""
    from engine import resources

    if isinstance(obj, Population):
        return resources.population_bytes(len(obj.state), obj.n)
    if isinstance(obj, Projection):
        return obj.indptr.nbytes + obj.indices.nbytes + obj.data.nbytes
    return getattr(getattr(obj, "values", None), "nbytes", 0)


def _progress(done: int, total: int, width: int = 30) -> None:
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done / total:5.1f}% "
                     f"({done}/{total} steps)")
    sys.stderr.flush()
