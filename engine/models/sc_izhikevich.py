"""Izhikevich's simple model (2003 form) as used by the reference system."""

from __future__ import annotations

import numpy as np
import param

from engine.models._form import spike_reset
from engine.models.base import NeuronModel, Real, register

V_PEAK = 30.0  # mV, spike cut-off of Izhikevich (2003)


def _dv(v, u, current):
    return 0.04 * v * v + 5.0 * v + 140.0 - u + current


def _du(p, v, u):
    return p.a * (p.b * v - u)


@register
class SCIzhikevich(NeuronModel):
    """Izhikevich simple spiking model (Izhikevich 2003).

    .. math::
        v' = 0.04 v^2 + 5 v + 140 - u + I, \\qquad u' = a (b v - u)

    with ``v`` in mV, ``t`` in ms.  Spike when ``v >= 30``; then ``v = c``,
    ``u += d``.  Starts at ``v = c, u = b*c``.

    ``integrator``:

    * ``"baseline_half_euler"`` -- the reference's scheme: two Euler
      half-steps of ``dt/2`` of the whole system; in each, both derivatives
      are evaluated at the current ``(v, u)``, then ``v += dv*dt/2`` and
      ``u += du*dt/2`` (unlike the paper's own code, which holds ``u`` during
      the half-steps of ``v``);
    * ``"rk4"`` -- classical 4th-order Runge-Kutta on ``(v, u)`` over ``dt``.

    ``noise_std > 0`` adds ``N(0, noise_std)`` to ``v`` after the
    integration step (before spike detection), per step and *not* scaled by
    ``dt``, as in the reference.

    Presets (a, b, c, d): regular spiking (0.02, 0.2, -65, 8), intrinsically
    bursting (0.02, 0.2, -55, 4), chattering (0.02, 0.2, -50, 2), fast spiking
    (0.1, 0.2, -65, 2).
    """

    model_name = "SCIzhikevichNeuron"
    aliases = ("sc_izhikevich", "izhikevich", "izhikevich2003")
    category = "reference"
    reference = "E. M. Izhikevich (2003), Simple model of spiking neurons, IEEE Trans. Neural Netw. 14:1569-1572"
    state_variables = {"v": -65.0, "u": -13.0}
    state_units = {"v": "mV", "u": "mV/ms"}
    current_unit = "mV/ms (a.u.)"
    current_range = (0.0, 15.0)
    phase_plane = ("v", "u")
    presets = {
        "RS": {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0},
        "IB": {"a": 0.02, "b": 0.2, "c": -55.0, "d": 4.0},
        "CH": {"a": 0.02, "b": 0.2, "c": -50.0, "d": 2.0},
        "FS": {"a": 0.1, "b": 0.2, "c": -65.0, "d": 2.0},
    }

    a = Real(0.02, bounds=(0.0, None), unit="1/ms", doc="recovery rate of u")
    b = Real(0.2, unit="", doc="sensitivity of u to v")
    c = Real(-65.0, unit="mV", doc="reset potential")
    d = Real(8.0, unit="mV/ms", doc="jump of u after a spike")
    noise_std = Real(0.0, bounds=(0.0, None), unit="mV", doc="std of the noise added to v each step (not scaled by dt)")
    integrator = param.Selector(default="baseline_half_euler", objects=["baseline_half_euler", "rk4"],
                                doc="numerical scheme")

    def initial_state(self, n):
        return {"v": np.full(n, self.c, dtype=np.float64), "u": np.full(n, self.b * self.c, dtype=np.float64)}

    @staticmethod
    def step_noise(p, dt):
        return p.noise_std  # per step, not scaled by dt (SPEC 2.1)

    @staticmethod
    def dynamics(p, I, noise, dt, v, u):
        if p.integrator == "rk4":
            k1v, k1u = _dv(v, u, I), _du(p, v, u)
            v2, u2 = v + 0.5 * dt * k1v, u + 0.5 * dt * k1u
            k2v, k2u = _dv(v2, u2, I), _du(p, v2, u2)
            v3, u3 = v + 0.5 * dt * k2v, u + 0.5 * dt * k2u
            k3v, k3u = _dv(v3, u3, I), _du(p, v3, u3)
            v4, u4 = v + dt * k3v, u + dt * k3u
            k4v, k4u = _dv(v4, u4, I), _du(p, v4, u4)
            v_new = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
            u_new = u + dt / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
        else:
            half = 0.5 * dt
            # both derivatives at the current (v, u), then both advance, twice
            dv, du = _dv(v, u, I), _du(p, v, u)
            v_new, u_new = v + half * dv, u + half * du
            dv, du = _dv(v_new, u_new, I), _du(p, v_new, u_new)
            v_new, u_new = v_new + half * dv, u_new + half * du
        v_new = v_new + noise
        # a huge input can overshoot to inf; that is still a spike and the reset clears it
        spikes = v_new >= V_PEAK
        return spikes, spike_reset(spikes, v_new, p.c), spike_reset(spikes, u_new, u_new + p.d)
