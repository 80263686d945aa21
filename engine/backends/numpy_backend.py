"""NumPy backend: the reference simulator plus population fusion.

Per-call overhead, not arithmetic, dominates a step of a few thousand neurons
(a NumPy call costs ~1-3 us whatever its size).  So populations that share a
model class and *identical* parameter values, and whose model is
deterministic, are stepped as one block: their state arrays become views into
one contiguous array per variable and ``model.step`` runs once per block.
The result is the same as stepping them one by one (the kernels are
elementwise), only faster -- e.g. the CUBA benchmark's excitatory and
inhibitory populations run as one 4000-neuron block.

Stochastic models are never fused, so each population keeps drawing from its
own generator.  A model counts as deterministic when its class says
``stochastic = False``, or (without that attribute) when no parameter named
``*noise*`` is non-zero, it has no ``seed``/``entropy`` parameter and a
one-step dry run does not draw from the generator (:func:`is_deterministic`).  Blocks are recomputed at the start of every ``advance`` when a
parameter changed, so a live edit splits a block at the next advance.
"""

from __future__ import annotations

import numpy as np

from engine.backends.base import Simulator

__all__ = ["NumpySimulator", "is_deterministic", "ParamSnapshot"]


class ParamSnapshot:
    """Plain-attribute stand-in for a model declaration during one ``advance``.

    Reading a ``param`` parameter costs microseconds (descriptor machinery);
    a kernel reading six of them per step spends more time there than in its
    arithmetic.  The snapshot copies the parameter values into its own
    ``__dict__`` and forwards everything else (methods, class constants) to
    the model, and the kernel is called as ``type(model).step(snapshot, ...)``.
    It is refreshed at every ``advance``, so live edits apply at the next one.
    """

    def __init__(self, model):
        self.__dict__.update(model.values())
        self.__dict__["_model"] = model

    def __getattr__(self, name):
        return getattr(self.__dict__["_model"], name)


def _snapshot_works(model, dt) -> bool:
    """Dry-run one neuron with the model and with a snapshot; use the snapshot
    only when it runs and gives identical results (a kernel using zero-argument
    ``super()`` or ``isinstance(self, ...)`` would not)."""
    before = model.values()
    try:
        st_a, st_b = model.initial_state(1), model.initial_state(1)
        cur = np.ones(1, dtype=np.int64 if model.integer else np.float64)
        ya = model.step(st_a, cur, dt, np.random.default_rng(0))
        yb = type(model).step(ParamSnapshot(model), st_b, cur, dt, np.random.default_rng(0))
        same = bool(np.array_equal(ya, yb, equal_nan=True)
                    and all(np.array_equal(st_a[k], st_b[k], equal_nan=True) for k in st_a))
    except Exception:  # any failure just means "call the model directly"
        same = False
    if model.values() != before:
        # a kernel that writes its own parameters cannot run on a snapshot
        # (and must not keep the dry run's writes)
        model.param.update(**before)
        return False
    return same


class _RngSpy:
    """A generator stand-in that notes whether a kernel drew from it."""

    def __init__(self):
        self.used = False
        self._rng = np.random.default_rng(0)

    def __getattr__(self, name):
        self.used = True
        return getattr(self._rng, name)


def is_deterministic(model) -> bool:
    """Whether ``model.step`` never draws random numbers (with these parameters).

    A class attribute ``stochastic`` decides when present.  Otherwise the model
    must have no non-zero ``*noise*`` parameter and no ``seed``/``entropy``
    parameter, and a one-step dry run on two fresh neurons must not touch the
    generator."""
    flag = getattr(type(model), "stochastic", None)
    if isinstance(flag, bool):
        return not flag
    for name, value in model.values().items():
        lname = name.lower()
        if "seed" in lname or "entropy" in lname:
            return False
        if "noise" in lname and value not in (0, 0.0, None, False):
            return False
    spy = _RngSpy()
    before = model.values()
    try:
        state = model.initial_state(2)
        cur = np.ones(2, dtype=np.int64 if model.integer else np.float64)
        model.step(state, cur, model.default_dt, spy)
        ok = not spy.used
    except Exception:
        ok = False
    if model.values() != before:  # never keep a dry run's writes to parameters
        model.param.update(**before)
        ok = False
    return ok


