"""Compiled CPU backend (numba): ``Network.run(backend="compiled")``.

The whole step loop of a chunk runs in one compiled function generated for
the network's shape (:mod:`engine.backends.compiled_codegen`): stimuli,
exponential synapses, CSR delivery with delays, every population's update
(each model's one form, compiled per neuron with scalars), spike and rate
recording, StateMonitor traces and STDP.  Python runs once per chunk: it
re-reads parameters, weights and delays (so live edits apply at the next
chunk, as on the other backends), precomputes the stimulus currents of the
chunk, calls the kernel and hands the chunk to the monitors.

Exactness: for deterministic networks the spikes are the NumPy backend's --
the kernel performs the same float64 operations in the same order, including
the order in which synaptic buffers and arrivals are summed (NumPy's fused
population blocks are mirrored).  Transcendental functions of the state
(``exp`` in ExpIF/AdEx, ``tanh`` in Morris-Lecar...) come from the C library
here and from NumPy's vectorised code there and may differ by an ulp.  Noise
is drawn from numba's generator, seeded per chunk from the population's own
generator: reproducible, with NumPy's statistics, but not NumPy's stream.

Compilation is cached on disk (numba ``cache=True`` on the generated module,
written to :func:`cache_dir`), so a second start of the same network shape
loads machine code; :attr:`CompiledSimulator.compile_seconds` reports the
compile (or cache load) time of the simulator, apart from run time.

May import: numpy, numba, ``engine.backends``, ``engine.models``.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import time
from collections import namedtuple

import numpy as np

from engine.backends import register_backend
from engine.backends.base import Chunk, Simulator

__all__ = ["CompiledSimulator", "factory", "cache_dir"]

_modules: dict = {}


def cache_dir() -> str:
    """Where generated kernels (and numba's cache next to them) live:
    ``$NEUROCORE_CACHE_DIR``, else ``~/.cache/neurocore/compiled``."""
    root = os.environ.get("NEUROCORE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "neurocore")
    path = os.path.join(root, "compiled")
    try:
        os.makedirs(path, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    # a read-only home (some CI runners, containers): a per-user temporary folder
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"neurocore-compiled-{os.getuid() if hasattr(os, 'getuid') else 0}")
    os.makedirs(path, exist_ok=True)
    return path


def _load_kernel(text: str, digest: str):
    mod = _modules.get(digest)
    if mod is not None:
        return mod
    name = f"neurocore_kernel_{digest}"
    path = os.path.join(cache_dir(), name + ".py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)  # atomic: parallel starts never read half a file
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    _modules[digest] = mod
    return mod


def _numpy_groups(pops):
    """The NumPy backend's fused blocks (index of the block of each population)."""
    from engine.backends.numpy_backend import _signature

    order: dict = {}
    out = []
    for k, p in enumerate(pops):
        sig = _signature(p)
        key = ("solo", k) if sig is None else sig
        out.append(order.setdefault(key, len(order)))
    return out


class CompiledSimulator(Simulator):
    """The shared graph semantics, run by one generated numba kernel per chunk."""

    backend_name = "compiled"

    def __init__(self, network, dt):
        self._kernel_key = None
        self.compile_seconds = 0.0
        t0 = time.perf_counter()
        super().__init__(network, dt)
        self._build_kernel()
        self._warm_up()
        self.compile_seconds = time.perf_counter() - t0

    # -- layout ---------------------------------------------------------------------
    def _setup_populations(self) -> None:
        pops = self.populations
        self._off = np.zeros(len(pops) + 1, dtype=np.int64)
        np.cumsum([p.n for p in pops], out=self._off[1:])
        self._I = np.zeros(int(self._off[-1]))
        self._currents = [self._I[self._off[k]:self._off[k + 1]] for k in range(len(pops))]
        self._block_currents = list(self._currents)
        self._pop_slot = [(k, 0, p.n) for k, p in enumerate(pops)]
        for p in pops:
            if type(p.model).dynamics is None:
                raise NotImplementedError(
                    f"population {p.label!r}: model {p.model_name!r} has no dynamics form (its step is "
                    f"hand-written bit-true code for the fixed_point backend); run it with backend='numpy'")

    def _plans(self):
        from engine.models._form import _plan

        return [_plan(p.model, self._pop_dt[k]) for k, p in enumerate(self.populations)]

    def _build_kernel(self) -> None:
        from engine.backends.compiled_codegen import generate

        plans = self._plans()
        add_ptr = self._syn_layout()[5]
        pops = []
        for k, (p, plan) in enumerate(zip(self.populations, plans)):
            cls = type(p.model)
            params = vars(plan[0])
            # no draw in the loop of a population without noise: a call into the
            # generator there costs ~10% of a CUBA step even when never taken;
            # a live edit that turns noise on builds (or loads) the noisy kernel
            noise = ("none" if not plan[3] else "uniform_int" if cls.noise_kind == "uniform_int"
                     else "normal")
            for var in plan[1]:
                if not p.state[var].flags.c_contiguous:
                    raise NotImplementedError(f"population {p.label!r}: state {var!r} is not contiguous")
            pops.append({"cls": cls, "fields": sorted(params), "state": plan[1], "integer": bool(cls.integer),
                         "noise": noise, "graded": cls.output != "spikes", "nsyn": int(add_ptr[k + 1] - add_ptr[k]),
                         "types": tuple((k, type(v).__name__) for k, v in sorted(params.items())),
                         "dtypes": tuple(p.state[v].dtype.str for v in plan[1])})
        monitors = []
        for label, k, variables, rec in self._state_monitors:
            for var in variables:
                monitors.append({"pop": k, "var": list(plans[k][1]).index(var)})
        plastic = bool(self._plastic)
        key = (tuple((d["cls"], d["types"], d["dtypes"], d["nsyn"], d["noise"]) for d in pops), tuple((m["pop"], m["var"]) for m in monitors),
               plastic)
        if key == self._kernel_key:
            return
        text, digest = generate(pops, monitors, plastic)
        self._mod = _load_kernel(text, digest)
        self._pop_meta = pops
        self._kernel_key = key

    def _warm_up(self) -> None:
        """Compile (or load from the disk cache) by running zero steps."""
        saved = self.step_count
        self._run(0, call_kernel=True)
        self.step_count = saved

    # -- the chunk ----------------------------------------------------------------------
    def _advance(self, n_steps: int) -> Chunk:
        # called by Simulator.advance: n_steps validated, memory budget checked, network lock held
        chunk = self._run(int(n_steps))
        for mon in self.monitors:
            mon.record(chunk)
        return chunk

    def _run(self, n_steps: int, call_kernel: bool = False) -> Chunk:
        self._prepare()
        self._build_kernel()
        pops = self.populations
        npop_l = [p.n for p in pops]
        N = int(self._off[-1])
        plans = self._plans()
        params = [self._mod.__dict__[f"P{k}"](**{f: vars(plan[0])[f] for f in self._pop_meta[k]["fields"]})
                  for k, plan in enumerate(plans)]
        pstd = np.array([float(plan[3]) if plan[3] else 0.0 for plan in plans])
        pdt = np.array(self._pop_dt, dtype=np.float64)
        noisy = [k for k in range(len(pops)) if pstd[k] > 0]
        if noisy:
            self._mod.seed(int(pops[noisy[0]].rng.integers(0, 2**31 - 1)))
        keys, key_index, SYN, syn_off, syn_len, add_ptr, add_key = self._syn_layout(flat=True)
        syn_decay = np.array([math.exp(-self.dt_ms / key[1]) for key in keys])
        # projections: concatenated CSR
        rts = self._proj_rt
        nproj = len(rts)
        psrc = np.array([rt.src for rt in rts], dtype=np.int64)
        ptgt = np.array([rt.tgt for rt in rts], dtype=np.int64)
        pdelay = np.array([rt.delay for rt in rts], dtype=np.int64)
        pkey = np.array([key_index[rt.syn_key] if rt.syn_key is not None else -1 for rt in rts], dtype=np.int64)
        pgraded = np.array([pops[rt.src].model.output != "spikes" for rt in rts], dtype=np.bool_)
        ip_off = np.zeros(nproj, dtype=np.int64)
        e_off = np.zeros(nproj, dtype=np.int64)
        ip, ind, dat = [], [], []
        a = b = 0
        for r, rt in enumerate(rts):
            ip_off[r], e_off[r] = a, b
            dat.append(rt.data.astype(np.float64, copy=False))
            a += rt.indptr.shape[0]
            b += rt.indices.shape[0]
        # the connectivity's structure is re-used while the projections keep
        # their index arrays (the same objects: a new structure is a new array);
        # converting and joining it was ~a quarter of a CUBA chunk's CPU time.
        # Weights are copied every chunk, so live edits still apply.
        struct = tuple((rt.indptr, rt.indices) for rt in rts)
        cached = getattr(self, "_csr_cache", None)
        if cached is not None and len(cached[0]) == len(struct) and all(
                x[0] is y[0] and x[1] is y[1] for x, y in zip(cached[0], struct)):
            INDPTR, IND = cached[1], cached[2]
        else:
            INDPTR = (np.concatenate([rt.indptr.astype(np.int64, copy=False) for rt in rts]) if rts
                      else np.zeros(1, np.int64))
            IND = (np.concatenate([rt.indices.astype(np.int64, copy=False) for rt in rts]) if rts
                   else np.zeros(0, np.int64))
            self._csr_cache = (struct, INDPTR, IND)
        DATA = np.concatenate(dat) if dat else np.zeros(0)
        # spike history rings (delay lines) from the base's format
        hist_len = np.array(self._hist_len, dtype=np.int64)
        hb_idx = np.zeros(len(pops), dtype=np.int64)
        hb_cnt = np.zeros(len(pops), dtype=np.int64)
        tot_i = tot_c = 0
        for k, p in enumerate(pops):
            hb_idx[k], hb_cnt[k] = tot_i, tot_c
            tot_i += hist_len[k] * p.n
            tot_c += hist_len[k]
        HIDX = np.zeros(max(tot_i, 1), dtype=np.int64)
        HVAL = np.zeros(max(tot_i, 1))
        HCNT = np.zeros(max(tot_c, 1), dtype=np.int64)
        for k, p in enumerate(pops):
            for slot in range(hist_len[k]):
                idx, vals = self._hist[k][slot]
                base = hb_idx[k] + slot * p.n
                HIDX[base:base + idx.size] = idx
                HVAL[base:base + idx.size] = 1.0 if vals is None else vals
                HCNT[hb_cnt[k] + slot] = idx.size
        # plasticity tables
        st = self._stdp_tables(e_off)
        # state monitors
        traces, tr_args = {}, []
        for label, k, variables, rec in self._state_monitors:
            traces[label] = {}
            recidx = np.arange(pops[k].n, dtype=np.int64) if rec is None else np.asarray(rec, dtype=np.int64)
            for var in variables:
                buf = np.empty((n_steps, recidx.size), dtype=pops[k].state[var].dtype)
                traces[label][var] = buf
                tr_args.append((buf, recidx))
        state_args = []
        for k, plan in enumerate(plans):
            state_args.append(params[k])
            state_args += [pops[k].state[var] for var in plan[1]]
        stim_calls = []
        cur_index = {id(c): k for k, c in enumerate(self._currents)}
        for apply, out in self._stim_calls:
            stim_calls.append((apply, cur_index[id(out)]))
        has_stim = bool(stim_calls)
        rates = np.zeros((n_steps, len(pops)))
        cap = max(4 * N, 1024)
        OUT_T = np.empty(cap, dtype=np.int64)
        OUT_I = np.empty(cap, dtype=np.int64)
        cnt = np.zeros(1, dtype=np.int64)
        t0 = self.step_count
        sub = max(1, min(n_steps, (1 << 22) // max(N, 1))) if has_stim else max(n_steps, 1)
        STIM0 = np.zeros((0, N))
        kern = self._mod.run_chunk
        npop = np.array(npop_l, dtype=np.int64)
        done = 0
        first = call_kernel  # a zero-step call compiles (or loads) the kernel
        while done < n_steps or first:
            first = False
            m = min(sub, n_steps - done)
            if has_stim:
                STIM = np.zeros((m, N))
                for s in range(m):
                    row = STIM[s]
                    for apply, k in stim_calls:
                        apply(t0 + done + s, row[self._off[k]:self._off[k + 1]])
            else:
                STIM = STIM0
            s = 0
            while s < m or (m == 0 and s == 0 and not done):
                if OUT_T.shape[0] - cnt[0] < N:
                    OUT_T = np.concatenate([OUT_T, np.empty_like(OUT_T)])
                    OUT_I = np.concatenate([OUT_I, np.empty_like(OUT_I)])
                extra = []
                for buf, recidx in tr_args:
                    extra += [buf[done:done + m], recidx]
                s = kern(s, m, t0 + done, self._I, STIM, has_stim, SYN, syn_off, syn_len, syn_decay,
                         add_ptr, add_key, self._off, npop, hist_len, hb_idx, hb_cnt, HIDX, HVAL, HCNT,
                         psrc, ptgt, pdelay, pkey, pgraded, ip_off, e_off, INDPTR, IND, DATA,
                         OUT_T, OUT_I, cnt, rates[done:done + m], pdt, pstd, *st, *state_args, *extra)
                if m == 0:
                    break
            done += m
            if m == 0:
                break
        self.step_count = t0 + n_steps
        if self._plastic:
            _write_back_traces(self)
        # write back what lives in the kernel's flat arrays
        for key, q in key_index.items():
            self._syn[key][...] = SYN[syn_off[q]:syn_off[q] + syn_len[q]]
        if self._plastic:
            for r, rt in enumerate(rts):
                if rt.proj.plasticity is not None:
                    rt.proj.data[...] = DATA[e_off[r]:e_off[r] + rt.data.shape[0]]
        for k, p in enumerate(pops):
            for slot in range(hist_len[k]):
                c = HCNT[hb_cnt[k] + slot]
                base = hb_idx[k] + slot * p.n
                idx = HIDX[base:base + c].copy()
                self._hist[k][slot] = (idx, None if p.model.output == "spikes" else HVAL[base:base + c].copy())
        c = int(cnt[0])
        steps, gids = OUT_T[:c], OUT_I[:c]
        spikes = {}
        owner = np.searchsorted(self._off, gids, side="right") - 1
        for k, p in enumerate(pops):
            sel = owner == k
            spikes[p.label] = (steps[sel].copy(), gids[sel] - self._off[k])
        return Chunk(start_step=t0, n_steps=n_steps, dt=self.dt, spikes=spikes, traces=traces,
                     rates={p.label: rates[:, k].copy() for k, p in enumerate(pops)})

    def _syn_layout(self, flat=False):
        """Synaptic buffers (base keys (population, tau)) as one flat array, and
        per population the buffers in the order NumPy adds them to the
        current (its fused blocks add a block's buffers in first-use order)."""
        pops = self.populations
        keys = list(self._syn)
        key_index = {key: q for q, key in enumerate(keys)}
        syn_len = np.array([self._syn[key].shape[0] for key in keys], dtype=np.int64)
        syn_off = np.zeros(len(keys), dtype=np.int64)
        if keys:
            syn_off[1:] = np.cumsum(syn_len)[:-1]
        groups = _numpy_groups(pops)
        order = []
        for rt in self._proj_rt:
            if rt.syn_key is not None:
                gk = (groups[rt.tgt], rt.syn_key[1])
                if gk not in order:
                    order.append(gk)
        add_ptr, add_key = [0], []
        for k in range(len(pops)):
            for g, tau in order:
                if g == groups[k] and (k, tau) in key_index:
                    add_key.append(key_index[(k, tau)])
            add_ptr.append(len(add_key))
        SYN = None
        if flat:
            SYN = np.concatenate([self._syn[key] for key in keys]) if keys else np.zeros(0)
        return (keys, key_index, SYN, syn_off, syn_len, np.array(add_ptr, dtype=np.int64),
                np.array(add_key, dtype=np.int64))

    def _stdp_tables(self, e_off):
        rts = self._proj_rt
        helpers = {id(h.proj): h for h, _, _ in self._plastic}
        st_proj, st_par, pre, post, pre_off, post_off = [], [], [], [], [], []
        bycol, colptr, entrow, col_off, cptr_off = [], [], [], [], []
        a = b = c = d = 0
        touch = 1
        for r, rt in enumerate(rts):
            h = helpers.get(id(rt.proj))
            if h is None:
                continue
            st_proj.append(r)
            st_par.append([h.a_plus, h.a_minus, h.w_min, h.w_max, h.dec_pre, h.dec_post])
            pre.append(h.pre)
            post.append(h.post)
            pre_off.append(a)
            post_off.append(b)
            a += h.pre.shape[0]
            b += h.post.shape[0]
            bycol.append(h.by_col.astype(np.int64))
            entrow.append(h.entry_row.astype(np.int64))
            colptr.append(h.col_ptr.astype(np.int64))
            col_off.append(c)
            cptr_off.append(d)
            c += h.by_col.shape[0]
            d += h.col_ptr.shape[0]
            touch = max(touch, 2 * h.by_col.shape[0])
        self._stdp_pre_post = (pre, post, pre_off, post_off)
        i64 = lambda x: np.array(x, dtype=np.int64)  # noqa: E731
        PRE = np.concatenate(pre) if pre else np.zeros(1)
        POST = np.concatenate(post) if post else np.zeros(1)
        out = [i64(st_proj), np.array(st_par, dtype=np.float64).reshape(-1, 6), PRE, POST, i64(pre_off),
               i64(post_off), np.concatenate(bycol) if bycol else np.zeros(1, np.int64),
               np.concatenate(colptr) if colptr else np.zeros(1, np.int64),
               np.concatenate(entrow) if entrow else np.zeros(1, np.int64), i64(col_off), i64(cptr_off),
               np.zeros(touch, dtype=np.int64)]
        self._stdp_flat = (PRE, POST)
        return out

    def _finish_advance(self) -> None:
        pass


def _write_back_traces(sim):
    """Copy the kernel's flat STDP traces back into each projection's state."""
    pre, post, pre_off, post_off = sim._stdp_pre_post
    PRE, POST = sim._stdp_flat
    for arr, o in zip(pre, pre_off):
        arr[...] = PRE[o:o + arr.shape[0]]
    for arr, o in zip(post, post_off):
        arr[...] = POST[o:o + arr.shape[0]]


def factory(network, dt):
    return CompiledSimulator(network, dt)


def _available():
    try:
        import numba  # noqa: F401
    except Exception as exc:  # ImportError or a broken llvmlite
        return False, f"numba is not importable: {exc}"
    return True, ""


register_backend("compiled", factory, available=_available)
