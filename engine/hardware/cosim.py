"""RTL co-simulation: run ``hdl/`` under Icarus Verilog and compare every cycle
with the Python fixed-point model.

Bulk checks use the file-driven bench ``hdl/tb_lif_vectors.v``: stimulus
vectors are written as a ``$readmemh`` file, the simulator writes one output
line per cycle, and :func:`run_neuron_cosim` compares the whole trace with
:class:`~engine.models.fixed_point_lif.FixedPointLIFNeuron` in one go (no
per-cycle Python/simulator round trip, so 10^4 cycles take well under a
second).  Directed, interactive checks use cocotb (``tests/hdl``).

:func:`make_vectors` builds stimulus *adaptively*: it runs the Python model
while generating, so it can aim inputs at exact threshold equality, at the
cycle a refractory period ends, or at register overflow, and it counts how
often each case was hit (:class:`Coverage`) so tests can prove they exercised
them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import fixedpoint as fx
from engine.models.fixed_point_lif import FixedPointLIFNeuron, _check_config

__all__ = [
    "HDL_DIR", "ToolMissingError", "SimulationError", "find_tool", "compile_rtl", "run_vvp",
    "Coverage", "Vectors", "make_vectors", "model_trace", "CosimResult", "run_neuron_cosim",
    "neuron_sources", "to_hex", "NetworkCosimResult", "run_network_cosim", "OPTION_DEFAULTS",
    "rtl_option_params",
]

HDL_DIR = Path(__file__).resolve().parents[2] / "hdl"
NEURON_SOURCES = ("sc_lif_neuron.v",)
CONFIG_KEYS = ("data_width", "fraction", "v_rest", "v_reset", "v_threshold", "refractory_period")
#: datapath options and their defaults (the reference hardware); optional in a configuration
OPTION_DEFAULTS = {"refractory_hold": "v_rest", "saturate": False, "rounding": "floor"}


def rtl_option_params(cfg: dict) -> dict:
    """The RTL parameters (``REFRACTORY_HOLD``, ``SATURATE``, ``ROUND``) of a configuration's options."""
    o = {**OPTION_DEFAULTS, **{k: cfg[k] for k in OPTION_DEFAULTS if k in cfg}}
    return {"REFRACTORY_HOLD": int(o["refractory_hold"] == "v_reset"), "SATURATE": int(bool(o["saturate"])),
            "ROUND": int(o["rounding"] == "nearest")}


class ToolMissingError(RuntimeError):
    """An external EDA tool (iverilog, vvp, yosys...) is not installed."""


class SimulationError(RuntimeError):
    """The RTL failed to compile or simulate."""


def find_tool(name: str) -> str:
    """Path of an external tool: on PATH, or next to this Python (the
    ``yowasp-*`` tools are installed into the virtual environment's bin)."""
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        if name.startswith("yowasp-"):
            raise ToolMissingError(f"{name!r} was not found on PATH or next to {sys.executable}; FPGA synthesis "
                                   f"and formal proofs need it (pip install {name.replace('-smtbmc', '')})")
        package = {"vvp": "iverilog"}.get(name, name)
        purpose = {"iverilog": "RTL co-simulation needs Icarus Verilog", "vvp": "RTL co-simulation needs Icarus "
                   "Verilog's vvp", "yosys": "synthesis estimates need Yosys",
                   "verilator": "lint checks need Verilator"}.get(name, "this step needs it")
        raise ToolMissingError(f"{name!r} was not found on PATH; {purpose} "
                               f"(Debian/Ubuntu: apt-get install {package})")
    return path


def neuron_sources() -> list[Path]:
    return [HDL_DIR / s for s in NEURON_SOURCES]


def to_hex(values, bits: int) -> list[str]:
    """Two's-complement hex words of ``bits`` bits (what ``$readmemh`` reads)."""
    digits = (bits + 3) // 4
    mask = (1 << bits) - 1
    return [format(int(v) & mask, f"0{digits}x") for v in np.ravel(values)]


def _param_literal(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "/") + '"'
    return str(int(value))


