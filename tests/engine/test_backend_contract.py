"""Contract over the model registry: every model written in the one form runs
on every float backend with NumPy's (float64) spikes.

The network: one population of the model, a step current a little above its
firing range and a recurrent projection (delayed, exponential synapse), so
neuron kernels, delivery and synapses are all exercised.  A model added as one
file is covered here with no other edit.  On compiled, the models sharing a
``default_dt`` run as populations of one network (one numba kernel per group
instead of per model: the compilation is what this file costs in CI).
"""

import numpy as np
import pytest

from engine.backends import available_backends
from engine.models import registry
from engine.network import Network, Population, Projection, SpikeMonitor, StateMonitor, StepCurrent

FORM_MODELS = sorted(name for name, cls in registry.items() if cls.dynamics is not None)
N = 16


def n_steps(name):
    """At least 300 steps and 40 ms of model time (fast conductance models use short steps)."""
    return max(300, int(round(40.0 / registry[name].default_dt)))


def build(name, seed=5):
    cls = registry[name]
    lo, hi = cls.current_range
    amp = hi if not cls.integer else max(1, int(round(hi)))
    pop = Population(name, N, label="P")
    w = 0.05 * (hi - lo) if not cls.integer else max(1, int(round(0.05 * (hi - lo))))
    proj = Projection(pop, pop, {"dist": "uniform", "low": -w, "high": w} if not cls.integer else w,
                      probability=0.3, delay=1, tau_syn=None if cls.integer else 2.0, seed=seed)
    mon = StateMonitor(pop, [cls.voltage_variable])
    return Network(pop, proj, StepCurrent(10, n_steps(name), amp, target=pop), SpikeMonitor(pop), mon, seed=seed)


