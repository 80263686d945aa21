"""Tuning a network for hardware: float <-> fixed parameter mapping, bit-width
sweeps, readable warnings and a zip export.

Mapping (``dt`` in ms, ``q(x) = round(x * 2**F)`` half away from zero, the
rule of :mod:`engine.backends.fixed_point`):

==================  ===============================  ===============================
model               float -> code                    code -> float
==================  ===============================  ===============================
LapicqueNeuron      leak_k = q(1 - exp(-dt/tau))     tau = -dt / ln(1 - leak_k/2**F)
                    gain_k = q(R (1 - exp(-dt/tau))) R = (gain_k/2**F) / (1 - exp(-dt/tau))
StochasticLIF       leak_k = q(dt/tau_mem)           tau_mem = dt / (leak_k/2**F)
                    gain_k = q(R dt)                 R = (gain_k/2**F) / dt
voltages            code = q(v)                      v = code / 2**F
==================  ===============================  ===============================

The inverse of a code is the float that maps exactly onto it, so
``float -> code -> float -> code`` returns the same code, and the float moves
by at most half an LSB of the quantity the code stands for.

Bit-width sweep rule: for a total width ``W`` the integer part (sign
included) gets the bits needed to hold the largest magnitude ``M`` the
network must represent -- its potentials (rest, reset, threshold) and its
largest weight and stimulus level -- plus one guard bit, so the membrane sum
can overshoot ``M`` by as much again without wrapping (CUBA sits at -60 with
inhibition pushing below: without the guard bit its sums wrap round ±64).
The fraction gets the rest, ``F = max(0, W - integer_bits)``; below
``integer_bits`` the format has no fraction and large values saturate (the
sweep shows what that costs).
"""

from __future__ import annotations

import io
import math
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import fixedpoint as fx

__all__ = ["ParameterMapping", "population_mapping", "leak_to_tau", "tau_to_leak", "gain_to_resistance",
           "resistance_to_gain", "volts_to_code", "code_to_volts", "sweep_fraction", "network_magnitude",
           "SweepRow", "SweepResult", "bitwidth_sweep", "hardware_warnings", "export_zip", "Cancelled",
           "LabComparison", "lab_compare"]


class Cancelled(RuntimeError):
    """A long computation was cancelled by its caller."""


def _positive(value, name):
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _kind(kind: str) -> str:
    if kind not in ("lapicque", "stochastic_lif"):
        raise ValueError(f"kind must be 'lapicque' or 'stochastic_lif', got {kind!r}")
    return kind


def tau_to_leak(tau: float, dt_ms: float, q: fx.QFormat, kind: str = "lapicque") -> int:
    """``leak_k`` code of a membrane time constant ``tau`` (ms)."""
    tau, dt_ms = _positive(tau, "tau"), _positive(dt_ms, "dt")
    leak = (1.0 - math.exp(-dt_ms / tau)) if _kind(kind) == "lapicque" else dt_ms / tau
    return int(q.quantize(leak))


def leak_to_tau(leak_k: int, dt_ms: float, q: fx.QFormat, kind: str = "lapicque") -> float:
    """The time constant (ms) whose leak maps exactly onto ``leak_k``."""
    dt_ms = _positive(dt_ms, "dt")
    frac = int(leak_k) / q.scale
    if _kind(kind) == "lapicque":
        if not 0.0 < frac < 1.0:
            raise ValueError(f"leak_k={leak_k} is {frac:g} in {q}; a Lapicque leak 1 - exp(-dt/tau) lies in (0, 1)")
        return -dt_ms / math.log1p(-frac)
    if frac <= 0.0:
        raise ValueError(f"leak_k={leak_k} must be positive (dt/tau_mem > 0)")
    return dt_ms / frac


def resistance_to_gain(resistance: float, tau: float, dt_ms: float, q: fx.QFormat, kind: str = "lapicque") -> int:
    dt_ms = _positive(dt_ms, "dt")
    r = float(resistance)
    if not math.isfinite(r):
        raise ValueError(f"resistance must be finite, got {resistance!r}")
    gain = r * (1.0 - math.exp(-dt_ms / _positive(tau, "tau"))) if _kind(kind) == "lapicque" else r * dt_ms
    return int(q.quantize(gain))


