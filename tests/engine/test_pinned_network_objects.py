"""Pinned behaviour of populations, monitors, the network's small helpers and
the document helpers (engine/network/{population,monitors,network,io}.py)
that mutation testing found unpinned; expected values are worked out by hand."""

import io
import math
import pickle

import numpy as np
import pytest

from engine.network import Network, Population, Projection, SpikeMonitor, StateMonitor
from engine.network import io as nio
from engine.network.io import DocumentError, sanitize_meta
from engine.validation import describe


# -- document helpers -------------------------------------------------------------------
@pytest.mark.parametrize("value, name", [
    ({}, "an object"), ([], "a list"), ("s", "a string"), (True, "a boolean"), (None, "null"),
    (3, "an integer"), (1.5, "a number"), (float("nan"), "nan"), (float("-inf"), "-inf"),
])
def test_type_names_in_document_errors(value, name):
    assert nio._tname(value) == name


def test_type_name_of_other_values_is_their_description():
    assert nio._tname((1, 2)) == describe((1, 2)) == "a tuple of length 2"


def test_json_literals_of_non_finite_numbers():
    assert [nio._literal(x) for x in (float("nan"), float("inf"), float("-inf"))] == \
        ["NaN", "Infinity", "-Infinity"]


def _nested(depth, kind):
    v = 1
    for _ in range(depth - 1):
        v = {"k": v} if kind == "dict" else [v]
    return v


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_sanitize_meta_depth_limit_is_exact(kind):
    # meta itself is level 1; MAX_DEPTH (32) levels are allowed, one more is not
    ok = {"a": _nested(nio.MAX_DEPTH - 1, kind)}
    assert sanitize_meta(ok) == ok
    with pytest.raises(DocumentError, match=r"^meta: nested more than 32 levels deep$"):
        sanitize_meta({"a": _nested(nio.MAX_DEPTH, kind)})


def test_sanitize_meta_values():
    meta = {"none": None, "t": True, "s": "x", "i": 3, "f": 2.5, "nan": float("nan"),
            "f32": np.float32(1.5), "f32nan": np.float32("nan"), 7: [float("inf"), 1.0]}
    assert sanitize_meta(meta) == {"none": None, "t": True, "s": "x", "i": 3, "f": 2.5, "nan": None,
                                   "f32": 1.5, "f32nan": None, "7": [None, 1.0]}
    with pytest.raises(DocumentError, match=r"^meta: a set cannot be stored in a network file$"):
        sanitize_meta({"x": {1}})
    with pytest.raises(DocumentError, match=r"^meta: expected an object, got a list$"):
        sanitize_meta([1])


# -- populations ------------------------------------------------------------------------
def test_population_set_param_accepts_the_reference_dt():
    p = Population("LapicqueNeuron", 2, label="p")
    assert p.set_param("dt", 0.5) == 0.5
    assert p.set_param("tau", 7.0) == 7.0
    with pytest.raises(ValueError, match=r"Population 'p' has no parameter 'bogus'; valid: tau, resistance, "
                                         r"v_rest, v_reset, v_threshold, refractory_period, dt"):
        p.set_param("bogus", 1.0)


def test_step_all_uses_the_population_dt():
    a = Population("LapicqueNeuron", 3, {"dt": 0.5})
    b = Population("LapicqueNeuron", 3)
    assert a.model.default_dt != 0.5
    a.step_all(2.0)
    b.step_all(2.0, dt=0.5)
    np.testing.assert_array_equal(a.state["v"], b.state["v"])
    c = Population("LapicqueNeuron", 3)
    c.step_all(2.0, dt=c.model.default_dt)
    assert not np.array_equal(c.state["v"], a.state["v"])


@pytest.mark.parametrize("dt", [True, 0, -1.0, float("inf"), float("nan"), "1"])
def test_step_all_refuses_bad_dt(dt):
    p = Population("LapicqueNeuron", 2)
    with pytest.raises(ValueError, match="dt must be a positive finite number of ms"):
        p.step_all(0.0, dt=dt)


def test_step_all_refuses_non_finite_currents():
    p = Population("LapicqueNeuron", 2, label="p")
    with pytest.raises(ValueError, match=r"^currents for population 'p' contain non-finite values$"):
        p.step_all([1.0, float("nan")])


