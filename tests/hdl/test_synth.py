"""yosys synthesis estimates: the figures exist and scale with width and size."""

import pytest

from engine.hardware import synth
from tests.conftest import require_tool

pytestmark = pytest.mark.rtl


def test_neuron_synthesis_grows_with_width():
    require_tool("yosys")
    res = [synth.synth_neuron(q, refractory_period=2) for q in ("Q4.4", "Q8.8", "Q16.16")]
    for r, w in zip(res, (8, 16, 32)):
        # v register (W bits) + spike flag + 2-bit refractory counter
        assert r.flip_flops == w + 1 + 2, r.gate_cells
        assert r.multipliers == 2  # leak and gain products
        assert r.cells > 0 and r.adders >= 3
    cells = [r.cells for r in res]
    assert cells[0] < cells[1] < cells[2]
    # two multipliers dominate: area grows faster than linearly in the width
    assert cells[2] > 2.5 * cells[1]


def test_array_synthesis_scales_with_n():
    require_tool("yosys")
    one = synth.synth_neuron("Q4.4")
    two, four = synth.synth_array(2, "Q4.4"), synth.synth_array(4, "Q4.4")
    assert (two.flip_flops, four.flip_flops) == (2 * one.flip_flops, 4 * one.flip_flops)
    assert four.multipliers == 8
    assert one.cells < two.cells < four.cells
    assert "sc_lif_array" in synth.format_table([two, four])


def test_bad_arguments():
    with pytest.raises(ValueError, match="qformat"):
        synth.synth_neuron("8.8")
    with pytest.raises(ValueError, match="fraction"):
        synth.synth_neuron((8, 8))
    with pytest.raises(ValueError, match="n must be"):
        synth.synth_array(0)
