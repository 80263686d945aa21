"""Subtract reset with a non-zero ``v_rest`` in the training cells: the
documented jump is ``threshold - v_rest`` (engine.training.cells), on the
float path and on the tensor path (per-neuron ``v_rest`` or a learnable
threshold).  Values are dyadic, so float32 holds them exactly."""

import pytest

torch = pytest.importorskip("torch")

from engine.training.cells import AdExCell, ExpIFCell, LapicqueCell  # noqa: E402

# tau far below dt: exp(-dt/tau) == 0.0, so LapicqueCell's v is v_rest + r*I exactly
FAST = dict(tau=1e-3, dt=1.0, r=1.0)


def test_lapicque_subtract_jump_is_threshold_minus_rest():
    cell = LapicqueCell(**FAST, threshold=1.0, v_rest=-0.5, reset_mechanism="subtract")
    spike, v = cell(torch.tensor([1.75, 1.25, 1.5]))
    # v before reset = [1.25, 0.75, 1.0]: the tie at 1.0 does not fire (v > threshold)
    assert spike.tolist() == [1.0, 0.0, 0.0]
    assert v.tolist() == [1.25 - 1.5, 0.75, 1.0]


def test_lapicque_zero_reset_lands_on_rest():
    cell = LapicqueCell(**FAST, threshold=1.0, v_rest=-0.5)  # default reset: "zero"
    spike, v = cell(torch.tensor([1.75, 1.25]))
    assert spike.tolist() == [1.0, 0.0] and v.tolist() == [-0.5, 0.75]


def test_lapicque_starts_at_rest():
    cell = LapicqueCell(tau=1.0, dt=1.0, r=1.0, threshold=1.0, v_rest=-0.5)
    _, v = cell(torch.tensor([0.0]))
    assert v.tolist() == [-0.5]  # v_inf = v_rest and v starts there: it stays


def test_per_neuron_rest_uses_the_tensor_path():
    cell = LapicqueCell(**FAST, threshold=1.0, v_rest=torch.tensor([-0.5, 0.25]), reset_mechanism="subtract")
    spike, v = cell(torch.tensor([1.75, 1.0]))  # v = [1.25, 1.25]: both fire
    assert spike.tolist() == [1.0, 1.0]
    assert v.tolist() == [1.25 - 1.5, 1.25 - 0.75]


def test_learnable_threshold_subtracts_threshold_minus_rest():
    cell = LapicqueCell(**FAST, threshold=1.0, v_rest=-0.5, learn_threshold=True, reset_mechanism="subtract")
    assert cell.threshold.item() == 1.0
    spike, v = cell(torch.tensor([1.75]))
    assert spike.tolist() == [1.0] and v.tolist() == [-0.25]


def test_subtract_reset_does_not_carry_gradient_into_the_spike():
    cell = LapicqueCell(**FAST, threshold=1.0, v_rest=-0.5, reset_mechanism="subtract")
    cur = torch.tensor([1.75, 1.25], requires_grad=True)
    _, v = cell(cur)
    v.sum().backward()
    assert cur.grad.tolist() == [1.0, 1.0]  # dv/dI = r; the detached jump adds nothing
    cell0 = LapicqueCell(**FAST, threshold=1.0, v_rest=-0.5)
    cur = torch.tensor([1.75, 1.25], requires_grad=True)
    _, v = cell0(cur)
    v.sum().backward()
    assert cur.grad.tolist() == [0.0, 1.0]  # zero reset: gradient 1 - spike


def test_adex_subtract_with_rest():
    # beta = 1 removes the leak and the exponential term: v' = v_rest + current
    cell = AdExCell(beta=1.0, threshold=1.0, v_rest=-0.5, a=0.25, b=0.125, rho=0.5, reset_mechanism="subtract")
    spike, v, w = cell(torch.tensor([1.75, 0.5]))
    assert spike.tolist() == [1.0, 0.0]
    assert v.tolist() == [-0.25, 0.0]
    assert w.tolist() == [0.125, 0.0]  # w' = rho*0 + a*(v - v_rest) (= 0 at rest) + b*spike
    spike, v, w = cell(torch.tensor([0.0, 0.0]), v, w)
    # v' = v_rest + (v - v_rest) - w: [-0.25 - 0.125, 0.0]; w' = 0.5*w + 0.25*(v - v_rest)
    assert v.tolist() == [-0.375, 0.0] and spike.tolist() == [0.0, 0.0]
    assert w.tolist() == [0.0625 + 0.0625, 0.125]
    zero = AdExCell(beta=1.0, threshold=1.0, v_rest=-0.5, reset_mechanism="zero")
    _, v, _ = zero(torch.tensor([1.75]))
    assert v.tolist() == [-0.5]


def test_expif_subtract_with_rest():
    cell = ExpIFCell(beta=1.0, threshold=1.0, v_rest=-0.5, reset_mechanism="subtract")
    spike, v = cell(torch.tensor([0.5, 0.25]), torch.tensor([0.75, 0.5]))
    assert spike.tolist() == [1.0, 0.0]
    assert v.tolist() == [1.25 - 1.5, 0.75]


def test_bad_reset_mechanism_names_it():
    with pytest.raises(ValueError, match="reset_mechanism must be one of"):
        LapicqueCell(reset_mechanism="soft")
