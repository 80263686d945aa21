"""NumPy backend: the reference simulator plus population fusion.

Per-call overhead, not arithmetic, dominates a step of a few thousand neurons
(a NumPy call costs ~1-3 us whatever its size).  So populations that share a
model class and *identical* parameter values, and whose model is
deterministic, are stepped as one block: their state arrays become views into
one contiguous array per variable and ``model.step`` runs once per block.
The result is the same as stepping them one by one (the kernels are
elementwise), only faster -- e.g. the CUBA benchmark's excitatory and
inhibitory populations run as one 4000-neuron block.

Models that draw random numbers (``model.draws_random()``) are never fused,
so each population keeps drawing from its own generator.  Blocks are
recomputed at the start of every ``advance`` when a parameter changed, so a
live edit splits a block at the next advance.  Kernels run on a
:class:`~engine.models.base.ParameterView`, refreshed at every advance.
"""

from __future__ import annotations

import numpy as np

from engine.backends.base import _LOOP_ROWS, Simulator, deliver_rows

__all__ = ["NumpySimulator"]


def _signature(pop):
    """Key under which populations may share a block (None: never fused)."""
    model = pop.model
    try:
        values = tuple(sorted((k, v) for k, v in model.values().items()))
        hash(values)
    except TypeError:
        return None
    if model.draws_random():
        return None
    return (type(model), values, tuple(sorted(pop.state)))


class _Block:
    __slots__ = ("members", "model", "state", "current", "offsets", "pop", "graded", "integer", "n",
                 "kernel", "self_arg", "nz", "dt")


class NumpySimulator(Simulator):
    backend_name = "numpy"

    def _setup_populations(self) -> None:
        self._signatures = None
        self._blocks = []
        self._currents = []
        self._regroup()

    def _prepare(self) -> None:
        sigs = [_signature(p) for p in self.populations]
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
            b.kernel, b.self_arg = type(b.model).step, b.model.view()
        super()._prepare()
        for b in self._blocks:  # members share their parameters, dt included
            b.dt = self._pop_dt[b.members[0]]
        if saved:
            for rt, values in saved:
                if rt.syn_key is not None and rt.out.shape == values.shape:
                    rt.out[...] = values

    def _regroup(self, sigs=None) -> None:
        pops = self.populations
        if sigs is None:
            sigs = [_signature(p) for p in pops]
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

    def _deliver(self, rt, idx, vals, out) -> None:
        # deliver_rows' loop over a few spiking rows, with one np.add.at per row
        # in place of ``out[tgt] += w`` (three NumPy calls): the same sums, as a
        # row's targets are unique
        if vals is None and idx.size <= _LOOP_ROWS:
            ptr, indices, data = rt.indptr_list, rt.indices, rt.data
            add_at = np.add.at
            for i in idx.tolist():
                a, b = ptr[i], ptr[i + 1]
                if b > a:
                    add_at(out, indices[a:b], data[a:b])
            return
        deliver_rows(out, idx, vals, rt.indptr, rt.indptr_list, indices=rt.indices, data=rt.data)

    def _step_populations(self):
        results = self._results
        for b in self._blocks:
            cur = np.rint(b.current).astype(np.int64) if b.integer else b.current
            y = b.kernel(b.self_arg, b.state, cur, b.dt, b.pop.rng)
            # nonzero on a bool array is several times faster than on float64;
            # the methods skip flatnonzero's/searchsorted's Python wrappers (1-D arrays)
            idx = (y if y.dtype == np.bool_ and y.ndim == 1 else np.not_equal(y, 0, out=b.nz)).nonzero()[0]
            members = b.members
            if len(members) == 1:
                results[members[0]] = (idx, y[idx] if b.graded else None)
                continue
            offs = b.offsets
            cuts = idx.searchsorted(offs).tolist() if idx.size else None
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
