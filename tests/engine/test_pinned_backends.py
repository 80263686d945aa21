"""Pinned behaviour of the backend registry (engine/backends/__init__.py) and
the shared simulator logic (engine/backends/base.py) that mutation testing
found unpinned.  The registry tests work on copies of the module's tables
(monkeypatch), so the real registrations are left as they were."""

import numpy as np
import pytest

import engine.backends as B
from engine.backends.base import Chunk, Simulator, deliver_rows, row_positions
from engine.network import ConstantCurrent, Network, Population, Projection, SpikeMonitor


@pytest.fixture
def registry(monkeypatch):
    for name in ("_factories", "_available", "_import_errors"):
        monkeypatch.setattr(B, name, dict(getattr(B, name)))
    monkeypatch.setattr(B, "_LAZY_MODULES", dict(B._LAZY_MODULES))
    return B


def _factory(net, dt):
    return ("sim", net, dt)


# -- registry -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["", 5, None])
def test_register_refuses_bad_names(registry, name):
    with pytest.raises(ValueError, match="^backend name must be a non-empty string$"):
        registry.register_backend(name, _factory)


def test_register_refuses_bad_callables(registry):
    with pytest.raises(TypeError, match="^factory for backend 'x' must be callable$"):
        registry.register_backend("x", 5)
    with pytest.raises(TypeError, match="^available for backend 'x' must be callable or None$"):
        registry.register_backend("x", _factory, available=True)


def test_register_clears_an_old_import_error(registry):
    registry._import_errors["x"] = "old failure"
    registry._import_errors["y"] = "other failure"
    registry.register_backend("x", _factory)
    assert "x" not in registry._import_errors and registry._import_errors["y"] == "other failure"
    assert registry._check("x") == (True, "")


def test_builtin_registration(registry):
    from engine.backends.numpy_backend import factory

    registry._factories.clear()
    registry._register_builtin()
    assert registry._factories == {"numpy": factory} and registry._available == {**registry._available,
                                                                                   "numpy": None}


def test_lazy_backends_that_fail(registry):
    registry._LAZY_MODULES["ghost"] = "engine.no_such_module"
    registry._LAZY_MODULES["mute"] = "json"  # imports fine, registers nothing
    assert registry._check("ghost") == (
        False, "cannot import engine.no_such_module: ModuleNotFoundError: No module named 'engine.no_such_module'")
    assert registry._check("mute") == (False, "json did not register a backend named 'mute'")
    assert registry._check("nowhere") == (False, "unknown backend 'nowhere'")


@pytest.mark.parametrize("result, expected", [
    (True, (True, "")), (False, (False, "")), (0, (False, "")), ((False, "no GPU"), (False, "no GPU")),
    ((True, "ignored when available"), (True, "")), ((1,), (True, "")), ((0,), (False, "")),
])
def test_availability_probes(registry, result, expected):
    registry.register_backend("probe", _factory, available=lambda: result)
    assert registry._check("probe") == expected


def test_a_failing_probe_means_unavailable(registry):
    def boom():
        raise OSError("driver missing")

    registry.register_backend("probe", _factory, available=boom)
    assert registry._check("probe") == (False, "availability check failed: driver missing")
    with pytest.raises(RuntimeError, match="^backend 'probe' is not available: availability check failed: "
                                           "driver missing$"):
        registry.compile(Network(Population("LapicqueNeuron", 1)), "probe")


def test_available_backends_order(registry, monkeypatch):
    registry.register_backend("extra", _factory)
    # the probe is stubbed: importing torch here would cost seconds
    monkeypatch.setattr(registry, "_check", lambda name: (name == "numpy", name))
    got = registry.available_backends()
    assert list(got.items())[:4] == [("numpy", (True, "numpy")), ("compiled", (False, "compiled")),
                                     ("torch", (False, "torch")), ("fixed_point", (False, "fixed_point"))]
    assert list(got)[-1] == "extra" and got["extra"] == (False, "extra")


