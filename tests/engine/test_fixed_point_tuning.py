"""engine.hardware.tuning: float <-> fixed mapping, bit-width sweep, warnings, zip export."""

import io
import json
import math
import re
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.fixedpoint import QFormat
from engine.hardware import tuning
from engine.hardware.report import compare_float_fixed
from engine.network import ConstantCurrent, Network, Population, Projection, TimedArray

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "networks"


@pytest.mark.parametrize("kind", ["lapicque", "stochastic_lif"])
@pytest.mark.parametrize("q", [QFormat(8, 4), QFormat(16, 8), QFormat(24, 16)])
def test_round_trip_within_one_lsb(kind, q):
    dt = 1.0
    for tau in (2.0, 5.0, 13.7, 20.0, 50.0):
        if (kind == "lapicque" and 1 - math.exp(-dt / tau) or dt / tau) * q.scale < 1:
            continue  # rounds to 0: no time constant survives (a warning case, tested below)
        k = tuning.tau_to_leak(tau, dt, q, kind)
        tau_back = tuning.leak_to_tau(k, dt, q, kind)
        assert tuning.tau_to_leak(tau_back, dt, q, kind) == k           # code -> float -> code is exact
        leak = (1 - math.exp(-dt / tau)) if kind == "lapicque" else dt / tau
        leak_back = (1 - math.exp(-dt / tau_back)) if kind == "lapicque" else dt / tau_back
        assert abs(leak - leak_back) * q.scale <= 0.5 + 1e-9            # float moves by <= half an LSB
        for r in (0.5, 1.0, 3.0):
            g = tuning.resistance_to_gain(r, tau, dt, q, kind)
            r_back = tuning.gain_to_resistance(g, tau, dt, q, kind)
            assert tuning.resistance_to_gain(r_back, tau, dt, q, kind) == g
    for v in (-60.0, -49.0, 0.3, 1.0, 7.0):
        if abs(v) < (1 << (q.data_width - q.fraction - 1)):
            c = tuning.volts_to_code(v, q)
            assert abs(tuning.code_to_volts(c, q) - v) <= 0.5 * q.resolution
            assert tuning.volts_to_code(tuning.code_to_volts(c, q), q) == c


def test_mapping_values_and_bad_input():
    q = QFormat(16, 8)
    # 1 - exp(-1/20) = 0.04877 -> 12.49 -> 12; 12/256 -> tau = -1/ln(1 - 0.046875) = 20.83 ms
    assert tuning.tau_to_leak(20.0, 1.0, q) == 12
    assert tuning.leak_to_tau(12, 1.0, q) == pytest.approx(20.8293, abs=1e-3)
    assert tuning.tau_to_leak(20.0, 1.0, q, "stochastic_lif") == 13  # 1/20 * 256 = 12.8
    with pytest.raises(ValueError, match="tau"):
        tuning.tau_to_leak(0.0, 1.0, q)
    with pytest.raises(ValueError, match="leak_k"):
        tuning.leak_to_tau(0, 1.0, q)
    with pytest.raises(ValueError, match="kind"):
        tuning.tau_to_leak(5.0, 1.0, q, "izhikevich")
    pop = Population("LapicqueNeuron", 2, params={"tau": 20.0, "v_rest": -49.0, "v_reset": -60.0,
                                                  "v_threshold": -50.0, "refractory_period": 5}, label="exc")
    m = tuning.population_mapping(pop, "Q8.8", 1.0)
    assert m.codes == {"leak_k": 12, "gain_k": 12, "v_rest": -12544, "v_reset": -15360, "v_threshold": -12800,
                       "refractory_period": 5}
    assert m.floats["tau"] == pytest.approx(20.8293, abs=1e-3) and m.floats["v_reset"] == -60.0


def test_sweep_rule_and_smallest_format():
    a = Population("LapicqueNeuron", 20, params={"tau": 10.0}, label="a")
    b = Population("LapicqueNeuron", 10, params={"tau": 5.0}, label="b")
    stim = np.random.default_rng(0).uniform(0.0, 3.0, (300, 20))
    net = Network(a, b, Projection(a, b, weight={"dist": "uniform", "low": 0.0, "high": 1.5}, seed=1),
                  TimedArray(stim, target=a))
    assert tuning.network_magnitude(net) == pytest.approx(3.0, abs=0.01)
    # 3.0 needs 3 integer bits (sign included), plus the guard bit
    assert tuning.sweep_fraction(16, 3.0) == 12 and tuning.sweep_fraction(4, 3.0) == 0
    assert tuning.sweep_fraction(16, 60.0) == 8  # CUBA: Q8.8
    seen = []
    res = tuning.bitwidth_sweep(net, widths=[4, 6, 8, 12, 16, 24], n_steps=300, tolerance=0.05,
                                progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (6, 6) and len(res.rows) == 6
    agree = [r.agreement for r in res.rows]
    assert agree[0] < 0.95 and agree[-1] > 0.99 and agree[-1] > agree[0] + 0.05  # 4 bits coarse, 24 close
    assert res.rows[-1].rate_error < 0.01
    s = res.smallest
    assert s is not None and all(res.meets(r) for r in res.rows if r.data_width >= s.data_width)
    assert not res.meets(res.rows[0])
    assert s.qformat in res.table() and "smallest format" in res.table()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(tuning.Cancelled):
        tuning.bitwidth_sweep(net, widths=[8], n_steps=10, cancel=cancel)
    with pytest.raises(ValueError, match="widths"):
        tuning.bitwidth_sweep(net, widths=[40])


@pytest.mark.filterwarnings("ignore::engine.backends.fixed_point.QuantisationWarning")
def test_warnings_name_the_parameter_and_the_wrap():
    slow = Population("LapicqueNeuron", 3, params={"tau": 500.0}, label="slowleak")
    hot = Population("LapicqueNeuron", 3, params={"tau": 2.0, "v_threshold": 100.0}, label="hot")
    net = Network(slow, hot, Projection(slow, hot, weight=0.001), ConstantCurrent(60.0, target=hot))
    rep = compare_float_fixed(net, n_steps=50, qformat="Q4.4")
    text = "\n".join(tuning.hardware_warnings(rep))
    assert "population 'slowleak': leak" in text and "rounds to 0" in text
    assert "projection" in text and "saturates" in text
    assert "population 'hot'" in text and ("left the Q4.4 range" in text or "I_t saturated" in text)


def test_export_zip_holds_header_mem_files_and_readme():
    net = Network.from_dict(json.loads((ASSETS / "poisson_feedforward.json").read_text()))
    data = tuning.export_zip(net, qformat="Q8.8", options={"rounding": "nearest"})
    z = zipfile.ZipFile(io.BytesIO(data))
    names = set(z.namelist())
    assert {"network_params.vh", "constants.mem", "README.md", "weights.mem"} <= names
    assert any(n.startswith("weights_") for n in names)
    header = z.read("network_params.vh").decode()
    assert "localparam integer DATA_WIDTH = 16;" in header and "/tmp" not in header
    assert re.search(r"POP_LAYER_ROUND = 1;", header)
    readme = z.read("README.md").decode()
    assert "Q8.8" in readme and "nearest rounding" in readme and "| layer |" in readme
    words = z.read("weights.mem").decode().split()
    assert len(words) == 200 * 100 and all(len(w) == 4 for w in words)
