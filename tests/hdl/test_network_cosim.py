"""A two-layer network exported to hdl/tb_network2.v runs cycle-identically in
RTL and in the Python fixed_point backend."""

import re

import numpy as np
import pytest

from engine.hardware import cosim, export
from engine.network import Network, PoissonInput, Population, Projection, TimedArray
from tests.conftest import require_tool

pytestmark = pytest.mark.rtl

N_STEPS = 400


def lapicque_net():
    a = Population("LapicqueNeuron", 12, params={"tau": 10.0}, label="A")
    b = Population("LapicqueNeuron", 5, params={"tau": 4.0, "refractory_period": 2}, label="B")
    stim = np.random.default_rng(1).uniform(0, 3, (N_STEPS, 12))
    return Network(a, b,
                   Projection(a, b, weight={"dist": "uniform", "low": -1.0, "high": 3.0}, probability=0.6, seed=3),
                   TimedArray(stim, target=a), PoissonInput(5, 50.0, 1.5, target=b))


def synaptic_net():
    """B receives A through exponential synaptic currents (tau_syn = 5 ms),
    excitatory and inhibitory weights: exercises USE_SYN in sc_lif_layer."""
    a = Population("LapicqueNeuron", 10, params={"tau": 10.0}, label="A")
    b = Population("StochasticLIFNeuron", 6, params={"tau_mem": 8.0, "refractory_period": 1}, label="B")
    stim = np.random.default_rng(5).uniform(0, 3, (N_STEPS, 10))
    return Network(a, b,
                   Projection(a, b, weight={"dist": "uniform", "low": -0.3, "high": 0.6}, seed=8, tau_syn=5.0),
                   TimedArray(stim, target=a))


def native_net():
    """Integer FixedPointLIFNeuron populations in Q4.4 with weights large enough
    to saturate I_t and negative currents."""
    cfg = dict(data_width=8, fraction=4, v_threshold=40, v_reset=-8, leak_k=3, gain_k=16)
    a = Population("FixedPointLIFNeuron", 8, params=dict(cfg, refractory_period=1), label="in")
    b = Population("FixedPointLIFNeuron", 6, params=dict(cfg, refractory_period=0, gain_k=12), label="out")
    w = np.random.default_rng(4).integers(-60, 100, size=(8, 6)).astype(float)
    stim = np.random.default_rng(2).integers(-30, 60, size=(N_STEPS, 8)).astype(float)
    return Network(a, b, Projection(a, b, weight=w), TimedArray(stim, target=a))


def cuba_like_net():
    """CUBA's neuron (Lapicque, v_reset = -60 below v_rest = -49, refractory 5 ms)
    in both layers: the RTL must hold v_reset while refractory (REFRACTORY_HOLD = 1)."""
    params = {"tau": 20.0, "v_rest": -49.0, "v_reset": -60.0, "v_threshold": -50.0, "refractory_period": 5}
    a = Population("LapicqueNeuron", 8, params=params, label="exc")
    b = Population("LapicqueNeuron", 4, params=dict(params, tau=10.0), label="inh")
    a.state["v"][...] = np.linspace(-60.0, -50.5, 8)
    stim = np.random.default_rng(3).uniform(-0.5, 1.5, (N_STEPS, 8))
    return Network(a, b, Projection(a, b, weight={"dist": "uniform", "low": -1.5, "high": 1.0}, seed=2),
                   TimedArray(stim, target=a))


@pytest.mark.filterwarnings("ignore::engine.backends.fixed_point.QuantisationWarning")  # Q12.4 drops tiny weights
@pytest.mark.parametrize("build, qformat, options", [
    (lapicque_net, "Q8.8", None), (lapicque_net, "Q4.4", None), (native_net, None, None),
    (synaptic_net, "Q8.8", None), (synaptic_net, "Q12.4", None),
    (cuba_like_net, "Q8.8", None), (cuba_like_net, "Q8.8", {"saturate": True, "rounding": "nearest"}),
    (lapicque_net, "Q4.4", {"saturate": True}), (synaptic_net, "Q8.8", {"rounding": "nearest"})])
