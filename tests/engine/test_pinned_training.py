"""Training cells and surrogates pinned: ExpIFCell at a non-zero v_rest (it
starts at rest and leaks towards it, as AdExCell, which it is with a = b = 0),
the documented defaults (SPEC 2.5 / 2.4), what constructors pass on, bounds and
messages, and the surrogate derivatives against their closed forms."""
import math

import numpy as np
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


# -- the cells' documented defaults (SPEC 2.5) and what the constructors pass on -----------------

import functools  # noqa: E402
import uuid  # noqa: E402

from engine.training import cells as C  # noqa: E402
from engine.training import surrogate as S  # noqa: E402

DEFAULTS = [  # class, constructor args, documented defaults (SPEC 2.5), default reset
    (C.LIFCell, (), dict(beta=0.9, threshold=1.0), "subtract"),
    (C.IFCell, (), dict(threshold=1.0), "subtract"),
    (C.SynapticCell, (), dict(alpha=0.9, beta=0.8, threshold=1.0), "subtract"),
    (C.ALIFCell, (), dict(beta=0.9, threshold=1.0, rho=0.99, beta_adapt=1.8), "subtract"),
    (C.RecurrentLIFCell, (3,), dict(beta=0.9, threshold=1.0), "subtract"),
    (C.ExpIFCell, (), dict(beta=0.9, threshold=1.0, delta_t=0.5, v_rh=0.8, v_rest=0.0), "subtract"),
    (C.AdExCell, (), dict(beta=0.9, threshold=1.0, delta_t=0.5, v_rh=0.8, a=0.01, b=0.1, rho=0.99, v_rest=0.0),
     "subtract"),
    (C.LapicqueCell, (), dict(threshold=1.0, v_rest=0.0), "zero"),
    (C.AlphaCell, (), dict(alpha_exc=0.9, alpha_inh=0.85, beta=0.9, threshold=1.0), "subtract"),
    (C.SecondOrderLIFCell, (), dict(alpha=0.95, beta=0.9, threshold=1.0), "subtract"),
]


@pytest.mark.parametrize("cls, args, want, reset", DEFAULTS, ids=[d[0].__name__ for d in DEFAULTS])
def test_documented_defaults(cls, args, want, reset):
    cell = cls(*args)
    assert {k: getattr(cell, k) for k in want} == want
    assert cell.reset_mechanism == reset and cell.surrogate_fn is S.atan_surrogate
    # nothing learnable by default (the recurrent weight matrix is the one parameter)
    assert [n for n, _ in cell.named_parameters()] == (["recurrent.weight"] if cls is C.RecurrentLIFCell else [])


def test_default_exp_cap_and_lapicque_constants():
    assert C.ExpIFCell().exp_cap == 20.0 and C.AdExCell().exp_cap == 20.0
    lap = C.LapicqueCell()
    assert (lap.tau, lap.r, lap.dt) == (20.0, 1.0, 1.0) and lap.decay == math.exp(-1.0 / 20.0)
    assert C.AdExCell(exp_cap=3.0).exp_cap == 3.0


def _sur(x):
    return (x > 0).to(x.dtype)


PASS_ON = [  # class, args, the learnable flags it takes
    (C.LIFCell, (), ("beta", "threshold")),
    (C.IFCell, (), ("threshold",)),
    (C.SynapticCell, (), ("alpha", "beta", "threshold")),
    (C.ALIFCell, (), ("beta", "threshold")),
    (C.RecurrentLIFCell, (2,), ("beta", "threshold")),
    (C.ExpIFCell, (), ("beta", "threshold")),
    (C.AdExCell, (), ("beta", "threshold")),
    (C.LapicqueCell, (), ("threshold",)),
    (C.AlphaCell, (), ("beta", "threshold")),
    (C.SecondOrderLIFCell, (), ("alpha", "beta", "threshold")),
]