def test_integer_models_get_the_nearest_integer_current():
    a = Population("TrueNorthNeuron", 4)
    b = Population("TrueNorthNeuron", 4)
    a.step_all([2.6, -1.4, 0.4, 7.5])
    b.step_all([3, -1, 0, 8])
    for k in a.state:
        np.testing.assert_array_equal(a.state[k], b.state[k])
        assert a.state[k].dtype == b.state[k].dtype


def test_stochastic_population_repeats_after_reset():
    p = Population("StochasticLIFNeuron", 50, {"noise_std": 5.0})
    first = [p.step_all(1.0).copy() for _ in range(20)]
    v_first = p.state["v"].copy()
    p.reset_all()
    again = [p.step_all(1.0).copy() for _ in range(20)]
    np.testing.assert_array_equal(np.array(first), np.array(again))
    np.testing.assert_array_equal(p.state["v"], v_first)


def test_reset_all_in_place_and_repairs():
    p = Population("LapicqueNeuron", 3)
    v = p.state["v"]
    p.step_all(5.0)
    p.reset_all()
    assert p.state["v"] is v  # in place: views held by a simulator stay valid
    fresh = p.model.initial_state(3)
    np.testing.assert_array_equal(v, fresh["v"])
    # a variable of the wrong shape or a missing one is replaced
    p.state["v"] = np.zeros(1)
    missing = [k for k in fresh if k != "v"][0]
    del p.state[missing]
    p.reset_all()
    for k, arr in fresh.items():
        np.testing.assert_array_equal(p.state[k], arr)


def test_get_states_is_a_copy():
    p = Population("LapicqueNeuron", 2)
    s = p.get_states()
    s["v"][:] = 123.0
    assert not np.any(p.state["v"] == 123.0)


# -- monitors ---------------------------------------------------------------------------
def _spiking_net(n=3, steps=40):
    pop = Population("LapicqueNeuron", n, label="p")
    mon = SpikeMonitor(pop)
    st = StateMonitor(pop, "v")
    from engine.network import ConstantCurrent

    net = Network(pop, ConstantCurrent(30.0, target=pop), mon, st)
    net.run(steps * 0.001, backend="numpy")
    return net, pop, mon, st


def test_firing_rates_and_isi():
    net, pop, mon, _ = _spiking_net()
    count = mon.count
    assert count.sum() > 0
    np.testing.assert_array_equal(mon.firing_rates(40), count / (40 * 0.001))  # default dt: 1 ms
    np.testing.assert_array_equal(mon.firing_rates(1, dt=0.5), count / 0.5)
    for bad in (0, -2):
        with pytest.raises(ValueError, match="n_steps"):
            mon.firing_rates(bad)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        mon.firing_rates(10.0)
    with pytest.raises(ValueError, match=r"^dt \(s\) "):
        mon.firing_rates(10, dt=0.0)
    steps, ids = mon.raster_data()
    np.testing.assert_array_equal(mon.isi(2), np.diff(steps[ids == 2]))
    with pytest.raises(ValueError, match="neuron"):
        mon.isi(3)
    with pytest.raises(TypeError, match="neuron must be an integer"):
        mon.isi(1.0)


def test_state_monitor_attribute_shortcut():
    net, pop, _, st = _spiking_net()
    np.testing.assert_array_equal(st.v, st.traces["v"])
    assert not hasattr(st, "w") and not hasattr(st, "_v")
    with pytest.raises(AttributeError) as e:
        st.w  # noqa: B018
    assert e.value.args == ("w",)


# -- the network ------------------------------------------------------------------------
def test_population_lookup_names_the_labels():
    net = Network(Population("LapicqueNeuron", 1, label="a"), Population("LapicqueNeuron", 1, label="b"))
    assert net.population("b").label == "b"
    with pytest.raises(KeyError, match=r"no population labelled 'zz'; have a, b"):
        net.population("zz")


def test_reset_before_and_after_a_run():
    net, pop, mon, st = _spiking_net()
    net.reset()
    assert mon.num_spikes == 0 and st.traces["v"].shape[0] == 0
    fresh = Network(Population("LapicqueNeuron", 2))
    fresh.reset()  # no simulator yet
    np.testing.assert_array_equal(fresh.populations[0].state["v"],
                                  fresh.populations[0].model.initial_state(2)["v"])


def test_pickled_state_drops_the_simulator():
    net, *_ = _spiking_net()
    state = net.__getstate__()
    assert state["_sim"] is None and state["_sim_key"] is None and "_lock" not in state
    back = pickle.loads(pickle.dumps(net))
    assert back._sim is None


