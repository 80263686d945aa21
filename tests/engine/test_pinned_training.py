"""ExpIFCell at a non-zero v_rest: it starts at rest and leaks towards it, as
AdExCell does (ExpIFCell is AdExCell with a = b = 0)."""
import math

import pytest

torch = pytest.importorskip("torch")

from engine.training.cells import AdExCell, ExpIFCell  # noqa: E402

P = dict(beta=0.75, threshold=1.0, delta_t=0.5, v_rh=0.5)


def test_expif_starts_at_rest():
    cell = ExpIFCell(**P, v_rest=-0.5)
    spike, v = cell(torch.zeros(2, dtype=torch.float64))
    # by hand: v0 = -0.5, v1 = -0.5 + 0.75*0 + 0.25*0.5*exp((-0.5 - 0.5)/0.5) + 0
    want = -0.5 + 0.125 * math.exp(-2.0)
    assert spike.tolist() == [0.0, 0.0]
    assert v.tolist() == pytest.approx([want, want], abs=1e-12)
    # the same as being handed v_rest explicitly
    _, v_given = cell(torch.zeros(2, dtype=torch.float64), torch.full((2,), -0.5, dtype=torch.float64))
    assert torch.equal(v, v_given)


def test_expif_leaks_towards_rest():
    cell = ExpIFCell(**P, v_rest=-0.5)
    _, v = cell(torch.tensor([0.25], dtype=torch.float64), torch.tensor([0.5], dtype=torch.float64))
    # v - v_rest = 1.0 decays to 0.75; exp term 0.25*0.5*exp(0) = 0.125; input 0.25
    assert v.tolist() == pytest.approx([-0.5 + 0.75 + 0.125 + 0.25], abs=1e-12)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_expif_equals_adex_without_adaptation(reset):
    kw = dict(**P, v_rest=-0.25, reset_mechanism=reset)
    e, a = ExpIFCell(**kw), AdExCell(**kw, a=0.0, b=0.0)
    gen = torch.Generator().manual_seed(3)
    cur = torch.rand(20, 4, generator=gen, dtype=torch.float64) * 0.6
    ve, va, w, fired = None, None, None, 0.0
    for t in range(20):
        se, ve = e(cur[t], ve)
        sa, va, w = a(cur[t], va, w)
        assert torch.equal(se, sa) and torch.allclose(ve, va, rtol=0, atol=1e-12)
        fired += float(se.sum())
    assert fired > 0  # the comparison went through spikes and resets
    assert w.abs().max() == 0.0