def test_compile_passes_network_and_dt(registry):
    registry.register_backend("fake", _factory)
    net = Network(Population("LapicqueNeuron", 1))
    assert registry.compile(net, "FAKE", dt=0.5) == ("sim", net, 0.5)
    assert registry.compile(net, "fake") == ("sim", net, 0.001)
    assert type(registry.compile(net)).__name__ == "NumpySimulator"


def test_resolve_backend(registry):
    with pytest.raises(TypeError, match="^backend must be a string, got int$"):
        registry.resolve_backend(3)
    assert registry.resolve_backend("Python") == "numpy"
    assert registry.resolve_backend("AUTO") == "numpy"
    assert registry.resolve_backend("Torch") == "torch"
    with pytest.raises(ValueError, match=r"^unknown backend 'cuda'; choose one of auto, compiled, fixed_point, "
                                         r"numpy, python, torch$"):
        registry.resolve_backend("cuda")


def _net(model="LapicqueNeuron", n=1000, pops=2, **params):
    return Network(*[Population(model, n, params or None, label=f"p{i}") for i in range(pops)])


def test_auto_backend_rules(registry, monkeypatch):
    monkeypatch.setattr(registry, "_check", lambda name: (name == "compiled", ""))
    assert registry.auto_backend() == "numpy"
    assert registry.AUTO_MIN_NEURONS == 2000
    assert registry.auto_backend(_net(n=999)) == "numpy"  # 1998 neurons
    assert registry.auto_backend(_net(n=1000)) == "compiled"  # exactly 2000
    assert registry.resolve_backend("Auto", _net(n=1000)) == "compiled"
    assert registry.auto_backend(_net("StochasticLIFNeuron", noise_std=1.0)) == "numpy"
    assert registry.auto_backend(_net("FixedPointLIFNeuron")) == "numpy"  # not in the one form
    monkeypatch.setattr(registry, "_check", lambda name: (False, "no numba"))
    assert registry.auto_backend(_net(n=1000)) == "numpy"


# -- chunks and CSR helpers -------------------------------------------------------------------
def test_chunk_times():
    c = Chunk(start_step=10, n_steps=3, dt=0.5)
    assert (c.t_start, c.t_end) == (5.0, 6.5)
    np.testing.assert_array_equal(c.t, [5.0, 5.5, 6.0])


def test_row_positions():
    indptr = np.array([0, 2, 2, 5])
    np.testing.assert_array_equal(row_positions(indptr, np.array([2, 0])), [2, 3, 4, 0, 1])
    np.testing.assert_array_equal(row_positions(indptr, np.array([0, 2])), [0, 1, 2, 3, 4])
    one = row_positions(np.array([0, 0, 1]), np.array([1]))
    np.testing.assert_array_equal(one, [0])
    empty = row_positions(indptr, np.array([1]))
    assert empty.shape == (0,) and empty.dtype == np.int64


@pytest.mark.parametrize("rows", [[0, 2], [0, 1, 2, 0, 2, 1]])  # the loop and the gathered path
def test_deliver_rows(rows):
    indptr = np.array([0, 2, 2, 4])
    indices = np.array([0, 2, 1, 2])
    data = np.array([1.0, 2.0, 3.0, 4.0])
    idx = np.array(rows)
    out = np.zeros(3)
    deliver_rows(out, idx, None, indptr, indptr.tolist(), indices, data)
    dense = np.array([[1.0, 0, 2.0], [0, 0, 0], [0, 3.0, 4.0]])
    np.testing.assert_array_equal(out, dense[idx].sum(axis=0))
    out = np.zeros(3)
    vals = np.arange(1.0, len(rows) + 1)
    deliver_rows(out, idx, vals, indptr, indptr.tolist(), indices, data)
    np.testing.assert_array_equal(out, (dense[idx] * vals[:, None]).sum(axis=0))


# -- the simulator -------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [True, 0, -0.001, float("inf"), float("nan"), "0.001"])
def test_simulator_refuses_bad_dt(dt):
    with pytest.raises(ValueError, match="^dt must be a positive finite number of seconds"):
        Simulator(Network(Population("LapicqueNeuron", 1)), dt)