def compile_rtl(sources, top: str, params: dict, build_dir, *, include_dirs=(), name: str = "sim") -> Path:
    """``iverilog -g2001`` the sources with ``-P top.NAME=value`` overrides; returns the vvp file."""
    iverilog = find_tool("iverilog")
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    out = build_dir / f"{name}.vvp"
    cmd = [iverilog, "-g2001", "-Wall", "-Wno-timescale", "-Wno-sensitivity-entire-array", "-o", str(out), "-s", top]
    for inc in include_dirs:
        cmd += ["-I", str(inc)]
    for k, v in params.items():
        cmd += ["-P", f"{top}.{k}={_param_literal(v)}"]
    cmd += [str(s) for s in sources]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SimulationError(f"iverilog failed ({' '.join(cmd)}):\n{proc.stderr}{proc.stdout}")
    return out


def run_vvp(vvp_file, *, cwd=None, timeout: float = 300) -> str:
    vvp = find_tool("vvp")
    proc = subprocess.run([vvp, "-n", str(vvp_file)], capture_output=True, text=True, cwd=cwd, timeout=timeout)
    if proc.returncode != 0 or "ERROR" in proc.stdout:
        raise SimulationError(f"vvp {vvp_file} failed:\n{proc.stderr}{proc.stdout}")
    return proc.stdout


# -- stimulus --------------------------------------------------------------------

@dataclass
class Coverage:
    """How often the generated stimulus hit each interesting case."""

    cycles: int = 0
    spikes: int = 0
    threshold_equal: int = 0      # v_next == v_threshold exactly (spikes: >=)
    threshold_minus_one: int = 0  # v_next == v_threshold - 1 (must not spike)
    wraps: int = 0                # v + dv_leak + dv_in + noise left the W-bit range (wrapped or clipped)
    refractory_cycles: int = 0
    refractory_exits: int = 0     # first active cycle after a refractory period
    resets: int = 0               # rst_n asserted mid-run
    negative_current: int = 0
    nonzero_noise: int = 0
    rounding_changed: int = 0     # cycles where round-to-nearest gave a different product than floor


@dataclass
class Vectors:
    rst_n: np.ndarray
    leak_k: np.ndarray
    gain_k: np.ndarray
    I_t: np.ndarray
    noise_in: np.ndarray
    coverage: Coverage = field(default_factory=Coverage)

    def __len__(self):
        return len(self.rst_n)


def _check_cfg(cfg: dict) -> dict:
    missing = [k for k in CONFIG_KEYS if k not in cfg]
    if missing:
        raise ValueError(f"neuron configuration is missing {', '.join(missing)}")
    out = {k: int(cfg[k]) for k in CONFIG_KEYS}
    for k, default in OPTION_DEFAULTS.items():
        out[k] = cfg.get(k, default)
    _check_config(**out)
    out["saturate"] = bool(out["saturate"])
    return out


