"""The torch backend gives the NumPy backend's spikes and states."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.network import (  # noqa: E402
    ConstantCurrent,
    Network,
    PoissonInput,
    Population,
    Projection,
    SpikeMonitor,
    StateMonitor,
)

torch.set_num_threads(1)


def build(models, seed=3):
    """A small recurrent network mixing ``models`` (list of (name, params, n)),
    driven by Poisson input and a constant current, with a delayed and a
    tau_syn projection so the shared graph logic is exercised too."""
    pops = [Population(name, n, params, label=f"p{k}") for k, (name, params, n) in enumerate(models)]
    objs = list(pops)
    rng = np.random.default_rng(seed)
    for k, src in enumerate(pops):
        tgt = pops[(k + 1) % len(pops)]
        scale = 0.6 if tgt.model_name not in ("AdExNeuron",) else 300.0
        objs.append(Projection(src, tgt, {"dist": "uniform", "low": -0.2 * scale, "high": scale},
                               probability=0.5, seed=int(rng.integers(1000)), delay=k % 2,
                               tau_syn=5.0 if k == 1 else None))
    first = pops[0]
    amp = 300.0 if first.model_name == "AdExNeuron" else 0.8
    objs.append(PoissonInput(first.n, 200.0, amp, seed=7, target=first))
    for p in pops:
        # constant drive just above each model's rheobase (in its own current unit)
        base = {"LapicqueNeuron": 1.05, "StochasticLIFNeuron": 0.14, "PerfectIntegratorNeuron": 0.05,
                "ExpIFNeuron": 1.6, "AdExNeuron": 800.0}[p.model_name]
        objs.append(ConstantCurrent(base, target=p))
    mons = [SpikeMonitor(p) for p in pops] + [StateMonitor(pops[0], ["v"], record=[0, 1])]
    return Network(*objs, *mons, seed=11), pops, mons


def _spike_sets(net, backend, duration, dt):
    net.reset()
    sim = net.simulator(backend, dt)
    chunks = [sim.advance(int(round(duration / dt)) // 2), sim.advance(int(round(duration / dt)) // 2)]
    spikes = {}
    for label in chunks[0].spikes:
        steps = np.concatenate([c.spikes[label][0] for c in chunks])
        ids = np.concatenate([c.spikes[label][1] for c in chunks])
        spikes[label] = (steps, ids)
    states = {p.label: {k: v.copy() for k, v in p.state.items()} for p in net.populations}
    return spikes, states, chunks


MODEL_SETS = [
    [("LapicqueNeuron", {"tau": 10.0, "refractory_period": 2}, 30),
     ("StochasticLIFNeuron", {"tau_mem": 8.0, "v_reset": -0.2, "refractory_period": 1}, 20),
     ("PerfectIntegratorNeuron", {}, 10)],
    [("StochasticLIFNeuron", {"noise_std": 0.05}, 15), ("LapicqueNeuron", {}, 25)],
    [("ExpIFNeuron", {}, 12), ("AdExNeuron", {}, 12)],
]


@pytest.mark.parametrize("models", MODEL_SETS, ids=["lif-family", "noisy", "exponential"])
def test_torch_backend_matches_numpy(models):
    dt = 0.001 if models[0][0] != "ExpIFNeuron" else 0.0001
    net, pops, mons = build(models)
    n = 300 if models[0][0] != "ExpIFNeuron" else 2000
    s_np, st_np, ch_np = _spike_sets(net, "numpy", n * dt, dt)
    s_t, st_t, ch_t = _spike_sets(net, "torch", n * dt, dt)
    total = 0
    for label in s_np:
        np.testing.assert_array_equal(s_t[label][0], s_np[label][0], err_msg=label)
        np.testing.assert_array_equal(s_t[label][1], s_np[label][1], err_msg=label)
        total += s_np[label][0].size
        assert s_np[label][0].size > 3, label  # every population is active
        for var in st_np[label]:
            if models[0][0] == "ExpIFNeuron":  # exp() may differ by an ulp between numpy and torch
                np.testing.assert_allclose(st_t[label][var], st_np[label][var], rtol=1e-9, atol=1e-9)
            else:
                np.testing.assert_array_equal(st_t[label][var], st_np[label][var])
    assert total > 50  # the network is active
    # StateMonitor traces and rates agree too
    for a, b in zip(ch_np, ch_t):
        for mon_label in a.traces:
            np.testing.assert_allclose(b.traces[mon_label]["v"], a.traces[mon_label]["v"], rtol=1e-9, atol=1e-9)
        for label in a.rates:
            np.testing.assert_array_equal(b.rates[label], a.rates[label])


def test_network_run_with_torch_backend_and_continuation():
    net, pops, mons = build(MODEL_SETS[0])
    out1 = net.run(0.1, backend="numpy")
    ref_counts = out1["spike_counts"]
    net.reset()
    out2 = net.run(0.05, backend="torch")
    out3 = net.run(0.05, backend="torch")  # continues where the first stopped
    merged = {k: out2["spike_counts"][k] + out3["spike_counts"][k] for k in ref_counts}
    assert merged == ref_counts
    assert min(ref_counts.values()) > 5


def test_model_without_a_form_is_refused_naming_the_population():
    # the fixed-point RTL model keeps its hand-written bit-true step (no form)
    net = Network(Population("LapicqueNeuron", 3, label="fine"),
                  Population("FixedPointLIFNeuron", 4, label="rtl"))
    with pytest.raises(NotImplementedError, match="'rtl'.*FixedPointLIFNeuron"):
        net.run(0.01, backend="torch")


def test_backend_is_registered_and_available():
    from engine.backends import available_backends, compile as compile_network

    ok, reason = available_backends()["torch"]
    assert ok, reason
    sim = compile_network(Network(Population("LapicqueNeuron", 2)), "torch", 0.001)
    assert sim.backend_name == "torch"
    assert sim.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