def gain_to_resistance(gain_k: int, tau: float, dt_ms: float, q: fx.QFormat, kind: str = "lapicque") -> float:
    dt_ms = _positive(dt_ms, "dt")
    g = int(gain_k) / q.scale
    if _kind(kind) == "lapicque":
        return g / (1.0 - math.exp(-dt_ms / _positive(tau, "tau")))
    return g / dt_ms


def volts_to_code(v: float, q: fx.QFormat) -> int:
    return int(q.quantize(float(v)))


def code_to_volts(code: int, q: fx.QFormat) -> float:
    return int(code) / q.scale


@dataclass
class ParameterMapping:
    """One population's hardware parameters: codes and the floats they stand for."""

    label: str
    kind: str
    qformat: str
    codes: dict          # leak_k, gain_k, v_rest, v_reset, v_threshold, refractory_period
    floats: dict         # tau, resistance, v_rest, v_reset, v_threshold (the exact values of the codes)
    model_floats: dict   # the model's own float parameters
    notes: list = field(default_factory=list)


def population_mapping(pop, qformat, dt_ms: float, options: dict | None = None) -> ParameterMapping:
    """The codes of ``pop`` in ``qformat`` and the floats they represent."""
    from engine.backends.fixed_point import QuantisationWarning, map_population, resolve_qformat

    q = resolve_qformat(qformat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantisationWarning)
        m = map_population(pop, q, dt_ms, options)
    codes = {"leak_k": m.leak_k, "gain_k": m.gain_k, **{k: m.config[k] for k in
                                                        ("v_rest", "v_reset", "v_threshold", "refractory_period")}}
    model = pop.model
    if m.native:
        return ParameterMapping(pop.label, m.kind, str(q), codes, {k: c / q.scale for k, c in codes.items()
                                                                   if k != "refractory_period"}, {}, [])
    tau_name = "tau" if m.kind == "lapicque" else "tau_mem"
    tau = getattr(model, tau_name)
    floats = {k: code_to_volts(codes[k], q) for k in ("v_rest", "v_reset", "v_threshold")}
    try:
        floats["tau"] = leak_to_tau(m.leak_k, dt_ms, q, m.kind)
    except ValueError:
        floats["tau"] = float("inf")  # the leak rounded to 0: no time constant survives
    floats["resistance"] = gain_to_resistance(m.gain_k, tau, dt_ms, q, m.kind)
    model_floats = {"tau": float(tau), "resistance": float(model.resistance),
                    **{k: float(getattr(model, k)) for k in ("v_rest", "v_reset", "v_threshold")}}
    return ParameterMapping(pop.label, m.kind, str(q), codes, floats, model_floats, list(m.notes))


# -- the bit-width sweep ------------------------------------------------------------------

def network_magnitude(network) -> float:
    """Largest magnitude the fixed-point network has to hold (potentials, weights, stimulus levels)."""
    from engine.models.fixed_point_lif import FixedPointLIF

    vals = [1.0]
    for p in network.populations:
        if isinstance(p.model, FixedPointLIF):
            continue
        vals += [abs(float(getattr(p.model, k))) for k in ("v_rest", "v_reset", "v_threshold")]
    for proj in network.projections:
        d = np.asarray(proj.data, dtype=np.float64)
        if d.size:
            vals.append(float(np.abs(d).max()))
    for stim in network.stimuli:
        for attr in ("amplitude", "value", "weight", "values"):
            v = getattr(stim, attr, None)
            if v is not None:
                try:
                    arr = np.abs(np.asarray(v, dtype=np.float64))
                except (TypeError, ValueError):
                    continue
                if arr.size and np.all(np.isfinite(arr)):
                    vals.append(float(arr.max()))
    return max(vals)


def sweep_fraction(width: int, magnitude: float) -> int:
    """Fraction bits for a total ``width`` (see the module docstring)."""
    return max(0, int(width) - fx.min_integer_bits(magnitude) - 1)


@dataclass
class SweepRow:
    data_width: int
    fraction: int
    agreement: float          # worst population's mean spike-train agreement
    rate_error: float         # worst population's relative rate error
    per_population: dict
    warnings: int
    seconds: float

    @property
    def qformat(self) -> str:
        return f"Q{self.data_width - self.fraction}.{self.fraction}"


