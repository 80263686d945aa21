"""Reference compatibility of the model library (SPEC 2.1-2.3, issue 11 item 1).

Each documented call form is exercised the way a reference script writes it:
``dt`` in population params, the "individual file import", the
``SCIzhikevichNeuron`` integrator and noise, ``HomeostaticLIFNeuron``'s plain
attributes -- through the network on every float backend, the torch bridge
and the fixed-point backend for the models it supports.
"""

import importlib
import math
import warnings

import numpy as np
import pytest

from engine.models import registry
from engine.network import Network, Population, Projection, SpikeMonitor, StateMonitor, StepCurrent


def _run_quiet(net, duration, dt, backend="numpy"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = net.run(duration, dt=dt, backend=backend)
    return out, [w for w in caught if "differs from the run's step" in str(w.message)]


# -- dt in population params ------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(registry))
def test_every_model_accepts_dt_in_params_and_keeps_it_in_json(name):
    pop = Population(name, 3, params={"dt": 0.5})
    assert pop.model.dt == 0.5 and pop.params["dt"] == 0.5
    doc = Network(pop).to_dict()
    assert doc["populations"][0]["params"]["dt"] == 0.5
    again = Network.from_dict(doc)
    assert again.populations[0].model.dt == 0.5
    # without dt, params carry no dt and the population follows the run
    assert "dt" not in Population(name, 1).params


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, "1"])
def test_invalid_population_dt_names_the_parameter(bad):
    with pytest.raises((ValueError, TypeError), match="dt"):
        Population("LapicqueNeuron", 2, params={"dt": bad})


def test_reference_bridge_example_first_line_runs():
    # the reference's documented bridge example, verbatim but for the package name
    src = Population("LapicqueNeuron", 2, params={"tau": 5.0, "dt": 1.0}, label="src")
    dst = Population("LapicqueNeuron", 3, params={"tau": 5.0, "dt": 1.0}, label="dst")
    net = Network(src, dst, Projection(src, dst, 0.6), StepCurrent(0, 50, 1.5, target=src))
    out, warned = _run_quiet(net, 0.05, 0.001)  # run step 1 ms == the populations' dt: no warning
    assert warned == []
    assert out["spike_counts"]["src"] > 0


def _lif_trace(pop_dt, run_dt_s, n_steps, backend="numpy", current=0.08):
    pop = Population("StochasticLIFNeuron", 1, params={"dt": pop_dt} if pop_dt else {}, label="E")
    mon = StateMonitor(pop, ["v"])
    net = Network(pop, StepCurrent(0, n_steps, current, target=pop), mon)
    out, warned = _run_quiet(net, n_steps * run_dt_s, run_dt_s, backend)
    return mon.traces["v"][:, 0], warned


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_population_dt_is_the_step_its_neurons_integrate_with(backend):
    pytest.importorskip("torch") if backend == "torch" else None
    # population dt = 1 ms inside a 0.1 ms run: each step advances 1 ms, like the scalar class
    from engine.neurons import StochasticLIFNeuron

    def scalar(dt):
        ref, out = StochasticLIFNeuron(dt=dt), []
        for _ in range(30):
            ref.step(0.08)
            out.append(ref.get_state()["v"])
        return out

    trace, warned = _lif_trace(1.0, 1e-4, 30, backend)
    np.testing.assert_array_equal(trace, scalar(1.0))
    assert len(warned) == 1 and "'E'" in str(warned[0].message) and "dt=1 ms" in str(warned[0].message)
    # without dt the population follows the run: 0.1 ms per step, and no warning
    follow, warned = _lif_trace(None, 1e-4, 30, backend)
    assert warned == []
    np.testing.assert_array_equal(follow, scalar(0.1))


def test_dt_mismatch_warns_once_per_population_across_runs():
    a = Population("LapicqueNeuron", 2, params={"dt": 1.0}, label="A")
    b = Population("LapicqueNeuron", 2, params={"dt": 0.1}, label="B")
    c = Population("LapicqueNeuron", 2, label="C")
    net = Network(a, b, c)
    _, first = _run_quiet(net, 0.002, 1e-4)
    _, second = _run_quiet(net, 0.002, 1e-4)
    assert [("'A'" in str(w.message)) for w in first] == [True] and second == []


def test_fixed_point_backend_honours_population_dt():
    def counts(params, run_dt):
        pop = Population("LapicqueNeuron", 4, params=params, label="L")
        net = Network(pop, StepCurrent(0, 10_000, 1.5, target=pop), SpikeMonitor(pop))
        out, warned = _run_quiet(net, 200 * run_dt, run_dt, "fixed_point")
        return out["spike_counts"]["L"], warned

    own_step, warned = counts({"tau": 5.0, "dt": 1.0}, 1e-4)    # 200 steps of 1 ms
    run_step, _ = counts({"tau": 5.0}, 1e-3)                     # 200 steps of 1 ms
    slow, _ = counts({"tau": 5.0}, 1e-4)                         # 200 steps of 0.1 ms
    assert own_step == run_step > 0 and slow < own_step and len(warned) == 1