def make_vectors(cfg: dict, n_cycles: int, *, seed: int = 0, reset_rate: float = 0.002,
                 segment: int = 250) -> Vectors:
    """Random stimulus for ``n_cycles`` cycles, mixing regimes in segments:

    * ``full``: every input uniform over the whole W-bit range (overflow,
      negative leak/gain/current, large noise);
    * ``typical``: small positive leak, gain near 1.0, currents around the
      threshold, small noise -- regular spiking;
    * ``aim``: leak 0 and gain 1.0 so that ``dv_in == I_t``, with I_t chosen
      from the model's current state to land exactly on the threshold or one
      below it (equality checks), also right at the end of refractory periods;
    * ``negative``: negative currents driving v downwards until it wraps.

    Resets (rst_n = 0) are sprinkled in with probability ``reset_rate``.
    """
    cfg = _check_cfg(cfg)
    if n_cycles < 1:
        raise ValueError(f"n_cycles must be >= 1, got {n_cycles}")
    W, F = cfg["data_width"], cfg["fraction"]
    lo, hi = fx.int_range(W)
    rng = np.random.default_rng(seed)
    model = FixedPointLIFNeuron(**cfg)
    one = 1 << F if (1 << F) <= hi else hi
    cov = Coverage(cycles=n_cycles)
    rows = np.zeros((n_cycles, 5), dtype=np.int64)
    thr = cfg["v_threshold"]
    regimes = ("full", "typical", "aim", "negative")
    regime = "aim"
    was_refractory = False
    for c in range(n_cycles):
        if c % segment == 0:
            regime = regimes[int(rng.integers(len(regimes)))]
        if c > 0 and rng.random() < reset_rate:
            rows[c, 0] = 0
            cov.resets += 1
            model.reset()
            was_refractory = False
            continue
        rows[c, 0] = 1
        if regime == "full":
            leak, gain, cur, noise = (int(x) for x in rng.integers(lo, hi + 1, size=4))
        elif regime == "typical":
            leak = int(rng.integers(0, max(1, min(hi, one // 4)) + 1))
            gain = int(min(hi, max(lo, one + int(rng.integers(-one // 4 - 1, one // 4 + 1)))))
            cur = int(np.clip(rng.normal(abs(thr) / 4 + 1, abs(thr) / 4 + 2), lo, hi))
            noise = int(np.clip(rng.integers(-4, 5), lo, hi))
        elif regime == "negative":
            leak = 0
            gain = one
            cur = int(rng.integers(lo, 1))
            noise = 0
        else:  # aim
            leak, gain, noise = 0, one, 0
            target = thr - int(rng.integers(0, 2))  # exactly on or one below
            want = target - model.v
            if gain == 1 << F and lo <= want <= hi:
                cur = want
            else:
                cur = int(rng.integers(lo, hi + 1))
        rows[c, 1:] = (leak, gain, cur, noise)
        cov.negative_current += cur < 0
        cov.nonzero_noise += noise != 0
        if model.refractory_counter > 0:
            cov.refractory_cycles += 1
            was_refractory = True
        else:
            if was_refractory:
                cov.refractory_exits += 1
            was_refractory = False
            b = fx.round_bias(F, cfg["rounding"])
            raw = model.v + ((fx.wrap(model.v_rest - model.v, 2 * W) * leak + b) >> F) + ((cur * gain + b) >> F) \
                + noise
            v_next = fx.fit_sum(raw, W, cfg["saturate"])
            if b:
                p_leak, p_in = fx.wrap(model.v_rest - model.v, 2 * W) * leak, cur * gain
                cov.rounding_changed += ((p_leak + b) >> F != p_leak >> F) or ((p_in + b) >> F != p_in >> F)
            cov.wraps += raw != v_next
            cov.threshold_equal += v_next == thr
            cov.threshold_minus_one += v_next == thr - 1
        spike, _ = model.step(leak, gain, cur, noise)
        cov.spikes += spike
    return Vectors(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4], cov)


def model_trace(cfg: dict, vec: Vectors) -> tuple[np.ndarray, np.ndarray]:
    """The Python model's ``(spike, v_out)`` for every cycle of ``vec``."""
    cfg = _check_cfg(cfg)
    model = FixedPointLIFNeuron(**cfg)
    n = len(vec)
    spikes = np.zeros(n, dtype=np.int64)
    vs = np.zeros(n, dtype=np.int64)
    rst, lk, gk, it, nz = (a.tolist() for a in (vec.rst_n, vec.leak_k, vec.gain_k, vec.I_t, vec.noise_in))
    for c in range(n):
        if not rst[c]:
            model.reset()
            spikes[c], vs[c] = 0, model.v
        else:
            spikes[c], vs[c] = model.step(lk[c], gk[c], it[c], nz[c])
    return spikes, vs


# -- comparison --------------------------------------------------------------------

@dataclass
class CosimResult:
    """Outcome of a cycle-by-cycle comparison of RTL and Python model."""

    n_cycles: int
    spikes_rtl: np.ndarray
    v_rtl: np.ndarray
    spikes_model: np.ndarray
    v_model: np.ndarray
    coverage: Coverage | None = None

    @property
    def mismatch_cycles(self) -> np.ndarray:
        bad = (self.spikes_rtl != self.spikes_model) | (self.v_rtl != self.v_model)
        return np.flatnonzero(np.atleast_1d(bad).reshape(len(bad), -1).any(axis=1))

    @property
    def ok(self) -> bool:
        return self.mismatch_cycles.size == 0

    @property
    def first_mismatch(self) -> int | None:
        m = self.mismatch_cycles
        return int(m[0]) if m.size else None

    def summary(self) -> str:
        if self.ok:
            return f"RTL and model agree on all {self.n_cycles} cycles"
        c = self.first_mismatch
        return (f"{self.mismatch_cycles.size} of {self.n_cycles} cycles differ; first at cycle {c}: "
                f"RTL spike={self.spikes_rtl[c]} v={self.v_rtl[c]}, "
                f"model spike={self.spikes_model[c]} v={self.v_model[c]}")


def _parse_signed_hex(token: str, bits: int) -> int:
    if any(ch in token for ch in "xXzZ"):
        raise SimulationError(f"RTL produced an undefined value {token!r}")
    return fx.wrap(int(token, 16), bits)


def run_neuron_cosim(cfg: dict, vectors: Vectors, *, build_dir=None, rtl_params: dict | None = None,
                     keep: bool = False) -> CosimResult:
    """Simulate ``sc_lif_neuron`` on ``vectors`` and compare with the model.

    ``cfg`` configures both sides; ``rtl_params`` overrides RTL parameters
    only (e.g. ``{"V_THRESHOLD": 300}``), which is how tests prove that a
    wrong constant is detected.  Artefacts go to ``build_dir`` (default: a
    temporary directory, removed afterwards unless ``keep``).
    """
    cfg = _check_cfg(cfg)
    find_tool("iverilog")
    find_tool("vvp")
    W = cfg["data_width"]
    n = len(vectors)
    tmp = None
    if build_dir is None:
        tmp = tempfile.mkdtemp(prefix="cosim_")
        build_dir = tmp
    build_dir = Path(build_dir)
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        vec_file, out_file = build_dir / "vectors.mem", build_dir / "outputs.txt"
        mask = (1 << W) - 1
        lines = []
        for r, l, g, i, z in zip(vectors.rst_n.tolist(), vectors.leak_k.tolist(), vectors.gain_k.tolist(),
                                 vectors.I_t.tolist(), vectors.noise_in.tolist()):
            word = (((((((r & 1) << W | (l & mask)) << W) | (g & mask)) << W) | (i & mask)) << W) | (z & mask)
            lines.append(format(word, "x"))
        vec_file.write_text("\n".join(lines) + "\n")
        params = {"DATA_WIDTH": W, "FRACTION": cfg["fraction"], "V_REST": cfg["v_rest"],
                  "V_RESET": cfg["v_reset"], "V_THRESHOLD": cfg["v_threshold"],
                  "REFRACTORY_PERIOD": cfg["refractory_period"], **rtl_option_params(cfg), "NCYC": n,
                  "VEC_FILE": str(vec_file), "OUT_FILE": str(out_file)}
        params.update(rtl_params or {})
        vvp = compile_rtl([HDL_DIR / "tb_lif_vectors.v", *neuron_sources()], "tb_lif_vectors", params, build_dir)
        run_vvp(vvp, cwd=build_dir)
        rows = out_file.read_text().split()
        if len(rows) != 2 * n:
            raise SimulationError(f"expected {n} output lines from the RTL, got {len(rows) // 2}")
        spikes_rtl = np.array([int(t) for t in rows[0::2]], dtype=np.int64)
        v_rtl = np.array([_parse_signed_hex(t, W) for t in rows[1::2]], dtype=np.int64)
        spikes_model, v_model = model_trace(cfg, vectors)
        return CosimResult(n, spikes_rtl, v_rtl, spikes_model, v_model, vectors.coverage)
    finally:
        if tmp is not None and not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def default_build_dir() -> Path:
    """``hdl/build`` (git-ignored), or ``$NEUROCORE_HDL_BUILD``."""
    return Path(os.environ.get("NEUROCORE_HDL_BUILD", HDL_DIR / "build"))


# -- a whole (two-layer) network ----------------------------------------------------------

@dataclass
class NetworkCosimResult:
    """Per-cycle spikes and membranes of both populations, RTL vs fixed-point backend."""

    labels: tuple
    n_cycles: int
    spikes_rtl: dict
    spikes_model: dict
    v_rtl: dict
    v_model: dict

    @property
    def mismatch_cycles(self) -> np.ndarray:
        bad = np.zeros(self.n_cycles, dtype=bool)
        for lab in self.labels:
            bad |= (self.spikes_rtl[lab] != self.spikes_model[lab]).any(axis=1)
            bad |= (self.v_rtl[lab] != self.v_model[lab]).any(axis=1)
        return np.flatnonzero(bad)

    @property
    def ok(self) -> bool:
        return self.mismatch_cycles.size == 0

    def summary(self) -> str:
        counts = {lab: int(self.spikes_rtl[lab].sum()) for lab in self.labels}
        if self.ok:
            return f"RTL network and fixed_point backend agree on all {self.n_cycles} cycles (spikes {counts})"
        c = int(self.mismatch_cycles[0])
        return (f"{self.mismatch_cycles.size} of {self.n_cycles} cycles differ; first at cycle {c}: " +
                "; ".join(f"{lab}: RTL spikes {np.flatnonzero(self.spikes_rtl[lab][c]).tolist()} "
                          f"model {np.flatnonzero(self.spikes_model[lab][c]).tolist()}" for lab in self.labels))


def _split_words(hex_word: str, n: int, bits: int) -> list[int]:
    if any(ch in hex_word for ch in "xXzZ"):
        raise SimulationError(f"RTL produced an undefined value {hex_word!r}")
    word = int(hex_word, 16)
    mask = (1 << bits) - 1
    return [fx.wrap((word >> (j * bits)) & mask, bits) for j in range(n)]


def run_network_cosim(network, n_steps: int, *, dt: float = 0.001, qformat=None, build_dir=None,
                      rtl_params: dict | None = None, keep: bool = False,
                      options: dict | None = None) -> NetworkCosimResult:
    """Export a two-population network, run it in RTL (``hdl/tb_network2.v``) and
    in the ``fixed_point`` backend from step 0, and compare every cycle.

    The network is reset before and after.  ``rtl_params`` overrides
    ``tb_network2`` parameters (for fault-injection tests)."""
    from engine.backends.fixed_point import FixedPointSimulator
    from engine.hardware.export import export_network

    find_tool("iverilog")
    find_tool("vvp")
    tmp = None
    if build_dir is None:
        tmp = tempfile.mkdtemp(prefix="netcosim_")
        build_dir = tmp
    build_dir = Path(build_dir)
    network.reset()
    try:
        exp = export_network(network, build_dir, qformat=qformat, dt=dt, n_steps=n_steps, require_two_layer=True,
                             options=options)
        la, lb = exp.two_layer
        W = exp.qformat.data_width
        # Python side, one step at a time so every cycle's membrane is seen
        sim = FixedPointSimulator(network, dt, qformat=exp.qformat, options=options)
        pops = {lab: network.population(lab) for lab in (la, lb)}
        spikes_m = {lab: np.zeros((n_steps, p.n), dtype=np.int64) for lab, p in pops.items()}
        v_m = {lab: np.zeros((n_steps, p.n), dtype=np.int64) for lab, p in pops.items()}
        for t in range(n_steps):
            chunk = sim.advance(1)
            for lab in (la, lb):
                _, ids = chunk.spikes[lab]
                spikes_m[lab][t, ids] = 1
                v_m[lab][t] = sim.kernel(lab).v
        # RTL side
        sources = [HDL_DIR / f for f in ("tb_network2.v", "sc_lif_layer.v", "sc_lif_array.v", "sc_lif_neuron.v")]
        vvp = compile_rtl(sources, "tb_network2", rtl_params or {}, build_dir, include_dirs=[build_dir],
                          name="network")
        run_vvp(vvp, cwd=build_dir)
        lines = exp.output.read_text().split("\n")
        lines = [ln for ln in lines if ln.strip()]
        if len(lines) != n_steps:
            raise SimulationError(f"expected {n_steps} output lines from the RTL network, got {len(lines)}")
        na, nb = pops[la].n, pops[lb].n
        spikes_r = {la: np.zeros((n_steps, na), dtype=np.int64), lb: np.zeros((n_steps, nb), dtype=np.int64)}
        v_r = {la: np.zeros((n_steps, na), dtype=np.int64), lb: np.zeros((n_steps, nb), dtype=np.int64)}
        for t, ln in enumerate(lines):
            sa, sb, va, vb = ln.split()
            # %b prints the MSB (last neuron) first
            spikes_r[la][t] = [int(ch) for ch in reversed(sa)]
            spikes_r[lb][t] = [int(ch) for ch in reversed(sb)]
            v_r[la][t] = _split_words(va, na, W)
            v_r[lb][t] = _split_words(vb, nb, W)
        return NetworkCosimResult((la, lb), n_steps, spikes_r, spikes_m, v_r, v_m)
    finally:
        network.reset()
        if tmp is not None and not keep:
            shutil.rmtree(tmp, ignore_errors=True)
