"""Backend registry, the Simulator/Chunk contract and the NumPy backend."""

import math

import numpy as np
import pytest

import engine.backends as backends
from engine.backends import available_backends, compile as compile_network, register_backend
from engine.backends.base import Chunk, Simulator
from engine.backends.numpy_backend import NumpySimulator
from engine.models.base import ParameterView
from engine.network import (ConstantCurrent, Network, PoissonInput, Population, Projection, SpikeMonitor,
                            StateMonitor, StepCurrent)


def small_net(seed=0, n_exc=80, n_inh=20):
    p = dict(tau=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, refractory_period=20)
    exc = Population("lif", n_exc, p, label="exc")
    inh = Population("lif", n_inh, p, label="inh")
    rng = np.random.default_rng(seed)
    exc.set_voltages(rng.uniform(-60, -50, n_exc))
    inh.set_voltages(rng.uniform(-60, -50, n_inh))
    objs = [exc, inh,
            Projection(exc, exc, 1.6, probability=0.1, tau_syn=5.0, seed=1),
            Projection(exc, inh, 1.6, probability=0.1, tau_syn=5.0, seed=2),
            Projection(inh, exc, -9.0, probability=0.1, tau_syn=10.0, seed=3, delay=4),
            Projection(inh, inh, -9.0, probability=0.1, seed=4),
            PoissonInput(30, 200.0, 3.0, dt=1e-4, target=exc),
            SpikeMonitor(exc), SpikeMonitor(inh), StateMonitor(inh, ["v"], record=[0, 5])]
    return Network(*objs, seed=seed)


def spikes_of(chunks, label):
    steps = np.concatenate([c.spikes[label][0] for c in chunks])
    ids = np.concatenate([c.spikes[label][1] for c in chunks])
    return steps, ids


def test_registry_aliases_and_availability():
    av = available_backends()
    assert av["numpy"] == (True, "")
    for name in ("torch", "fixed_point"):
        ok, reason = av[name]
        assert isinstance(ok, bool) and isinstance(reason, str)
        assert ok or reason  # unavailable always says why
    net = small_net()
    for alias in ("numpy", "python", "auto", "NumPy"):
        assert isinstance(compile_network(net, alias, 1e-4), NumpySimulator)
    with pytest.raises(ValueError, match="unknown backend 'gpu'.*numpy"):
        compile_network(net, "gpu", 1e-4)
    with pytest.raises(ValueError, match="dt"):
        compile_network(net, "numpy", 0.0)


def test_register_custom_backend_and_unavailable(monkeypatch):
    monkeypatch.setattr(backends, "_factories", dict(backends._factories))
    monkeypatch.setattr(backends, "_available", dict(backends._available))
    made = []

    def factory(net, dt):
        made.append(dt)
        return Simulator(net, dt)

    register_backend("plain", factory)
    register_backend("broken", factory, available=lambda: (False, "needs a frobnicator"))
    net = small_net()
    assert type(compile_network(net, "plain", 0.002)) is Simulator and made == [0.002]
    assert backends.available_backends()["broken"] == (False, "needs a frobnicator")
    with pytest.raises(RuntimeError, match="needs a frobnicator"):
        compile_network(net, "broken")
    with pytest.raises(TypeError, match="callable"):
        register_backend("x", 3)


def test_chunk_contract():
    net = small_net()
    sim = net.simulator("numpy", 1e-4)
    chunk = sim.advance(300)
    assert isinstance(chunk, Chunk)
    assert (chunk.start_step, chunk.n_steps, chunk.dt) == (0, 300, 1e-4)
    assert set(chunk.spikes) == {"exc", "inh"} and set(chunk.rates) == {"exc", "inh"}
    steps, ids = chunk.spikes["exc"]
    assert steps.dtype == np.int64 and ids.dtype == np.int64 and steps.size > 0
    assert steps.min() >= 0 and steps.max() < 300 and ids.max() < 80
    # rates: spikes per step / n
    np.testing.assert_allclose(chunk.rates["exc"], np.bincount(steps, minlength=300) / 80)
    (label,) = chunk.traces
    assert chunk.traces[label]["v"].shape == (300, 2)
    second = sim.advance(50)
    assert second.start_step == 300 and sim.step_count == 350
    assert sim.t == pytest.approx(0.035)
    assert np.all(second.spikes["exc"][0] >= 300)
    empty = sim.advance(0)
    assert empty.n_steps == 0 and empty.spikes["inh"][0].size == 0
    with pytest.raises(ValueError, match="n_steps"):
        sim.advance(-1)


def test_fused_blocks_match_reference_simulator():
    a, b = small_net(seed=5), small_net(seed=5)
    fused = NumpySimulator(a, 1e-4)
    plain = Simulator(b, 1e-4)
    assert len(fused._blocks) == 1  # exc and inh share model and parameters
    ca = [fused.advance(400), fused.advance(400)]
    cb = [plain.advance(800)]
    for label in ("exc", "inh"):
        sa, sb = spikes_of(ca, label), spikes_of(cb, label)
        assert sa[0].size > 20
        np.testing.assert_array_equal(sa[0], sb[0])
        np.testing.assert_array_equal(sa[1], sb[1])
    np.testing.assert_array_equal(a.populations[0].voltages, b.populations[0].voltages)


def test_parameter_change_applies_at_next_advance_and_splits_block():
    a, b = small_net(seed=2), small_net(seed=2)
    fused = NumpySimulator(a, 1e-4)
    plain = Simulator(b, 1e-4)
    fused.advance(300)
    plain.advance(300)
    # silence the inhibitory population of both, mid-run
    a.populations[1].model.v_threshold = 1e6
    b.populations[1].model.v_threshold = 1e6
    ca, cb = fused.advance(300), plain.advance(300)
    assert len(fused._blocks) == 2
    assert ca.spikes["inh"][0].size == 0
    for label in ("exc", "inh"):
        np.testing.assert_array_equal(ca.spikes[label][0], cb.spikes[label][0])
        np.testing.assert_array_equal(ca.spikes[label][1], cb.spikes[label][1])