@pytest.mark.parametrize("cls, args, learn", PASS_ON, ids=[d[0].__name__ for d in PASS_ON])
@pytest.mark.parametrize("which", ["all", "one"])
def test_constructors_pass_on_surrogate_flags_and_reset(cls, args, learn, which):
    reset = "subtract" if cls is C.LapicqueCell else "zero"
    chosen = learn if which == "all" else learn[-1:]
    cell = cls(*args, surrogate_fn=_sur, reset_mechanism=reset, **{f"learn_{n}": True for n in chosen})
    assert cell.surrogate_fn is _sur and cell.reset_mechanism == reset
    names = {n for n, _ in cell.named_parameters()} - {"recurrent.weight"}
    want = {("log_threshold" if n == "threshold" else f"{n}_logit") for n in chosen}
    assert names == want
    for n in chosen:  # learnable values start at the given (default) value
        assert float(getattr(cell, n).detach()) == pytest.approx(DEFAULTS_BY_CLASS[cls][n], rel=1e-6)


DEFAULTS_BY_CLASS = {d[0]: d[2] for d in DEFAULTS}


def test_extra_repr():
    assert repr(C.LIFCell()) == "LIFCell(v_rest=0.0, beta=0.9, threshold=1.0, reset=subtract, surrogate=atan_surrogate)"
    assert C.LIFCell(learn_beta=True, learn_threshold=True, reset_mechanism="zero").extra_repr() == (
        "v_rest=0.0, beta learnable (sigmoid), threshold learnable (exp), reset=zero, surrogate=atan_surrogate")
    p = functools.partial(S.fast_sigmoid, slope=3.0)  # no __name__: shown as itself
    assert C.IFCell(surrogate_fn=p).extra_repr() == f"v_rest=0.0, threshold=1.0, reset=subtract, surrogate={p!s}"


def test_property_docs():
    assert C.LIFCell.beta.__doc__ == "effective value of 'beta' (float, or tensor when learnable / per-neuron)"
    prop = C._param_property("gain")  # built here, so the mutation tool can reach it
    assert isinstance(prop, property) and prop.__doc__ == \
        "effective value of 'gain' (float, or tensor when learnable / per-neuron)"

    class Cell(C.LIFCell):
        gain = prop

    cell = Cell()
    cell._store_fixed("gain", 2.5)
    assert cell.gain == 2.5


def test_decay_bounds_and_messages():
    for ok in (0.0, 1.0, 0.5):
        assert C.LIFCell(beta=ok).beta == ok
    for bad in (-1e-9, 1.0 + 1e-12):  # 1 + 1e-12 is 1.0 in float32: the check runs in float64
        with pytest.raises(ValueError, match=r"^LIFCell: beta must lie in \[0, 1\], got "):
            C.LIFCell(beta=bad)
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match=r"^SynapticCell: a learnable alpha must lie in \(0, 1\), got "):
            C.SynapticCell(alpha=bad, learn_alpha=True)
    with pytest.raises(ValueError, match=r"^ALIFCell: rho must lie in \[0, 1\]"):
        C.ALIFCell(rho=1.5)
    with pytest.raises(ValueError, match=r"^LIFCell: beta must be finite"):
        C.LIFCell(beta=torch.tensor([0.5, float("nan")]))
    with pytest.raises(TypeError, match=r"^LIFCell: beta must be a number or tensor, got str"):
        C.LIFCell(beta="x")
    with pytest.raises(TypeError, match=r"^LIFCell: threshold must be a number or tensor, got a bool"):
        C.LIFCell(threshold=True)
    with pytest.raises(ValueError, match=r"^ExpIFCell: exp_cap must be finite, got nan"):
        C.ExpIFCell(exp_cap=float("nan"))
    with pytest.raises(TypeError, match=r"^ExpIFCell: exp_cap must be a number or tensor, got list"):
        C.ExpIFCell(exp_cap=[1.0])


