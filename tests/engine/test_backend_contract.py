"""Contract over the model registry: every model written in the one form runs
on every float backend with NumPy's (float64) spikes.

The network: one population of the model, a step current a little above its
firing range and a recurrent projection (delayed, exponential synapse), so
neuron kernels, delivery and synapses are all exercised.  A model added as one
file is covered here with no other edit.
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


def _backends():
    out = []
    for name in ("torch", "compiled"):
        ok, reason = available_backends().get(name, (False, "not registered"))
        out.append(pytest.param(name, marks=pytest.mark.skipif(not ok, reason=reason)))
    return out


@pytest.fixture(scope="module")
def reference():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run(name, "numpy")
        return cache[name]
    return get


@pytest.mark.parametrize("backend", _backends())
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