def test_two_layer_network_rtl_equals_fixed_point_backend(build, qformat, options, tmp_path):
    require_tool("iverilog")
    net = build()
    res = cosim.run_network_cosim(net, N_STEPS, qformat=qformat, build_dir=tmp_path, options=options)
    header = (tmp_path / "network_params.vh").read_text()
    if build is cuba_like_net:
        assert "localparam integer A_REFRACTORY_HOLD = POP_EXC_REFRACTORY_HOLD;" in header
        assert "POP_EXC_REFRACTORY_HOLD = 1;" in header and "POP_INH_REFRACTORY_HOLD = 1;" in header
    for opt, name in (("saturate", "SATURATE"), ("rounding", "ROUND")):
        want = 1 if options and options.get(opt) in (True, "nearest") else 0
        assert f"POP_{res.labels[1].upper()}_{name} = {want};" in header
    assert res.ok, res.summary()
    la, lb = res.labels
    # both layers really fire, so the comparison of B tests the weight path
    assert res.spikes_rtl[la].sum() > 50 and res.spikes_rtl[lb].sum() > 20
    assert len(np.unique(res.v_rtl[lb])) > 10
    assert net.step_count == 0  # the network is left reset


def test_native_network_saturates_its_input():
    from engine.backends.fixed_point import FixedPointSimulator

    sim = FixedPointSimulator(native_net(), 0.001)
    sim.advance(N_STEPS)
    assert sim.stats["out"]["input_saturated"] > 0


def test_fault_in_rtl_network_is_detected(tmp_path):
    require_tool("iverilog")
    res = cosim.run_network_cosim(lapicque_net(), 200, qformat="Q8.8", build_dir=tmp_path,
                                  rtl_params={"FAULT_B_THRESHOLD_DELTA": -3})
    assert not res.ok and "differ; first at cycle" in res.summary()


def test_export_files_match_backend_codes(tmp_path):
    from engine.backends.fixed_point import FixedPointSimulator

    net = lapicque_net()
    exp = export.export_network(net, tmp_path, qformat="Q8.8", n_steps=10)
    header = exp.header.read_text()
    consts = dict(re.findall(r"localparam integer (\w+) = (-?\d+);", header))
    # leak_k = round((1 - exp(-dt/tau)) * 2**8) for tau = 10 ms and 4 ms
    assert consts["POP_A_LEAK_K"] == str(round((1 - np.exp(-0.1)) * 256)) == "24"
    assert consts["POP_B_LEAK_K"] == str(round((1 - np.exp(-0.25)) * 256))
    assert consts["POP_A_V_THRESHOLD"] == "256" and consts["POP_B_REFRACTORY_PERIOD"] == "2" and consts["NCYC"] == "10"
    words = [int(w, 16) for w in exp.layer_weights.read_text().split()]
    proj = net.projections[0]
    dense = np.zeros((12, 5), dtype=np.int64)
    rows = np.repeat(np.arange(12), np.diff(proj.indptr))
    dense[rows, proj.indices] = np.sign(proj.data) * np.floor(np.abs(proj.data) * 256 + 0.5)
    assert [((w + 0x8000) & 0xFFFF) - 0x8000 for w in words] == dense.ravel().tolist()
    assert np.array_equal(FixedPointSimulator(net, 0.001, "Q8.8").weight_codes(proj), dense[rows, proj.indices])
    assert len(exp.stimulus.read_text().split()) == 10
    # run-time constants (ports of the RTL): leak_k, gain_k per population
    lb = round((1 - np.exp(-0.25)) * 256)
    assert [int(w, 16) for w in exp.constants.read_text().split()] == [24, 24, lb, lb]


def test_export_refuses_shapes_the_bench_cannot_run(tmp_path):
    a = Population("LapicqueNeuron", 3, label="a")
    net = Network(a, Projection(a, a, weight=0.5))
    with pytest.raises(ValueError, match="tb_network2"):
        export.export_network(net, tmp_path, require_two_layer=True)
    # without the two-layer requirement the header and per-projection weights are still written
    exp = export.export_network(net, tmp_path)
    assert exp.two_layer is None and "POP_A_LEAK_K" in exp.header.read_text()
    assert len(exp.weight_files) == 1