def test_simulator_refuses_foreign_objects():
    a, b = Population("LapicqueNeuron", 2, label="a"), Population("LapicqueNeuron", 2, label="b")
    with pytest.raises(ValueError, match="^the network has no population to simulate$"):
        Simulator(Network(), 0.001)
    net = Network(a)
    net.projections.append(Projection(a, b, 1.0))
    with pytest.raises(ValueError, match=r"its target population 'b' is not in this network$"):
        Simulator(net, 0.001)
    net = Network(a)
    net.stimuli.append(ConstantCurrent(1.0, target=b))
    with pytest.raises(ValueError, match=r"its target population 'b' is not in this network$"):
        Simulator(net, 0.001)
    net = Network(a)
    net.monitors.append(SpikeMonitor(b, label="m"))
    with pytest.raises(ValueError, match=r"^monitor 'm': its population 'b' is not in this network$"):
        Simulator(net, 0.001)


def _driven(tau_syn=None, delay=0):
    a = Population("LapicqueNeuron", 2, label="a")
    b = Population("LapicqueNeuron", 2, label="b")
    net = Network(a, b, Projection(a, b, 0.4, topology="one_to_one", delay=delay, tau_syn=tau_syn),
                  ConstantCurrent(60.0, target=a))
    return net, a, b


def test_reset_zeroes_synaptic_buffers_and_step_count():
    net, a, b = _driven(tau_syn=5.0)
    sim = Simulator(net, 0.001)
    first = sim.advance(30)
    assert first.spikes["a"][0].size > 0 and first.spikes["b"][0].size > 0
    assert sim.t == pytest.approx(0.030) and sim.step_count == 30
    assert any(buf.any() for buf in sim._syn.values())
    sim.reset()
    assert sim.step_count == 0 and sim.t == 0.0
    for buf in sim._syn.values():
        np.testing.assert_array_equal(buf, 0.0)
    again = sim.advance(30)
    for label in ("a", "b"):
        np.testing.assert_array_equal(first.spikes[label][0], again.spikes[label][0])
        np.testing.assert_array_equal(first.spikes[label][1], again.spikes[label][1])


def test_snapshot_and_inherit_continue_a_run():
    # one simulator for 40 steps against 20 + (snapshot -> new simulator) + 20
    ref_net, *_ = _driven(tau_syn=5.0, delay=3)
    ref = Simulator(ref_net, 0.001)
    ref.advance(20)
    ref_tail = ref.advance(20)
    net, a, b = _driven(tau_syn=5.0, delay=3)
    s1 = Simulator(net, 0.001)
    s1.advance(20)
    snap = s1.state_snapshot()
    assert snap["step_count"] == 20 and snap["dt"] == 0.001
    assert list(snap["syn"]) == [id(net.projections[0])]
    s2 = Simulator(net, 0.001)
    s2.inherit(snap)
    assert s2.step_count == 20
    np.testing.assert_array_equal(s2._proj_rt[0].out, snap["syn"][id(net.projections[0])])
    tail = s2.advance(20)
    for label in ("a", "b"):
        np.testing.assert_array_equal(tail.spikes[label][0], ref_tail.spikes[label][0])
        np.testing.assert_array_equal(tail.spikes[label][1], ref_tail.spikes[label][1])
    with pytest.raises(ValueError, match=r"^cannot continue a run with dt=0.001 at dt=0.002$"):
        Simulator(net, 0.002).inherit(snap)


def _every_step_net(delay):
    # 'a' is driven hard enough to spike on every step, so every slot of its
    # delay line holds a spike and a misplaced slot shows
    a = Population("LapicqueNeuron", 2, {"refractory_period": 0}, label="a")
    b = Population("LapicqueNeuron", 2, label="b")
    net = Network(a, b, Projection(a, b, 0.4, topology="one_to_one", delay=delay, tau_syn=5.0),
                  ConstantCurrent(1000.0, target=a))
    return net, a, b


def _check_grown_line(new_line, old_line, t, n_new, n_old):
    # the last n_old steps are carried over, the older slots stay empty
    for back in range(1, n_old + 1):
        assert new_line[(t - back) % n_new] is old_line[(t - back) % n_old]
    for back in range(n_old + 1, n_new + 1):
        assert new_line[(t - back) % n_new][0].size == 0