def test_tau_syn_and_weight_edits_take_effect():
    src, tgt = Population("lif", 1, label="s"), Population("lif", 1, label="t", params={"v_threshold": 1e9})
    proj = Projection(src, tgt, 1.0, topology="one_to_one", tau_syn=2.0)
    vm = StateMonitor(tgt)
    net = Network(src, tgt, proj, ConstantCurrent(1000.0, target=src), vm)
    sim = net.simulator("numpy", 0.001)
    sim.advance(5)
    proj.data[:] = 0.0  # e.g. written back by training
    proj.tau_syn = None
    before = tgt.voltages[0]
    sim.advance(3)
    decay = math.exp(-1.0 / 20.0)
    np.testing.assert_allclose(vm.traces["v"][-3:, 0], before * decay ** np.arange(1, 4))


def test_reset_restarts_identically():
    net = small_net(seed=9)
    v0 = [p.voltages for p in net.populations]
    sim = net.simulator("numpy", 1e-4)
    first = sim.advance(500)
    net.reset()
    for p, v in zip(net.populations, v0):
        p.set_voltages(v)
    again = net.simulator("numpy", 1e-4).advance(500)
    for label in ("exc", "inh"):
        np.testing.assert_array_equal(first.spikes[label][0], again.spikes[label][0])
        np.testing.assert_array_equal(first.spikes[label][1], again.spikes[label][1])


def test_kernels_run_on_parameter_views_refreshed_per_advance():
    net = small_net()
    sim = net.simulator("numpy", 1e-4)
    assert all(isinstance(b.self_arg, ParameterView) for b in sim._blocks)
    assert sim._blocks[0].self_arg.tau == 20.0
    net.populations[0].model.tau = 25.0
    sim.advance(1)
    taus = sorted(b.self_arg.tau for b in sim._blocks)
    assert 25.0 in taus  # the edited population now runs with the new value


def test_delay_change_between_advances():
    a, b = Population("lif", 1, label="A"), Population("lif", 1, label="B")
    proj = Projection(a, b, 100.0, topology="one_to_one", delay=0)
    mb = SpikeMonitor(b)
    net = Network(a, b, proj, StepCurrent(3, 4, 1000.0, target=a), StepCurrent(20, 21, 1000.0, target=a), mb)
    sim = net.simulator("numpy", 0.001)
    sim.advance(10)
    proj.delay = 6
    sim.advance(30)
    assert mb.spike_times.tolist() == [4, 27]


def test_integer_and_rate_outputs_in_generic_path():
    # graded outputs are propagated scaled by their value
    src, tgt = Population("lif", 3, label="s"), Population("lif", 2, label="t")
    proj = Projection(src, tgt, 0.5, topology="all_to_all")
    out = np.zeros(2)
    from engine.backends.base import deliver_rows

    deliver_rows(out, np.array([0, 2]), np.array([2.0, 4.0]), proj.indptr, proj.indptr.tolist(),
                 proj.indices, proj.data)
    np.testing.assert_allclose(out, [3.0, 3.0])
    many = np.zeros(2)
    deliver_rows(many, np.arange(3), None, proj.indptr, proj.indptr.tolist(), proj.indices, proj.data)
    np.testing.assert_allclose(many, [1.5, 1.5])


def test_stochastic_populations_are_not_fused_and_keep_their_streams():
    def build():
        a = Population("StochasticLIFNeuron", 30, {"noise_std": 0.5}, label="a")
        b = Population("StochasticLIFNeuron", 30, {"noise_std": 0.5}, label="b")
        c = Population("TrueNorthNeuron", 10, {"threshold_mask_bits": 3}, label="c")
        d = Population("TrueNorthNeuron", 10, {"threshold_mask_bits": 3}, label="d")
        return Network(a, b, c, d, ConstantCurrent(0.04, target=a), ConstantCurrent(0.04, target=b),
                       ConstantCurrent(30, target=c), ConstantCurrent(30, target=d), seed=3)

    n1, n2 = build(), build()
    fused = NumpySimulator(n1, 0.001)
    assert len(fused._blocks) == 4
    ca, cb = fused.advance(300), Simulator(n2, 0.001).advance(300)
    for label in "abcd":
        assert ca.spikes[label][0].size > 0
        np.testing.assert_array_equal(ca.spikes[label][0], cb.spikes[label][0])
        np.testing.assert_array_equal(ca.spikes[label][1], cb.spikes[label][1])
    # same parameters, different generators: the two noisy populations differ
    assert not np.array_equal(ca.spikes["a"][1], ca.spikes["b"][1])


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, 120), min_size=1, max_size=4), seed=st.integers(0, 1000))
def test_advance_in_any_chunks_equals_one_advance(cuts, seed):
    whole, parts = small_net(seed), small_net(seed)
    ref = whole.simulator("numpy", 1e-4).advance(300)
    sim = parts.simulator("numpy", 1e-4)
    sizes = [c for c in cuts if c] + [300 - sum(c for c in cuts if c)]
    if sizes[-1] < 0:
        sizes = [300]
    chunks = [sim.advance(k) for k in sizes]
    for label in ("exc", "inh"):
        got = spikes_of(chunks, label)
        np.testing.assert_array_equal(ref.spikes[label][0], got[0])
        np.testing.assert_array_equal(ref.spikes[label][1], got[1])
    np.testing.assert_array_equal(np.concatenate([c.rates["inh"] for c in chunks]), ref.rates["inh"])
