"""Ermentrout-Kopell theta neuron (canonical type-I model)."""

from __future__ import annotations

import math

import numpy as np

from engine.models.base import NeuronModel, Real, register

TWO_PI = 2.0 * math.pi


@register
class ThetaNeuron(NeuronModel):
    """Theta neuron (Ermentrout & Kopell 1986), the normal form of a
    saddle-node on an invariant circle.

    .. math::
        \\tau \\, d\\theta/dt = (1 - \\cos\\theta) + (1 + \\cos\\theta) I

    theta is a phase in [-pi, pi); the neuron fires when theta passes pi (and
    is then continued at -pi, which is the same point on the circle).  For
    I > 0 it fires periodically with period ``pi * tau / sqrt(I)``; for I < 0 it
    rests at theta = -2 arctan(sqrt(-I)) and fires only when kicked past the
    unstable point +2 arctan(sqrt(-I)).  It is the quadratic integrate-and-fire
    neuron ``tau dv/dt = v^2 + I`` under v = tan(theta / 2).

    Integration: exact for input held constant over the step, so any dt and
    any drive are accurate and every neuron's update depends on its own input
    only.  With v = tan(theta/2) = p/q, (p, q) = (sin theta/2, cos theta/2), the
    Riccati equation v' = v^2 + I linearises (v = -u'/u, u'' + I u = 0), and one
    step of scaled length T = dt/tau is the linear map
    ``(p, q) <- (C p + I S q, C q - S p)`` with C = cos(sqrt(I) T),
    S = sin(sqrt(I) T)/sqrt(I) (cosh/sinh for I < 0; C = 1, S = T for I = 0).
    The neuron fires in the step when u = C(t) q - S(t) p has a zero in (0, T]
    (v passes through infinity, theta through pi): for I > 0 when
    sqrt(I) T >= pi/2 - atan2(p, sqrt(I) q); for I < 0 when p > 0 and
    sqrt(-I) q <= p tanh(sqrt(-I) T); for I = 0 when p > 0 and q <= p T.  At
    most one spike is reported per step.
    """

    model_name = "ThetaNeuron"
    aliases = ("theta", "ermentrout_kopell")
    category = "oscillator"
    reference = ("G. B. Ermentrout & N. Kopell (1986), SIAM J. Appl. Math. 46:233-253; "
                 "B. Ermentrout (1996), Neural Comput. 8:979-1001")
    state_variables = {"theta": 0.0}
    state_units = {"theta": "rad"}
    voltage_variable = "theta"
    current_unit = "1 (dimensionless drive)"
    default_dt = 0.01

    tau = Real(1.0, bounds=(1e-6, None), unit="ms", doc="time constant (period = pi tau / sqrt(I))")
    theta_init = Real(0.0, bounds=(-math.pi, math.pi), inclusive_bounds=(True, False), unit="rad",
                      doc="initial phase")

    def initial_state(self, n):
        return {"theta": np.full(n, self.theta_init)}

    checks_current = True

    @staticmethod
    def dynamics(p, I, noise, dt, theta):
        t = dt / p.tau
        pos = I > 0.0
        neg = I < 0.0
        s = np.sqrt(np.abs(I))
        s_safe = np.where(s > 0.0, s, 1.0)
        st = s * t
        c = np.where(pos, np.cos(st), np.where(neg, np.cosh(st), 1.0))
        sn = np.where(pos, np.sin(st) / s_safe, np.where(neg, np.sinh(st) / s_safe, t))
        sp, q = np.sin(0.5 * theta), np.cos(0.5 * theta)  # q >= 0 since theta in [-pi, pi)
        fire_pos = st >= 0.5 * np.pi - np.arctan2(sp, s * q)
        fire_neg = (sp > 0.0) & (s * q <= sp * np.tanh(st))
        fire_zero = (sp > 0.0) & (q <= sp * t)
        spikes = np.where(pos, fire_pos, np.where(neg, fire_neg, fire_zero))
        new = 2.0 * np.arctan2(c * sp + I * sn * q, c * q - sn * sp)
        # back into [-pi, pi) by an exact +-2 pi (new is in [-2 pi, 2 pi]): np.mod(new + pi) rounds, and
        # sent a phase one ulp short of pi to -pi, the far side of the spike it had not yet fired
        return spikes, np.where(new >= np.pi, new - 2.0 * np.pi, np.where(new < -np.pi, new + 2.0 * np.pi, new))
