"""Surrogate spike functions: Heaviside forward, smooth pseudo-derivative backward.

A spiking neuron emits ``H(x)`` with ``x = v - threshold``.  ``H`` has a zero
derivative almost everywhere, so gradient-based training replaces ``H'`` in the
backward pass with a smooth "surrogate" ``g(x)`` (Neftci, Mostafa & Zenke 2019,
IEEE Signal Process. Mag. 36(6):51-63).

**Forward convention (both paths, every surrogate):** ``H(x) = 1`` where
``x > 0`` and ``0`` where ``x <= 0`` (a neuron exactly at threshold does not
fire; NaN gives 0), returned in ``x``'s dtype and shape.

Surrogate derivatives ``g(x)`` (the gradient returned is ``grad_output * g(x)``):

=====================  ==========================================  =====================================
function (default)     ``g(x)``                                    reference
=====================  ==========================================  =====================================
``fast_sigmoid``       ``slope / (1 + slope*|x|)^2``               Zenke & Ganguli 2018, Neural Comput.
(``slope=25``)                                                     30(6):1514 (SuperSpike; fast sigmoid)
``superspike``         ``1 / (1 + beta*|x|)^2``                    Zenke & Ganguli 2018 (eq. 6, unscaled)
(``beta=10``)
``atan_surrogate``     ``alpha / (2 * (1 + (pi*alpha*x/2)^2))``    Fang et al. 2021, ICCV (PLIF), the
(``alpha=2``)                                                      derivative of ``atan(pi*alpha*x/2)/pi``
``sigmoid_surrogate``  ``slope * s * (1 - s)``, ``s=sigmoid(slope*x)``  Neftci et al. 2019 (overview)
(``slope=5``)
``straight_through``   ``1``                                       Bengio, Leonard & Courville 2013,
                                                                   arXiv:1308.3432
``triangular``         ``max(0, 1 - |x|/width) / width``           Esser et al. 2016, PNAS 113:11441;
(``width=1``)                                                      Bellec et al. 2018, NeurIPS (LSNN)
=====================  ==========================================  =====================================

Each surrogate has three call forms:

* ``NAME(x, <shape>=default, *, path="custom_op")`` -- the dispatcher; ``path``
  is one of :data:`SURROGATE_PATHS`;
* ``NAME_custom_op(x, <shape>)`` -- a ``torch.library.custom_op`` with
  ``register_autograd`` and ``register_fake``: opaque to ``torch.compile`` (no
  graph break, ``fullgraph=True`` works) and cheap in eager mode;
* ``NAME_legacy(x, <shape>)`` -- a ``torch.autograd.Function``.

Both paths call the *same* forward and derivative code, so they agree bit for
bit.  The backward is first-order only (double backward is not supported).
Shape parameters are plain Python numbers (not learnable) and must be finite and
> 0.
"""

import math

import torch
from torch.autograd.function import once_differentiable

__all__ = [
    "SURROGATE_PATHS",
    "SURROGATES",
    "SURROGATE_DEFAULTS",
    "surrogate_derivative",
    "get_surrogate",
    "fast_sigmoid", "fast_sigmoid_custom_op", "fast_sigmoid_legacy",
    "superspike", "superspike_custom_op", "superspike_legacy",
    "atan_surrogate", "atan_surrogate_custom_op", "atan_surrogate_legacy",
    "sigmoid_surrogate", "sigmoid_surrogate_custom_op", "sigmoid_surrogate_legacy",
    "straight_through", "straight_through_custom_op", "straight_through_legacy",
    "triangular", "triangular_custom_op", "triangular_legacy",
]

from engine.training.spec import SHAPE_PARAMS, SURROGATE_PATHS  # noqa: E402  (one table of names)

_LIB = "neurocore"


# -- forward and derivatives (shared by both paths) ---------------------------------
def _heaviside(x: torch.Tensor) -> torch.Tensor:
    # Strict inequality: the reference fires where x > 0 (see module docstring).
    return (x > 0).to(x.dtype)


# Each derivative returns a fresh tensor, so the callers may scale it in place.
# The in-place ops below only touch temporaries created here.
def _d_fast_sigmoid(x, slope):
    # slope / (1 + slope*|x|)^2          (Zenke & Ganguli 2018)
    t = x.abs().mul_(slope).add_(1.0)
    return t.mul_(t).reciprocal_().mul_(slope)


def _d_superspike(x, beta):
    # 1 / (1 + beta*|x|)^2               (Zenke & Ganguli 2018, eq. 6)
    t = x.abs().mul_(beta).add_(1.0)
    return t.mul_(t).reciprocal_()


def _d_atan(x, alpha):
    # alpha / (2 * (1 + (pi*alpha*x/2)^2))   (Fang et al. 2021)
    t = x * (math.pi * alpha / 2.0)
    return t.mul_(t).add_(1.0).reciprocal_().mul_(alpha / 2.0)


