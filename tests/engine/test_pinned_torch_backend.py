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


def test_like_with_numpy_scalars():
    # a NumPy float is never truncated to an integer tensor's dtype; a NumPy int with a mask is int64
    for value, ref, dtype in [(np.float32(2.5), I64, torch.float64), (np.float32(2.5), BOOL, torch.float64),
                              (np.int64(3), BOOL, torch.int64), (np.float64(0.25), I64, torch.float64)]:
        x = tb._like(value, ref)
        assert x.dtype == dtype and x.item() == value, (value, ref.dtype)


def test_where_keeps_a_float32_tensor_with_an_int_scalar():
    cond = torch.tensor([True, False])
    r = tb._where(cond, torch.tensor([1.5, 2.5], dtype=torch.float32), 1)
    assert r.dtype == torch.float32 and r.tolist() == [1.5, 1.0]
    r = tb._where(cond, torch.tensor([True, True]), 3)  # bool with int: int64, as np.where
    assert r.dtype == torch.int64 and r.tolist() == [1, 3]


def test_ufunc_on_tensors_is_torchs_own_function():
    # where the two libraries round differently, the tensor path gives torch's value
    x = torch.tensor([3.631789223498865, 0.3], dtype=torch.float64)
    got = tb._ufunc(np.tanh, torch.tanh)(x)
    assert torch.equal(got, torch.tanh(x))


def test_torch_forms_are_made_once_per_model(monkeypatch):
    monkeypatch.setattr(tb, "_forms", {})
    dyn = registry["LapicqueNeuron"].dynamics
    fn = tb.torch_form(dyn)
    assert callable(fn) and fn is not dyn and tb.torch_form(dyn) is fn and tb._forms == {dyn: fn}
    # the new form runs on tensors, through the torch names
    pop, sim, chunk = _run("torch", "LapicqueNeuron")
    ref_pop, _, ref_chunk = _run("numpy", "LapicqueNeuron")
    np.testing.assert_array_equal(pop.state["v"], ref_pop.state["v"])


def test_the_device_given_is_the_device_used():
    pop = Population("LapicqueNeuron", 2)
    sim = tb.TorchSimulator(Network(pop), 0.001, device="meta")  # a device with no data: nothing runs
    assert sim.device == torch.device("meta")
    assert tb.TorchSimulator(Network(pop), 0.001).device == torch.device(tb.default_device())


def test_backend_offered_with_no_reason_given():
    from engine.backends import available_backends

    assert available_backends()["torch"] == (True, "")


def test_an_integer_model_without_noise_fires_on_its_threshold_exactly():
    # TrueNorth with no threshold mask: no noise (0, not 1) is added to its threshold
    ref_pop, ref = _noisy_run("numpy", "TrueNorthNeuron", {"threshold": 10, "leak": 0}, 2.0, steps=30)
    pop, chunk = _noisy_run("torch", "TrueNorthNeuron", {"threshold": 10, "leak": 0}, 2.0, steps=30)
    # +2 a tick from 0: v reaches 10 on the 5th tick, then resets to 0
    assert sorted(set(ref.spikes["p"][0].tolist())) == [4, 9, 14, 19, 24, 29]
    np.testing.assert_array_equal(chunk.spikes["p"][0], ref.spikes["p"][0])
    np.testing.assert_array_equal(pop.state["v"], ref_pop.state["v"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name,params,amp", NOISY[:2], ids=[n for n, _, _ in NOISY[:2]])
def test_on_cuda_the_state_goes_to_the_device_and_back(name, params, amp):
    ref_pop, ref = _noisy_run("numpy", name, params, amp)
    pop = Population(name, 4, params, label="p")
    sim = tb.TorchSimulator(Network(pop, ConstantCurrent(amp, target=pop), seed=11), 0.001, device="cuda")
    chunk = sim.advance(60)
    assert all(t.device.type == "cuda" for t in sim._tstate[0])
    for var in ref_pop.state:
        np.testing.assert_allclose(pop.state[var], ref_pop.state[var], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(sim._read_state(0, var), ref_pop.state[var], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(chunk.spikes["p"][0], ref.spikes["p"][0])


def test_off_cpu_branches_read_and_copy_back_each_variables_own_tensor():
    # the CUDA branches' own logic, run on the CPU: the state tensors are made to
    # stand apart from population.state, and only the device's type is read there
    import types

    pop = Population("StochasticLIFNeuron", 3, {"refractory_period": 2}, label="p")
    sim = tb.TorchSimulator(Network(pop, ConstantCurrent(2.0, target=pop)), 0.001)
    sim.advance(5)
    names = sim._plans[0][1]
    assert len(names) >= 2
    sim._tstate[0] = [t.clone() + 10.0 * (i + 1) for i, t in enumerate(sim._tstate[0])]
    sim.device = types.SimpleNamespace(type="cuda")
    for var, t in zip(names, sim._tstate[0]):
        np.testing.assert_array_equal(sim._read_state(0, var), t.numpy())
        assert not np.array_equal(pop.state[var], t.numpy())  # not copied back yet
    sim._finish_advance()
    for var, t in zip(names, sim._tstate[0]):
        np.testing.assert_array_equal(pop.state[var], t.numpy())


def test_backend_reports_no_reason_when_available():
    assert tb._available() == (True, "")
