"""Bulk RTL co-simulation: hdl/sc_lif_neuron.v under Icarus Verilog against the
Python FixedPointLIFNeuron, bit for bit on every cycle."""

import subprocess
import zlib
from pathlib import Path

import pytest

from engine.hardware import cosim
from tests.conftest import require_tool

pytestmark = pytest.mark.rtl

HDL = Path(__file__).resolve().parents[2] / "hdl"

# (data_width, fraction, v_rest, v_reset, v_threshold, refractory_period)
CONFIGS = {
    "Q4.4_refr0": (8, 4, 0, 0, 16, 0),
    "Q4.4_refr1": (8, 4, -5, 3, 20, 1),
    "Q8.8_refr5": (16, 8, 0, -128, 256, 5),
    "Q8.8_refr1": (16, 8, 40, 0, 300, 1),
    "Q12.4_refr0": (16, 4, -16, -32, 160, 0),
    "Q12.4_refr5": (16, 4, 0, 0, 16, 5),
    "Q16.16_refr5": (32, 16, 0, 0, 1 << 16, 5),
    "Q16.16_refr0": (32, 16, -1000, 5000, 3 << 15, 0),
}
N_CYCLES = 10_000

# datapath options on top of a base configuration: (base, refractory_hold, saturate, rounding)
OPTION_CONFIGS = {
    "Q4.4_hold_reset": ("Q4.4_refr1", "v_reset", False, "floor"),
    "Q8.8_hold_reset": ("Q8.8_refr5", "v_reset", False, "floor"),
    "Q4.4_saturate": ("Q4.4_refr1", "v_rest", True, "floor"),
    "Q8.8_saturate": ("Q8.8_refr1", "v_rest", True, "floor"),
    "Q16.16_saturate": ("Q16.16_refr5", "v_rest", True, "floor"),
    "Q4.4_nearest": ("Q4.4_refr0", "v_rest", False, "nearest"),
    "Q12.4_nearest": ("Q12.4_refr5", "v_rest", False, "nearest"),
    "Q16.16_nearest": ("Q16.16_refr0", "v_rest", False, "nearest"),
    "Q8.8_all": ("Q8.8_refr5", "v_reset", True, "nearest"),
    "Q16.16_all": ("Q16.16_refr5", "v_reset", True, "nearest", {"v_reset": -3000}),
}


def cfg_of(name):
    if name in OPTION_CONFIGS:
        base, hold, sat, rnd, *more = OPTION_CONFIGS[name]
        return dict(cfg_of(base), refractory_hold=hold, saturate=sat, rounding=rnd, **(more[0] if more else {}))
    return dict(zip(cosim.CONFIG_KEYS, CONFIGS[name]))


@pytest.mark.parametrize("name", list(CONFIGS) + list(OPTION_CONFIGS))
def test_rtl_matches_model_on_random_vectors(name):
    require_tool("iverilog")
    cfg = cfg_of(name)
    vec = cosim.make_vectors(cfg, N_CYCLES, seed=zlib.crc32(name.encode()) % 1000)
    cov = vec.coverage
    # the stimulus must really have exercised the corner cases it claims to
    assert cov.cycles >= 10_000
    assert cov.wraps > 50, "no overflow wrap-around exercised"
    assert cov.threshold_equal > 20 and cov.threshold_minus_one > 20
    assert cov.negative_current > 1000 and cov.nonzero_noise > 1000
    assert cov.resets >= 5 and cov.spikes > 100
    if cfg["refractory_period"]:
        assert cov.refractory_exits > 50
    if cfg.get("rounding") == "nearest":
        assert cov.rounding_changed > 300, "round-to-nearest never changed a product"
    result = cosim.run_neuron_cosim(cfg, vec)
    assert result.n_cycles == N_CYCLES
    assert result.ok, result.summary()
    # not a vacuous comparison: the trace moves and spikes
    assert len(set(result.v_rtl.tolist())) > 100 and result.spikes_rtl.sum() == cov.spikes
    lo, hi = -(1 << (cfg["data_width"] - 1)), (1 << (cfg["data_width"] - 1)) - 1
    if cfg.get("saturate"):
        # clipped sums pin the membrane to the rails instead of jumping across
        assert {lo, hi} & set(result.v_rtl.tolist())
    if cfg.get("refractory_hold") == "v_reset":
        refr = cosim.model_trace(dict(cfg, refractory_hold="v_rest"), vec)[1]
        assert (refr != result.v_rtl).any(), "holding v_reset made no difference: vacuous"


