"""Network objects declared once: declarations, validation from them, the
run's dt for stimuli, and Network.set for live edits."""

import inspect
import threading
import warnings

import numpy as np
import param
import pytest

import engine.network.io as nio
from engine.models.base import Real
from engine.network import (ConstantCurrent, Network, PoissonInput, Population, Projection, RateMonitor,
                            SpikeMonitor, StateMonitor, StepCurrent, TimedArray, declarations)
from engine.network.stimuli import Stimulus

KINDS = ["Projection", "StepCurrent", "ConstantCurrent", "TimedArray", "PoissonInput",
         "SpikeMonitor", "StateMonitor", "RateMonitor"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_declaration_with_docs(kind):
    decl = declarations(kind)
    for name, p in decl.items():
        assert isinstance(p, param.Parameter)
        assert p.doc, f"{kind}.{name} has no doc"
        assert hasattr(p, "unit") or isinstance(p, (param.Boolean, param.Selector)), name


def test_one_set_of_defaults_the_engines():
    proj = declarations("Projection")
    assert proj["probability"].default == 1.0
    assert proj["allow_self_connections"].default is True
    assert proj["delay"].default == 0 and proj["delay"].bounds == (0, 100_000)
    assert proj["topology"].objects == ["random", "all_to_all", "one_to_one"]
    assert declarations("PoissonInput")["dt"].default is None  # follows the run
    # a model name gives the model's own declaration
    assert declarations("LapicqueNeuron")["tau"].default == 20.0
    with pytest.raises(ValueError, match="unknown kind 'Laser'"):
        declarations("Laser")


def test_signatures_follow_the_reference_argument_order():
    assert list(inspect.signature(PoissonInput).parameters)[:5] == ["n", "rate_hz", "weight", "dt", "seed"]
    assert list(inspect.signature(StepCurrent).parameters)[:3] == ["onset", "offset", "amplitude"]
    sig = inspect.signature(Projection)
    assert list(sig.parameters)[:9] == ["source", "target", "weight", "probability", "delay", "topology",
                                        "plasticity", "seed", "weight_threshold"]
    assert sig.parameters["tau_syn"].kind is inspect.Parameter.KEYWORD_ONLY
    a, b = Population("lif", 4), Population("lif", 4)
    p = Projection(a, b, 0.5, 1.0, 2, "random", None, 7, 0.0)  # positional, as the reference
    assert (p.weight, p.delay, p.seed) == (0.5, 2, 7)
    s = PoissonInput(3, 20.0, 1.5, 1e-3, 9)
    assert (s.n, s.rate_hz, s.weight, s.dt, s.seed) == (3, 20.0, 1.5, 1e-3, 9)
    with pytest.raises(TypeError, match="no parameter 'colour'"):
        StepCurrent(1, 2, 3.0, colour="red")


def test_a_parameter_added_to_the_declaration_reaches_constructor_validation_and_json(monkeypatch):
    # "one line in one file": a stimulus whose Params has one more line than
    # ConstantCurrent's; nothing else is written for it
    class JitteredCurrent(ConstantCurrent):
        class Params(ConstantCurrent.Params):
            jitter = Real(0.0, bounds=(0.0, 1.0), unit="a.u.", doc="test parameter")

    monkeypatch.setitem(nio.STIMULI, "JitteredCurrent", JitteredCurrent)
    assert list(declarations(JitteredCurrent)) == ["amplitude", "jitter"]
    c = JitteredCurrent(1.0, jitter=0.25, label="c")
    assert c.jitter == 0.25
    with pytest.raises(ValueError, match=r"JitteredCurrent 'c' jitter must be <= 1.0"):
        c.jitter = 2.0
    net = Network(Population("lif", 2), c)
    doc = net.to_dict()
    assert doc["stimuli"][0]["jitter"] == 0.25
    assert Network.from_dict(doc).stimuli[0].jitter == 0.25
    doc["stimuli"][0]["jitter"] = -1.0
    with pytest.raises(ValueError, match=r"stimuli\[0\]\.jitter must be >= 0.0"):
        Network.from_dict(doc)


def test_assignment_is_validated_and_rolled_back_on_inconsistency():
    s = StepCurrent(10, 20, 1.0, label="pulse")
    with pytest.raises(ValueError, match=r"StepCurrent 'pulse' offset \(5\) must be >= onset \(10\)"):
        s.offset = 5
    assert s.offset == 20
    with pytest.raises(ValueError, match="StepCurrent 'pulse' amplitude must be finite"):
        s.amplitude = float("inf")
    a = Population("lif", 3)
    p = Projection(a, a, 1.0, topology="all_to_all", label="rec")
    with pytest.raises(ValueError, match="probability applies to the 'random' topology only"):
        p.probability = 0.5
    assert p.probability == 1.0 and p.nnz == 9


def test_stimuli_follow_the_run_dt():
    # a 20 Hz PoissonInput stays 20 Hz at 1 ms and 0.1 ms steps (issue 11)
    rates = {}
    for dt in (1e-3, 1e-4):
        pop = Population("PerfectIntegratorNeuron", 2000, params={"v_threshold": 1e9}, label="sink")
        net = Network(pop, PoissonInput(2000, 20.0, 1.0, seed=3))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning: dt was not given
            net.run(0.5, dt=dt)
        # v integrates I*dt/C: each input spike adds dt_ms to v
        rates[dt] = pop.state["v"].sum() / (dt * 1e3) / 2000 / 0.5
    assert rates[1e-3] == pytest.approx(20.0, rel=0.05)
    assert rates[1e-4] == pytest.approx(20.0, rel=0.05)


def test_an_explicit_stimulus_dt_that_differs_warns_naming_it():
    net = Network(Population("lif", 5), PoissonInput(5, 20.0, 1.0, dt=1e-3, label="noise"))
    with pytest.warns(RuntimeWarning, match="PoissonInput 'noise': its dt=0.001 s differs from the run's step"):
        net.run(0.002, dt=1e-4)
    # a rate that cannot be a per-step probability is refused at the run's step
    net = Network(Population("lif", 5), PoissonInput(5, 2000.0, 1.0, label="fast"))
    with pytest.raises(ValueError, match=r"PoissonInput 'fast' rate_hz \* dt = 2 exceeds 1"):
        net.run(0.01, dt=1e-3)


def _net():
    e = Population("lif", 20, label="E")
    i = Population("lif", 10, label="I")
    net = Network(e, i, Projection(e, i, 0.5, probability=0.5, seed=1, label="E->I"),
                  ConstantCurrent(0.5, target=e, label="drive"), SpikeMonitor(e))
    return net


def test_network_set_changes_named_objects_validated():
    net = _net()
    assert net.set("E", "tau", 12.0) == 12.0 and net.population("E").model.tau == 12.0
    before = net.projections[0].nnz
    assert net.set("E->I", "probability", 1.0) == 1.0
    assert net.projections[0].nnz == 200 != before  # synapses regenerated
    assert net.set("drive", "amplitude", 2) == 2.0
    assert net.set("E->I", "delay", 3.0) == 3
    cases = [(("E", "tau", -1.0), r"Population 'E' tau must be >= "),
             (("E", "tau", np.array([1.0, 2.0])), r"Population 'E' tau must be a real number, got an array"),
             (("E", "zeta", 1.0), r"Population 'E' has no parameter 'zeta'"),
             (("E->I", "weight", {"dist": ["normal"]}), r"Projection 'E->I' weight\['dist'\] must be one of"),
             (("E->I", "delay", 10 ** 400), r"Projection 'E->I' delay is out of range"),
             (("drive", "amplitude", 1 + 2j), r"ConstantCurrent 'drive' amplitude must be a real number"),
             (("ghost", "x", 1), r"no object labelled 'ghost'")]
    for args, match in cases:
        with pytest.raises(ValueError, match=match):
            net.set(*args)
    assert net.population("E").model.tau == 12.0 and net.projections[0].delay == 3  # unchanged


def test_network_set_waits_for_the_running_chunk():
    reached, release = threading.Event(), threading.Event()

    class Gate(Stimulus):
        class Params(param.Parameterized):
            pass

        def apply(self, step, out):
            if step == 5:
                reached.set()
                release.wait(10)

    pop = Population("PerfectIntegratorNeuron", 1, params={"v_threshold": 1e9}, label="acc")
    net = Network(pop, ConstantCurrent(1.0, label="drive"), Gate(), StateMonitor(pop, ["v"]))
    sim = net.simulator("numpy", 1e-3)
    runner = threading.Thread(target=sim.advance, args=(10,))
    runner.start()
    assert reached.wait(10)
    setter = threading.Thread(target=net.set, args=("drive", "amplitude", 3.0))
    setter.start()
    setter.join(0.3)
    assert setter.is_alive()  # blocked until the chunk ends
    release.set()
    runner.join(10)
    setter.join(10)
    sim.advance(10)
    v = net.monitors[0].traces["v"][:, 0]
    # each step adds amplitude * dt_ms / C: 1.0 for the whole first chunk, 3.0 after
    np.testing.assert_allclose(np.diff(v)[:9], 1.0)
    np.testing.assert_allclose(np.diff(v)[10:], 3.0)


def test_rulkov_integer_y_init_runs():
    # issue 19: an int for a float parameter passed validation, then the kernel
    # failed to cast float results into an integer array
    net = Network(Population("RulkovMapNeuron", 3, params={"y_init": -1}))
    net.run(0.01, dt=1e-3)
    assert net.populations[0].state["y"].dtype == np.float64
    assert isinstance(net.populations[0].model.y_init, float)


def test_monitor_declarations_and_record_alias():
    pop = Population("lif", 6, label="P")
    m = StateMonitor(pop, "v", [1, 4])
    assert m.params() == {"variables": ["v"], "record": [1, 4]}
    assert m.record_indices.tolist() == [1, 4] and callable(m.record)  # record(chunk) stays the hook
    r = RateMonitor(pop, 5)
    assert r.bin_ms == 5.0
    with pytest.raises(ValueError, match=r"RateMonitor of 'P' bin_ms must be > 0.0"):
        RateMonitor(pop, 0)
    with pytest.raises(ValueError, match=r"StateMonitor of 'P' record\[0\] must be >= 0"):
        StateMonitor(pop, record=[-1])
    with pytest.raises(TypeError, match=r"StateMonitor of 'P' variables\[0\] must be a state-variable name"):
        StateMonitor(pop, variables=[3])


def test_io_reads_and_writes_through_the_declaration():
    net = _net()
    net.add(TimedArray([0.0, 1.0, 2.0], target=net.populations[1], label="ramp"),
            StepCurrent(2, 5, 1.5, label="pulse"), RateMonitor(net.populations[0], 2.0))
    doc = net.to_dict()
    proj = doc["projections"][0]
    assert set(declarations("Projection")) <= set(proj)
    assert doc["stimuli"][0] == {"type": "ConstantCurrent", "label": "drive", "target": "E", "amplitude": 0.5}
    assert doc["stimuli"][1]["values"] == [0.0, 1.0, 2.0] and doc["stimuli"][1]["dt"] is None
    again = nio.network_from_dict(doc)
    assert again.to_dict() == doc


@pytest.mark.parametrize("backend", ["numpy", "compiled", "fixed_point", "torch"])
def test_live_edits_apply_on_every_backend(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    if backend == "compiled":
        pytest.importorskip("numba")
    a, b = Population("lif", 50, label="a"), Population("lif", 50, label="b")
    mon = SpikeMonitor(b)
    net = Network(a, b, Projection(a, b, 0.0, label="ab"), ConstantCurrent(2.0, target=a, label="drive"), mon)
    net.run(0.1, dt=1e-3, backend=backend)
    assert mon.num_spikes == 0  # zero weight: nothing reaches b
    net.set("ab", "weight", 5.0)
    net.run(0.1, dt=1e-3, backend=backend)
    assert mon.num_spikes > 100
    assert np.all(net.projections[0].data == 5.0)


def test_a_change_the_running_simulator_cannot_take_is_refused_up_front():
    net = Network(Population("FixedPointLIFNeuron", 5, label="F"))
    assert net.live_change_blocker("F", "fraction") is None  # nothing compiled yet
    net.run(0.005, dt=1e-3, backend="fixed_point")
    assert "one Q-format (Q8.8)" in net.live_change_blocker("F", "fraction")
    assert net.live_change_blocker("F", "v_threshold") is None
    with pytest.raises(ValueError, match=r"'F' fraction cannot change while this network runs on the fixed_point "
                                         r"backend: .*call network.reset\(\) first"):
        net.set("F", "fraction", 6)
    assert net.population("F").model.fraction == 8
    net.set("F", "v_threshold", 200)
    net.run(0.005, dt=1e-3, backend="fixed_point")  # a live change it can take
    net.reset()
    assert net.set("F", "fraction", 6) == 6


def test_a_copied_network_runs_on_its_own():
    import copy

    net = _net()
    net.run(0.003, dt=1e-3)
    twin = copy.deepcopy(net)
    twin.run(0.005, dt=1e-3)
    assert twin.step_count == 5 and net.step_count == 3  # compiled afresh, from the copied states
    twin.set("drive", "amplitude", 9.0)
    assert net.stimuli[0].amplitude == 0.5 and twin.stimuli[0].amplitude == 9.0


EXAMPLES = sorted((__import__("pathlib").Path(__file__).parents[2] / "assets" / "networks").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_networks_follow_the_run_dt(path):
    # the app's dt field at 0.1 ms: no stimulus keeps a 1 ms step of its own
    net = Network.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        net.run(0.002, dt=1e-4)
    assert net.step_count == 20
