"""Source generator of the compiled backend: one numba module per network shape.

The generated module is plain Python text written to a cache folder and
imported from there, so numba's on-disk cache (``cache=True``) applies to it
and a second start of the same network shape loads machine code instead of
compiling.  Its file name is a hash of the text, which holds everything the
kernel runs:

* the **one form** of every model in the network (``dynamics`` and, for noisy
  models, ``draws``), copied from the model's source with the helpers it
  calls (``hold``, ``rk4_cross4``, ``hh_rate_set``, ...) and the module
  constants they read, each renamed ``<module>__<name>`` so that equal names
  of different files cannot clash;
* a parameter ``namedtuple`` class per population;
* ``run_chunk``: the whole step loop of a chunk -- stimuli (precomputed rows),
  exponential synapses, CSR delivery with delays, neuron updates, spike and
  rate recording, StateMonitor traces and STDP -- with one unrolled block per
  population.

The model code is the model's own source: nothing is written twice.  Copying
it (rather than handing numba the live function) is what makes the cache
sound: a change to a model or helper changes the text, hence the hash.

May import: numpy, ``engine.models`` (for sources).  Never numba (the
generated text does).
"""

from __future__ import annotations

import hashlib
import inspect
import math
import re
import sys
import textwrap
import types

import numpy as np

__all__ = ["generate", "model_source"]

_ALLOWED_MODULES = {"np": "numpy", "numpy": "numpy", "math": "math"}


def _short(module_name: str) -> str:
    return module_name.rsplit(".", 1)[-1].lstrip("_")


def _function_source(func) -> str:
    src = textwrap.dedent(inspect.getsource(func))
    lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith("@")]
    return "\n".join(lines) + "\n"


class _Collector:
    """Collects functions and constants reachable from the forms, renamed."""

    def __init__(self):
        self.blocks: list[str] = []
        self.names: dict = {}      # id(obj) -> new name
        self.consts: dict = {}     # new name -> repr

    def function(self, func, new_name=None) -> str:
        key = id(func)
        if key in self.names:
            return self.names[key]
        name = new_name or f"{_short(func.__module__)}__{func.__name__}"
        self.names[key] = name
        self._emit(func, _function_source(func), name)
        return name

    def specialised(self, helper, rhs) -> str:
        """``helper`` (whose first parameter is a function ``rhs``) with that
        argument bound to ``rhs``: a direct call numba inlines, where a
        function passed as a value stays an indirect call per RK4 stage."""
        key = (id(helper), id(rhs))
        if key in self.names:
            return self.names[key]
        name = f"{_short(helper.__module__)}__{helper.__name__}__{_short(rhs.__module__)}__{rhs.__name__}"
        self.names[key] = name
        target = self.function(rhs)
        src = _function_source(helper)
        src = re.sub(rf"def {re.escape(helper.__name__)}\(rhs,\s*", f"def {helper.__name__}(", src, count=1)
        src = re.sub(r"(?<![\w.])rhs\(", f"{target}(", src)
        self._emit(helper, src, name)
        return name

    def _emit(self, func, src, name) -> None:
        mod = func.__module__
        renames = {func.__name__: name}
        for ref in func.__code__.co_names:
            if ref not in func.__globals__:
                continue
            value = func.__globals__[ref]
            if isinstance(value, types.ModuleType):
                if _ALLOWED_MODULES.get(ref) != value.__name__:
                    raise NotImplementedError(f"{mod}.{func.__name__}: module {ref!r} is not usable in compiled code")
                continue
            if isinstance(value, types.FunctionType) and value.__module__.startswith("engine.models"):
                if value.__code__.co_varnames[:1] == ("rhs",):
                    # calls ``helper(fn, ...)`` with a module-level fn: bind it
                    def bind(m, helper=value):
                        fn = func.__globals__.get(m.group(1))
                        if not isinstance(fn, types.FunctionType):
                            raise NotImplementedError(f"{mod}.{func.__name__}: {ref}() needs a module-level function")
                        return self.specialised(helper, fn) + "("
                    src = re.sub(rf"(?<![\w.]){re.escape(ref)}\(\s*(\w+)\s*,\s*", bind, src)
                    continue
                renames[ref] = self.function(value)
            elif isinstance(value, (bool, int, float)) and not isinstance(value, np.ndarray):
                new = f"{_short(mod)}__{ref}"
                self.consts[new] = repr(value)
                renames[ref] = new
        # rename the def and every reference that is not an attribute (p.name)
        for old, new in renames.items():
            src = re.sub(rf"(?<![\w.]){re.escape(old)}\b", new, src)
        # NumPy's where on scalars gives a 0-d array under numba: use a scalar select
        src = src.replace("np.where(", "_nc_where(")
        # inlined into the chunk loop, except functions taking *args (numba's inliner cannot)
        inline = "never" if func.__code__.co_flags & inspect.CO_VARARGS else "always"
        self.blocks.append(f"@nb.njit(cache=True, error_model='numpy', inline='{inline}')\n{src}")