def test_nir_methods_pass_their_arguments(monkeypatch):
    import engine.interop.nir as nir_mod

    calls = []
    monkeypatch.setattr(nir_mod, "write_nir", lambda *a, **k: calls.append(("w", a, k)))

    class Imported:
        network = "the network"

    monkeypatch.setattr(nir_mod, "read_nir", lambda *a, **k: calls.append(("r", a, k)) or Imported)
    net = Network(Population("LapicqueNeuron", 1))
    net.save_nir("x.nir")
    net.save_nir("y.nir", dt=0.5, extra=1)
    assert Network.load_nir("z.nir", dt=0.25, other=2) == "the network"
    assert Network.load_nir("q.nir") == "the network"
    assert calls == [("w", (net, "x.nir"), {"dt": 0.001}), ("w", (net, "y.nir"), {"dt": 0.5, "extra": 1}),
                     ("r", ("z.nir",), {"dt": 0.25, "other": 2}), ("r", ("q.nir",), {"dt": None})]


def test_progress_bar_text(monkeypatch):
    from engine.network import network as netmod

    buf = io.StringIO()
    monkeypatch.setattr(netmod.sys, "stderr", buf)
    netmod._progress(3, 4, width=8)
    assert buf.getvalue() == "\r[######..]  75.0% (3/4 steps)"
    buf.seek(0), buf.truncate()
    netmod._progress(1, 3)
    assert buf.getvalue() == "\r[" + "#" * 10 + "." * 20 + "]  33.3% (1/3 steps)"


def test_plasticity_traces_are_zeroed_by_reset():
    from engine.network import STDP, ConstantCurrent

    pre = Population("LapicqueNeuron", 2, label="pre")
    post = Population("LapicqueNeuron", 2, label="post")
    proj = Projection(pre, post, 0.5, topology="all_to_all", plasticity=STDP())
    net = Network(pre, post, proj, ConstantCurrent(30.0, target=pre), ConstantCurrent(30.0, target=post))
    net.run(0.03, backend="numpy")
    assert any(a.any() for a in proj.plasticity_state.values())
    net.reset()
    for a in proj.plasticity_state.values():
        np.testing.assert_array_equal(a, 0.0)


def test_propagate_scales_rows_and_sums():
    src = Population("LapicqueNeuron", 3)
    tgt = Population("LapicqueNeuron", 2)
    proj = Projection(src, tgt, np.array([[1.0, 2.0], [0.0, 3.0], [4.0, 0.0]]))
    # rows scaled by the source values, summed per target: 0.5*[1,2] + 2*[0,3] + 1*[4,0]
    np.testing.assert_array_equal(proj.propagate([0.5, 2, 1]), [4.5, 7.0])
    np.testing.assert_array_equal(proj.propagate(np.array([False, True, False])), [0.0, 3.0])
    with pytest.raises(ValueError, match=r"^source_spikes contains non-finite values$"):
        proj.propagate([0.0, float("inf"), 0.0])


def test_live_change_blocker_passes_the_kind():
    from engine.network import ConstantCurrent

    pop = Population("LapicqueNeuron", 2, label="x")
    net = Network(pop, ConstantCurrent(1.0, target=pop, label="x"))
    # the label names two objects: only kind= says which; no simulator yet, so nothing blocks
    assert net.live_change_blocker("x", "amplitude", kind="stimulus") is None
    with pytest.raises(ValueError, match="label 'x' names a population and a stimulus"):
        net.live_change_blocker("x", "amplitude")


def test_declared_entry_unknown_key_lists_the_allowed_ones():
    from engine.network import StepCurrent

    with pytest.raises(DocumentError) as e:
        nio._declared_entry(StepCurrent, {"onset": 1, "bogus": 2}, "stimuli[0]", {"type", "label", "target"})
    assert e.value.path == "stimuli[0].bogus"
    assert str(e.value) == ("stimuli[0].bogus: unknown key for StepCurrent (allowed: amplitude, label, offset, "
                            "onset, target, type)")
    assert nio._declared_entry(StepCurrent, {"onset": 1, "type": "StepCurrent"}, "s", {"type"}) == {"onset": 1}


# -- round 4: Network.run's step count, find / set / live-change checks, set_state, monitors --
from types import SimpleNamespace  # noqa: E402

