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


# -- the NumPy names answered by torch ----------------------------------------------------------
from engine.backends import torch_backend as tb  # noqa: E402

F64 = torch.zeros(2, dtype=torch.float64)
I64 = torch.zeros(2, dtype=torch.int64)
BOOL = torch.zeros(2, dtype=torch.bool)


def test_like_keeps_tensors_and_types_python_scalars():
    t = torch.ones(3, dtype=torch.float32)
    assert tb._like(t, F64) is t
    b = tb._like(True, F64)
    assert b.dtype == torch.bool and b.item() is True and b.device == F64.device
    for value, ref, dtype in [(3, F64, torch.float64), (3, I64, torch.int64), (3, BOOL, torch.int64),
                              (2.5, BOOL, torch.float64), (2.5, I64, torch.float64), (2.5, F64, torch.float64)]:
        x = tb._like(value, ref)
        assert x.dtype == dtype and x.device == ref.device and x.item() == value, (value, ref.dtype)


def test_ufunc_stays_numpy_for_scalars_and_is_torch_for_tensors():
    exp = tb._ufunc(np.exp, torch.exp)
    assert exp.__name__ == "exp"
    y = exp(1.0)
    assert not isinstance(y, torch.Tensor) and y == np.exp(1.0)
    t = exp(torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_allclose(t.numpy(), np.exp([0.0, 1.0]), rtol=1e-15)
    mx = tb._ufunc(np.maximum, torch.maximum)
    m = mx(torch.tensor([-1.0, 4.0], dtype=torch.float64), 0.5)  # a scalar promoted to a tensor
    assert m.dtype == torch.float64 and m.tolist() == [0.5, 4.0]
    assert mx(2, 7) == 7 and not isinstance(mx(2, 7), torch.Tensor)
    shift = tb._ufunc(np.left_shift, torch.bitwise_left_shift)
    assert shift(torch.tensor([1, 3]), 2).tolist() == [4, 12]


def test_where_matches_numpy_in_values_and_dtypes():
    cond = torch.tensor([True, False, True])
    r = tb._where(cond, 1.5, 0)
    assert r.dtype == torch.float64 and r.tolist() == [1.5, 0.0, 1.5]
    r = tb._where(cond, 2, 7)
    assert r.dtype == torch.int64 and r.tolist() == [2, 7, 2]
    r = tb._where(cond, 0, 2.5)  # a float only in b
    assert r.dtype == torch.float64 and r.tolist() == [0.0, 2.5, 0.0]
    a = torch.tensor([1, 2, 3])
    r = tb._where(cond, a, torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64))  # int64 with float64
    assert r.dtype == torch.float64 and r.tolist() == [1.0, 0.5, 3.0]
    r = tb._where(cond, a, -1)
    assert r.dtype == torch.int64 and r.tolist() == [1, -1, 3]
    r = tb._where(cond, 9.0, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))  # the tensor in b
    assert r.tolist() == [9.0, 2.0, 9.0]
    r = tb._where([True, False], torch.tensor([1.0, 2.0], dtype=torch.float64), 0.0)  # cond not a tensor
    assert r.tolist() == [1.0, 0.0]
    r = tb._where(np.array([False, True]), 1.0, 2.0)  # nothing a tensor: NumPy's answer
    assert isinstance(r, np.ndarray) and r.tolist() == [2.0, 1.0]


def test_int64_and_asarray():
    t = tb._int64(torch.tensor([2.7, -2.7], dtype=torch.float64))
    assert t.dtype == torch.int64 and t.tolist() == [2, -2]  # truncation, as NumPy's astype
    s = tb._int64(3.9)
    assert type(s) is np.int64 and s == 3
    a = tb._asarray([1, 2], dtype=np.float32)
    assert isinstance(a, torch.Tensor) and a.dtype == torch.float32 and a.tolist() == [1.0, 2.0]
    assert tb._asarray([1, 2]).dtype == torch.int64


