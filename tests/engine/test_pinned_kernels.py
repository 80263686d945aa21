"""Exact threshold crossings on every backend's kernel.

The spike rule is ``v >= v_threshold``: a membrane that lands exactly on the
threshold fires.  With ``tau`` far below ``dt`` the Lapicque decay
``exp(-dt/tau)`` is exactly 0.0, so ``v`` becomes ``v_rest + R*I`` exactly each
step (and the fixed-point mapping gets ``leak_k = gain_k = 2**F``), which puts
the membrane on the threshold to the last bit."""

import numpy as np
import pytest

from engine.models.base import get_model
from engine.network import ConstantCurrent, Network, Population, SpikeMonitor, StateMonitor

BACKENDS = ["numpy", "compiled", "torch", "fixed_point"]
FAST = {"tau": 1e-3, "v_threshold": 1.0, "v_reset": 0.0}
T = 9


def run(backend, current, **params):
    pop = Population("LapicqueNeuron", 3, params={**FAST, **params}, label="L")
    mon, vm = SpikeMonitor(pop), StateMonitor(pop, ["v"])
    net = Network(pop, ConstantCurrent(current, target=pop), mon, vm)
    net.run(T * 0.001, backend=backend)
    return mon.raster_data()[0], np.asarray(vm.traces["v"])[:, 0]


def test_decay_is_exactly_zero():
    assert np.exp(-1.0 / 1e-3) == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_landing_exactly_on_threshold_fires_every_step(backend):
    steps, v = run(backend, 1.0, refractory_period=0)
    # every step: v = 1.0 == threshold -> spike -> reset to 0
    assert steps.tolist() == [t for t in range(T) for _ in range(3)]
    assert v.tolist() == [0.0] * T


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_lsb_below_threshold_never_fires(backend):
    steps, v = run(backend, 1.0 - 1 / 256, refractory_period=0)
    assert steps.size == 0
    assert v.tolist() == [1.0 - 1 / 256] * T


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("period", [1, 2])
def test_refractory_period_counts_whole_steps(backend, period):
    steps, v = run(backend, 1.0, refractory_period=period, v_reset=0.25)
    fire = list(range(0, T, period + 1))
    assert steps.tolist() == [t for t in fire for _ in range(3)]
    # held at v_reset while refractory, then back on the threshold and firing
    assert v.tolist() == [0.25] * T


@pytest.mark.parametrize("backend", BACKENDS)
def test_negative_rest_and_threshold_exactly(backend):
    # v_rest = -0.5, R*I = 0.5: v = 0.0 == v_threshold
    steps, v = run(backend, 0.5, refractory_period=0, v_rest=-0.5, v_threshold=0.0, v_reset=-0.5)
    assert steps.size == 3 * T and v.tolist() == [-0.5] * T


def test_model_kernel_fast_path_lands_on_threshold():
    """The model's own kernel (NeuronModel.step, used by the single-neuron
    analysis fast path) follows the same rule."""
    model = get_model("LapicqueNeuron")(**FAST, refractory_period=0)
    state = model.initial_state(2)
    out = model.step(state, np.array([1.0, 1.0 - 2**-40]), 1.0)
    assert out.tolist() == [True, False]
    assert state["v"].tolist() == [0.0, 1.0 - 2**-40]
    assert state["refractory"].tolist() == [0.0, 0.0]
    model2 = get_model("LapicqueNeuron")(**FAST, refractory_period=3)
    state = model2.initial_state(1)
    seq = [bool(model2.step(state, np.array([1.0]), 1.0)[0]) for _ in range(9)]
    assert seq == [True, False, False, False] * 2 + [True]