@pytest.mark.parametrize("name,override", [("Q8.8_hold_reset", {"REFRACTORY_HOLD": 0}),
                                           ("Q8.8_saturate", {"SATURATE": 0}),
                                           ("Q12.4_nearest", {"ROUND": 0}),
                                           ("Q8.8_refr5", {"ROUND": 1})])
def test_wrong_rtl_option_is_reported(name, override):
    """An RTL whose option parameter differs from the model's must mismatch."""
    require_tool("iverilog")
    cfg = cfg_of(name)
    vec = cosim.make_vectors(cfg, 3000, seed=11)
    result = cosim.run_neuron_cosim(cfg, vec, rtl_params=override)
    assert not result.ok, f"{override} went unnoticed"


@pytest.mark.parametrize("override", [{"V_THRESHOLD": 257}, {"FRACTION": 7}, {"REFRACTORY_PERIOD": 4}])
def test_wrong_rtl_constant_is_reported(override):
    """A deliberately mis-parameterised RTL must not pass the co-simulation."""
    require_tool("iverilog")
    cfg = cfg_of("Q8.8_refr5")
    vec = cosim.make_vectors(cfg, 2000, seed=7)
    result = cosim.run_neuron_cosim(cfg, vec, rtl_params=override)
    assert not result.ok
    assert result.first_mismatch is not None and "differ; first at cycle" in result.summary()


def test_missing_iverilog_gives_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    cfg = cfg_of("Q8.8_refr5")
    vec = cosim.make_vectors(cfg, 10, seed=0)
    with pytest.raises(cosim.ToolMissingError, match="iverilog.*apt-get install iverilog"):
        cosim.run_neuron_cosim(cfg, vec)


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="v_threshold"):
        cosim.make_vectors(dict(cfg_of("Q4.4_refr0"), v_threshold=300), 10)
    with pytest.raises(ValueError, match="missing refractory_period"):
        cosim.make_vectors({k: v for k, v in cfg_of("Q4.4_refr0").items() if k != "refractory_period"}, 10)


@pytest.mark.parametrize("params", [[], ["-GDATA_WIDTH=8", "-GFRACTION=4", "-GREFRACTORY_PERIOD=5"],
                                    ["-GDATA_WIDTH=32", "-GFRACTION=16", "-GV_THRESHOLD=65536"],
                                    ["-GDATA_WIDTH=8", "-GFRACTION=4", "-GREFRACTORY_PERIOD=3",
                                     "-GREFRACTORY_HOLD=1", "-GSATURATE=1", "-GROUND=1"],
                                    ["-GDATA_WIDTH=32", "-GFRACTION=16", "-GV_THRESHOLD=65536", "-GSATURATE=1",
                                     "-GROUND=1"],
                                    ["-GDATA_WIDTH=4", "-GFRACTION=0", "-GV_THRESHOLD=3", "-GROUND=1"]])
def test_verilator_lint_clean(params, tmp_path):
    verilator = require_tool("verilator")
    weights = tmp_path / "w.mem"
    weights.write_text("0\n1\n2\n3\n")
    tops = {
        "sc_lif_neuron": ["sc_lif_neuron.v"],
        "sc_lif_array": ["sc_lif_array.v", "sc_lif_neuron.v"],
        "sc_lif_layer": ["sc_lif_layer.v", "sc_lif_array.v", "sc_lif_neuron.v"],
    }
    runs = [(top, files, []) for top, files in tops.items()]
    runs.append(("sc_lif_layer", tops["sc_lif_layer"], ["-GUSE_SYN=1", "-GSYN_K=3"]))
    runs.append(("sc_lif_array", tops["sc_lif_array"], ["-GSHARED_K=0"]))
    for top, files, more in runs:
        extra = [f'-GWEIGHT_FILE="{weights}"'] if top == "sc_lif_layer" else []
        proc = subprocess.run([verilator, "--lint-only", "-Wall", "--top-module", top, *params, *more, *extra,
                               *[str(HDL / f) for f in files]], capture_output=True, text=True)
        assert proc.returncode == 0, f"{top} {params} {more}:\n{proc.stderr}"
