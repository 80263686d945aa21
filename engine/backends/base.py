"""The simulator interface shared by every backend, and its graph logic.

``Simulator(network, dt)`` compiles a :class:`~engine.network.Network` and
``advance(n_steps)`` runs it, returning a :class:`Chunk`.  One step ``t``
(previous-spike semantics, identical on every backend):

1. zero every population's input current;
2. add every stimulus (``stim.apply(t, current_of_target)``);
3. add every projection's propagation of its source's spikes from step
   ``t - 1 - delay``; projections with ``tau_syn`` first decay their synaptic
   current by ``exp(-dt/tau_syn)``, add the arriving weights to it, then add
   it to the target's input;
4. step every population (``model.step`` in place) and note which neurons
   spiked;
5. record spikes, per-step population rates and StateMonitor traces;
6. apply plasticity (STDP, see ``engine.network.plasticity``) to plastic
   projections, using this step's pre- and post-synaptic spikes.

After each chunk the network's monitors receive the chunk.  This class does
all of it with NumPy arrays; another backend subclasses it and overrides only
the hooks it needs:

``_setup_populations()``
    allocate ``self._currents[k]`` (input current of population ``k``) and
    describe the memory layout: ``self._block_currents`` (the arrays that
    are zeroed every step) and ``self._pop_slot[k] = (block, lo, hi)`` so
    that ``self._currents[k] is self._block_currents[block][lo:hi]``.  The
    base layout is one block per population; the NumPy backend packs
    populations that it steps together into one block.
``_prepare()``
    called at the start of every ``advance``: re-read everything that may
    have changed since the last one (model parameters, weights, ``tau_syn``,
    delays); the base version recomputes the synaptic decay factors, the
    delay lines and rebinds the step loop's references (:meth:`_bind`).
``_step_populations()``
    step all populations with ``self._currents``; return a list with, per
    population, ``(idx, vals)``: int64 indices of the neurons with non-zero
    output and their values (``None`` for 0/1 spike models).
``_deliver(rt, idx, vals, out)``
    add the CSR rows ``idx`` of projection runtime ``rt`` (scaled by
    ``vals``) into ``out``.
``_read_state(k, var)``
    the array to record for StateMonitors.
``_finish_advance()``
    called at the end of every ``advance`` (e.g. copy device state back into
    ``population.state``).

Synaptic currents of projections with the same ``tau_syn`` into the same
block share one buffer (the dynamics are linear, so this is exact): one decay
and one addition per buffer per step, however many projections feed it.

Only the NumPy arrays of ``self._currents`` and the synaptic buffers are
touched by the graph logic, so a backend with its own arrays (torch,
integers) can convert at those hooks.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from engine.network._warn import warn_at_caller

__all__ = ["Chunk", "Simulator", "deliver_rows"]

#: above this many spiking source rows per step, use one gathered ``add.at``
_LOOP_ROWS = 4


@dataclass
class Chunk:
    """Result of ``Simulator.advance(n_steps)``.

    ``spikes``: ``{population_label: (steps int64 absolute, neuron_ids int64)}``;
    ``traces``: ``{monitor_label: {var: ndarray (n_steps, n_recorded)}}``;
    ``rates``: ``{population_label: ndarray (n_steps,)}`` spikes per step / n
    (for rate models, ``output == "rate"``: the mean output, and no spikes).
    """

    start_step: int
    n_steps: int
    dt: float
    spikes: dict = field(default_factory=dict)
    traces: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)

    @property
    def t_start(self) -> float:
        return self.start_step * self.dt

    @property
    def t_end(self) -> float:
        return (self.start_step + self.n_steps) * self.dt

    @property
    def t(self) -> np.ndarray:
        """Time (s) of every step of the chunk."""
        return (self.start_step + np.arange(self.n_steps)) * self.dt


def row_positions(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions of the CSR entries of ``rows``, concatenated row by row."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)


def deliver_rows(out, idx, vals, indptr, indptr_list, indices, data) -> None:
    """``out[j] += sum_i w_ij * val_i`` over the CSR rows ``i`` in ``idx``."""
    if vals is None and idx.size <= _LOOP_ROWS:
        # a row's targets are unique, so plain fancy-index accumulation is exact
        for i in idx.tolist():
            a, b = indptr_list[i], indptr_list[i + 1]
            if b > a:
                tgt = indices[a:b]
                out[tgt] += data[a:b]
        return
    pos = row_positions(indptr, idx)
    w = data[pos]
    if vals is not None:
        w = w * np.repeat(vals, indptr[idx + 1] - indptr[idx])
    np.add.at(out, indices[pos], w)


class _ProjRT:
    """Per-projection runtime data the step loop reads (attribute access only)."""

    __slots__ = ("proj", "src", "tgt", "delay", "indptr", "indptr_list", "indices", "data",
                 "out", "syn_key")

    def __init__(self, proj, src, tgt):
        self.proj, self.src, self.tgt = proj, src, tgt
        self.indptr = None
        self.out = None       # array the weights are delivered into
        self.syn_key = None   # (block, tau_syn) of its synaptic buffer, None if instantaneous
        self.refresh()

    def refresh(self):
        p = self.proj
        self.delay = p.delay
        if p.indptr is not self.indptr:
            self.indptr = p.indptr
            self.indptr_list = p.indptr.tolist()
        self.indices, self.data = p.indices, p.data


class Simulator:
    """NumPy reference simulator; see the module docstring for the hooks."""

    backend_name = "numpy"

    def __init__(self, network, dt: float):
        if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not math.isfinite(dt) or dt <= 0:
            raise ValueError(f"dt must be a positive finite number of seconds, got {dt!r}")
        self.network = network
        self.dt = float(dt)
        self.dt_ms = self.dt * 1e3
        self.populations = list(network.populations)
        if not self.populations:
            raise ValueError("the network has no population to simulate")
        self.projections = list(network.projections)
        self.stimuli = list(network.stimuli)
        self.monitors = list(network.monitors)
        self._index = {id(p): k for k, p in enumerate(self.populations)}
        for obj in self.projections:
            for role in ("source", "target"):
                if id(getattr(obj, role)) not in self._index:
                    raise ValueError(f"projection {obj!r}: its {role} population "
                                     f"{getattr(obj, role).label!r} is not in this network")
        for obj in self.stimuli:
            tgt = obj.target if obj.target is not None else self.populations[0]
            if id(tgt) not in self._index:
                raise ValueError(f"stimulus {obj!r}: its target population {tgt.label!r} is not in this network")
            obj.check_target(tgt)
        for obj in self.monitors:
            if id(obj.population) not in self._index:
                raise ValueError(f"monitor {obj.label!r}: its population {obj.population.label!r} "
                                 f"is not in this network")
        self.step_count = 0
        self._syn = {}  # (block, tau_syn) -> synaptic current buffer (block-sized)
        self._proj_rt = [_ProjRT(p, self._index[id(p.source)], self._index[id(p.target)])
                         for p in self.projections]
        self._empty = (np.zeros(0, dtype=np.int64), None)
        self._setup_populations()
        self._reset_history()
        self._prepare()

    # -- public API ---------------------------------------------------------------
    @property
    def t(self) -> float:
        """Simulated time so far, in seconds."""
        return self.step_count * self.dt

    def reset(self) -> None:
        """Back to step 0: populations, stimuli, synaptic currents, delay lines, monitors."""
        for pop in self.populations:
            pop.reset_all()
        for stim in self.stimuli:
            stim.reset()
        for mon in self.monitors:
            mon.reset()
        for proj in self.projections:
            proj.reset_plasticity()
        for buf in self._syn.values():
            buf.fill(0.0)
        self._reset_history()
        self.step_count = 0

    def advance(self, n_steps: int) -> "Chunk":
        """Simulate ``n_steps`` steps and return what happened as a :class:`Chunk`."""
        from engine.resources import check_chunk
        from engine.validation import integer

        n_steps = integer(n_steps, "n_steps", bounds=(0, None), allow_float=False)
        check_chunk(self, n_steps)  # before any buffer of the chunk is allocated
        # the network's lock: ``network.set`` from another thread waits for
        # the chunk to end, so live edits apply from the next chunk on
        lock = getattr(self.network, "_lock", None)
        if lock is None:
            return self._advance(n_steps)
        with lock:
            return self._advance(n_steps)

    def _advance(self, n_steps: int) -> "Chunk":
        self._prepare()
        pops = self.populations
        npop = len(pops)
        zero_list = self._block_currents
        stim_calls = self._stim_calls
        proj_rt = self._proj_rt
        hist, hist_len = self._hist, self._hist_len
        deliver = self._deliver
        syn_plan = self._syn_plan
        plastic = self._plastic
        step_pops = self._step_populations
        rates = [np.zeros(n_steps) for _ in pops]
        inv_n = [1.0 / p.n for p in pops]
        spike_t = [[] for _ in pops]
        spike_i = [[] for _ in pops]
        # StateMonitor recording plan: (trace row array, source array, indices or None)
        traces = {}
        rec_plan = []
        for label, k, variables, rec in self._state_monitors:
            n_rec = pops[k].n if rec is None else rec.size
            traces[label] = {}
            for var in variables:
                buf = np.empty((n_steps, n_rec), dtype=self._read_state(k, var).dtype)
                traces[label][var] = buf
                rec_plan.append((buf, k, var, rec))
        t0 = self.step_count
        for s in range(n_steps):
            t = t0 + s
            for cur in zero_list:
                cur.fill(0)
            for apply, out in stim_calls:
                apply(t, out)
            for buf, decay, _ in syn_plan:
                buf *= decay
            for rt in proj_rt:
                idx, vals = hist[rt.src][(t - 1 - rt.delay) % hist_len[rt.src]]
                if idx.size:
                    deliver(rt, idx, vals, rt.out)
            for buf, _, cur in syn_plan:
                cur += buf
            results = step_pops()
            for k in range(npop):
                res = results[k]
                hist[k][t % hist_len[k]] = res
                m = res[0].size
                if m:
                    if res[1] is None:
                        spike_t[k].append(t)
                        spike_i[k].append(res[0])
                        rates[k][s] = m * inv_n[k]
                    else:  # a rate model: its mean output, and no "spikes"
                        rates[k][s] = float(res[1].sum()) * inv_n[k]
            for buf, k, var, rec in rec_plan:
                src = self._read_state(k, var)
                if rec is None:
                    buf[s] = src
                else:
                    np.take(src, rec, out=buf[s])
            for rule, k_src, k_tgt in plastic:
                rule.apply(results[k_src][0], results[k_tgt][0])
            self.step_count = t + 1
        self._finish_advance()
        spikes = {}
        for k, pop in enumerate(pops):
            if spike_i[k]:
                sizes = [a.size for a in spike_i[k]]
                spikes[pop.label] = (np.repeat(np.asarray(spike_t[k], dtype=np.int64), sizes),
                                     np.concatenate(spike_i[k]).astype(np.int64, copy=False))
            else:
                spikes[pop.label] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        chunk = Chunk(start_step=t0, n_steps=n_steps, dt=self.dt, spikes=spikes, traces=traces,
                      rates={pop.label: rates[k] for k, pop in enumerate(pops)})
        for mon in self.monitors:
            mon.record(chunk)
        return chunk

    def live_change_blocker(self, obj, name: str) -> str | None:
        """Why changing parameter ``name`` of network object ``obj`` cannot
        apply at the next chunk of this simulator (``None``: it can)."""
        return None

    def state_snapshot(self) -> dict:
        """What a recompiled simulator needs to continue this one (see ``inherit``)."""
        return {"step_count": self.step_count, "dt": self.dt,
                "hist": {id(p): (self._hist[k], self._hist_len[k]) for k, p in enumerate(self.populations)},
                "syn": {id(rt.proj): rt.out.copy() for rt in self._proj_rt if rt.syn_key is not None}}

    def inherit(self, snapshot: dict) -> None:
        """Continue from another simulator of the same network (after objects
        were added): step count, recent spikes (delay lines), synaptic currents."""
        if snapshot["dt"] != self.dt:
            raise ValueError(f"cannot continue a run with dt={snapshot['dt']} at dt={self.dt}")
        self.step_count = snapshot["step_count"]
        for k, pop in enumerate(self.populations):
            old = snapshot["hist"].get(id(pop))
            if old is None:
                continue
            ring, length = old
            t = self.step_count
            for back in range(1, min(length, self._hist_len[k]) + 1):
                self._hist[k][(t - back) % self._hist_len[k]] = ring[(t - back) % length]
        for rt in self._proj_rt:
            buf = snapshot["syn"].get(id(rt.proj))
            # projections sharing a buffer each carry the shared sum: assigning it twice is exact
            if buf is not None and rt.syn_key is not None and buf.shape == rt.out.shape:
                rt.out[...] = buf

    # -- hooks ----------------------------------------------------------------------
    def _setup_populations(self) -> None:
        self._currents = [np.zeros(p.n, dtype=np.float64) for p in self.populations]
        self._block_currents = list(self._currents)
        self._pop_slot = [(k, 0, p.n) for k, p in enumerate(self.populations)]

    def _prepare(self) -> None:
        """Re-read parameters that may have changed since the last advance."""
        # synaptic buffers, one per (block, tau_syn); a buffer whose key survives
        # keeps its current, a new key (e.g. tau_syn edited live) starts at zero
        old, syn = self._syn, {}
        for rt in self._proj_rt:
            rt.refresh()
            tau = rt.proj.tau_syn
            block, lo, hi = self._pop_slot[rt.tgt]
            if tau is None:
                rt.syn_key, rt.out = None, self._currents[rt.tgt]
                continue
            key = (block, tau)
            if key not in syn:
                size = self._block_currents[block].shape[0]
                prev = old.get(key)
                syn[key] = prev if prev is not None and prev.shape == (size,) else np.zeros(size)
            rt.syn_key, rt.out = key, syn[key][lo:hi]
        self._syn = syn
        self._syn_plan = [(buf, math.exp(-self.dt_ms / key[1]), self._block_currents[key[0]])
                          for key, buf in syn.items()]
        self._prepare_plasticity()
        self._pop_dt = [self._population_dt(p) for p in self.populations]
        needed = [1] * len(self.populations)
        for rt in self._proj_rt:
            needed[rt.src] = max(needed[rt.src], rt.delay + 1)
        if needed != self._hist_len:
            self._resize_history(needed)
        self._bind()

    def _population_dt(self, pop) -> float:
        """The step (ms) ``pop``'s neurons integrate with: the run's, unless the
        population sets the reference's ``dt`` parameter (SPEC 2.3), which is
        used as given, with one warning per population and pair of steps."""
        own = pop.model.dt
        if own is None:
            return self.dt_ms
        own = float(own)
        if pop.model.uses_dt and not math.isclose(own, self.dt_ms, rel_tol=1e-9, abs_tol=0.0):
            warned = pop.__dict__.setdefault("_dt_warned", set())
            if (own, self.dt_ms) not in warned:
                warned.add((own, self.dt_ms))
                warn_at_caller(f"population {pop.label!r}: its dt={own:g} ms differs from the run's step "
                               f"{self.dt_ms:g} ms; its neurons integrate with dt={own:g} ms per step "
                               f"(remove 'dt' from its params to follow the run)")
        return own

    def _prepare_plasticity(self) -> None:
        """(Re)build the plasticity helpers; rule parameters are re-read every
        advance, the column index only when the connectivity arrays changed."""
        from engine.network.plasticity import STDPRuntime

        cache = getattr(self, "_plastic_cache", {})
        self._plastic, self._plastic_cache = [], {}
        for rt in self._proj_rt:
            proj = rt.proj
            if proj.plasticity is None:
                continue
            old = cache.get(id(proj))
            if old is not None and old.indices is proj.indices and old.indptr is proj.indptr:
                rule = proj.plasticity
                old.a_plus, old.a_minus, old.w_min, old.w_max = rule.a_plus, rule.a_minus, rule.w_min, rule.w_max
                old.dec_pre = math.exp(-self.dt_ms / rule.tau_plus)
                old.dec_post = math.exp(-self.dt_ms / rule.tau_minus)
                helper = old
            else:
                helper = STDPRuntime(proj, self.dt_ms)
            self._plastic_cache[id(proj)] = helper
            self._plastic.append((helper, rt.src, rt.tgt))

    def _bind(self) -> None:
        """Rebuild the step loop's direct references (stimuli -> current arrays,
        StateMonitor plan)."""
        first = self.populations[0]
        self._stim_calls = []
        for stim in self.stimuli:
            tgt = stim.target if stim.target is not None else first
            if id(tgt) not in self._index:
                raise ValueError(f"stimulus {stim!r}: its target population {tgt.label!r} is not in this network")
            stim.check_target(tgt)
            stim.bind(self.dt)  # parameters and the step (s) for this chunk
            self._stim_calls.append((stim.apply, self._currents[self._index[id(tgt)]]))
        from engine.network.monitors import StateMonitor  # network imports backends lazily

        self._state_monitors = [(m.label, self._index[id(m.population)], list(m.variables), m.record_indices)
                                for m in self.monitors if isinstance(m, StateMonitor)]

    def _step_populations(self):
        out = []
        for pop, cur, dt in zip(self.populations, self._currents, self._pop_dt):
            if pop.model.integer:
                cur = np.rint(cur).astype(np.int64)
            y = pop.model.step(pop.state, cur, dt, pop.rng)
            idx = np.flatnonzero(y != 0)  # bool nonzero is much faster than float
            out.append((idx, None if pop.model.output == "spikes" else y[idx]))
        return out

    def _deliver(self, rt, idx, vals, out) -> None:
        deliver_rows(out, idx, vals, rt.indptr, rt.indptr_list, rt.indices, rt.data)

    def _read_state(self, k, var):
        return self.populations[k].state[var]

    def _finish_advance(self) -> None:
        pass

    # -- delay lines -------------------------------------------------------------------
    def _reset_history(self) -> None:
        lens = [1] * len(self.populations)
        for rt in self._proj_rt:
            lens[rt.src] = max(lens[rt.src], rt.delay + 1)
        self._hist_len = lens
        self._hist = [[self._empty] * n for n in lens]

    def _resize_history(self, lens) -> None:
        t = self.step_count
        new = [[self._empty] * n for n in lens]
        for k, n in enumerate(lens):
            old, old_n = self._hist[k], self._hist_len[k]
            for back in range(1, min(n, old_n) + 1):
                new[k][(t - back) % n] = old[(t - back) % old_n]
        self._hist, self._hist_len = new, lens