@dataclass
class SweepResult:
    rows: list
    tolerance: float
    min_agreement: float

    def meets(self, row: SweepRow) -> bool:
        return row.rate_error <= self.tolerance and row.agreement >= self.min_agreement

    @property
    def smallest(self) -> SweepRow | None:
        """Narrowest format that meets the tolerance (and every wider one swept does too)."""
        ok = None
        for row in sorted(self.rows, key=lambda r: r.data_width, reverse=True):
            if not self.meets(row):
                break
            ok = row
        return ok

    def table(self) -> str:
        lines = [f"{'format':>8} {'W':>3} {'agree':>7} {'rate_err':>9} {'warn':>5}"]
        for r in self.rows:
            mark = " *" if self.smallest is r else ""
            lines.append(f"{r.qformat:>8} {r.data_width:>3} {r.agreement:>7.4f} {r.rate_error:>9.4f} "
                         f"{r.warnings:>5}{mark}")
        s = self.smallest
        lines.append(f"smallest format within rate error {self.tolerance:g} and agreement >= "
                     f"{self.min_agreement:g}: {s.qformat if s else 'none'}")
        return "\n".join(lines)


def bitwidth_sweep(network, widths=range(4, 33), *, n_steps: int = 1000, dt: float = 0.001,
                   tolerance: float = 0.05, min_agreement: float = 0.0, options: dict | None = None,
                   progress=None, cancel=None) -> SweepResult:
    """Compare float and fixed point at every total width in ``widths``.

    ``progress(done, total)`` is called after each width; ``cancel`` (an object
    with ``is_set()``, e.g. ``threading.Event``) stops the sweep between widths
    with :class:`Cancelled`."""
    from engine.backends.fixed_point import QuantisationWarning
    from engine.hardware.report import compare_float_fixed

    widths = [int(w) for w in widths]
    if not widths or any(not 2 <= w <= fx.MAX_WIDTH for w in widths):
        raise ValueError(f"widths must be total bit widths in [2, {fx.MAX_WIDTH}], got {widths!r}")
    tol = float(tolerance)
    if not math.isfinite(tol) or tol < 0:
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}")
    mag = network_magnitude(network)
    rows = []
    for i, w in enumerate(widths):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"sweep cancelled after {i} of {len(widths)} widths")
        f = sweep_fraction(w, mag)
        opts = dict(options or {})
        if opts.get("saturate") and 2 * w - f > 62:
            opts["saturate"] = False
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantisationWarning)
            rep = compare_float_fixed(network, n_steps=n_steps, dt=dt, qformat=(w, f), options=opts)
        per = {k: {"agreement": c.mean_agreement, "rate_error": c.relative_rate_error}
               for k, c in rep.populations.items()}
        rows.append(SweepRow(w, f, min(p["agreement"] for p in per.values()),
                             max(p["rate_error"] for p in per.values()), per, len(rep.warnings),
                             time.perf_counter() - t0))
        if progress is not None:
            progress(i + 1, len(widths))
    return SweepResult(rows, tol, float(min_agreement))


# -- side by side, for the lab ---------------------------------------------------------------

@dataclass
class LabComparison:
    report: object              # engine.hardware.report.ComparisonReport
    population: str
    neurons: list               # recorded neuron indices of ``population``
    v_float: np.ndarray         # (n_steps, len(neurons)), the float model's units
    v_fixed: np.ndarray         # the same in fixed point (code / 2**F)
    spikes_float: dict          # label -> (steps, ids)
    spikes_fixed: dict
    warnings: list
    seconds: float


def _float_backend() -> str:
    from engine.backends import available_backends

    return "compiled" if available_backends().get("compiled", (False, ""))[0] else "numpy"