def _d_sigmoid(x, slope):
    # slope * s * (1 - s),  s = sigmoid(slope*x)   (Neftci et al. 2019)
    s = torch.sigmoid(x * slope)
    return (1.0 - s).mul_(s).mul_(slope)


def _d_straight_through(x, _unused):
    # 1                                  (Bengio et al. 2013)
    return torch.ones_like(x)


def _d_triangular(x, width):
    # max(0, 1 - |x|/width) / width      (Esser et al. 2016; Bellec et al. 2018)
    return (1.0 - x.abs() / width).clamp_(min=0.0).div_(width)


_DERIVATIVES = {"fast_sigmoid": _d_fast_sigmoid, "superspike": _d_superspike, "atan_surrogate": _d_atan,
                "sigmoid_surrogate": _d_sigmoid, "straight_through": _d_straight_through,
                "triangular": _d_triangular}
# name -> (shape-parameter name or None, default, derivative); names and defaults from engine.training.spec
_TABLE = {name: (pname, default, _DERIVATIVES[name]) for name, (pname, default) in SHAPE_PARAMS.items()}

#: surrogate name -> {shape parameter: reference default} (empty for straight_through)
SURROGATE_DEFAULTS = {name: ({} if p is None else {p: d}) for name, (p, d, _) in _TABLE.items()}


# -- validation -------------------------------------------------------------------
def _check_x(name: str, x) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: x must be a floating-point tensor, got dtype {x.dtype}")


def _check_shape(name: str, pname: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{name}: {pname} must be a real number, got {type(value).__name__}")
    if isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: {pname} must be a Python number, not a tensor (shape parameters are fixed)")
    v = float(value)
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name}: {pname} must be finite and > 0, got {value!r}")
    return v


def _check_path(name: str, path) -> None:
    if path not in SURROGATE_PATHS:
        raise ValueError(f"{name}: unknown path {path!r}; choose one of {SURROGATE_PATHS}")


# -- the two paths, built once per surrogate --------------------------------------------
def _build_custom_op(name, deriv):
    """A ``torch.library.custom_op`` ``neurocore::<name>(Tensor x, float p)``
    with its autograd formula and fake (meta) kernel registered."""

    def forward(x: torch.Tensor, p: float) -> torch.Tensor:
        return _heaviside(x)

    op = torch.library.custom_op(f"{_LIB}::{name}", forward, mutates_args=(),
                                 schema="(Tensor x, float p) -> Tensor")

    @op.register_fake
    def _(x, p):
        return torch.empty_like(x)

    def setup_context(ctx, inputs, output):
        x, p = inputs
        ctx.save_for_backward(x)
        ctx.p = p

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return deriv(x, ctx.p).mul_(grad), None

    op.register_autograd(backward, setup_context=setup_context)
    return op


def _build_legacy(name, deriv):
    class _Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, p):
            ctx.save_for_backward(x)
            ctx.p = p
            return _heaviside(x)

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return deriv(x, ctx.p).mul_(grad), None

    _Spike.__name__ = _Spike.__qualname__ = f"{name}_function"
    return _Spike


_OPS = {name: _build_custom_op(name, d) for name, (_, _, d) in _TABLE.items()}
_FUNCTIONS = {name: _build_legacy(name, d) for name, (_, _, d) in _TABLE.items()}


def _custom(name, x, p):
    _check_x(name, x)
    pname = _TABLE[name][0]
    p = 0.0 if pname is None else _check_shape(name, pname, p)
    return _OPS[name](x, p)


def _legacy(name, x, p):
    _check_x(name, x)
    pname = _TABLE[name][0]
    p = 0.0 if pname is None else _check_shape(name, pname, p)
    return _FUNCTIONS[name].apply(x, p)


def _dispatch(name, x, p, path):
    if path == "custom_op":
        return _custom(name, x, p)
    if path == "legacy_autograd":
        return _legacy(name, x, p)
    _check_path(name, path)  # raises


# -- public call forms -----------------------------------------------------------
def fast_sigmoid(x, slope=25.0, *, path="custom_op"):
    """Heaviside spike of ``x`` (fires where ``x > 0``); backward
    ``slope / (1 + slope*|x|)^2`` (Zenke & Ganguli 2018)."""
    return _dispatch("fast_sigmoid", x, slope, path)


def fast_sigmoid_custom_op(x, slope=25.0):
    """:func:`fast_sigmoid` on the ``torch.library.custom_op`` path."""
    return _custom("fast_sigmoid", x, slope)


def fast_sigmoid_legacy(x, slope=25.0):
    """:func:`fast_sigmoid` on the ``torch.autograd.Function`` path."""
    return _legacy("fast_sigmoid", x, slope)


def superspike(x, beta=10.0, *, path="custom_op"):
    """Heaviside spike of ``x`` (fires where ``x > 0``); backward
    ``1 / (1 + beta*|x|)^2`` (Zenke & Ganguli 2018)."""
    return _dispatch("superspike", x, beta, path)