from engine import resources  # noqa: E402
from engine.network import ConstantCurrent  # noqa: E402


@pytest.fixture
def tiny_net():
    # a StateMonitor makes any run of ~1e9 steps fail fast in the memory check (16 bytes a step kept)
    pop = Population("lif", 1, label="a")
    resources.set_memory_budget(1 << 30)
    yield Network(pop, StateMonitor(pop, label="m"))
    resources.set_memory_budget(None)


@pytest.mark.parametrize("duration, steps", [(1e9, 1_000_000_001), (2e9, 1_000_000_001)])
def test_runs_of_twice_the_step_limit_or_more_are_refused_by_count(tiny_net, duration, steps):
    # dt = 0.5 s is exact in binary: 1e9 s is 2e9 steps, twice the limit, so the count is not rounded
    with pytest.raises(ValueError) as e:
        tiny_net.run(duration, dt=0.5, backend="numpy")
    assert str(e.value) == (f"duration/dt = {steps} steps exceeds the limit of 1000000000; "
                            "are duration and dt both in seconds?")


def test_a_run_of_exactly_the_step_limit_gets_to_the_memory_check(tiny_net):
    with pytest.raises(resources.ResourceError) as e:
        tiny_net.run(5e8, dt=0.5, backend="numpy")
    assert str(e.value).startswith("a run of 1000000000 steps (network, monitor recordings and one chunk)")


def test_a_one_step_run_and_a_run_shorter_than_half_a_step(tiny_net, capsys):
    out = tiny_net.run(0.001, dt=0.001, backend="numpy")
    assert out == {"n_steps": 1, "t": 0.001, "spike_counts": {"a": 0}}
    assert capsys.readouterr().err == ""  # no progress bar unless asked
    assert tiny_net.run(0.0015, dt=0.001, backend="numpy")["n_steps"] == 2  # 1.5 rounds to 2 (half to even)
    with pytest.raises(ValueError) as e:
        tiny_net.run(0.0004, dt=0.001, backend="numpy")
    assert str(e.value) == "duration=0.0004 s is shorter than half a step (dt=0.001 s)"


def test_run_argument_errors_name_them(tiny_net):
    with pytest.raises(ValueError) as e:
        tiny_net.run(-1)
    assert str(e.value) == "duration (s) must be > 0.0, got -1"
    with pytest.raises(ValueError) as e:
        tiny_net.run(1, dt=0)
    assert str(e.value) == "dt (s) must be > 0.0, got 0"


def _labelled_net():
    pop = Population("lif", 2, label="a")
    return Network(pop, Projection(pop, pop, 1.0), ConstantCurrent(1.0, target=pop, label="s"),
                   SpikeMonitor(pop, label="m"))


def test_find_by_kind_and_its_messages():
    net = _labelled_net()
    assert net.find("a->a", kind="projection") is net.projections[0]
    assert net.find("m", kind="monitor") is net.monitors[0]
    assert net.find("s", kind="stimulus") is net.stimuli[0]
    with pytest.raises(ValueError) as e:
        net.find("a", kind="bogus")
    assert str(e.value) == "kind must be one of population, projection, stimulus, monitor, got 'bogus'"
    with pytest.raises(ValueError) as e:
        net.find("zz")
    assert str(e.value) == "no object labelled 'zz' in this network (have: 'a', 'a->a', 's', 'm')"
    with pytest.raises(ValueError) as e:
        net.find("zz", kind="monitor")
    assert str(e.value) == "no monitor labelled 'zz' in this network (have: 'a', 'a->a', 's', 'm')"
    with pytest.raises(ValueError) as e:
        Network().find("x")
    assert str(e.value) == "no object labelled 'x' in this network (have: none)"


def test_set_passes_the_kind():
    pop = Population("lif", 2, label="x")
    net = Network(pop, Projection(pop, pop, 1.0, label="x"))
    assert net.set("x", "delay", 3, kind="projection") == 3 and net.projections[0].delay == 3
    with pytest.raises(ValueError, match="^label 'x' names a population and a projection; pass kind= to choose$"):
        net.set("x", "delay", 4)


class _StubSim:
    backend_name = "stub"

    def __init__(self, steps):
        self.step_count = steps

    def live_change_blocker(self, obj, name):
        return f"{obj.label} {name} is baked in"