def model_source(collector: _Collector, cls, k: int) -> tuple[str, str | None]:
    """Emit ``dyn{k}`` (and ``draws{k}`` when the model overrides ``draws``)."""
    dyn = collector.function(cls.dynamics)
    draws = None
    base_draws = sys.modules["engine.models.base"].NeuronModel.draws
    if cls.draws is not base_draws and cls.step_noise is not sys.modules["engine.models.base"].NeuronModel.step_noise:
        draws = collector.function(cls.draws)
    return dyn, draws


def generate(pops: list[dict], monitors: list[dict], plastic: bool) -> tuple[str, str]:
    """``(module_source, digest)`` of the kernel for populations ``pops``.

    Each entry of ``pops``: ``cls`` (model class), ``fields`` (parameter
    tuple fields), ``state`` (form state names), ``integer``, ``noise``
    ("none", "normal", "uniform_int"), ``graded`` (rate output).  Each entry
    of ``monitors``: ``pop`` (index) and ``var`` (state position).
    """
    col = _Collector()
    header = ["import math", "import numpy as np", "import numba as nb", "from collections import namedtuple", "",
              "", "@nb.njit(cache=True, inline='always')", "def _nc_where(c, a, b):", "    return a if c else b", "",
              "", "@nb.njit(cache=True)", "def seed(x):", "    np.random.seed(x)", ""]
    pblocks = []
    for k, pop in enumerate(pops):
        dyn, draws = model_source(col, pop["cls"], k)
        pop["dyn"], pop["draws"] = dyn, draws
        pblocks.append(f"P{k} = namedtuple('P{k}', {tuple(pop['fields'])!r})")
    lines = []
    args = ["s0", "m", "t0", "I", "STIM", "has_stim", "SYN", "syn_off", "syn_len", "syn_decay",
            "add_ptr", "add_key", "off", "npop", "hist_len", "hb_idx", "hb_cnt", "HIDX", "HVAL", "HCNT",
            "psrc", "ptgt", "pdelay", "pkey", "pgraded", "ip_off", "e_off", "INDPTR", "IND", "DATA",
            "OUT_T", "OUT_I", "cnt", "RATES", "pdt", "pstd",  # RATES[s, k]
            "st_proj", "st_par", "PRE", "POST", "pre_off", "post_off", "BYCOL", "COLPTR", "ENTROW",
            "col_off", "cptr_off", "TOUCH"]
    for k, pop in enumerate(pops):
        args.append(f"p{k}")
        args += [f"S{k}_{j}" for j in range(len(pop["state"]))]
    for j in range(len(monitors)):
        args += [f"TR{j}", f"REC{j}"]
    lines.append(f"@nb.njit(cache=True, error_model='numpy')")
    lines.append(f"def run_chunk({', '.join(args)}):")
    body = [
        "N = I.shape[0]",
        "ZR = np.zeros(N)",  # the next step's stimulus row when there is none
        "c = cnt[0]",
        "cap = OUT_T.shape[0]",
        "nkeys = syn_off.shape[0]",
        "nproj = psrc.shape[0]",
        "nst = st_proj.shape[0]",
        # the step's currents start as its stimulus row and its synaptic buffers
        # are decayed at the end of the previous step (same floats as NumPy,
        # which zeroes/adds and decays at the start of a step); a fresh call
        # prepares its first step here
        "if s0 == 0 and m > 0:",
        "    for g in range(N):",
        "        I[g] = STIM[0, g] if has_stim else 0.0",
        "    for q in range(nkeys):",
        "        b = syn_off[q]",
        "        d = syn_decay[q]",
        "        for j in range(syn_len[q]):",
        "            SYN[b + j] *= d",
        "for s in range(s0, m):",
        "    if cap - c < N:",
        "        cnt[0] = c",
        "        return s",
        "    t = t0 + s",
        "    nxt = s + 1 < m",
        "    for r in range(nproj):",
        "        src = psrc[r]",
        "        L = hist_len[src]",
        "        slot = (t - 1 - pdelay[r]) % L",
        "        nsp = HCNT[hb_cnt[src] + slot]",
        "        if nsp == 0:",
        "            continue",
        "        ns = npop[src]",
        "        hb = hb_idx[src] + slot * ns",
        "        key = pkey[r]",
        "        if key >= 0:",
        "            dst = SYN",
        "            base = syn_off[key]",
        "        else:",
        "            dst = I",
        "            base = off[ptgt[r]]",
        "        ipo = ip_off[r]",
        "        eo = e_off[r]",
        "        graded = pgraded[r]",
        "        for q2 in range(nsp):",
        "            i = HIDX[hb + q2]",
        "            a = INDPTR[ipo + i]",
        "            bnd = INDPTR[ipo + i + 1]",
        "            if graded:",
        "                val = HVAL[hb + q2]",
        "                for e in range(a, bnd):",
        "                    dst[base + IND[eo + e]] += DATA[eo + e] * val",
        "            else:",
        "                for e in range(a, bnd):",
        "                    dst[base + IND[eo + e]] += DATA[eo + e]",
    ]
    for k, pop in enumerate(pops):
        nvar = len(pop["state"])
        svars = ", ".join(f"S{k}_{j}[i]" for j in range(nvar))
        cur = "np.int64(np.rint(x))" if pop["integer"] else "x"
        zero = "0" if pop["integer"] else "0.0"
        body += [
            f"    # population {k}: {pop['cls'].__name__}",
            f"    o = off[{k}]",
            f"    n = npop[{k}]",
            f"    slot = t % hist_len[{k}]",
            f"    hb = hb_idx[{k}] + slot * n",
            f"    nk = 0",
            f"    acc = 0.0",
            f"    dtk = pdt[{k}]",
            f"    std = pstd[{k}]",
        ]
        nk_syn = pop["nsyn"]
        for u in range(nk_syn):  # this population's synaptic buffers, in NumPy's order
            body += [f"    sb{u} = syn_off[add_key[add_ptr[{k}] + {u}]]",
                     f"    sd{u} = syn_decay[add_key[add_ptr[{k}] + {u}]]"]
        # views indexed by the loop counter: numba then knows every index is
        # non-negative and drops its wraparound select per access (~30% of CUBA)
        body += [f"    Ik = I[o:o + n]",
                 f"    STk = STIM[s + 1, o:o + n] if (has_stim and nxt) else ZR[o:o + n]"]
        body += [f"    SB{u} = SYN[sb{u}:sb{u} + n]" for u in range(nk_syn)]
        body += [f"    for i in range(n):", f"        x = Ik[i]"]
        body += [f"        x += SB{u}[i]" for u in range(nk_syn)]
        body += [f"        if nxt:",
                 f"            Ik[i] = STk[i]"]
        body += [f"            SB{u}[i] *= sd{u}" for u in range(nk_syn)]
        body += [f"        z = {zero}"]
        if pop["noise"] == "normal":
            if pop["draws"]:
                body += [f"        if std > 0.0 and {pop['draws']}(p{k}, {svars}):",
                         "            z = np.random.normal(0.0, std)"]
            else:
                body += ["        if std > 0.0:", "            z = np.random.normal(0.0, std)"]
        elif pop["noise"] == "uniform_int":
            body += ["        if std > 0.0:", "            z = np.random.randint(0, np.int64(std))"]
        body += [f"        r = {pop['dyn']}(p{k}, {cur}, z, dtk, {svars})"]
        body += [f"        S{k}_{j}[i] = r[{j + 1}]" for j in range(nvar)]
        body += [
            "        y = r[0]",
            "        if y != 0:",
            "            HIDX[hb + nk] = i",
            "            HVAL[hb + nk] = y",
            "            nk += 1",
        ]
        if pop["graded"]:
            body += ["            acc += y"]
        else:
            body += ["            OUT_T[c] = t", "            OUT_I[c] = o + i", "            c += 1"]
        body += [f"    HCNT[hb_cnt[{k}] + slot] = nk"]
        if pop["graded"]:
            body += [f"    RATES[s, {k}] = acc * (1.0 / n)"]
        else:
            body += [f"    RATES[s, {k}] = nk * (1.0 / n)"]
    for j, mon in enumerate(monitors):
        body += [f"    for q in range(REC{j}.shape[0]):",
                 f"        TR{j}[s, q] = S{mon['pop']}_{mon['var']}[REC{j}[q]]"]
    if plastic:
        body += _STDP_BODY
    body += ["cnt[0] = c", "return m"]
    lines += ["    " + b for b in body]
    consts = [f"{name} = {value}" for name, value in col.consts.items()]
    text = "\n".join(header + consts + [""] + pblocks + [""] + col.blocks + [""] + lines) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return text, digest


