"""Training cells: dynamics against hand-written scalar references and against
the engine's NumPy models, reset mechanisms, learnable constants, errors."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.models import get_model  # noqa: E402
from engine.training import (  # noqa: E402
    ALIFCell,
    AdExCell,
    AlphaCell,
    ExpIFCell,
    IFCell,
    LapicqueCell,
    LIFCell,
    RecurrentLIFCell,
    SecondOrderLIFCell,
    SynapticCell,
)
from engine.training.surrogate import atan_surrogate, fast_sigmoid, surrogate_derivative  # noqa: E402

torch.set_num_threads(1)
F64 = torch.float64


def H(x):
    return 1.0 if x > 0 else 0.0


def currents(n_steps, n=3, seed=0, scale=0.6, low=0.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, scale, size=(n_steps, n))


def run_cell(cell, inputs, n_state):
    """Drive ``cell`` over ``inputs`` (T, n); returns spikes and final state."""
    state = [None] * n_state
    spikes = []
    for t in range(inputs.shape[0]):
        out = cell(torch.tensor(inputs[t], dtype=F64), *state)
        spikes.append(out[0])
        state = list(out[1:])
    return torch.stack(spikes).detach().numpy(), [s.detach().numpy() for s in state]


# -- hand-computed references (plain Python floats, one neuron at a time) --------
def test_lif_matches_scalar_reference_both_resets():
    cur = currents(30, scale=0.5)
    for reset in ("subtract", "zero"):
        spikes, (v_end,) = run_cell(LIFCell(0.8, 1.0, reset_mechanism=reset), cur, 1)
        for j in range(cur.shape[1]):
            v = 0.0
            for t in range(cur.shape[0]):
                v = 0.8 * v + cur[t, j]
                s = H(v - 1.0)
                v = v - s * 1.0 if reset == "subtract" else v * (1 - s)
                assert spikes[t, j] == s
            assert v_end[j] == pytest.approx(v, abs=1e-12)
        assert spikes.sum() > 3  # the reference actually fires


def test_if_cell_reference():
    cur = currents(20, scale=0.45, seed=1)
    spikes, (v_end,) = run_cell(IFCell(1.2), cur, 1)
    for j in range(cur.shape[1]):
        v = 0.0
        for t in range(cur.shape[0]):
            v += cur[t, j]
            s = H(v - 1.2)
            v -= 1.2 * s
            assert spikes[t, j] == s
        assert v_end[j] == pytest.approx(v, abs=1e-12)
    assert spikes.sum() > 3


def test_synaptic_cell_reference():
    cur = currents(25, scale=0.3, seed=2)
    spikes, (i_end, v_end) = run_cell(SynapticCell(0.7, 0.85, 1.0), cur, 2)
    for j in range(cur.shape[1]):
        i_syn = v = 0.0
        for t in range(cur.shape[0]):
            i_syn = 0.7 * i_syn + cur[t, j]
            v = 0.85 * v + i_syn
            s = H(v - 1.0)
            v -= s
            assert spikes[t, j] == s
        assert (i_end[j], v_end[j]) == pytest.approx((i_syn, v), abs=1e-12)
    assert spikes.sum() > 3


def test_alif_reference_threshold_adapts():
    cur = np.full((40, 1), 0.6)
    spikes, (v_end, a_end) = run_cell(ALIFCell(0.9, 1.0, 0.95, 0.5), cur, 2)
    v = a = 0.0
    for t in range(40):
        v = 0.9 * v + 0.6
        s = H(v - (1.0 + 0.5 * a))
        v -= s * 1.0
        a = 0.95 * a + s
        assert spikes[t, 0] == s
    assert (v_end[0], a_end[0]) == pytest.approx((v, a), abs=1e-12)
    # adaptation lengthens the inter-spike intervals compared with plain LIF
    lif, _ = run_cell(LIFCell(0.9, 1.0), cur, 1)
    assert 0 < spikes.sum() < lif.sum()


def test_recurrent_lif_reference():
    torch.manual_seed(0)
    cell = RecurrentLIFCell(3, beta=0.9).double()
    with torch.no_grad():
        cell.recurrent.weight.copy_(torch.tensor([[0.0, 0.5, -0.2], [0.3, 0.0, 0.4], [-0.1, 0.6, 0.0]]))
    W = cell.recurrent.weight.detach().numpy()
    cur = currents(30, seed=3, scale=0.5)
    v_t = s_t = None
    v = np.zeros(3)
    s = np.zeros(3)
    total = 0.0
    for t in range(30):
        s_new, v_t = cell(torch.tensor(cur[t]), v_t, s_t)
        s_t = s_new
        v = 0.9 * v + cur[t] + W @ s
        s = (v > 1.0).astype(float)
        v = v - s
        np.testing.assert_array_equal(s_new.detach().numpy(), s)
        np.testing.assert_allclose(v_t.detach().numpy(), v, atol=1e-12)
        total += s.sum()
    assert total > 3
    with pytest.raises(ValueError, match="n_neurons=3"):
        cell(torch.zeros(2, 4, dtype=F64))


def test_alpha_and_second_order_references():
    exc = currents(30, seed=4, scale=0.5)
    inh = currents(30, seed=5, scale=0.2)
    cell = AlphaCell(0.8, 0.6, 0.9, 1.0)
    ie = ii = v = None
    for t in range(30):
        s, ie, ii, v = cell(torch.tensor(exc[t]), torch.tensor(inh[t]), ie, ii, v)
    for j in range(3):
        re = ri = rv = 0.0
        for t in range(30):
            re = 0.8 * re + exc[t, j]
            ri = 0.6 * ri + inh[t, j]
            rv = 0.9 * rv + re - ri
            rv -= H(rv - 1.0)
        assert (ie[j].item(), ii[j].item(), v[j].item()) == pytest.approx((re, ri, rv), abs=1e-12)

    cur = currents(30, seed=6, scale=0.2)
    spikes, (a_end, v_end) = run_cell(SecondOrderLIFCell(0.95, 0.9, 1.0), cur, 2)
    for j in range(3):
        a = v = 0.0
        for t in range(30):
            a = 0.95 * a + cur[t, j]
            v = 0.9 * v + a
            s = H(v - 1.0)
            v -= s
            assert spikes[t, j] == s
        assert (a_end[j], v_end[j]) == pytest.approx((a, v), abs=1e-12)
    assert spikes.sum() > 3


def test_second_order_impulse_response_is_difference_of_exponentials():
    cell = SecondOrderLIFCell(0.95, 0.9, 1e6)  # threshold never reached
    a = v = None
    for t in range(12):
        _, a, v = cell(torch.tensor([1.0 if t == 0 else 0.0], dtype=F64), a, v)
        expected = (0.95 ** (t + 1) - 0.9 ** (t + 1)) / (0.95 - 0.9)
        assert v.item() == pytest.approx(expected, rel=1e-12)


# -- against the engine's NumPy models -------------------------------------------------
def engine_run(model_name, params, cur, dt, extra_state=()):
    model = get_model(model_name)(**params)
    state = model.initial_state(cur.shape[1])
    spikes, trace = [], {k: [] for k in ("v", *extra_state)}
    for t in range(cur.shape[0]):
        spikes.append(model.step(state, cur[t].copy(), dt))
        for k in trace:
            trace[k].append(state[k].copy())
    return np.array(spikes), {k: np.array(v) for k, v in trace.items()}


def cell_run(cell, drive, n_state, names):
    state = [None] * n_state
    spikes, trace = [], {k: [] for k in names}
    for t in range(drive.shape[0]):
        out = cell(torch.tensor(drive[t], dtype=F64), *state)
        spikes.append(out[0].detach().numpy())
        state = list(out[1:])
        for k, s in zip(names, state):
            if k is not None:
                trace[k].append(s.detach().numpy().copy())
    return np.array(spikes), {k: np.array(v) for k, v in trace.items() if k is not None}


def test_lapicque_cell_equals_engine_lapicque():
    params = dict(tau=12.0, resistance=2.0, v_rest=-0.3, v_reset=-0.3, v_threshold=0.9)
    cur = currents(200, n=6, seed=7, scale=1.6)
    e_spk, e_tr = engine_run("LapicqueNeuron", params, cur, 0.5)
    cell = LapicqueCell(tau=12.0, r=2.0, dt=0.5, threshold=0.9, v_rest=-0.3)
    c_spk, c_tr = cell_run(cell, cur, 1, ["v"])
    np.testing.assert_array_equal(c_spk, e_spk)
    np.testing.assert_allclose(c_tr["v"], e_tr["v"], rtol=0, atol=1e-13)
    assert e_spk.sum() > 20


def test_lif_cell_equals_engine_stochastic_lif_without_noise():
    # Euler LIF: v += -(v - 0)*dt/tau + R*cur*dt  ==  beta*v + current with
    # beta = 1 - dt/tau, current = R*dt*cur; reset to v_reset = v_rest = 0.
    tau, dt, R = 15.0, 0.5, 1.5
    cur = currents(300, n=5, seed=8, scale=0.12)
    e_spk, e_tr = engine_run("StochasticLIFNeuron", dict(tau_mem=tau, resistance=R, noise_std=0.0), cur, dt)
    cell = LIFCell(beta=1 - dt / tau, threshold=1.0, reset_mechanism="zero")
    c_spk, c_tr = cell_run(cell, R * dt * cur, 1, ["v"])
    np.testing.assert_array_equal(c_spk, e_spk)
    np.testing.assert_allclose(c_tr["v"], e_tr["v"], atol=1e-12)
    assert e_spk.sum() > 10


def test_if_cell_equals_engine_perfect_integrator():
    C, dt = 2.0, 0.5
    cur = currents(200, n=4, seed=9, scale=0.5)
    e_spk, e_tr = engine_run("PerfectIntegratorNeuron", dict(capacitance=C), cur, dt)
    c_spk, c_tr = cell_run(IFCell(1.0, reset_mechanism="zero"), cur * dt / C, 1, ["v"])
    np.testing.assert_array_equal(c_spk, e_spk)
    np.testing.assert_allclose(c_tr["v"], e_tr["v"], atol=1e-12)
    assert e_spk.sum() > 10


def test_adex_cell_equals_engine_adex_after_mapping():
    # Engine (Brette & Gerstner 2005, Euler): C dV = dt*(-g_L(V-E_L) + g_L*D*exp((V-V_T)/D) - w + cur),
    # tau_w dw = dt*(a(V-E_L) - w).  Dividing V's update by C and measuring w in
    # units of (C/dt): beta = 1 - dt*g_L/C, current = dt*cur/C, w_cell = dt*w/C,
    # rho = 1 - dt/tau_w, a_cell = (dt/C)*(dt/tau_w)*a, b_cell = (dt/C)*b.
    C, g_L, E_L, V_T, D, tau_w, a, b, V_peak, dt = 281.0, 30.0, -70.6, -50.4, 2.0, 144.0, 4.0, 80.5, 20.0, 0.1
    params = dict(C=C, g_L=g_L, E_L=E_L, V_T=V_T, delta_T=D, tau_w=tau_w, a=a, b=b, V_reset=E_L, V_peak=V_peak)
    cur = np.repeat(np.array([[700.0, 900.0, 1200.0]]), 1500, axis=0)
    e_spk, e_tr = engine_run("AdExNeuron", params, cur, dt, extra_state=("w",))
    k = dt / C
    cell = AdExCell(beta=1 - dt * g_L / C, threshold=V_peak, delta_t=D, v_rh=V_T, a=k * dt / tau_w * a,
                    b=k * b, rho=1 - dt / tau_w, v_rest=E_L, reset_mechanism="zero", exp_cap=50.0)
    c_spk, c_tr = cell_run(cell, k * cur, 2, ["v", "w"])
    np.testing.assert_array_equal(c_spk, e_spk)
    np.testing.assert_allclose(c_tr["v"], e_tr["v"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(c_tr["w"] / k, e_tr["w"], rtol=1e-9, atol=1e-9)
    counts = e_spk.sum(axis=0)
    assert counts[0] >= 1 and counts[0] < counts[1] < counts[2]  # rate grows with current


def test_expif_cell_equals_engine_expif_after_mapping():
    tau, R, E_L, V_T, D, V_peak, dt = 10.0, 10.0, 0.0, 15.0, 3.5, 65.0, 0.1
    params = dict(tau_m=tau, resistance=R, E_L=E_L, V_T=V_T, delta_T=D, V_reset=E_L, V_peak=V_peak)
    cur = np.repeat(np.array([[1.0, 1.5, 2.5]]), 800, axis=0)
    e_spk, e_tr = engine_run("ExpIFNeuron", params, cur, dt)
    cell = ExpIFCell(beta=1 - dt / tau, threshold=V_peak, delta_t=D, v_rh=V_T, reset_mechanism="zero",
                     exp_cap=50.0)
    c_spk, c_tr = cell_run(cell, dt * R * cur / tau, 1, ["v"])
    np.testing.assert_array_equal(c_spk, e_spk)
    np.testing.assert_allclose(c_tr["v"], e_tr["v"], rtol=1e-9, atol=1e-9)
    assert e_spk[:, 0].sum() == 0 and 0 < e_spk[:, 1].sum() < e_spk[:, 2].sum()  # below/above rheobase


# -- gradients and learnable constants --------------------------------------------------
def test_learnable_beta_and_threshold_gradients_are_exact_for_one_step():
    beta, thr = 0.7, 1.3
    cell = LIFCell(beta, thr, learn_beta=True, learn_threshold=True).double()
    assert cell.beta.item() == pytest.approx(beta) and cell.threshold.item() == pytest.approx(thr)
    v0 = torch.tensor([0.4, 1.0, 2.0], dtype=F64)
    cur = torch.tensor([0.9, 0.1, 0.5], dtype=F64)
    spike, v = cell(cur, v0)
    spike.sum().backward()
    beta, thr = cell.beta.item(), cell.threshold.item()  # the float32-stored values
    x = (beta * v0 + cur - thr)
    g = surrogate_derivative("atan_surrogate", x)
    # d/d logit(beta) = g * v0 * beta*(1-beta);  d/d log(thr) = -g * thr
    assert cell.beta_logit.grad.item() == pytest.approx((g * v0).sum().item() * beta * (1 - beta), rel=1e-10)
    assert cell.log_threshold.grad.item() == pytest.approx(-(g.sum().item()) * thr, rel=1e-10)


@pytest.mark.parametrize("make, n_state, two_inputs", [
    (lambda: LIFCell(learn_beta=True, learn_threshold=True), 1, False),
    (lambda: SynapticCell(learn_beta=True, learn_threshold=True, learn_alpha=True), 2, False),
    (lambda: ALIFCell(learn_beta=True, learn_threshold=True), 2, False),
    (lambda: RecurrentLIFCell(4, learn_beta=True, learn_threshold=True), 1, False),
    (lambda: ExpIFCell(learn_beta=True, learn_threshold=True), 1, False),
    (lambda: AdExCell(learn_beta=True, learn_threshold=True), 2, False),
    (lambda: LapicqueCell(learn_threshold=True), 1, False),
    (lambda: AlphaCell(learn_beta=True, learn_threshold=True), 3, True),
    (lambda: SecondOrderLIFCell(learn_beta=True, learn_threshold=True, learn_alpha=True), 2, False),
    (lambda: IFCell(learn_threshold=True), 1, False),
])
def test_gradients_reach_every_learnable_parameter(make, n_state, two_inputs):
    torch.manual_seed(1)
    cell = make().double()
    cur = torch.rand(20, 5, 4, dtype=F64) * 0.8
    state = [None] * n_state
    total = 0
    spike = None
    for t in range(20):
        inputs = (cur[t], 0.2 * cur[t]) if two_inputs else (cur[t],)
        if isinstance(cell, RecurrentLIFCell):
            out = cell(*inputs, state[0], spike)
            spike = out[0]
            state = [out[1]]
        else:
            out = cell(*inputs, *state)
            state = list(out[1:])
        total = total + out[0].sum() + 0.1 * state[-1].pow(2).sum()
    total.backward()
    params = dict(cell.named_parameters())
    assert params, "cell should have learnable parameters here"
    for name, p in params.items():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_learned_constants_stay_in_range_after_large_updates():
    cell = LIFCell(0.9, 1.0, learn_beta=True, learn_threshold=True)
    with torch.no_grad():
        cell.beta_logit.add_(50.0)
        cell.log_threshold.sub_(30.0)
    assert 0 < cell.beta.item() <= 1 and cell.threshold.item() > 0


def test_any_surrogate_and_path_can_be_plugged_in():
    import functools

    x = torch.tensor([0.3, 0.95, 1.2], dtype=F64, requires_grad=True)
    for fn in (functools.partial(fast_sigmoid, slope=4.0, path="legacy_autograd"), atan_surrogate,
               lambda z: (z > 0).to(z.dtype) + 0 * z):
        x.grad = None
        s, _ = LIFCell(0.9, 1.0, fn)(x, torch.zeros(3, dtype=F64))
        assert s.tolist() == [0.0, 0.0, 1.0]
        s.sum().backward()
    expected = surrogate_derivative("fast_sigmoid", x.detach() - 1.0, 4.0)
    s, _ = LIFCell(0.9, 1.0, functools.partial(fast_sigmoid, slope=4.0))(x, None)
    (g,) = torch.autograd.grad(s.sum(), x)
    torch.testing.assert_close(g, expected, rtol=1e-12, atol=0)


def test_per_neuron_constants_and_device_buffers():
    beta = torch.tensor([0.5, 0.9])
    cell = LIFCell(beta, 1.0)
    assert "_beta_buf" in dict(cell.named_buffers())
    s, v = cell(torch.tensor([0.6, 0.6]), torch.tensor([1.0, 1.0]))
    assert v.tolist() == pytest.approx([1.1 - 1.0, 1.5 - 1.0])


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="beta"):
        LIFCell(beta=1.5)
    with pytest.raises(ValueError, match="beta"):
        LIFCell(beta=1.0, learn_beta=True)  # logit(1) is infinite
    with pytest.raises(ValueError, match="threshold"):
        LIFCell(threshold=-1.0, learn_threshold=True)
    with pytest.raises(ValueError, match="threshold"):
        LIFCell(threshold=float("nan"))
    with pytest.raises(ValueError, match="reset_mechanism"):
        LIFCell(reset_mechanism="hard")
    with pytest.raises(TypeError, match="surrogate_fn"):
        LIFCell(surrogate_fn="atan")
    with pytest.raises(ValueError, match="tau"):
        LapicqueCell(tau=0.0)
    with pytest.raises(ValueError, match="delta_t"):
        ExpIFCell(delta_t=0.0)
    with pytest.raises(ValueError, match="n_neurons"):
        RecurrentLIFCell(0)
    with pytest.raises(TypeError, match="beta"):
        SynapticCell(beta=True)


def test_expif_exponent_cap_keeps_runaway_state_finite():
    cell = ExpIFCell(exp_cap=20.0)
    s, v = cell(torch.zeros(1), torch.tensor([1e4]))
    assert torch.isfinite(v).all()
    assert v.item() == pytest.approx(0.9 * 1e4 + 0.1 * 0.5 * math.exp(20.0) - 1.0, rel=1e-6)