def test_live_changes_ask_a_simulator_that_has_stepped():
    net = _labelled_net()
    net._sim = _StubSim(0)  # at step 0 a recompile costs nothing: never blocked
    assert net.live_change_blocker("a", "tau") is None
    assert net.set("a", "tau", 25.0) == 25.0
    net._sim = _StubSim(1)
    assert net.live_change_blocker("a", "tau") == "a tau is baked in"
    with pytest.raises(ValueError) as e:
        net.set("a", "tau", 30.0)
    assert str(e.value) == ("'a' tau cannot change while this network runs on the stub backend: "
                            "a tau is baked in; call network.reset() first")
    assert net.populations[0].params["tau"] == 25.0
    net._sim = SimpleNamespace(step_count=5)  # a simulator without the hook blocks nothing
    assert net.live_change_blocker("a", "tau") is None


def test_set_state_checks_names_types_and_whole_numbers():
    pop = Population("lif", 2, label="a")
    with pytest.raises(ValueError) as e:
        pop.set_state("x", 0.0)
    assert str(e.value) == "unknown state variable 'x' of LapicqueNeuron; valid: v, refractory"
    for bad, dtype in ((np.array(["a", "b"]), "<U1"), (np.array([1 + 0j, 0]), "complex128")):
        with pytest.raises(TypeError) as e:
            pop.set_state("v", bad)
        assert str(e.value) == f"v must be real numbers, got dtype {dtype}"
    pop.set_state("v", np.array([1, 2]))  # integers into a float state
    assert pop.state["v"].tolist() == [1.0, 2.0]
    tn = Population("TrueNorthNeuron", 2, label="t")
    tn.set_state("v", [3.0, -4.0])
    assert tn.state["v"].tolist() == [3, -4]
    with pytest.raises(ValueError) as e:
        tn.set_state("v", [0.5, 1.0])
    assert str(e.value) == "v of the integer model TrueNorthNeuron must be whole numbers"
    assert tn.state["v"].tolist() == [3, -4]


