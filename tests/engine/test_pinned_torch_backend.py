"""Pinned behaviour of the torch backend (CPU) for mutation testing
(tools/mutation.py, module ``torch_backend``): every model with a form steps
like the NumPy backend; the refusals name what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.backends import compile as compile_network  # noqa: E402
from engine.models import registry  # noqa: E402
from engine.network import ConstantCurrent, Network, Population, SpikeMonitor  # noqa: E402

torch.set_num_threads(1)

FORM_MODELS = sorted(name for name, cls in registry.items() if cls.dynamics is not None)


def _run(backend, name, steps=40, amp=None):
    cls = registry[name]
    pop = Population(name, 3, label="p")
    drive = amp if amp is not None else float(getattr(cls, "gui_drive", 0) or 0) or 2.0
    net = Network(pop, ConstantCurrent(drive, target=pop), SpikeMonitor(pop, label="s"), seed=5)
    sim = compile_network(net, backend, 0.001)
    chunk = sim.advance(steps)
    return pop, sim, chunk


def test_the_form_models_are_most_of_the_library():
    # the three bit-true integer models are hand-written steps, not forms
    assert len(FORM_MODELS) >= len(registry) - 4
    assert "LapicqueNeuron" in FORM_MODELS and "HodgkinHuxleyNeuron" in FORM_MODELS


@pytest.mark.parametrize("name", FORM_MODELS)
def test_every_form_model_steps_like_numpy(name):
    ref_pop, ref, ref_chunk = _run("numpy", name)
    pop, sim, chunk = _run("torch", name)
    start = Population(name, 3, label="p").state
    spikes = ref_chunk.spikes.get("p", ((), ()))
    assert len(spikes[0]) or any(not np.array_equal(ref_pop.state[v], start[v]) for v in start), \
        f"{name} neither fired nor moved"
    for a, b in zip(chunk.spikes.get("p", ((), ())), spikes):
        np.testing.assert_array_equal(a, b, err_msg=f"{name} spikes")
    for var in ref_pop.state:
        np.testing.assert_allclose(pop.state[var], ref_pop.state[var], rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}.{var}")
    assert sim.step_count == ref.step_count == 40