def run(name, backend):
    net = build(name)
    dt = registry[name].default_dt * 1e-3
    sim = net.simulator(backend, dt)
    total = n_steps(name)
    chunks = [sim.advance(total // 2), sim.advance(total - total // 2)]  # streamed in two chunks
    steps = np.concatenate([c.spikes["P"][0] for c in chunks])
    ids = np.concatenate([c.spikes["P"][1] for c in chunks])
    rates = np.concatenate([c.rates["P"] for c in chunks])
    state = {k: v.copy() for k, v in net.populations[0].state.items()}
    return steps, ids, rates, state


def _backends(names=("torch", "compiled")):
    out = []
    for name in names:
        ok, reason = available_backends().get(name, (False, "not registered"))
        out.append(pytest.param(name, marks=pytest.mark.skipif(not ok, reason=reason)))
    return out


# -- compiled: the same per-model networks, as one network per time step -------------------
# numba compiles one kernel per network shape, ~1-4 s of CPU per model; the
# models that share a default_dt run as populations of one network (each with
# its own step current and recurrent projection, nothing between them), so a
# handful of kernels are compiled instead of one per model.  Every model still
# runs on compiled and is compared, population by population, with NumPy on
# the very same network.  One test per group, so xdist workers never compile
# the same kernel twice.
def _dt_groups():
    groups = {}
    for name in FORM_MODELS:
        groups.setdefault(registry[name].default_dt, []).append(name)
    return groups


def build_group(names, seed=5):
    objs = []
    for name in names:
        cls = registry[name]
        lo, hi = cls.current_range
        amp = hi if not cls.integer else max(1, int(round(hi)))
        pop = Population(name, N, {}, label=name)
        w = 0.05 * (hi - lo) if not cls.integer else max(1, int(round(0.05 * (hi - lo))))
        proj = Projection(pop, pop, {"dist": "uniform", "low": -w, "high": w} if not cls.integer else w,
                          probability=0.3, delay=1, tau_syn=None if cls.integer else 2.0, seed=seed)
        objs += [pop, proj, StepCurrent(10, n_steps(name), amp, target=pop), SpikeMonitor(pop),
                 StateMonitor(pop, [cls.voltage_variable])]
    return Network(*objs, seed=seed)


def run_group(dt_ms, names, backend):
    net = build_group(names)
    sim = net.simulator(backend, dt_ms * 1e-3)
    total = max(n_steps(name) for name in names)
    chunks = [sim.advance(total // 2), sim.advance(total - total // 2)]  # streamed in two chunks
    out = {}
    for name, pop in zip(names, net.populations):
        out[name] = (np.concatenate([c.spikes[name][0] for c in chunks]),
                     np.concatenate([c.spikes[name][1] for c in chunks]),
                     np.concatenate([c.rates[name] for c in chunks]),
                     {k: v.copy() for k, v in pop.state.items()})
    return out


@pytest.mark.parametrize("backend", _backends(["compiled"]))
@pytest.mark.parametrize("dt_ms", sorted(_dt_groups()), ids=lambda dt: f"dt{dt:g}ms")
def test_every_model_matches_numpy_spikes_on_compiled(dt_ms, backend):
    names = _dt_groups()[dt_ms]
    want, got = run_group(dt_ms, names, "numpy"), run_group(dt_ms, names, backend)
    failures = []
    for name in names:
        steps, ids, rates, state = want[name]
        try:
            if registry[name].output == "spikes":
                assert steps.size > 0, "never fires in the contract network"
            np.testing.assert_array_equal(got[name][0], steps)
            np.testing.assert_array_equal(got[name][1], ids)
            np.testing.assert_allclose(got[name][2], rates, rtol=1e-9, atol=1e-12)
            for var in state:
                np.testing.assert_allclose(got[name][3][var], state[var], rtol=1e-7, atol=1e-9, err_msg=var)
        except AssertionError as exc:
            failures.append(f"{name}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def reference():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run(name, "numpy")
        return cache[name]
    return get


@pytest.mark.parametrize("backend", _backends(["torch"]))
@pytest.mark.parametrize("name", FORM_MODELS)
def test_every_model_matches_numpy_spikes(name, backend, reference):
    if backend == "torch":
        import torch

        torch.set_num_threads(1)
    steps, ids, rates, state = reference(name)
    t_steps, t_ids, t_rates, t_state = run(name, backend)
    if registry[name].output == "spikes":
        assert steps.size > 0, f"{name} never fires in the contract network"
    np.testing.assert_array_equal(t_steps, steps)
    np.testing.assert_array_equal(t_ids, ids)
    np.testing.assert_allclose(t_rates, rates, rtol=1e-9, atol=1e-12)
    for var in state:
        np.testing.assert_allclose(t_state[var], state[var], rtol=1e-7, atol=1e-9, err_msg=var)


def test_registry_models_without_a_form_are_only_the_rtl_model():
    # the bit-true RTL model keeps its hand-written step; everything else has one form
    assert sorted(set(registry) - set(FORM_MODELS)) == ["FixedPointLIFNeuron"]


# -- the NumPy backend's recorded program of a form (engine.models._form._replay_for) -----------
def _run_as_written(name, monkeypatch):
    from engine.models import _form

    with monkeypatch.context() as m:
        m.setattr(_form, "_replay_for", lambda *a, **k: None)
        return run(name, "numpy")


@pytest.mark.parametrize("name", FORM_MODELS)
def test_numpy_replay_equals_the_form_as_written(name, reference, monkeypatch):
    # the simulator evaluates the recorded program into preallocated buffers;
    # the form called as written must give bit-identical spikes and state
    steps, ids, rates, state = reference(name)
    w_steps, w_ids, w_rates, w_state = _run_as_written(name, monkeypatch)
    np.testing.assert_array_equal(steps, w_steps)
    np.testing.assert_array_equal(ids, w_ids)
    np.testing.assert_array_equal(rates, w_rates)
    for var in state:
        np.testing.assert_array_equal(state[var], w_state[var], err_msg=var)


def _plan(dynamics, **params):
    from engine.models._form import Constants

    return (Constants(params), ("v", "w"), dynamics, 0.0, None, False, False)


def test_replay_updates_the_state_in_place_and_returns_a_fresh_output():
    from engine.models._form import _record, hold, spike_reset

    def dyn(p, I, noise, dt, v, w):
        active = w <= 0.0
        v_new = hold(active, v + dt * (I - v) / p.tau, v)
        spikes = active & (v_new >= p.th)
        return spikes, spike_reset(spikes, v_new, 0.0), np.maximum(w - 1.0, 0.0) + spikes * 2.0

    plan = _plan(dyn, tau=5.0, th=0.5)
    rng = np.random.default_rng(0)
    v, w, I = rng.random(50), np.where(rng.random(50) < 0.3, 1.0, 0.0), rng.random(50) * 3
    want = dyn(plan[0], I, 0.0, 0.5, v, w)
    fn = _record(plan, 0.5, I, [v, w], 0.0)
    assert fn is not None
    v_id, w_id = id(v), id(w)
    y1 = fn(I, 0.0, v, w)
    np.testing.assert_array_equal(y1, want[0])
    np.testing.assert_array_equal(v, want[1])
    np.testing.assert_array_equal(w, want[2])
    assert (id(v), id(w)) == (v_id, w_id)
    y1_copy = y1.copy()
    y2 = fn(I, 0.0, v, w)
    assert y2 is not y1
    np.testing.assert_array_equal(y1, y1_copy)  # a caller may keep the output of a step


@pytest.mark.parametrize("case", ["python_if_on_values", "swapped_state", "indexing", "other_numpy_function"])
def test_forms_that_cannot_be_recorded_run_as_written(case):
    from engine.models._form import _record

    def dyn(p, I, noise, dt, v, w):
        if case == "python_if_on_values" and (v > 0).any():
            v = v + 1.0
        if case == "indexing":
            v = v[::-1]
        if case == "other_numpy_function":
            v = np.clip(v, 0.0, 1.0)
        if case == "swapped_state":
            return v > 0.5, w, v
        return v > 0.5, v + I, w * 0.5

    v, w, I = np.linspace(-1, 1, 8), np.ones(8), np.ones(8)
    assert _record(_plan(dyn), 0.1, I, [v, w], 0.0) is None


def test_replay_is_not_used_on_overlapping_state_arrays():
    from engine.models import registry
    from engine.models._form import _plan as plan_of, _replay_for

    view = registry["LapicqueNeuron"]().view()
    plan = plan_of(view, 0.1)
    buf = np.zeros(20)
    assert _replay_for(view, plan, 0.1, np.zeros(10), [buf[:10], buf[5:15]], 0.0) is None
    assert _replay_for(view, plan, 0.1, np.zeros(10), [np.zeros(10), np.zeros(10)], 0.0) is not None


def test_replay_cache_is_bounded_by_its_buffers(monkeypatch):
    from engine.models import _form

    monkeypatch.setattr(_form, "_REPLAY_CACHE", {})
    monkeypatch.setattr(_form, "_replay_bytes", [0])
    monkeypatch.setattr(_form, "_REPLAY_CACHE_BYTES", 3 * 20_000 * 8)
    net = Network(Population("LapicqueNeuron", 20_000, label="a"), seed=1)
    sim = net.simulator("numpy", 1e-4)
    sim.advance(2)
    (fn,) = [f for f in _form._REPLAY_CACHE.values()]
    assert fn.nbytes >= 20_000 * 8  # it holds scratch buffers of the population's size
    for n in (20_001, 20_002, 20_003):  # each size is a new entry; the oldest go
        Network(Population("LapicqueNeuron", n, label="a"), seed=1).simulator("numpy", 1e-4).advance(2)
    assert _form._replay_bytes[0] <= 3 * 20_000 * 8 or len(_form._REPLAY_CACHE) == 1
    assert len(_form._REPLAY_CACHE) < 4
    assert _form._replay_bytes[0] == sum(f.nbytes for f in _form._REPLAY_CACHE.values())


def test_replay_buffers_are_per_thread():
    # two simulators of the same shape stepped at the same time in two threads
    # share the recorded program but never its scratch buffers
    import threading

    def one():
        # large enough that NumPy releases the GIL inside each operation
        pop = Population("LapicqueNeuron", 200_000, {"refractory_period": 2}, label="P")
        pop.set_voltages(np.linspace(0.0, 0.99, 200_000))
        net = Network(pop, StepCurrent(0, 10 ** 6, 1.2, target=pop), seed=1)
        c = net.simulator("numpy", 1e-3).advance(60)
        return c.spikes["P"], pop.state["v"].copy()

    want = one()
    assert want[0][0].size > 100_000  # every neuron fires, some twice
    got = [None, None]

    def worker(k):
        got[k] = one()

    import sys

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between almost every two operations
    try:
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    for g in got:
        np.testing.assert_array_equal(g[0][0], want[0][0])
        np.testing.assert_array_equal(g[0][1], want[0][1])
        np.testing.assert_array_equal(g[1], want[1])