def test_to_torch_accepts_dt_in_params():
    torch = pytest.importorskip("torch")
    src = Population("LapicqueNeuron", 2, params={"tau": 5.0, "dt": 1.0}, label="src")
    dst = Population("LapicqueNeuron", 3, params={"tau": 5.0, "dt": 1.0}, label="dst")
    net = Network(src, dst, Projection(src, dst, 0.8))
    module = net.to_torch()
    out = module(torch.full((20, 1, 2), 1.0, dtype=torch.float64))
    assert out.shape[-1] == 3 and torch.isfinite(out).all()


# -- the individual file import ---------------------------------------------------------
@pytest.mark.parametrize("module,cls", [("hodgkin_huxley", "HodgkinHuxleyNeuron"), ("lapicque", "LapicqueNeuron"),
                                        ("stochastic_lif", "StochasticLIFNeuron"),
                                        ("izhikevich", "SCIzhikevichNeuron"),
                                        ("sc_izhikevich", "SCIzhikevichNeuron"),
                                        ("homeostatic_lif", "HomeostaticLIFNeuron"),
                                        ("fixed_point_lif", "FixedPointLIFNeuron"),
                                        ("stochastic_dendritic", "StochasticDendriticNeuron")])
def test_individual_file_import(module, cls):
    import engine.neurons

    mod = importlib.import_module(f"engine.neurons.models.{module}")
    assert getattr(mod, cls) is getattr(engine.neurons, cls)


def test_import_statement_form():
    from engine.neurons import HodgkinHuxleyNeuron as direct
    from engine.neurons.models.hodgkin_huxley import HodgkinHuxleyNeuron

    assert HodgkinHuxleyNeuron is direct


def test_every_model_file_has_an_import_module():
    import engine.neurons.models as nm

    files = {decl.__module__.rsplit(".", 1)[-1] for decl in registry.values()}
    assert files <= set(nm.module_names())
    hh = importlib.import_module("engine.neurons.models.hodgkin_huxley").HodgkinHuxleyNeuron()
    assert sum(hh.step(10.0) for _ in range(2000)) > 0  # 10 uA/cm^2 drives HH to fire


# -- SCIzhikevichNeuron -------------------------------------------------------------------
def test_sc_izhikevich_half_euler_advances_v_and_u_in_each_half_step():
    from engine.neurons import SCIzhikevichNeuron

    n = SCIzhikevichNeuron(dt=0.5)
    v, u = -65.0, 0.2 * -65.0
    for _ in range(5):
        for _half in range(2):
            dv, du = 0.04 * v * v + 5.0 * v + 140.0 - u + 12.0, 0.02 * (0.2 * v - u)
            v, u = v + dv * 0.25, u + du * 0.25
        n.step(12.0)
    s = n.get_state()
    assert s["v"] == pytest.approx(v, abs=1e-12) and s["u"] == pytest.approx(u, abs=1e-12)


def test_sc_izhikevich_noise_is_not_scaled_by_dt():
    from engine.neurons import SCIzhikevichNeuron

    for dt in (1.0, 0.25):
        noisy = SCIzhikevichNeuron(dt=dt, noise_std=2.0, seed=3)
        clean = SCIzhikevichNeuron(dt=dt)
        noisy.step(0.0)
        clean.step(0.0)
        draw = np.random.default_rng(3).normal(0.0, 2.0)
        assert noisy.get_state()["v"] - clean.get_state()["v"] == pytest.approx(draw, abs=1e-12)


# -- HomeostaticLIFNeuron -----------------------------------------------------------------
def test_homeostatic_fields_are_plain_attributes():
    from engine.neurons import HomeostaticLIFNeuron

    n = HomeostaticLIFNeuron(v_threshold=0.5)
    assert (n.rate_trace, n.v_threshold, n.target_rate) == (0.0, 0.5, 0.1)
    spikes = [n.step(0.2) for _ in range(40)]
    trace = 0.0
    for s in spikes:  # the documented rule
        trace = trace * 0.95 + s * 0.05
    assert n.rate_trace == pytest.approx(trace, abs=1e-12)
    assert n.rate_trace == n.get_state()["rate_trace"] and n.v_threshold == n.get_state()["threshold"]
    n.rate_trace = 0.9       # a script may set it; the next step adapts from it
    n.target_rate = 0.2
    thr = n.v_threshold
    n.refractory_period = 0
    spike = n.step(0.0)
    assert spike == 0
    assert n.v_threshold == pytest.approx(thr + 0.01 * (0.9 * 0.95 - 0.2), abs=1e-12)
    with pytest.raises(ValueError, match="rate_trace"):
        n.rate_trace = 2.0