def test_inherit_into_a_longer_delay_line_and_unknown_populations():
    net, a, b = _every_step_net(delay=2)
    s1 = Simulator(net, 0.001)
    s1.advance(16)
    assert all(entry[0].size for entry in s1._hist[0])
    snap = s1.state_snapshot()
    net.projections[0].delay = 4
    c = Population("LapicqueNeuron", 1, label="c")
    net.populations.insert(0, c)  # unknown to the snapshot, and listed first
    s2 = Simulator(net, 0.001)
    s2.inherit(snap)
    assert s2._hist_len[1] == 5
    _check_grown_line(s2._hist[1], s1._hist[0], 16, 5, 3)


def test_delay_change_grows_the_line_in_place():
    net, a, b = _every_step_net(delay=2)
    sim = Simulator(net, 0.001)
    sim.advance(16)
    old = list(sim._hist[0])
    net.projections[0].delay = 4
    sim.advance(0)
    assert sim._hist_len[0] == 5
    _check_grown_line(sim._hist[0], old, 16, 5, 3)


def test_instantaneous_projections_have_no_buffer_to_carry():
    net2, *_ = _driven(tau_syn=None)
    s3 = Simulator(net2, 0.001)
    s3.advance(5)
    assert s3.state_snapshot()["syn"] == {}