def superspike_custom_op(x, beta=10.0):
    """:func:`superspike` on the ``torch.library.custom_op`` path."""
    return _custom("superspike", x, beta)


def superspike_legacy(x, beta=10.0):
    """:func:`superspike` on the ``torch.autograd.Function`` path."""
    return _legacy("superspike", x, beta)


def atan_surrogate(x, alpha=2.0, *, path="custom_op"):
    """Heaviside spike of ``x`` (fires where ``x > 0``); backward
    ``alpha / (2 * (1 + (pi*alpha*x/2)^2))`` (Fang et al. 2021)."""
    return _dispatch("atan_surrogate", x, alpha, path)


def atan_surrogate_custom_op(x, alpha=2.0):
    """:func:`atan_surrogate` on the ``torch.library.custom_op`` path."""
    return _custom("atan_surrogate", x, alpha)


def atan_surrogate_legacy(x, alpha=2.0):
    """:func:`atan_surrogate` on the ``torch.autograd.Function`` path."""
    return _legacy("atan_surrogate", x, alpha)


def sigmoid_surrogate(x, slope=5.0, *, path="custom_op"):
    """Heaviside spike of ``x`` (fires where ``x > 0``); backward
    ``slope * s * (1 - s)`` with ``s = sigmoid(slope*x)`` (Neftci et al. 2019)."""
    return _dispatch("sigmoid_surrogate", x, slope, path)


def sigmoid_surrogate_custom_op(x, slope=5.0):
    """:func:`sigmoid_surrogate` on the ``torch.library.custom_op`` path."""
    return _custom("sigmoid_surrogate", x, slope)


def sigmoid_surrogate_legacy(x, slope=5.0):
    """:func:`sigmoid_surrogate` on the ``torch.autograd.Function`` path."""
    return _legacy("sigmoid_surrogate", x, slope)


def straight_through(x, *, path="custom_op"):
    """Heaviside spike of ``x`` (fires where ``x > 0``); backward passes the
    gradient unchanged (Bengio et al. 2013)."""
    return _dispatch("straight_through", x, None, path)


def straight_through_custom_op(x):
    """:func:`straight_through` on the ``torch.library.custom_op`` path."""
    return _custom("straight_through", x, None)


def straight_through_legacy(x):
    """:func:`straight_through` on the ``torch.autograd.Function`` path."""
    return _legacy("straight_through", x, None)


def triangular(x, width=1.0, *, path="custom_op"):
    """Heaviside spike of ``x`` (fires where ``x > 0``); backward
    ``max(0, 1 - |x|/width) / width`` (Esser et al. 2016; Bellec et al. 2018)."""
    return _dispatch("triangular", x, width, path)


def triangular_custom_op(x, width=1.0):
    """:func:`triangular` on the ``torch.library.custom_op`` path."""
    return _custom("triangular", x, width)


def triangular_legacy(x, width=1.0):
    """:func:`triangular` on the ``torch.autograd.Function`` path."""
    return _legacy("triangular", x, width)


#: surrogate name -> dispatcher
SURROGATES = {
    "fast_sigmoid": fast_sigmoid,
    "superspike": superspike,
    "atan_surrogate": atan_surrogate,
    "sigmoid_surrogate": sigmoid_surrogate,
    "straight_through": straight_through,
    "triangular": triangular,
}


def surrogate_derivative(name: str, x: torch.Tensor, shape=None) -> torch.Tensor:
    """The surrogate derivative ``g(x)`` of surrogate ``name`` (for plots); the
    exact function both backward paths multiply the incoming gradient by."""
    if name not in _TABLE:
        raise ValueError(f"unknown surrogate {name!r}; choose one of {sorted(_TABLE)}")
    pname, default, deriv = _TABLE[name]
    _check_x(name, x)
    p = 0.0 if pname is None else _check_shape(name, pname, default if shape is None else shape)
    return deriv(x, p)


def get_surrogate(name: str, *, path: str = "custom_op", **shape):
    """A one-argument spike function ``f(x)`` for surrogate ``name`` with the
    given shape parameter (e.g. ``get_surrogate("fast_sigmoid", slope=10)``),
    suitable as a cell's ``surrogate_fn``."""
    if name not in _TABLE:
        raise ValueError(f"unknown surrogate {name!r}; choose one of {sorted(_TABLE)}")
    _check_path(name, path)
    pname, default, _ = _TABLE[name]
    allowed = set() if pname is None else {pname}
    unknown = set(shape) - allowed
    if unknown:
        raise TypeError(f"{name}: unexpected shape parameter(s) {sorted(unknown)}; accepted: {sorted(allowed)}")
    fn = SURROGATES[name]
    if pname is None:
        def spike(x):
            return fn(x, path=path)
    else:
        p = _check_shape(name, pname, shape.get(pname, default))

        def spike(x):
            return fn(x, p, path=path)
    spike.__name__ = f"{name}[{path}]"
    return spike