def test_tensor_constants_keep_float_dtype_and_convert_integers():
    c = C.LIFCell(threshold=torch.tensor([1, 2]))
    assert c.threshold.dtype == torch.get_default_dtype() and c.threshold.tolist() == [1.0, 2.0]
    d = C.LIFCell(threshold=torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert d.threshold.dtype == torch.float64
    # a learnable constant is a parameter in the default dtype whatever the input's
    e = C.LIFCell(beta=torch.tensor([0.5], dtype=torch.float64), learn_beta=True)
    assert e.beta_logit.dtype == torch.get_default_dtype() and e.beta_logit.tolist() == [0.0]


def test_per_neuron_rest_start():
    cell = C.LapicqueCell(tau=1e-3, v_rest=torch.tensor([-0.5, 0.25]))
    _, v = cell(torch.zeros(2))
    assert v.tolist() == [-0.5, 0.25]  # starts at rest and stays (decay exp(-1000) = 0)
    e = C.ExpIFCell(beta=1.0, v_rest=torch.tensor([-0.5, 0.25], dtype=torch.float64))
    _, v = e(torch.zeros(2, dtype=torch.float64))
    assert v.tolist() == [-0.5, 0.25]  # beta = 1: no leak, no exponential term


def test_alif_resets_and_adaptation():
    # beta 0.5, threshold 1, beta_adapt 2, rho 0.5; input 1.5 then 1.5
    for reset, v1 in (("subtract", 0.5), ("zero", 0.0)):
        cell = C.ALIFCell(beta=0.5, threshold=1.0, rho=0.5, beta_adapt=2.0, reset_mechanism=reset)
        s, v, a = cell(torch.tensor([1.5, 0.5]))
        assert s.tolist() == [1.0, 0.0] and v.tolist() == [v1, 0.5] and a.tolist() == [1.0, 0.0]
        # step 2: v = 0.5*v1 + 1.5; effective threshold 1 + 2*1 = 3 for neuron 0: no spike
        s, v, a = cell(torch.tensor([1.5, 1.0]), v, a)
        assert s.tolist() == [0.0, 1.0]
        assert v.tolist() == [0.5 * v1 + 1.5, 0.25 if reset == "subtract" else 0.0]
        assert a.tolist() == [0.5, 1.0]
    # a tie at exactly the effective threshold does not fire
    s, v, a = C.ALIFCell(beta=0.5, reset_mechanism="zero")(torch.tensor([1.0]))
    assert s.tolist() == [0.0] and v.tolist() == [1.0]
    # a subtract reset by a threshold other than 1
    s, v, _ = C.ALIFCell(beta=0.5, threshold=0.5)(torch.tensor([2.0]))
    assert s.tolist() == [1.0] and v.tolist() == [1.5]


def test_recurrent_cell_sizes():
    assert C.RecurrentLIFCell(1).recurrent.weight.shape == (1, 1)
    assert C.RecurrentLIFCell(1).recurrent.bias is None
    for bad in (0, True, 2.0, -1):
        with pytest.raises(ValueError, match="RecurrentLIFCell: n_neurons must be a positive int"):
            C.RecurrentLIFCell(bad)
    with pytest.raises(ValueError, match="current's last dimension is 5, expected n_neurons=3"):
        C.RecurrentLIFCell(3)(torch.zeros(2, 5))


def test_lapicque_messages():
    for name in ("tau", "dt"):
        with pytest.raises(ValueError, match=f"^LapicqueCell: {name} must be a number > 0, got 0"):
            C.LapicqueCell(**{name: 0})
        with pytest.raises(ValueError, match=f"^LapicqueCell: {name} must be finite"):
            C.LapicqueCell(**{name: float("inf")})
        with pytest.raises(TypeError, match=f"^LapicqueCell: {name} must be a number or tensor"):
            C.LapicqueCell(**{name: [1.0]})
    with pytest.raises(ValueError, match="^LapicqueCell: r must be a number >= 0, got -1.0"):
        C.LapicqueCell(r=-1)
    with pytest.raises(ValueError, match="^LapicqueCell: r must be finite"):
        C.LapicqueCell(r=float("nan"))
    assert C.LapicqueCell(r=0).r == 0.0


# -- surrogates: defaults, messages, paths, and the op builders ------------------------------

X = 0.1


def _grad(fn, x=X, **kw):
    t = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    fn(t, **kw).sum().backward()
    return float(t.grad[0])


# closed forms with the documented default shape parameters (SPEC 2.4)
CLOSED = {
    "fast_sigmoid": 25.0 / (1 + 25.0 * X) ** 2,
    "superspike": 1.0 / (1 + 10.0 * X) ** 2,
    "atan_surrogate": 2.0 / (2 * (1 + (math.pi * 2.0 * X / 2) ** 2)),
    "sigmoid_surrogate": 5.0 / (1 + math.exp(-5.0 * X)) * (1 - 1 / (1 + math.exp(-5.0 * X))),
    "straight_through": 1.0,
    "triangular": (1 - X / 1.0) / 1.0,
}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_surrogate_defaults_on_every_call_form(name):
    for fn in (getattr(S, name), getattr(S, f"{name}_custom_op"), getattr(S, f"{name}_legacy"),
               S.get_surrogate(name), S.get_surrogate(name, path="legacy_autograd")):
        assert _grad(fn) == pytest.approx(CLOSED[name], rel=1e-12)
    assert float(S.surrogate_derivative(name, torch.tensor([X], dtype=torch.float64))[0]) == \
        pytest.approx(CLOSED[name], rel=1e-12)


def test_get_surrogate_honours_the_path(monkeypatch):
    calls = []
    real = S._legacy
    monkeypatch.setattr(S, "_legacy", lambda *a: calls.append(a[0]) or real(*a))
    for name, kw in (("straight_through", {}), ("fast_sigmoid", {"slope": 4.0})):
        f = S.get_surrogate(name, path="legacy_autograd", **kw)
        assert f.__name__ == f"{name}[legacy_autograd]"
        f(torch.tensor([0.5]))
        S.get_surrogate(name, **kw)(torch.tensor([0.5]))  # custom_op: not the legacy path
    assert calls == ["straight_through", "fast_sigmoid"]
    assert _grad(S.get_surrogate("fast_sigmoid", slope=4.0)) == pytest.approx(4.0 / (1 + 0.4) ** 2)


def test_surrogate_messages():
    names = "['atan_surrogate', 'fast_sigmoid', 'sigmoid_surrogate', 'straight_through', 'superspike', 'triangular']"
    for f in (S.surrogate_derivative, lambda n, x: S.get_surrogate(n)):
        with pytest.raises(ValueError) as e:
            f("nope", torch.zeros(1))
        assert str(e.value) == f"unknown surrogate 'nope'; choose one of {names}"
    with pytest.raises(TypeError, match="^fast_sigmoid: x must be a torch.Tensor, got list"):
        S.surrogate_derivative("fast_sigmoid", [0.0])
    with pytest.raises(ValueError, match=r"^fast_sigmoid: slope must be finite and > 0, got -1.0"):
        S.surrogate_derivative("fast_sigmoid", torch.zeros(1), -1.0)
    with pytest.raises(ValueError, match=r"^triangular: width must be finite and > 0, got 0"):
        S.get_surrogate("triangular", width=0)
    with pytest.raises(ValueError, match=r"^atan_surrogate: unknown path 'fast'"):
        S.get_surrogate("atan_surrogate", path="fast")
    with pytest.raises(TypeError) as e:
        S.get_surrogate("straight_through", slope=2.0)
    assert str(e.value) == "straight_through: unexpected shape parameter(s) ['slope']; accepted: []"
    with pytest.raises(TypeError) as e:
        S.get_surrogate("superspike", slope=2.0)
    assert str(e.value) == "superspike: unexpected shape parameter(s) ['slope']; accepted: ['beta']"


def test_op_builders():
    # built here, so the mutation tool reaches them (the module builds its own at
    # import); a fresh name each time, since an op name can be registered only once
    name = f"pinned_{uuid.uuid4().hex}"

    def deriv(x, p):
        return torch.full_like(x, p)

    op = S._build_custom_op(name, deriv)
    fn = S._build_legacy(name, deriv)
    assert fn.__name__ == fn.__qualname__ == f"{name}_function"
    for call in (lambda t: op(t, 0.75), lambda t: fn.apply(t, 0.75)):
        t = torch.tensor([-0.5, 0.0, 0.5], dtype=torch.float64, requires_grad=True)
        y = call(t)
        assert y.tolist() == [0.0, 0.0, 1.0]
        (y * torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)).sum().backward()
        assert t.grad.tolist() == [0.75, 1.5, 3.0]  # deriv(x, p) times the incoming gradient
    assert getattr(torch.ops.neurocore, name)(torch.tensor([1.0]), 0.5).tolist() == [1.0]
    # the fake (meta) kernel gives the shape without computing
    assert op(torch.empty(3, device="meta"), 0.5).shape == (3,)


