"""Quantization-clip-floor-shift activation (QCFS).

Bu, Fang, Ding, Dai, Yu & Huang (2022), "Optimal ANN-SNN conversion for
high-accuracy and ultra-low-latency spiking neural networks", ICLR, eq. 13:

    y = theta / L * clip(floor(x * L / theta + phi), 0, L),   phi = 1/2

An ANN trained with this activation already emits the L + 1 levels a
reset-by-subtraction integrate-and-fire neuron with threshold theta can emit
in L time steps, so its conversion error is small at low latency.  The floor
is made trainable with a straight-through estimator (the same construction as
the authors' ``GradFloor``): the forward pass floors, the backward pass treats
floor as the identity.  Through the clip that gives dy/dx = 1 for
0 < x < theta and 0 outside, and a gradient for a learnable theta.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["QCFSActivation"]


class _FloorSTE(torch.autograd.Function):
    """floor() in the forward pass, identity in the backward pass
    (straight-through estimator, Bengio et al. 2013)."""

    @staticmethod
    def forward(ctx, x):
        return torch.floor(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class QCFSActivation(nn.Module):
    """QCFS activation with ``T`` quantisation levels and clip level ``theta``.

    Parameters
    ----------
    T : int
        Number of quantisation steps L (>= 1); the SNN time-step count it is
        matched to.
    theta : float
        Clip level (> 0); becomes the firing threshold after conversion.
    learn_theta : bool
        When True, ``theta`` is an ``nn.Parameter`` trained with the network.
    """

    def __init__(self, T: int, theta: float = 1.0, learn_theta: bool = False):
        super().__init__()
        if isinstance(T, bool) or not isinstance(T, int) or T < 1:
            raise ValueError(f"T must be a positive int, got {T!r}")
        theta = float(theta)
        if not math.isfinite(theta) or theta <= 0:
            raise ValueError(f"theta must be finite and > 0, got {theta!r}")
        self.T = T
        self.learn_theta = bool(learn_theta)
        t = torch.tensor(theta, dtype=torch.float32)
        if self.learn_theta:
            self.theta = nn.Parameter(t)
        else:
            self.register_buffer("theta", t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        theta = self.theta
        # Written as in Bu et al.'s reference code: normalise by theta, clamp
        # to [0, 1], quantise with the +1/2 shift, scale back.  Autograd then
        # gives d y / d theta = q - x/theta inside the clip range and 1 above it.
        z = torch.clamp(x / theta, 0.0, 1.0)
        q = _FloorSTE.apply(z * self.T + 0.5) / self.T
        return q * theta

    def extra_repr(self) -> str:
        return f"T={self.T}, theta={float(self.theta.detach()):.4g}, learn_theta={self.learn_theta}"