def lab_compare(network, population: str, neurons=(0,), *, n_steps: int = 1000, dt: float = 0.001,
                qformat=None, options: dict | None = None, float_backend: str | None = None) -> LabComparison:
    """Float and fixed point on the same input: the report, both rasters and the
    membrane of ``neurons`` of ``population`` in both runs.

    The float side runs on ``float_backend``; by default the compiled backend
    when numba is there (the same spikes as NumPy for these deterministic
    models, several times faster for a lab's 1000 steps), else NumPy."""
    from engine.backends.fixed_point import QuantisationWarning
    from engine.hardware.report import compare_float_fixed
    from engine.network import StateMonitor

    t0 = time.perf_counter()
    pop = network.population(population)
    idx = sorted({int(i) for i in neurons})
    if not idx or idx[0] < 0 or idx[-1] >= pop.n:
        raise ValueError(f"neurons must be indices in [0, {pop.n}) of population {population!r}, got {list(neurons)}")
    label = "__hardware_lab_v"
    mon = StateMonitor(pop, [pop.model.voltage_variable], record=idx, label=label)
    network.add(mon)  # the monitor stays: callers pass a network built for this comparison
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantisationWarning)
        rep, cf, cx = compare_float_fixed(network, n_steps=n_steps, dt=dt, qformat=qformat, options=options,
                                          float_backend=float_backend or _float_backend(),
                                          return_chunks=True)
    var = pop.model.voltage_variable
    vf = np.asarray(cf.traces[label][var], dtype=np.float64)
    vx = np.asarray(cx.traces[label][var], dtype=np.float64)
    return LabComparison(rep, population, idx, vf, vx, dict(cf.spikes), dict(cx.spikes), hardware_warnings(rep),
                         time.perf_counter() - t0)


# -- warnings --------------------------------------------------------------------------------

def hardware_warnings(report) -> list[str]:
    """Everything a hardware engineer should see from a float-vs-fixed report:
    the quantisation warnings (parameter or projection named) plus, per
    population, wrapped or saturated membrane sums and saturated inputs."""
    out = list(report.warnings)
    for label, c in report.populations.items():
        if c.v_wrapped:
            out.append(f"population {label!r}: the membrane sum left the {report.qformat} range on {c.v_wrapped} "
                       f"neuron-steps (wrap-around, or clipping with saturate)")
        if c.input_saturated:
            out.append(f"population {label!r}: the input I_t saturated on {c.input_saturated} neuron-steps")
    return out


# -- export as one zip -----------------------------------------------------------------------

def _readme(network, exp, mappings, options) -> str:
    lines = [f"# NeuroCore hardware export ({exp.qformat})", "",
             f"Q-format {exp.qformat}: DATA_WIDTH={exp.qformat.data_width}, FRACTION={exp.qformat.fraction}; "
             f"1 LSB = {exp.qformat.resolution:g}.",
             f"Arithmetic: {'saturating' if options.get('saturate') else 'wrapping'} membrane sum, "
             f"{options.get('rounding', 'floor')} rounding of the shifted products.", "",
             "Files: `network_params.vh` (Verilog header: `include inside a module), `constants.mem` "
             "(leak_k, gain_k per population), `weights_<projection>.mem` (dense n_source x n_target "
             "codes, row-major, one hex word per line, for $readmemh)" +
             (", `weights.mem` (summed A->B matrix for sc_lif_layer)" if exp.layer_weights else "") + ".", "",
             "| population | kind | leak_k | gain_k | v_rest | v_reset | v_threshold | refractory | hold |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m in mappings:
        c = m.config
        lines.append(f"| {m.label} | {m.kind} | {m.leak_k} | {m.gain_k} | {c['v_rest']} | {c['v_reset']} | "
                     f"{c['v_threshold']} | {c['refractory_period']} | {c.get('refractory_hold', 'v_rest')} |")
    lines += ["", "Codes are two's-complement integers; the float a code stands for is code / 2**FRACTION."]
    for m in mappings:
        if m.float_values:
            vals = ", ".join(f"{k}={v:.6g}" for k, v in m.float_values.items())
            lines.append(f"- {m.label}: exact float values before quantisation: {vals}")
        for n in m.notes:
            lines.append(f"- warning: {n}")
    return "\n".join(lines) + "\n"


def export_zip(network, *, qformat=None, dt: float = 0.001, options: dict | None = None) -> bytes:
    """The network's hardware parameters as a zip (header, memory files, README)."""
    from engine.backends.fixed_point import FixedPointSimulator, QuantisationWarning
    from engine.hardware.export import export_network

    with tempfile.TemporaryDirectory(prefix="nc_export_") as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantisationWarning)
            exp = export_network(network, tmp, qformat=qformat, dt=dt, options=options)
            sim = FixedPointSimulator(network, dt, qformat=exp.qformat, options=options)
        opts = sim.options
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(Path(tmp).iterdir()):
                text = path.read_text()
                # the header names its files by absolute path for the bench; ship relative names
                z.writestr(path.name, text.replace(Path(tmp).as_posix() + "/", ""))
            z.writestr("README.md", _readme(network, exp, sim.mappings, opts))
        network.reset()
        return buf.getvalue()