def test_cell_argument_messages():
    assert C.LIFCell(surrogate_fn=None).surrogate_fn is S.atan_surrogate  # None means the default
    with pytest.raises(TypeError) as e:
        C.LIFCell(surrogate_fn=3)
    assert str(e.value) == "LIFCell: surrogate_fn must be callable, got int"
    with pytest.raises(ValueError) as e:
        C.IFCell(reset_mechanism="x")
    assert str(e.value) == "IFCell: reset_mechanism must be one of ('subtract', 'zero'), got 'x'"
    with pytest.raises(ValueError) as e:
        C.ExpIFCell(delta_t=0)
    assert str(e.value) == "ExpIFCell: delta_t must be > 0, got 0.0"
    with pytest.raises(ValueError, match=r"^ExpIFCell: v_rh must be finite, got nan"):
        C.ExpIFCell(v_rh=float("nan"))
    with pytest.raises(TypeError, match=r"^AdExCell: a must be a number or tensor, got str"):
        C.AdExCell(a="x")
    assert C.ExpIFCell(delta_t=1e-300).delta_t == 1e-300
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError) as e:
            C.LIFCell(threshold=bad, learn_threshold=True)
        assert str(e.value) == f"LIFCell: a learnable threshold must be > 0, got {bad!r}"
    t = C.LIFCell(threshold=torch.tensor([2.0], dtype=torch.float64), learn_threshold=True)
    assert t.log_threshold.dtype == torch.get_default_dtype()
    assert t.log_threshold.tolist() == pytest.approx([math.log(2.0)])


