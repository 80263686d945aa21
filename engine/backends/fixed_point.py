"""The ``fixed_point`` backend: a whole network in the RTL's integer arithmetic.

``Network.run(..., backend="fixed_point")`` (or ``FixedPointSimulator(network,
dt, qformat=...)``) steps every population with exactly the update of
``hdl/sc_lif_neuron.v`` (:class:`~engine.models.fixed_point_lif.FixedPointLIFArray`)
and feeds it the same input the RTL layer ``hdl/sc_lif_layer.v`` computes::

    I_t = sat_W( sat_W(stimulus code) + sum of weight codes of last step's spikes )

(the sum is exact; ``sat_W`` clips to the signed W-bit range; synaptic
currents, below, add their register).  The graph logic
-- stimuli, projections with their delays, previous-step spike semantics,
monitors, chunks -- is the shared :class:`engine.backends.base.Simulator`; this
module only overrides its hooks.

Q-format
    Given by ``qformat=`` (``QFormat``, ``(W, F)`` or ``"Q8.8"``), else by the
    network attribute ``fixed_point_qformat`` when set; otherwise the format of the network's ``FixedPointLIFNeuron`` populations (they must
    all agree); otherwise Q8.8.  ``Network.run`` uses the default rule.

Supported populations and the quantisation rule (``q(x) = round(x * 2**F)``,
half away from zero, saturating to W bits):

``FixedPointLIFNeuron``
    runs as declared; stimulus values and projection weights *are* integer
    codes (rounded to the nearest integer, as the NumPy backend does).
``LapicqueNeuron``
    its exact update is ``v += (1 - e)(v_rest - v) + (1 - e) R I`` with
    ``e = exp(-dt/tau)``, so ``leak_k = q(1 - e)``, ``gain_k = q(R (1 - e))``;
    ``v_rest, v_reset, v_threshold = q(.)``; input current and weights ``q(.)``.
    Lapicque holds ``v_reset`` while refractory, so when ``v_reset != v_rest``
    the neuron runs with ``refractory_hold="v_reset"`` (RTL ``REFRACTORY_HOLD=1``).
``StochasticLIFNeuron`` with ``noise_std == 0``
    Euler update ``v += (dt/tau_mem)(v_rest - v) + R dt I``: ``leak_k =
    q(dt/tau_mem)``, ``gain_k = q(R dt)`` (dt in ms); same voltage rule.

Projections with ``tau_syn`` feed a W-bit synaptic-current register per
target neuron (shared by projections with the same target and ``tau_syn``):
``syn <- sat_W(((syn * syn_k) >> F) + arriving weight codes)`` with
``syn_k = q(exp(-dt/tau_syn))``, added to ``I_t`` -- ``sc_lif_layer`` with
``USE_SYN = 1``.  (The floor shift makes a negative current settle at -1 LSB
instead of 0: a genuine fixed-point effect the report shows.)

Arithmetic options of float-mapped populations (``saturate``, ``rounding``,
see :mod:`engine.models.fixed_point_lif`) come from ``options=`` or the
network attribute ``fixed_point_options`` (a dict); native populations use
their own parameters.

Every other model and noisy StochasticLIF raise ``NotImplementedError``
naming the population.  A
non-zero leak, gain or weight that rounds to 0, or a value that saturates,
emits a :class:`QuantisationWarning` naming the parameter or projection and
the smallest Q-format that avoids it.

The step loop: by default (``kernel="auto"``) a chunk runs in one numba call
(:mod:`engine.backends.fixed_point_kernel`) doing the same int64 operations
in the same order as the Python step loop, so the codes are identical; noise
(``noise_amplitude``), plasticity or a missing numba run the Python loop.
``kernel="python"`` forces that loop, ``kernel="compiled"`` refuses the
fallback; ``sim.last_kernel`` says which loop ran the last chunk.

State monitors record ``v`` in the population's own units (volts of the float
model = code / 2**F; integer codes for FixedPointLIFNeuron).  ``sim.stats``
counts, per population, the input samples that saturated (``input_saturated``)
and the membrane sums that wrapped (``v_wrapped``).
"""

from __future__ import annotations

import math
import re
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

from engine import fixedpoint as fx
from engine.backends import register_backend
from engine.backends.base import Simulator
from engine.models.fixed_point_lif import FixedPointLIF, FixedPointLIFArray

__all__ = ["FixedPointSimulator", "QuantisationWarning", "PopulationMapping", "map_population",
           "resolve_qformat", "quantise_weights", "network_qformat", "network_options", "factory"]


class QuantisationWarning(UserWarning):
    """A parameter or weight lost its meaning when quantised (rounded to 0 or saturated)."""