# -- per-population dt, advance arguments, outputs ------------------------------------------------
def test_population_dt_is_used_and_warned_once():
    import warnings

    p = Population("LapicqueNeuron", 3, {"dt": 0.5}, label="p")
    net = Network(p, ConstantCurrent(2.0, target=p))
    with pytest.warns(UserWarning) as rec:
        sim = Simulator(net, 0.001)
    assert [str(w.message) for w in rec] == [
        "population 'p': its dt=0.5 ms differs from the run's step 1 ms; its neurons integrate with dt=0.5 ms "
        "per step (remove 'dt' from its params to follow the run)"]
    assert sim._pop_dt == [0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same pair of steps warns only once
        sim.advance(1)
    ref = Population("LapicqueNeuron", 3)
    ref.step_all(2.0, dt=0.5)
    np.testing.assert_array_equal(p.state["v"], ref.state["v"])


def test_population_dt_equal_to_the_run_or_unused_is_silent():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim = Simulator(Network(Population("LapicqueNeuron", 1, {"dt": 1.0})), 0.001)
        assert sim._pop_dt == [1.0]
        sim = Simulator(Network(Population("RulkovMapNeuron", 1, {"dt": 0.5})), 0.001)  # a map: no dt
        assert sim._pop_dt == [0.5]
        assert Simulator(Network(Population("LapicqueNeuron", 1)), 0.002)._pop_dt == [2.0]


def test_advance_arguments():
    sim = Simulator(Network(Population("LapicqueNeuron", 1)), 0.001)
    with pytest.raises(ValueError, match="n_steps"):
        sim.advance(-1)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        sim.advance(2.0)
    chunk = sim.advance(0)
    assert chunk.n_steps == 0 and sim.step_count == 0


def test_rate_model_reports_its_mean_output_and_no_spikes():
    p = Population("WilsonCowanPopulation", 4, label="wc")
    net = Network(p, ConstantCurrent(2.0, target=p))
    sim = Simulator(net, 0.001)
    means = []
    for _ in range(5):
        c = sim.advance(1)
        means.append(c.rates["wc"][0])
        assert c.spikes["wc"][0].size == 0
    ref = Population("WilsonCowanPopulation", 4)
    for m in means:
        y = ref.step_all(2.0, dt=1.0)  # the run step, 1 ms
        assert m == pytest.approx(float(np.mean(y)), rel=1e-12)


def test_plasticity_helpers_reread_the_rule():
    from engine.network import STDP

    a = Population("LapicqueNeuron", 2, label="a")
    b = Population("LapicqueNeuron", 2, label="b")
    proj = Projection(a, b, 0.5, topology="all_to_all", plasticity=STDP(tau_plus=10.0, tau_minus=20.0))
    sim = Simulator(Network(a, b, proj), 0.001)
    helper = sim._plastic[0][0]
    proj.plasticity.a_plus, proj.plasticity.w_max = 0.3, 0.9
    proj.plasticity.tau_plus, proj.plasticity.tau_minus = 5.0, 4.0
    sim.advance(0)
    assert sim._plastic[0][0] is helper  # same connectivity: the helper is kept
    assert (helper.a_plus, helper.w_max) == (0.3, 0.9)
    assert helper.dec_pre == pytest.approx(np.exp(-1 / 5.0)) and helper.dec_post == pytest.approx(np.exp(-1 / 4.0))
    proj.set_csr([0, 1, 2], [0, 1], [0.5, 0.5])
    sim.advance(0)
    assert sim._plastic[0][0] is not helper and sim._plastic[0][1:] == (0, 1)


def test_a_stimulus_moved_off_the_network_is_refused_at_the_next_advance():
    a = Population("LapicqueNeuron", 1, label="a")
    stim = ConstantCurrent(1.0, target=a)
    sim = Simulator(Network(a, stim), 0.001)
    stim.target = Population("LapicqueNeuron", 1, label="elsewhere")
    with pytest.raises(ValueError, match="its target population 'elsewhere' is not in this network$"):
        sim.advance(1)


def test_state_monitor_records_the_chosen_neurons():
    from engine.network import StateMonitor

    p = Population("LapicqueNeuron", 4, label="p")
    m = StateMonitor(p, "v", record=[3, 1], label="m")
    net = Network(p, ConstantCurrent(0.3, target=p), m)
    c = Simulator(net, 0.001).advance(3)
    ref = Population("LapicqueNeuron", 4)
    rows = []
    for _ in range(3):
        ref.step_all(0.3)
        rows.append(ref.state["v"][[3, 1]].copy())
    np.testing.assert_array_equal(c.traces["m"]["v"], rows)


# -- the NumPy backend's fusion -----------------------------------------------------------------
def test_identical_deterministic_populations_share_one_block():
    from engine.backends.numpy_backend import NumpySimulator, _signature

    a, b = Population("LapicqueNeuron", 3, label="a"), Population("LapicqueNeuron", 2, label="b")
    c = Population("LapicqueNeuron", 2, {"tau": 5.0}, label="c")
    s1 = Population("StochasticLIFNeuron", 2, {"noise_std": 1.0}, label="s1")
    s2 = Population("StochasticLIFNeuron", 2, {"noise_std": 1.0}, label="s2")
    assert _signature(a) == _signature(b) != _signature(c)
    assert _signature(s1) is None
    sim = NumpySimulator(Network(a, b, c, s1, s2), 0.001)
    assert [blk.members for blk in sim._blocks] == [[0, 1], [2], [3], [4]]
    fused = sim._blocks[0]
    assert fused.n == 5 and fused.offsets.tolist() == [0, 3, 5]
    # the members' state arrays are views into the block's arrays
    assert np.shares_memory(a.state["v"], fused.state["v"]) and np.shares_memory(b.state["v"], fused.state["v"])
    assert sim._pop_slot[:3] == [(0, 0, 3), (0, 3, 5), (1, 0, 2)]


def test_fused_block_results_split_per_member():
    from engine.backends.numpy_backend import NumpySimulator

    a, b = Population("LapicqueNeuron", 3, label="a"), Population("LapicqueNeuron", 2, label="b")
    net = Network(a, b, ConstantCurrent(60.0, target=b))
    c = NumpySimulator(net, 0.001).advance(5)
    assert c.spikes["a"][0].size == 0  # only b is driven
    ref = Population("LapicqueNeuron", 2)
    steps, ids = [], []
    for t in range(5):
        y = ref.step_all(60.0)
        for i in np.flatnonzero(y):
            steps.append(t)
            ids.append(i)
    assert c.spikes["b"][0].tolist() == steps and c.spikes["b"][1].tolist() == ids and steps


@pytest.mark.parametrize("sim_cls", ["numpy", "base"])
def test_graded_outputs_are_delivered_scaled(sim_cls):
    # a rate population's outputs scale its rows (few rows: the small-row path)
    from engine.backends.numpy_backend import NumpySimulator

    src = Population("WilsonCowanPopulation", 2, label="src")
    tgt = Population("LapicqueNeuron", 2, label="tgt")
    net = Network(src, tgt, Projection(src, tgt, np.array([[2.0, 0.0], [0.0, 3.0]])),
                  ConstantCurrent(2.0, target=src))
    sim = (NumpySimulator if sim_cls == "numpy" else Simulator)(net, 0.001)
    sim.advance(2)
    src_ref, tgt_ref = Population("WilsonCowanPopulation", 2), Population("LapicqueNeuron", 2)
    y1 = src_ref.step_all(2.0, dt=1.0).copy()
    tgt_ref.step_all(0.0)  # step 0: nothing has arrived yet
    tgt_ref.step_all(np.array([2.0, 3.0]) * y1)  # step 1: step 0's outputs times the weights
    assert y1.min() > 0
    np.testing.assert_allclose(tgt.state["v"], tgt_ref.state["v"], rtol=1e-12)


@pytest.mark.parametrize("sim_cls", ["numpy", "base"])
def test_integer_models_get_the_nearest_integer_input(sim_cls):
    from engine.backends.numpy_backend import NumpySimulator

    p = Population("SpiNNakerLIFNeuron", 3, label="sp")
    sim = (NumpySimulator if sim_cls == "numpy" else Simulator)(Network(p, ConstantCurrent(2.6, target=p)), 0.001)
    sim.advance(4)
    ref = Population("SpiNNakerLIFNeuron", 3)
    exact, raw = ref.model.initial_state(3), ref.model.initial_state(3)
    for _ in range(4):
        ref.model.step(exact, np.full(3, 3, dtype=np.int64), 1.0, ref.rng)  # rint(2.6) = 3
        ref.model.step(raw, np.full(3, 2.6), 1.0, ref.rng)
    assert not np.array_equal(exact["v"], raw["v"])  # the kernel tells 2.6 from 3
    for k in exact:
        np.testing.assert_array_equal(p.state[k], exact[k])


# -- round 4: the network lock, untargeted stimuli, check order, dtypes, STDP, fused rates ------
class _RecordingLock:
    """Stands in for the network's lock: notes the step count on entry and exit."""

    def __init__(self):
        self.sim, self.log = None, []

    def __enter__(self):
        self.log.append(("enter", self.sim.step_count))

    def __exit__(self, *exc):
        self.log.append(("exit", self.sim.step_count))
        return False


def test_advance_runs_inside_the_network_lock():
    net = Network(Population("LapicqueNeuron", 2, label="p"))
    sim = Simulator(net, 0.001)
    lock = _RecordingLock()
    lock.sim = sim
    net._lock = lock
    sim.advance(3)
    assert lock.log == [("enter", 0), ("exit", 3)]  # the whole chunk ran while it was held


def test_advance_without_a_network_lock():
    # an object without a lock (e.g. one restored from its __getstate__ without it) runs unlocked
    net = Network(Population("LapicqueNeuron", 2, label="p"))
    sim = Simulator(net, 0.001)
    del net._lock
    chunk = sim.advance(3)
    assert chunk.n_steps == 3 and sim.step_count == 3


def test_a_stimulus_without_target_drives_the_first_population():
    from engine.network import TimedArray

    a, b = Population("LapicqueNeuron", 3, label="a"), Population("LapicqueNeuron", 2, label="b")
    values = np.array([[0.5, 1.0, 1.5]] * 4)  # 3 columns: fits a, not b
    net = Network(a, b, TimedArray(values))
    Simulator(net, 0.001).advance(2)
    ref_a, ref_b = Population("LapicqueNeuron", 3), Population("LapicqueNeuron", 2)
    for _ in range(2):
        ref_a.step_all(values[0])
        ref_b.step_all(0.0)
    np.testing.assert_array_equal(a.state["v"], ref_a.state["v"])
    np.testing.assert_array_equal(b.state["v"], ref_b.state["v"])
    assert not np.array_equal(ref_a.state["v"], Population("LapicqueNeuron", 3).state["v"])


def test_stimuli_are_checked_before_monitors():
    a, b, c = (Population("LapicqueNeuron", 2, label=x) for x in "abc")
    net = Network(a)
    net.stimuli.append(ConstantCurrent(1.0, target=b))
    net.monitors.append(SpikeMonitor(c, label="m"))
    # the first problem found is the stimulus's, whatever follows it
    with pytest.raises(ValueError, match=r"^stimulus .*its target population 'b' is not in this network$"):
        Simulator(net, 0.001)


def test_silent_populations_give_int64_spike_arrays():
    c = Simulator(Network(Population("LapicqueNeuron", 2, label="p")), 0.001).advance(3)
    steps, ids = c.spikes["p"]
    assert steps.shape == ids.shape == (0,)
    assert steps.dtype == np.int64 and ids.dtype == np.int64


def test_traces_keep_the_state_dtype():
    from engine.network import StateMonitor

    p = Population("SpiNNakerLIFNeuron", 3, label="sp")
    m = StateMonitor(p, "v", label="m")
    net = Network(p, ConstantCurrent(3.0, target=p), m)
    c = Simulator(net, 0.001).advance(3)
    ref = Population("SpiNNakerLIFNeuron", 3)
    rows = []
    for _ in range(3):
        ref.model.step(ref.state, np.full(3, 3, dtype=np.int64), 1.0, ref.rng)
        rows.append(ref.state["v"].copy())
    assert c.traces["m"]["v"].dtype == np.int64  # the integer codes, not floats
    np.testing.assert_array_equal(c.traces["m"]["v"], rows)


def _pulse(steps, n=40):
    x = np.zeros(n)
    x[list(steps)] = 2.0
    return x


@pytest.mark.parametrize("sim_cls", ["numpy", "base"])
def test_stdp_updates_the_plastic_projection_behind_a_static_one(sim_cls):
    # tau far below dt: a neuron fires exactly on the steps its drive is >= 1
    # (see test_pinned_delays); pre fires at 1 and 5, post at 3
    from engine.backends.numpy_backend import NumpySimulator
    from engine.network import STDP, TimedArray

    fast = {"tau": 1e-3, "v_threshold": 1.0, "refractory_period": 0}
    pre = Population("LapicqueNeuron", 1, fast, label="pre")
    post = Population("LapicqueNeuron", 1, fast, label="post")
    rule = STDP(tau_plus=10.0, tau_minus=5.0, a_plus=0.05, a_minus=0.02, w_min=0.0, w_max=1.0)
    static = Projection(post, pre, 0.01)  # listed first, no plasticity
    plastic = Projection(pre, post, 0.1, plasticity=rule)
    net = Network(pre, post, static, plastic, TimedArray(_pulse([1, 5]), target=pre),
                  TimedArray(_pulse([3]), target=post))
    c = (NumpySimulator if sim_cls == "numpy" else Simulator)(net, 0.001).advance(8)
    assert c.spikes["pre"][0].tolist() == [1, 5] and c.spikes["post"][0].tolist() == [3]
    # at 3 the pre trace has decayed for 2 steps (potentiation); at 5 the post trace has (depression)
    expected = 0.1 + 0.05 * np.exp(-2 / 10.0) - 0.02 * np.exp(-2 / 5.0)
    assert plastic.data.tolist() == [pytest.approx(expected, rel=1e-12)]
    assert static.data.tolist() == [0.01]


def test_fused_rate_populations_report_their_mean_outputs():
    from engine.backends.numpy_backend import NumpySimulator

    p1, p2 = Population("WilsonCowanPopulation", 3, label="w1"), Population("WilsonCowanPopulation", 2, label="w2")
    net = Network(p1, p2, ConstantCurrent(2.0, target=p1), ConstantCurrent(0.5, target=p2))
    sim = NumpySimulator(net, 0.001)
    assert [blk.members for blk in sim._blocks] == [[0, 1]]
    c = sim.advance(3)
    for label, n, drive in (("w1", 3, 2.0), ("w2", 2, 0.5)):
        ref = Population("WilsonCowanPopulation", n)
        means = [float(np.mean(ref.step_all(drive, dt=1.0))) for _ in range(3)]
        assert c.spikes[label][0].size == 0
        np.testing.assert_allclose(c.rates[label], means, rtol=1e-12)
    assert c.rates["w1"][0] != c.rates["w2"][0]


def test_fused_state_arrays_stay_the_same_objects_across_chunks():
    # blocks are rebuilt only when a signature changed: a reference to a member's
    # state array stays live from chunk to chunk
    from engine.backends.numpy_backend import NumpySimulator

    a, b = Population("LapicqueNeuron", 2, label="a"), Population("LapicqueNeuron", 2, label="b")
    sim = NumpySimulator(Network(a, b, ConstantCurrent(0.3, target=a)), 0.001)
    v = a.state["v"]
    sim.advance(1)
    sim.advance(1)
    assert a.state["v"] is v
    ref = Population("LapicqueNeuron", 2)
    ref.step_all(0.3)
    ref.step_all(0.3)
    np.testing.assert_array_equal(v, ref.state["v"])


def test_compile_auto_looks_at_the_network(registry, monkeypatch):
    registry.register_backend("compiled", _factory)
    monkeypatch.setattr(registry, "_check", lambda name: (True, ""))
    net = _net(n=1000)  # 2000 neurons, deterministic: "auto" picks compiled
    assert registry.compile(net, "auto") == ("sim", net, 0.001)


def test_fusion_needs_the_same_model_class_and_hashable_parameters():
    # model classes defined here (not registered): a subclass with its own step and
    # the same parameters and state, and one with a list-valued parameter
    import param

    from engine.backends.numpy_backend import NumpySimulator, _signature
    from engine.models.lapicque import Lapicque

    class Twice(Lapicque):
        def step(self, state, current, dt, rng):
            return Lapicque.step(self, state, current * 2.0, dt, rng)

    class Tagged(Lapicque):
        tags = param.List(default=[1, 2], doc="an unhashable parameter value")

    a, b = Population("LapicqueNeuron", 2, label="a"), Population(Twice, 2, label="b")
    t = Population(Tagged, 2, label="t")
    assert _signature(t) is None
    net = Network(a, b, t, *(ConstantCurrent(0.3, target=p) for p in (a, b, t)))
    sim = NumpySimulator(net, 0.001)
    assert [blk.members for blk in sim._blocks] == [[0], [1], [2]]
    sim.advance(2)
    single, double = Population("LapicqueNeuron", 2), Population("LapicqueNeuron", 2)
    for _ in range(2):
        single.step_all(0.3)
        double.step_all(0.6)
    np.testing.assert_array_equal(a.state["v"], single.state["v"])
    np.testing.assert_array_equal(t.state["v"], single.state["v"])
    np.testing.assert_array_equal(b.state["v"], double.state["v"])


@pytest.mark.parametrize("how", ["base", "numpy", "run"])
def test_population_dt_warning_points_at_the_callers_line(how):
    from engine.backends.numpy_backend import NumpySimulator

    p = Population("LapicqueNeuron", 1, {"dt": 0.5}, label="p")
    net = Network(p)
    with pytest.warns(UserWarning, match="^population 'p': its dt=0.5 ms differs") as rec:
        if how == "base":
            Simulator(net, 0.001)
        elif how == "numpy":
            NumpySimulator(net, 0.001)
        else:
            net.run(0.002)
    assert [w.filename for w in rec] == [__file__]


def test_population_dt_warning_from_code_without_a_module_name():
    # code run through exec with bare globals has no __name__: that frame is the caller
    p = Population("LapicqueNeuron", 1, {"dt": 0.5}, label="p")
    with pytest.warns(UserWarning, match="^population 'p': its dt=0.5 ms differs") as rec:
        exec("Simulator(net, 0.001)", {"Simulator": Simulator, "net": Network(p)})
    assert [w.filename for w in rec] == ["<string>"]