def test_recurrent_cell_names_the_last_dimension():
    with pytest.raises(ValueError, match="current's last dimension is 5, expected n_neurons=3"):
        C.RecurrentLIFCell(3)(torch.zeros(2, 4, 5))


def test_shape_parameter_types():
    x = torch.tensor([X], dtype=torch.float64)
    for bad, kind in ((True, "bool"), ("2", "str"), (None, "NoneType")):
        with pytest.raises(TypeError) as e:
            S.get_surrogate("fast_sigmoid", slope=bad)
        assert str(e.value) == f"fast_sigmoid: slope must be a real number, got {kind}"
    # anything with __float__ that is not a tensor is a number (NumPy scalars)
    assert _grad(S.get_surrogate("fast_sigmoid", slope=np.float32(4.0))) == pytest.approx(4.0 / 1.4 ** 2)
    assert float(S.surrogate_derivative("superspike", x, np.float32(2.0))[0]) == pytest.approx(1 / 1.2 ** 2)
    with pytest.raises(TypeError, match="must be a Python number, not a tensor"):
        S.surrogate_derivative("superspike", x, torch.tensor(2.0))


@pytest.mark.parametrize("form", ["custom_op", "legacy", "dispatch"])
def test_call_form_messages(form):
    fn = {"custom_op": S.fast_sigmoid_custom_op, "legacy": S.fast_sigmoid_legacy,
          "dispatch": S.fast_sigmoid}[form]
    with pytest.raises(TypeError) as e:
        fn([0.0])
    assert str(e.value) == "fast_sigmoid: x must be a torch.Tensor, got list"
    with pytest.raises(ValueError) as e:
        fn(torch.zeros(1), -2.0)
    assert str(e.value) == "fast_sigmoid: slope must be finite and > 0, got -2.0"
    with pytest.raises(TypeError, match="^fast_sigmoid: x must be a floating-point tensor"):
        fn(torch.zeros(1, dtype=torch.int64))


def test_dispatch_path_message():
    with pytest.raises(ValueError) as e:
        S.triangular(torch.zeros(1), path="bad")
    assert str(e.value) == "triangular: unknown path 'bad'; choose one of ('custom_op', 'legacy_autograd')"