def test_default_device_is_cuda_only_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert tb.default_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert tb.default_device() == "cpu"
    pop = Population("LapicqueNeuron", 2)
    assert compile_network(Network(pop), "torch", 0.001).device == torch.device("cpu")


# -- noise: drawn from the population's generator, as NumPy draws it -----------------------------
NOISY = [("StochasticLIFNeuron", {"noise_std": 0.4, "refractory_period": 3}, 1.2),
         ("HomeostaticLIFNeuron", {"noise_std": 0.4}, 1.2),
         ("SCIzhikevichNeuron", {"noise_std": 3.0}, 8.0),
         ("TrueNorthNeuron", {"threshold_mask_bits": 3, "threshold": 10}, 4.0)]


def _noisy_run(backend, name, params, amp, steps=60):
    pop = Population(name, 4, params, label="p")
    net = Network(pop, ConstantCurrent(amp, target=pop), seed=11)
    chunk = compile_network(net, backend, 0.001).advance(steps)
    return pop, chunk


@pytest.mark.parametrize("name,params,amp", NOISY, ids=[n for n, _, _ in NOISY])
def test_noise_is_drawn_like_numpy(name, params, amp):
    ref_pop, ref = _noisy_run("numpy", name, params, amp)
    pop, chunk = _noisy_run("torch", name, params, amp)
    for var in ref_pop.state:
        np.testing.assert_allclose(pop.state[var], ref_pop.state[var], rtol=1e-12, atol=1e-12, err_msg=var)
    for a, b in zip(chunk.spikes["p"], ref.spikes["p"]):
        np.testing.assert_array_equal(a, b)
    assert len(ref.spikes["p"][0]) > 0, "no spikes: the refractory and threshold paths went untested"
    # the noise mattered: without it the run is different
    quiet = {k: (0 if k == "threshold_mask_bits" else 0.0) if k in ("noise_std", "threshold_mask_bits") else v
             for k, v in params.items()}
    q_pop, _ = _noisy_run("torch", name, quiet, amp)
    assert any(not np.array_equal(q_pop.state[v], pop.state[v]) for v in pop.state), name


def test_a_step_where_every_neuron_is_refractory_draws_nothing():
    # identical neurons fire together, then all four are refractory: those steps draw no noise
    params = {"noise_std": 1e-9, "refractory_period": 5}
    ref_pop, ref = _noisy_run("numpy", "StochasticLIFNeuron", params, 3.0, steps=30)
    pop, chunk = _noisy_run("torch", "StochasticLIFNeuron", params, 3.0, steps=30)
    assert len(ref.spikes["p"][0]) >= 8
    np.testing.assert_array_equal(chunk.spikes["p"][0], ref.spikes["p"][0])
    np.testing.assert_array_equal(pop.state["v"], ref_pop.state["v"])
    assert ref_pop.rng.bit_generator.state == pop.rng.bit_generator.state  # the same number of draws


def test_a_non_contiguous_state_is_refused_naming_it():
    pop = Population("LapicqueNeuron", 3, label="strided")
    pop.state["v"] = np.zeros(6)[::2]
    with pytest.raises(NotImplementedError, match="^population 'strided': state 'v' is not contiguous$"):
        compile_network(Network(pop), "torch", 0.001).advance(1)


def test_a_non_finite_current_is_refused_naming_the_population():
    from engine.network import Projection

    # two spikes through weights of 1e308 overflow to inf at the target
    src = Population("LapicqueNeuron", 2, label="src")
    pop = Population("ThetaNeuron", 2, label="bad")  # a model whose reference checks its input
    net = Network(src, pop, ConstantCurrent(50.0, target=src), Projection(src, pop, 1e308, probability=1.0))
    sim = compile_network(net, "torch", 0.001)
    with pytest.raises(ValueError, match="^population 'bad': current must be finite$"), \
            np.errstate(over="ignore"):
        sim.advance(20)