def _signature(pop, cache):
    """Key under which populations may share a block (None: never fused)."""
    model = pop.model
    try:
        values = tuple(sorted((k, v) for k, v in model.values().items()))
        hash(values)
    except TypeError:
        return None
    key = (type(model), values)
    if key not in cache:
        cache[key] = is_deterministic(model)
    if not cache[key]:
        return None
    return (type(model), values, tuple(sorted(pop.state)))


class _Block:
    __slots__ = ("members", "model", "state", "current", "offsets", "pop", "graded", "integer", "n",
                 "kernel", "self_arg", "nz")


class NumpySimulator(Simulator):
    backend_name = "numpy"

    def _setup_populations(self) -> None:
        self._signatures = None
        self._det_cache = {}
        self._blocks = []
        self._currents = []
        self._regroup()

    def _prepare(self) -> None:
        sigs = [_signature(p, self._det_cache) for p in self.populations]
        saved = None
        if sigs != self._signatures:
            # synaptic buffers are laid out per block: carry each projection's
            # current over to the new layout (projections sharing a buffer carry
            # the shared sum, so writing it back per projection is exact)
            saved = [(rt, rt.out.copy()) for rt in self._proj_rt if rt.syn_key is not None]
            self._regroup(sigs)
            self._syn = {}
        for b in self._blocks:
            b.model = b.pop.model  # the population's model object may have been replaced
            kernel = type(b.model).step
            if _snapshot_works(b.model, self.dt_ms):
                b.kernel, b.self_arg = kernel, ParamSnapshot(b.model)
            else:
                b.kernel, b.self_arg = kernel, b.model
        super()._prepare()
        if saved:
            for rt, values in saved:
                if rt.syn_key is not None and rt.out.shape == values.shape:
                    rt.out[...] = values

    def _regroup(self, sigs=None) -> None:
        pops = self.populations
        if sigs is None:
            sigs = [_signature(p, self._det_cache) for p in pops]
        order: dict = {}
        for k, sig in enumerate(sigs):
            key = ("solo", k) if sig is None else sig
            order.setdefault(key, []).append(k)
        blocks = []
        currents = [None] * len(pops)
        slots = [None] * len(pops)
        for members in order.values():
            b = _Block()
            b.members = members
            first = pops[members[0]]
            b.model = first.model
            b.pop = first  # its rng is looked up per step: reset_all replaces it
            b.graded = first.model.output != "spikes"
            b.integer = bool(first.model.integer)
            sizes = [pops[k].n for k in members]
            b.n = sum(sizes)
            b.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            b.current = np.zeros(b.n, dtype=np.float64)
            b.nz = np.zeros(b.n, dtype=bool)
            if len(members) == 1:
                b.state = first.state
            else:
                # one contiguous array per variable; populations keep views into it
                b.state = {var: np.concatenate([pops[k].state[var] for k in members]) for var in first.state}
                for j, k in enumerate(members):
                    lo, hi = b.offsets[j], b.offsets[j + 1]
                    for var in first.state:
                        pops[k].state[var] = b.state[var][lo:hi]
            for j, k in enumerate(members):
                lo, hi = int(b.offsets[j]), int(b.offsets[j + 1])
                currents[k] = b.current[lo:hi]
                slots[k] = (len(blocks), lo, hi)
            blocks.append(b)
        self._blocks = blocks
        self._currents = currents
        self._block_currents = [b.current for b in blocks]
        self._pop_slot = slots
        self._signatures = sigs
        self._results = [None] * len(pops)
        self._bounds = [b.offsets[1:-1] for b in blocks]

    def _step_populations(self):
        dt = self.dt_ms
        results = self._results
        for b in self._blocks:
            cur = np.rint(b.current).astype(np.int64) if b.integer else b.current
            y = b.kernel(b.self_arg, b.state, cur, dt, b.pop.rng)
            # nonzero on a bool array is several times faster than on float64
            idx = np.flatnonzero(np.not_equal(y, 0, out=b.nz))
            members = b.members
            if len(members) == 1:
                results[members[0]] = (idx, y[idx] if b.graded else None)
                continue
            offs = b.offsets
            cuts = np.searchsorted(idx, offs).tolist() if idx.size else None
            for j, k in enumerate(members):
                if cuts is None or cuts[j] == cuts[j + 1]:
                    results[k] = self._empty
                else:
                    part = idx[cuts[j]:cuts[j + 1]]
                    vals = y[part] if b.graded else None
                    results[k] = (part - offs[j], vals)
        return results


def factory(network, dt):
    return NumpySimulator(network, dt)