def test_a_structural_change_without_a_weight_spec_is_undone():
    a, b = Population("lif", 2, label="a"), Population("lif", 3, label="b")
    proj = Projection.from_csr(a, b, [0, 1, 1], [2], [2.0])  # weights given as arrays: no spec
    with pytest.raises(ValueError) as e:
        proj.set_param("probability", 0.5)
    assert str(e.value) == ("Projection 'a->b' has no weight spec to regenerate its synapses from; "
                            "set weight first")
    assert proj.probability == 1.0 and proj.get_param("probability") == 1.0
    assert proj.to_dense().tolist() == [[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]


def _chunk(dt, steps, ids):
    return SimpleNamespace(dt=dt, spikes={"a": (np.array(steps, np.int64), np.array(ids, np.int64))})


def test_spike_monitor_raster_across_chunks_and_its_dt_check():
    pop = Population("lif", 2, label="a")
    m = SpikeMonitor(pop, label="spk")
    assert m.bytes_per_step() == 0  # spikes cost what the activity costs, not a fixed amount per step
    steps, ids = m.raster_data()
    assert steps.dtype == np.int64 and ids.dtype == np.int64 and steps.size == ids.size == 0
    m.record(_chunk(0.001, [0, 1], [1, 0]))
    assert [x.tolist() for x in m.raster_data()] == [[0, 1], [1, 0]]
    m.record(_chunk(0.001, [5], [1]))
    assert [x.tolist() for x in m.raster_data()] == [[0, 1, 5], [1, 0, 1]]
    with pytest.raises(ValueError) as e:
        m.record(_chunk(0.002, [6], [0]))
    assert str(e.value) == ("SpikeMonitor 'spk' recorded with dt=0.001 and now dt=0.002; "
                            "reset the network before changing dt")


def test_a_model_refusing_a_validated_value_is_named_with_the_population():
    from engine.models import get_model

    class Picky(get_model("lif")):  # a rule between parameters, checked by the model on assignment
        def __setattr__(self, name, value):
            if name == "tau" and value > 50:
                raise ValueError("tau above 50 ms is not modelled")
            super().__setattr__(name, value)

    pop = Population(Picky, 1, label="p")
    assert pop.set_param("tau", 40.0) == 40.0
    with pytest.raises(ValueError) as e:
        pop.set_param("tau", 60.0)
    assert str(e.value) == "Population 'p' tau: tau above 50 ms is not modelled"
    assert pop.params["tau"] == 40.0


# -- round 4, second part: Network construction and compile, Population and Projection checks --
from engine.network import TimedArray  # noqa: E402
from engine.network import network as nnet  # noqa: E402
from engine.network import population as npop  # noqa: E402
from engine.network import projection as nproj  # noqa: E402


def test_network_seed_default_and_checks():
    assert Network().seed == 42 and Network(seed=0).seed == 0
    for seed, exc, message in ((-1, ValueError, "seed must be >= 0, got -1"),
                               (1.5, TypeError, "seed must be an integer, got 1.5"),
                               (2.0, TypeError, "seed must be an integer, got 2.0")):
        with pytest.raises(exc) as e:
            Network(seed=seed)
        assert str(e.value) == message


def test_add_returns_the_last_object_and_default_labels_are_unique():
    net = Network()
    assert net.add() is None
    p1, p2, p3 = (Population("lif", 1) for _ in range(3))
    assert net.add(p1, p2) is p2 and net.add(p3) is p3
    assert [p.label for p in net.populations] == ["LapicqueNeuron", "LapicqueNeuron_1", "LapicqueNeuron_2"]


def test_object_bytes_of_each_kind():
    a, b = Population("lif", 2, label="a"), Population("lif", 3, label="b")
    assert nnet._object_bytes(a) == 8 * 2 * (2 + 3)
    # all_to_all 2 x 3: indptr 3, indices 6 and data 6 entries of 8 bytes
    assert nnet._object_bytes(Projection(a, b, 1.0, topology="all_to_all")) == 8 * (3 + 6 + 6)
    assert nnet._object_bytes(TimedArray(values=[1.0] * 100)) == 800
    assert nnet._object_bytes(ConstantCurrent(1.0)) == 0


def test_the_progress_bar_ends_its_line(tiny_net, capsys):
    tiny_net.run(0.001, dt=0.001, backend="numpy", progress=True)
    assert capsys.readouterr().err == "\r[" + "#" * 30 + "] 100.0% (1/1 steps)\n"


def test_simulator_defaults_reuse_and_dt_changes():
    pop = Population("lif", 1, label="a")
    net = Network(pop)
    sim = net.simulator()
    assert sim.dt == 0.001 and sim.backend_name == "numpy" and net.simulator() is sim  # reused
    assert net.simulator(dt=0.002).dt == 0.002  # any dt at step 0
    with pytest.raises(ValueError) as e:
        net.simulator(dt=0)
    assert str(e.value) == "dt (s) must be > 0.0, got 0"
    sim = net.simulator(dt=0.001)
    sim.advance(1)
    with pytest.raises(ValueError) as e:
        net.simulator(dt=0.002)
    assert str(e.value) == ("dt changed from 0.001 s to 0.002 s between runs; call network.reset() "
                            "before running with a different dt")
    net.add(SpikeMonitor(pop))  # a recompile after a step continues from it
    new = net.simulator(dt=0.001)
    assert new is not sim and new.step_count == 1


def test_the_substep_limit_uses_dt_in_ms():
    # max_substep 0.5 ms and at most 10 000 substeps: dt = 5 s is the longest step allowed
    net = Network(Population("FitzHughNagumoNeuron", 1, params={"max_substep": 0.5}, label="f"))
    assert net.simulator(dt=5.0).dt == 5.0
    with pytest.raises(ValueError) as e:
        net.simulator(dt=5.001)
    assert str(e.value).startswith("population 'f' (FitzHughNagumoNeuron): dt=5001 ms would take")


def test_population_argument_checks(monkeypatch):
    with pytest.raises(TypeError) as e:
        Population("lif", 1, label=5)
    assert str(e.value) == "label must be a string, got int"
    with pytest.raises(ValueError) as e:
        npop.check_label("  ")
    assert str(e.value) == "label must be a non-empty string"
    with pytest.raises(ValueError) as e:
        Population("lif", 0)
    assert str(e.value) == "n must be a positive integer, got 0"
    with pytest.raises(TypeError) as e:
        Population("lif", "x")
    assert str(e.value) == "n must be an integer, got 'x'"
    monkeypatch.setattr(npop, "MAX_NEURONS", 5)
    assert Population("lif", 5).n == 5  # the limit itself is allowed
    with pytest.raises(ValueError) as e:
        Population("lif", 6)
    assert str(e.value) == "n=6 exceeds the limit of 5 neurons per population"
    with pytest.raises(TypeError) as e:
        Population("lif", 1, params=[1])
    assert str(e.value) == "params must be a dict of model parameters, got list"
    with pytest.raises(ValueError) as e:
        Population("lif", 1, params={"x": 1, "y": 2}, label="p")
    assert str(e.value) == ("Population 'p' params: unknown parameter(s) 'x', 'y' for model 'LapicqueNeuron'; "
                            "valid: tau, resistance, v_rest, v_reset, v_threshold, refractory_period, dt")
    assert Population("lif", 1, params={"tau": 5.0}).params["tau"] == 5.0


def test_population_model_rules_memory_and_standalone_seed():
    from engine.models import get_model

    class Picky(get_model("lif")):
        def __setattr__(self, name, value):
            if name == "tau" and value > 50:
                raise ValueError("tau above 50 ms is not modelled")
            super().__setattr__(name, value)

    with pytest.raises(ValueError) as e:
        Population(Picky, 1, params={"tau": 60.0}, label="p")
    assert str(e.value) == "Population 'p': tau above 50 ms is not modelled"
    try:
        resources.set_memory_budget(100)
        with pytest.raises(ValueError) as e:
            Population("lif", 10, label="p")
        assert str(e.value).startswith("Population 'p' (10 x LapicqueNeuron) needs about 400 B")
    finally:
        resources.set_memory_budget(None)
    # a population outside a network draws from SeedSequence([42, 0])
    ref = np.random.default_rng(np.random.SeedSequence([42, 0])).random(3)
    assert Population("lif", 1).rng.random(3).tolist() == ref.tolist()


def test_monitor_needs_a_population():
    with pytest.raises(TypeError) as e:
        SpikeMonitor("x")
    assert str(e.value) == "SpikeMonitor needs a Population, got str"


def test_projection_argument_checks(monkeypatch):
    a, b = Population("lif", 2, label="a"), Population("lif", 3, label="b")
    with pytest.raises(TypeError) as e:
        Projection(a, "b", 1.0)
    assert str(e.value) == "target must be a Population, got str"
    with pytest.raises(TypeError) as e:
        Projection(a, a)
    assert str(e.value) == "Projection 'a->a' needs a weight: a number, an array or a distribution dict"
    with pytest.raises(ValueError) as e:
        Projection(a, b, np.zeros((2, 3, 1)))
    assert str(e.value) == "Projection 'a->b' weight must have 0-D or 1-D or 2-D shape, got (2, 3, 1)"
    p0 = Projection(a, b, np.array(0.5), topology="all_to_all")  # a 0-d array is a number
    assert p0.weight_spec == 0.5 and p0.data.tolist() == [0.5] * 6
    with pytest.raises(ValueError) as e:
        Projection(a, a, 1.0, topology="one_to_one", allow_self_connections=False)
    assert str(e.value) == "one_to_one onto the same population with allow_self_connections=False would have no synapses"
    monkeypatch.setattr(nproj, "MAX_EDGES", 6)
    assert Projection(a, b, 1.0, topology="all_to_all").nnz == 6  # exactly the limit
    assert Projection(a, b, np.ones(6), topology="all_to_all").nnz == 6
    with pytest.raises(ValueError) as e:
        Projection(a, b, np.ones(7))
    assert str(e.value) == "Projection 'a->b' weight has 7 entries, more than the limit 6"
    with pytest.raises(ValueError) as e:
        Projection(a, Population("lif", 4, label="c"), 1.0, topology="all_to_all")
    assert str(e.value) == ("Projection 'a->c' would hold about 8 synapses, more than the limit of 6; "
                            "lower probability or sizes")
    try:
        resources.set_memory_budget(10)
        with pytest.raises(ValueError) as e:
            Projection(a, b, 1.0, label="syn")
        assert str(e.value).startswith("Projection 'syn' needs about")
    finally:
        resources.set_memory_budget(None)


def test_threshold_pruning_and_dense_zeros():
    a, b = Population("lif", 2, label="a"), Population("lif", 3, label="b")
    assert Projection(a, b, 0.5, topology="all_to_all", weight_threshold=0.5).nnz == 6  # |w| >= threshold stays
    dense = [[0.1, 0.0, 2.0], [-0.7, 0.3, 0.0]]
    proj = Projection(a, b, dense, weight_threshold=0.5)
    assert proj.to_dense().tolist() == [[0.0, 0.0, 2.0], [-0.7, 0.0, 0.0]]


def test_distribution_weights_follow_the_seeded_generator():
    # all_to_all draws nothing for the topology, so the weights are the generator's first draws
    a, b = Population("lif", 2, label="a"), Population("lif", 3, label="b")
    logn = Projection(a, b, {"dist": "lognormal", "mean": 0.1, "sigma": 0.2}, topology="all_to_all", seed=7)
    assert logn.data.tolist() == np.random.default_rng(7).lognormal(0.1, 0.2, 6).tolist()
    normal = Projection(a, b, {"dist": "normal", "mean": 1.0, "std": 0.5}, topology="all_to_all", seed=3)
    assert normal.data.tolist() == np.random.default_rng(3).normal(1.0, 0.5, 6).tolist()
    const = Projection(a, b, {"dist": "constant", "value": 0.3}, topology="all_to_all")
    assert const.data.tolist() == [0.3] * 6


def test_random_topology_is_one_uniform_per_pair_row_major(monkeypatch):
    # p >= 0.25: pair (i, j) exists when the (i * n_tgt + j)-th uniform draw is below p, also
    # when the rows are sampled in blocks (here one row per block)
    monkeypatch.setattr(nproj, "_BLOCK_CELLS", 4)
    a, b = Population("lif", 5, label="a"), Population("lif", 4, label="b")
    for p in (0.5, 0.25):  # 0.25 is the lowest probability sampled this way
        proj = Projection(a, b, 1.0, probability=p, seed=11)
        mask = np.random.default_rng(11).random((5, 4)) < p
        assert (proj.to_dense() != 0).tolist() == mask.tolist()


def test_sparse_random_topology_is_geometric_gaps():
    # p < 0.25: successes of one Bernoulli process along the row-major pair index, found as
    # cumulative geometric gaps starting before pair 0
    a, b = Population("lif", 30, label="a"), Population("lif", 40, label="b")
    proj = Projection(a, b, 1.0, probability=0.1, seed=5)
    pos = -1 + np.cumsum(np.random.default_rng(5).geometric(0.1, 5000))
    pos = pos[pos < 30 * 40]
    rows = np.repeat(np.arange(30), np.diff(proj.indptr))
    assert (rows * 40 + proj.indices).tolist() == pos.tolist()


def _flat_positions(proj, n_tgt):
    rows = np.repeat(np.arange(proj.source.n), np.diff(proj.indptr))
    return (rows * n_tgt + proj.indices).tolist()


def test_tiny_probabilities_draw_a_binomial_count_of_distinct_pairs():
    # 1e10 pairs: below p = 1e-9 the count is Binomial(pairs, p) and the pairs a uniform subset;
    # at p = 1e-9 itself the geometric gaps are still used
    a, b = Population("lif", 100_000, label="a"), Population("lif", 100_000, label="b")
    total = 100_000 ** 2
    rng = np.random.default_rng(3)
    k = int(rng.binomial(total, 5e-10))
    ref = np.sort(rng.choice(total, k, replace=False))
    assert k >= 2 and _flat_positions(Projection(a, b, 1.0, probability=5e-10, seed=3), 100_000) == ref.tolist()
    pos = -1 + np.cumsum(np.random.default_rng(4).geometric(1e-9, 1000))
    ref = pos[pos < total]
    assert ref.size >= 2 and _flat_positions(Projection(a, b, 1.0, probability=1e-9, seed=4), 100_000) == ref.tolist()


def test_auto_is_resolved_for_this_network(monkeypatch):
    # "auto" depends on the network (its size and models), so the network itself must be asked about
    import engine.backends as backends

    seen = []
    monkeypatch.setattr(backends, "auto_backend", lambda network=None: seen.append(network) or "numpy")
    net = Network(Population("lif", 1, label="a"))
    assert net.simulator().backend_name == "numpy"
    assert seen == [net]


def test_population_params_are_checked_against_the_declaration_with_their_name():
    with pytest.raises(ValueError) as e:
        Population("lif", 1, params={"tau": -1.0}, label="p")
    assert str(e.value) == "Population 'p' params.tau must be >= 1e-06, got -1.0"


def test_a_monitor_of_a_population_outside_the_network_is_refused():
    net = Network(Population("lif", 1, label="a"))
    with pytest.raises(ValueError) as e:
        net.add(SpikeMonitor(Population("lif", 1, label="x")))
    assert str(e.value) == "SpikeMonitor population 'x' is not in this network"