# STDP (engine.network.plasticity.STDPRuntime.apply), per plastic projection,
# with the same per-entry operation order: traces decay; depression on the
# rows of this step's pre spikes; potentiation on the columns of the post
# spikes; clip every touched entry; then the traces jump by one.
_STDP_BODY = [
    "    for u in range(nst):",
    "        r = st_proj[u]",
    "        a_plus = st_par[u, 0]",
    "        a_minus = st_par[u, 1]",
    "        w_min = st_par[u, 2]",
    "        w_max = st_par[u, 3]",
    "        dpre = st_par[u, 4]",
    "        dpost = st_par[u, 5]",
    "        src = psrc[r]",
    "        tgt = ptgt[r]",
    "        po = pre_off[u]",
    "        qo = post_off[u]",
    "        for i in range(npop[src]):",
    "            PRE[po + i] *= dpre",
    "        for j in range(npop[tgt]):",
    "            POST[qo + j] *= dpost",
    "        sl_s = t % hist_len[src]",
    "        hs = hb_idx[src] + sl_s * npop[src]",
    "        ns = HCNT[hb_cnt[src] + sl_s]",
    "        sl_t = t % hist_len[tgt]",
    "        ht = hb_idx[tgt] + sl_t * npop[tgt]",
    "        nt = HCNT[hb_cnt[tgt] + sl_t]",
    "        ipo = ip_off[r]",
    "        eo = e_off[r]",
    "        ntouch = 0",
    "        for q2 in range(ns):",
    "            i = HIDX[hs + q2]",
    "            for e in range(INDPTR[ipo + i], INDPTR[ipo + i + 1]):",
    "                DATA[eo + e] -= a_minus * POST[qo + IND[eo + e]]",
    "                TOUCH[ntouch] = eo + e",
    "                ntouch += 1",
    "        co = col_off[u]",
    "        cpo = cptr_off[u]",
    "        for q2 in range(nt):",
    "            j = HIDX[ht + q2]",
    "            for cc in range(COLPTR[cpo + j], COLPTR[cpo + j + 1]):",
    "                e = BYCOL[co + cc]",
    "                DATA[eo + e] += a_plus * PRE[po + ENTROW[co + e]]",
    "                TOUCH[ntouch] = eo + e",
    "                ntouch += 1",
    "        for q2 in range(ntouch):",
    "            e = TOUCH[q2]",
    "            DATA[e] = min(max(DATA[e], w_min), w_max)",
    "        for q2 in range(ns):",
    "            PRE[po + HIDX[hs + q2]] += 1.0",
    "        for q2 in range(nt):",
    "            POST[qo + HIDX[ht + q2]] += 1.0",
]
