"""Directed cocotb tests of sc_lif_neuron (reset mid-run, threshold equality,
refractory edges) via cocotb's pytest runner, for two configurations."""

import json
from pathlib import Path

import pytest

from tests.conftest import require_tool

pytestmark = pytest.mark.rtl

REPO = Path(__file__).resolve().parents[2]

CONFIGS = {
    "Q8.8_refr5": dict(data_width=16, fraction=8, v_rest=0, v_reset=-64, v_threshold=256, refractory_period=5),
    "Q4.4_refr1": dict(data_width=8, fraction=4, v_rest=-8, v_reset=0, v_threshold=20, refractory_period=1),
    "Q8.8_refr0": dict(data_width=16, fraction=8, v_rest=0, v_reset=0, v_threshold=256, refractory_period=0),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_directed_cocotb(name, tmp_path):
    require_tool("iverilog")
    from cocotb_tools.runner import get_runner

    cfg = CONFIGS[name]
    params = {"DATA_WIDTH": cfg["data_width"], "FRACTION": cfg["fraction"], "V_REST": cfg["v_rest"],
              "V_RESET": cfg["v_reset"], "V_THRESHOLD": cfg["v_threshold"],
              "REFRACTORY_PERIOD": cfg["refractory_period"]}
    runner = get_runner("icarus")
    runner.build(sources=[REPO / "hdl" / "sc_lif_neuron.v"], hdl_toplevel="sc_lif_neuron",
                 parameters=params, build_dir=tmp_path, timescale=("1ns", "1ps"))
    # the runner exports sys.path as PYTHONPATH, and the repo root is on it
    # (tests/ is a package), so the cocotb module is imported by its dotted name
    env = {"LIF_CFG": json.dumps(cfg)}
    results = runner.test(hdl_toplevel="sc_lif_neuron", test_module="tests.hdl.cocotb_lif_directed",
                          build_dir=tmp_path,
                          test_dir=tmp_path, extra_env=env)
    from cocotb_tools.runner import get_results

    total, failed = get_results(results)
    assert total == 3 and failed == 0, f"{failed} of {total} cocotb tests failed (see {results})"
