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

__all__ = ["SynthResult", "synth_neuron", "synth_array", "parse_stat", "format_table"]


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