# modules whose frames a warning skips: the engine, and mutmut's trampolines,
# which wrap every engine function under ``make mutation``
_INTERNAL = ("engine", "mutmut")


def _warn_user(message: str) -> None:
    """Issue a QuantisationWarning at the first caller outside the engine (the
    user's line: a fixed stacklevel would point into the engine, since the
    depth of engine calls differs between ``map_population``, a compile and a run)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in _INTERNAL:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, QuantisationWarning, stacklevel=level)


def resolve_qformat(q) -> fx.QFormat:
    if isinstance(q, fx.QFormat):
        return q
    if isinstance(q, (tuple, list)) and len(q) == 2:
        return fx.QFormat(int(q[0]), int(q[1]))
    if isinstance(q, str):
        m = re.fullmatch(r"\s*Q(\d+)\.(\d+)\s*", q)
        if m:
            return fx.QFormat(int(m.group(1)) + int(m.group(2)), int(m.group(2)))
    raise ValueError(f"qformat must be a QFormat, (data_width, fraction) or a string like 'Q8.8', got {q!r}")


def network_options(network, options=None) -> dict:
    """``{"saturate": bool, "rounding": str}`` for float-mapped populations (``ValueError`` on bad keys)."""
    if options is None:
        options = getattr(network, "fixed_point_options", None) or {}
    if not isinstance(options, dict):
        raise ValueError(f"options must be a dict with saturate / rounding, got {options!r}")
    unknown = set(options) - {"saturate", "rounding"}
    if unknown:
        raise ValueError(f"options has unknown keys {sorted(unknown)}; known: saturate, rounding")
    out = {"saturate": bool(options.get("saturate", False)), "rounding": options.get("rounding", "floor")}
    fx.check_options(saturate=out["saturate"], rounding=out["rounding"])
    return out


def network_qformat(network, qformat=None) -> fx.QFormat:
    """The Q-format a network runs in (see the module docstring)."""
    if qformat is None:
        # a network (or the app) may carry its chosen format as an attribute
        qformat = getattr(network, "fixed_point_qformat", None)
    if qformat is not None:
        return resolve_qformat(qformat)
    natives = [p for p in network.populations if isinstance(p.model, FixedPointLIF)]
    formats = {(p.model.data_width, p.model.fraction) for p in natives}
    if len(formats) > 1:
        desc = ", ".join(f"{p.label!r}: Q{p.model.data_width - p.model.fraction}.{p.model.fraction}"
                         for p in natives)
        raise ValueError(f"FixedPointLIFNeuron populations use different Q-formats ({desc}); "
                         f"one network runs in one format")
    if formats:
        return fx.QFormat(*formats.pop())
    return fx.QFormat(16, 8)


@dataclass
class PopulationMapping:
    """How one population runs in fixed point."""

    label: str
    kind: str                 # "native", "lapicque", "stochastic_lif"
    qformat: fx.QFormat
    config: dict              # data_width, fraction, v_rest, v_reset, v_threshold, refractory_period
    leak_k: int
    gain_k: int
    noise_amplitude: int = 0
    float_values: dict = field(default_factory=dict)   # the exact values the codes stand for
    notes: list = field(default_factory=list)           # quantisation problems (also warned)

    @property
    def native(self) -> bool:
        return self.kind == "native"

    def key(self):
        return (self.kind, tuple(sorted(self.config.items())), self.leak_k, self.gain_k, self.noise_amplitude)


def _smallest_format_hint(values) -> str:
    q = fx.smallest_qformat(values)
    return f"Q{q.data_width - q.fraction}.{q.fraction}" if q is not None else "none up to 32 bits"


def _quantise_param(value: float, q: fx.QFormat, what: str, notes: list, context_values) -> int:
    code = q.quantize(value)
    scaled = abs(value) * q.scale  # may overflow to inf for huge values: then it saturates
    raw = math.copysign(math.floor(scaled + 0.5) if math.isfinite(scaled) else math.inf, value)
    if value != 0.0 and code == 0:
        notes.append(f"{what} = {value:.6g} rounds to 0 in {q}; smallest Q-format that keeps it: "
                     f"{_smallest_format_hint([value, *context_values])}")
    elif not q.min_int <= raw <= q.max_int:
        notes.append(f"{what} = {value:.6g} saturates to {q.to_float(code):.6g} in {q}; smallest Q-format "
                     f"that holds it: {_smallest_format_hint([value, *context_values])}")
    return int(code)


def map_population(pop, q: fx.QFormat, dt_ms: float, options: dict | None = None, *,
                   warn: bool = True) -> PopulationMapping:
    """Fixed-point mapping of ``pop`` (``NotImplementedError`` naming it when impossible).

    ``options`` (``saturate``, ``rounding``) apply to float-mapped populations.
    The quantisation notes are in ``.notes``; ``warn`` also issues them."""
    options = network_options(None, options or {})
    from engine.models.lapicque import Lapicque

    try:
        from engine.models.stochastic_lif import StochasticLIF
    except ImportError:  # pragma: no cover - model file absent
        StochasticLIF = None
    model = pop.model
    if isinstance(model, FixedPointLIF):
        model.validate()
        if (model.data_width, model.fraction) != (q.data_width, q.fraction):
            raise ValueError(f"population {pop.label!r} is declared in Q{model.data_width - model.fraction}."
                             f"{model.fraction} but the network runs in {q}")
        return PopulationMapping(pop.label, "native", q, model.config(), model.leak_k, model.gain_k,
                                 model.noise_amplitude)
    if type(model) is Lapicque:
        e = math.exp(-dt_ms / model.tau)
        leak, gain = 1.0 - e, model.resistance * (1.0 - e)
        kind = "lapicque"
    elif StochasticLIF is not None and type(model) is StochasticLIF:
        if model.noise_std != 0.0:
            raise NotImplementedError(f"population {pop.label!r}: StochasticLIFNeuron with noise_std="
                                      f"{model.noise_std} has no fixed-point form; set noise_std=0")
        leak, gain = dt_ms / model.tau_mem, model.resistance * dt_ms
        kind = "stochastic_lif"
    else:
        raise NotImplementedError(
            f"population {pop.label!r}: model {pop.model_name} has no fixed-point form; the fixed_point "
            f"backend runs FixedPointLIFNeuron, LapicqueNeuron and StochasticLIFNeuron (noise_std=0)")
    notes: list = []
    volts = {"v_rest": model.v_rest, "v_reset": model.v_reset, "v_threshold": model.v_threshold}
    ctx = [leak, gain, *volts.values()]
    codes = {k: _quantise_param(v, q, f"population {pop.label!r}: {k}", notes, ctx) if v != 0 else 0
             for k, v in volts.items()}
    leak_k = _quantise_param(leak, q, f"population {pop.label!r}: leak (1-exp(-dt/tau))" if kind == "lapicque"
                             else f"population {pop.label!r}: leak (dt/tau_mem)", notes, ctx)
    gain_k = _quantise_param(gain, q, f"population {pop.label!r}: gain (R*(1-exp(-dt/tau)))"
                             if kind == "lapicque" else f"population {pop.label!r}: gain (R*dt)", notes, ctx)
    # Lapicque holds v_reset while refractory, StochasticLIF v_rest; the RTL
    # option only matters (and is only set) when the two codes differ
    hold = "v_reset" if kind == "lapicque" and codes["v_reset"] != codes["v_rest"] else "v_rest"
    config = dict(data_width=q.data_width, fraction=q.fraction, refractory_period=int(model.refractory_period),
                  **codes, refractory_hold=hold, **options)
    for n in notes if warn else ():
        _warn_user(n)
    return PopulationMapping(pop.label, kind, q, config, leak_k, gain_k, 0,
                             float_values={"leak": leak, "gain": gain, **volts}, notes=notes)


def quantise_weights(proj, target_mapping: PopulationMapping, *, warn: bool = True,
                     notes: list | None = None) -> np.ndarray:
    """Integer weight codes of ``proj`` (CSR order) for its target population.

    Quantisation problems are warned (``warn``) and appended to ``notes``."""
    found: list = []
    q = target_mapping.qformat
    data = np.asarray(proj.data, dtype=np.float64)
    label = proj.label or f"{proj.source.label}->{proj.target.label}"
    if target_mapping.native:
        codes = np.rint(data)
        if codes.size and (codes.min() < q.min_int or codes.max() > q.max_int):
            found.append(f"projection {label!r}: integer weights outside the {q.data_width}-bit range "
                         f"saturate")
            codes = np.clip(codes, q.min_int, q.max_int)
        codes = codes.astype(np.int64)
    else:
        codes = _float_weight_codes(data, q, label, target_mapping, found)
    if notes is not None:
        notes.extend(found)
    for n in found if warn else ():
        _warn_user(n)
    return codes


def _float_weight_codes(data, q: fx.QFormat, label: str, target_mapping: PopulationMapping,
                        found: list) -> np.ndarray:
    codes = np.asarray(q.quantize(data), dtype=np.int64).reshape(data.shape)
    if data.size:
        lost = (data != 0) & (codes == 0)
        raw = np.sign(data) * np.floor(np.abs(data) * q.scale + 0.5)
        sat = (raw < q.min_int) | (raw > q.max_int)
        # the Q-format hint depends only on the extremes (the largest positive
        # and negative weight set the integer bits, the smallest magnitude the
        # fraction bits), so these three stand for every weight
        nz = data[data != 0]
        vals = [*((nz.max(), nz.min(), nz[np.argmin(np.abs(nz))]) if nz.size else ()),
                *target_mapping.float_values.values()]
        if lost.any():
            found.append(f"projection {label!r}: {int(lost.sum())} of {data.size} weights (e.g. "
                         f"{data[lost][0]:.6g}) round to 0 in {q}; smallest Q-format that keeps them: "
                         f"{_smallest_format_hint(vals)}")
        if sat.any():
            found.append(f"projection {label!r}: {int(sat.sum())} weights saturate in {q}; smallest "
                         f"Q-format that holds them: {_smallest_format_hint(vals)}")
    return codes


KERNELS = ("auto", "compiled", "python")
_KERNEL: list = []


def _numba_kernel():
    """The compiled chunk loop, or ``None`` when numba cannot be imported."""
    if not _KERNEL:
        try:
            from engine.backends.fixed_point_kernel import run_chunk
        except Exception:  # ImportError or a broken llvmlite: the Python loop runs
            run_chunk = None
        _KERNEL.append(run_chunk)
    return _KERNEL[0]


class FixedPointSimulator(Simulator):
    """Integer simulator bit-exact with ``hdl/`` (see the module docstring)."""

    backend_name = "fixed_point"

    def live_change_blocker(self, obj, name):
        # one Q-format for the whole network, fixed when it is compiled
        if name in ("data_width", "fraction") and hasattr(obj, "model"):
            return f"the network runs in one Q-format ({self.qformat}), chosen when it is compiled"
        return None

    def __init__(self, network, dt: float, qformat=None, options=None, kernel: str = "auto"):
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        # "auto": the compiled chunk loop when numba imports and the network
        # allows it (no noise, no plasticity), else the Python step loop
        self.kernel_choice = kernel
        self.last_kernel = None   # which loop ran the last chunk: "compiled" or "python"
        self.qformat = network_qformat(network, qformat)
        self.options = network_options(network, options)
        self._kernels: list = []
        self.mappings: list[PopulationMapping] = []
        self._warned: set = set()
        super().__init__(network, dt)

    def _warn_new(self, notes) -> None:
        # mappings and weight codes are re-derived at every chunk (live edits):
        # each problem is warned once per simulator, not once per derivation
        for n in notes:
            if n not in self._warned:
                self._warned.add(n)
                _warn_user(n)

    # -- populations -------------------------------------------------------------------
    def _setup_populations(self) -> None:
        super()._setup_populations()  # self._currents: summed weight codes (exact in float64)
        self._stim = [np.zeros(p.n, dtype=np.float64) for p in self.populations]      # stimulus values
        self._rt_codes: dict = {}
        self.stats = {p.label: {"input_saturated": 0, "v_wrapped": 0} for p in self.populations}
        self._input_sat = [0] * len(self.populations)
        self.mappings = [None] * len(self.populations)
        self._kernels = [None] * len(self.populations)
        self._remap(load_state=True)

    def _remap(self, load_state: bool = False) -> None:
        for k, pop in enumerate(self.populations):
            m = map_population(pop, self.qformat, self._population_dt(pop),  # the reference's dt param
                               self.options, warn=False)
            self._warn_new(m.notes)
            old = self.mappings[k]
            if old is not None and old.key() == m.key() and not load_state:
                self.mappings[k] = m
                continue
            self.mappings[k] = m
            kern = FixedPointLIFArray(pop.n, **m.config, count_wraps=True)
            self._kernels[k] = kern
            self._load_state(k)

    def _load_state(self, k) -> None:
        """Initial fixed-point state from the population's (float or int) state."""
        pop, m, kern = self.populations[k], self.mappings[k], self._kernels[k]
        lo, hi = self.qformat.min_int, self.qformat.max_int
        if m.native:
            kern.v[...] = np.clip(pop.state["v"], lo, hi)
            kern.counter[...] = pop.state["refractory_counter"]
        else:
            kern.v[...] = self.qformat.quantize(pop.state["v"])
            kern.counter[...] = np.rint(pop.state["refractory"]).astype(np.int64)
        kern.wraps.fill(0)

    def _prepare(self) -> None:
        self._remap()
        super()._prepare()
        self._rt_codes = {}
        notes: list = []
        for rt in self._proj_rt:
            self._rt_codes[id(rt)] = quantise_weights(rt.proj, self.mappings[rt.tgt], warn=False,
                                                      notes=notes).astype(np.float64)
        self._warn_new(notes)
        # Synaptic currents (tau_syn) run in integers here, not in the base
        # class's float buffers: projections into the same population with the
        # same tau_syn share one W-bit register per neuron,
        #     syn <- sat_W(((syn * syn_k) >> F) + arriving weight codes),
        # syn_k = q(exp(-dt/tau_syn)), exactly as sc_lif_layer with USE_SYN=1.
        # rt.out becomes a per-group "arrivals" buffer; the base loop's float
        # decay plan is emptied.
        q = self.qformat
        old = getattr(self, "_syn_groups", {})
        groups = {}
        for rt in self._proj_rt:
            tau = rt.proj.tau_syn
            if tau is None:
                continue
            key = (rt.tgt, float(tau))
            if key not in groups:
                notes: list = []
                k = _quantise_param(math.exp(-self.dt_ms / tau), q,
                                    f"projection {rt.proj.label!r}: synaptic decay exp(-dt/tau_syn)", notes,
                                    [1.0])
                self._warn_new(notes)
                n_tgt = self.populations[rt.tgt].n
                prev = old.get(key)
                state = prev["state"] if prev is not None else np.zeros(n_tgt, dtype=np.int64)
                groups[key] = {"k": int(k), "state": state, "arrivals": np.zeros(n_tgt, dtype=np.float64)}
            rt.out = groups[key]["arrivals"]
        self._syn_groups = groups
        self._syn_by_target = [[g for (tgt, _), g in groups.items() if tgt == k]
                               for k in range(len(self.populations))]
        self._syn_plan = []

    def _bind(self) -> None:
        super()._bind()
        # stimuli write into their own arrays: they are quantised separately
        # (the RTL's ext_in port) before the weight codes are added
        first = self.populations[0]
        self._stim_calls = []
        self._stim_owner = []
        for stim in self.stimuli:
            tgt = stim.target if stim.target is not None else first
            self._stim_calls.append((stim.apply, self._stim[self._index[id(tgt)]]))
            self._stim_owner.append(tgt)

    # -- the compiled chunk loop ---------------------------------------------------------
    def _compiled_blocker(self) -> str | None:
        """Why this chunk cannot run compiled (``None``: it can)."""
        if self._plastic:
            return "plastic projections"
        for m in self.mappings:
            if m.noise_amplitude:
                return f"population {m.label!r} has noise_amplitude"
        return None if _numba_kernel() is not None else "numba is not importable"

    def _advance(self, n_steps: int):
        if self.kernel_choice == "python":
            self.last_kernel = "python"
            return super()._advance(n_steps)
        self._prepare()
        why = self._compiled_blocker()
        if why is not None:
            if self.kernel_choice == "compiled":
                raise NotImplementedError(f"the compiled fixed-point loop cannot run this network: {why}")
            self.last_kernel = "python"
            return super()._advance(n_steps)
        chunk = self._advance_compiled(n_steps)
        self.last_kernel = "compiled"
        for mon in self.monitors:
            mon.record(chunk)
        return chunk

    def _advance_compiled(self, n_steps: int):
        """The chunk in one compiled call per block of steps (same codes as the Python loop)."""
        from engine.backends.base import Chunk

        run = _numba_kernel()
        pops = self.populations
        npop = len(pops)
        q = self.qformat
        off = np.zeros(npop + 1, dtype=np.int64)
        np.cumsum([p.n for p in pops], out=off[1:])
        N = int(off[-1])
        i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
        kerns = self._kernels
        LEAK = np.empty(N, dtype=np.int64)
        GAIN = np.empty(N, dtype=np.int64)
        for k, m in enumerate(self.mappings):
            LEAK[off[k]:off[k + 1]] = m.leak_k   # scalars or per-neuron arrays
            GAIN[off[k]:off[k + 1]] = m.gain_k
        native = np.array([m.native for m in self.mappings], dtype=np.bool_)
        v_rest, v_reset = i64([kn.v_rest for kn in kerns]), i64([kn.v_reset for kn in kerns])
        v_thr, refr = i64([kn.v_threshold for kn in kerns]), i64([kn.refractory_period for kn in kerns])
        v_hold, bias = i64([kn.v_hold for kn in kerns]), i64([kn.bias for kn in kerns])
        saturate = np.array([kn.saturate for kn in kerns], dtype=np.bool_)
        V = np.concatenate([kn.v.astype(np.int64) for kn in kerns])
        CNT = np.concatenate([kn.counter.astype(np.int64) for kn in kerns])
        WRAPS = np.concatenate([kn.wraps for kn in kerns])
        INSAT = np.zeros(npop, dtype=np.int64)
        # destinations: the summed weight codes per neuron, then each synaptic group's arrivals
        groups = list(self._syn_groups.values())
        g_dest = np.zeros(len(groups), dtype=np.int64)
        g_state = np.zeros(len(groups), dtype=np.int64)
        where = {}
        a, b = N, 0
        for j, g in enumerate(groups):
            g_dest[j], g_state[j] = a, b
            where[id(g["arrivals"])] = a
            a += g["arrivals"].shape[0]
            b += g["state"].shape[0]
        DEST = np.zeros(a, dtype=np.int64)
        SYNST = np.concatenate([g["state"] for g in groups]) if groups else np.zeros(1, dtype=np.int64)
        g_k = i64([g["k"] for g in groups])
        gindex = {id(g): j for j, g in enumerate(groups)}
        gp_ptr, gp_idx = [0], []
        for k in range(npop):
            gp_idx += [gindex[id(g)] for g in self._syn_by_target[k]]
            gp_ptr.append(len(gp_idx))
        rts = self._proj_rt
        psrc, pdelay = i64([rt.src for rt in rts]), i64([rt.delay for rt in rts])
        pdest = i64([where[id(rt.out)] if rt.proj.tau_syn is not None else off[rt.tgt] for rt in rts])
        ip_off, e_off = np.zeros(len(rts), dtype=np.int64), np.zeros(len(rts), dtype=np.int64)
        a = b = 0
        for r, rt in enumerate(rts):
            ip_off[r], e_off[r] = a, b
            a += rt.indptr.shape[0]
            b += rt.indices.shape[0]
        INDPTR = np.concatenate([i64(rt.indptr) for rt in rts]) if rts else np.zeros(1, np.int64)
        IND = np.concatenate([i64(rt.indices) for rt in rts]) if rts else np.zeros(1, np.int64)
        CODES = (np.concatenate([self._rt_codes[id(rt)].astype(np.int64) for rt in rts]) if rts
                 else np.zeros(1, np.int64))
        # the delay lines (the base's rings of spike index arrays), flattened
        hist_len = i64(self._hist_len)
        hb_idx, hb_cnt = np.zeros(npop, dtype=np.int64), np.zeros(npop, dtype=np.int64)
        a = b = 0
        for k, p in enumerate(pops):
            hb_idx[k], hb_cnt[k] = a, b
            a += hist_len[k] * p.n
            b += hist_len[k]
        HIDX, HCNT = np.zeros(max(a, 1), dtype=np.int64), np.zeros(max(b, 1), dtype=np.int64)
        for k, p in enumerate(pops):
            for slot in range(hist_len[k]):
                idx = self._hist[k][slot][0]
                base = hb_idx[k] + slot * p.n
                HIDX[base:base + idx.size] = idx
                HCNT[hb_cnt[k] + slot] = idx.size
        # state monitors: codes recorded in the loop, converted to each variable's units after it
        rec_pop, rec_var, rec_idx, rec_plan = [], [], [], []
        for label, k, variables, rec in self._state_monitors:
            idx = np.arange(pops[k].n) if rec is None else np.asarray(rec, dtype=np.int64)
            for var in variables:
                self._read_state(k, var)  # unknown variables: the same ValueError as the Python loop
                which = 0 if var == "v" else 1
                rec_plan.append((label, var, k, len(rec_idx), idx.size))
                rec_pop += [k] * idx.size
                rec_var += [which] * idx.size
                rec_idx += idx.tolist()
        rec_pop, rec_var, rec_idx = i64(rec_pop), i64(rec_var), i64(rec_idx)
        stim_calls = [(apply, self._index[id(self._stim_owner[j])]) for j, (apply, _) in
                      enumerate(self._stim_calls)]
        has_stim = bool(stim_calls)
        t0 = self.step_count
        block = max(1, min(max(n_steps, 1), (1 << 21) // max(N, 1)))
        OUT_T = np.empty(block * N, dtype=np.int64)
        OUT_I = np.empty(block * N, dtype=np.int64)
        rates = np.zeros((n_steps, npop))
        REC = np.empty((n_steps, rec_idx.size), dtype=np.int64)
        steps_out, ids_out = [], []
        STIM0 = np.zeros((0, N))
        done = 0
        while done < n_steps:
            m = min(block, n_steps - done)
            STIM = STIM0
            if has_stim:
                STIM = np.zeros((m, N))
                for s in range(m):
                    row = STIM[s]
                    for apply, k in stim_calls:
                        apply(t0 + done + s, row[off[k]:off[k + 1]])
                if not np.isfinite(STIM).all():
                    bad = int(np.searchsorted(off, np.flatnonzero(~np.isfinite(STIM).all(axis=0))[0], "right")) - 1
                    raise ValueError(f"stimulus current for population {pops[bad].label!r} is not finite")
            cnt = np.zeros(1, dtype=np.int64)
            c = run(m, t0 + done, off, STIM, has_stim, native, float(q.scale), np.int64(q.min_int),
                    np.int64(q.max_int), np.int64(q.fraction), np.int64(q.data_width),
                    LEAK, GAIN, v_rest, v_reset, v_thr, refr, v_hold, bias, saturate,
                    V, CNT, WRAPS, INSAT, psrc, pdelay, pdest, ip_off, e_off, INDPTR, IND, CODES,
                    DEST, g_k, g_dest, g_state, SYNST, i64(gp_ptr), i64(gp_idx) if gp_idx else
                    np.zeros(1, np.int64), hist_len, hb_idx, hb_cnt, HIDX, HCNT,
                    OUT_T, OUT_I, cnt, rates[done:done + m], rec_pop, rec_var, rec_idx, REC[done:done + m])
            steps_out.append(OUT_T[:c].copy())
            ids_out.append(OUT_I[:c].copy())
            done += m
        # write back: neuron state, synaptic registers, delay lines, counts
        for k, kn in enumerate(kerns):
            kn.v[...] = V[off[k]:off[k + 1]]
            kn.counter[...] = CNT[off[k]:off[k + 1]]
            kn.wraps[...] = WRAPS[off[k]:off[k + 1]]
            self._input_sat[k] += int(INSAT[k])
        for j, g in enumerate(groups):
            g["state"][...] = SYNST[g_state[j]:g_state[j] + g["state"].shape[0]]
        for k, p in enumerate(pops):
            for slot in range(hist_len[k]):
                c = HCNT[hb_cnt[k] + slot]
                base = hb_idx[k] + slot * p.n
                self._hist[k][slot] = (HIDX[base:base + c].copy(), None)
        self.step_count = t0 + n_steps
        self._finish_advance()
        steps = np.concatenate(steps_out) if steps_out else np.zeros(0, np.int64)
        gids = np.concatenate(ids_out) if ids_out else np.zeros(0, np.int64)
        owner = np.searchsorted(off, gids, side="right") - 1
        spikes = {}
        for k, p in enumerate(pops):
            sel = owner == k
            spikes[p.label] = (steps[sel], gids[sel] - off[k])
        traces = {}
        for label, var, k, start, size in rec_plan:
            codes = REC[:, start:start + size]
            if self.mappings[k].native:
                vals = codes.copy()
            elif var == "v":
                vals = codes / q.scale
            else:
                vals = codes.astype(np.float64)
            traces.setdefault(label, {})[var] = vals
        return Chunk(start_step=t0, n_steps=n_steps, dt=self.dt, spikes=spikes, traces=traces,
                     rates={p.label: rates[:, k].copy() for k, p in enumerate(pops)})

    def _deliver(self, rt, idx, vals, out) -> None:
        from engine.backends.base import deliver_rows

        deliver_rows(out, idx, vals, rt.indptr, rt.indptr_list, rt.indices, self._rt_codes[id(rt)])

    def input_codes(self, k: int, stim: np.ndarray, proj_codes: np.ndarray) -> tuple[np.ndarray, int]:
        """``I_t`` of population ``k`` from its stimulus values and summed weight
        codes, as the RTL layer forms it; also returns how many saturated."""
        q, m = self.qformat, self.mappings[k]
        lo, hi = q.min_int, q.max_int
        # np.minimum/np.maximum instead of np.clip: this runs every step on
        # small arrays, where clip's Python-level overhead dominates
        if not stim.any():
            total = np.array(proj_codes, dtype=np.float64)   # no stimulus this step: code 0
            n_sat = 0
        else:
            if m.native:
                s = np.rint(stim)
            else:
                s = np.sign(stim) * np.floor(np.abs(stim) * q.scale + 0.5)
            n_sat = int(np.count_nonzero(s < lo) + np.count_nonzero(s > hi))
            total = np.minimum(np.maximum(s, lo, out=s), hi, out=s)
            total += proj_codes
        n_over = np.count_nonzero(total < lo) + np.count_nonzero(total > hi)
        if n_over:
            n_sat += int(n_over)
            np.minimum(np.maximum(total, lo, out=total), hi, out=total)
        return total.astype(np.int64), n_sat

    def _step_populations(self):
        out = []
        for k, pop in enumerate(self.populations):
            m, kern = self.mappings[k], self._kernels[k]
            stim = self._stim[k]
            if not np.all(np.isfinite(stim)):
                raise ValueError(f"stimulus current for population {pop.label!r} is not finite")
            proj_codes = self._currents[k]
            syn = self._syn_by_target[k]
            if syn:
                proj_codes = proj_codes.copy()
                for g in syn:
                    n_sat = self._syn_update(g)
                    self._input_sat[k] += n_sat
                    proj_codes += g["state"]
            I_t, n_sat = self.input_codes(k, stim, proj_codes)
            stim.fill(0.0)
            self._input_sat[k] += n_sat
            noise = None
            if m.noise_amplitude:
                a = m.noise_amplitude
                noise = pop.rng.integers(-a, a + 1, size=pop.n, dtype=np.int64)
            spikes = kern.step(m.leak_k, m.gain_k, I_t, noise)
            out.append((np.flatnonzero(spikes), None))
        return out

    def _syn_update(self, g) -> int:
        """One step of a synaptic-current register group; returns how many saturated."""
        q = self.qformat
        st = g["state"]
        nxt = st * g["k"]
        np.right_shift(nxt, q.fraction, out=nxt)
        nxt += g["arrivals"].astype(np.int64)
        g["arrivals"].fill(0.0)
        n_sat = int(np.count_nonzero(nxt < q.min_int) + np.count_nonzero(nxt > q.max_int))
        if n_sat:
            np.minimum(np.maximum(nxt, q.min_int, out=nxt), q.max_int, out=nxt)
        st[...] = nxt
        return n_sat

    def state_snapshot(self) -> dict:
        snap = super().state_snapshot()
        snap["fixed_point_syn"] = {(id(self.populations[tgt]), tau): g["state"].copy()
                                   for (tgt, tau), g in self._syn_groups.items()}
        return snap

    def inherit(self, snapshot: dict) -> None:
        super().inherit(snapshot)
        for rt in self._proj_rt:  # the base copies float buffers into rt.out: not ours
            if rt.proj.tau_syn is not None:
                rt.out.fill(0.0)
        old = snapshot.get("fixed_point_syn", {})
        for (tgt, tau), g in self._syn_groups.items():
            prev = old.get((id(self.populations[tgt]), tau))
            if prev is not None and prev.shape == g["state"].shape:
                g["state"][...] = prev

    def _read_state(self, k, var):
        m, kern = self.mappings[k], self._kernels[k]
        if m.native:
            table = {"v": kern.v, "refractory_counter": kern.counter}
        else:
            table = {"v": kern.v / self.qformat.scale, "refractory": kern.counter.astype(np.float64)}
        if var not in table:
            raise ValueError(f"population {self.populations[k].label!r} has no state variable {var!r} in the "
                             f"fixed_point backend; available: {', '.join(table)}")
        return table[var]

    def _finish_advance(self) -> None:
        for k, pop in enumerate(self.populations):
            m, kern = self.mappings[k], self._kernels[k]
            if m.native:
                pop.state["v"][...] = kern.v
                pop.state["refractory_counter"][...] = kern.counter
            else:
                pop.state["v"][...] = kern.v / self.qformat.scale
                pop.state["refractory"][...] = kern.counter
            self.stats[pop.label] = {"input_saturated": self._input_sat[k], "v_wrapped": int(kern.wraps.sum())}

    def reset(self) -> None:
        super().reset()
        for g in self._syn_groups.values():
            g["state"].fill(0)
            g["arrivals"].fill(0.0)
        for k in range(len(self.populations)):
            self._load_state(k)
            self._stim[k].fill(0.0)
            self._input_sat[k] = 0
        self.stats = {p.label: {"input_saturated": 0, "v_wrapped": 0} for p in self.populations}

    # -- introspection ---------------------------------------------------------------------
    def kernel(self, label: str) -> FixedPointLIFArray:
        """The integer kernel (``v``, ``counter`` codes) of population ``label``."""
        for pop, kern in zip(self.populations, self._kernels):
            if pop.label == label:
                return kern
        raise KeyError(f"no population labelled {label!r}")

    def weight_codes(self, proj) -> np.ndarray:
        for rt in self._proj_rt:
            if rt.proj is proj:
                return self._rt_codes[id(rt)].astype(np.int64)
        raise KeyError(f"projection {proj!r} is not in this simulator")


def factory(network, dt):
    return FixedPointSimulator(network, dt)


register_backend("fixed_point", factory)
