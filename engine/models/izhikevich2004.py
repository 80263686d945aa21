"""Izhikevich's simple model in the general form of his 2004 Fig. 1 code."""

from __future__ import annotations

import numpy as np

from engine.models._form import spike_reset
from engine.models.base import NeuronModel, Real, register

V_PEAK = 30.0  # mV, spike cut-off of the 2004 figure code


@register
class Izhikevich2004(NeuronModel):
    """Izhikevich simple model as run for the 20 panels of Izhikevich (2004), Fig. 1.

    .. math::
        v' = k_2 v^2 + k_1 v + k_0 - u + I, \\qquad u' = a\\,(b\\,(v - v_u) - u_{decay}\\,u)

    with ``v`` in mV, ``t`` in ms.  Spike when ``v >= 30``; then ``v = c``,
    ``u += d``.  Starts at ``v = c``, ``u = b (c - v_u)``.

    The defaults (``k2 = 0.04, k1 = 5, k0 = 140, v_u = 0, u_decay = 1``) are
    the 2003 model (:class:`~engine.models.sc_izhikevich.SCIzhikevich`'s
    equation).  The other panels of the figure need what that model's fixed
    equation cannot express: class 1 excitability and the integrator use the
    quadratic ``0.04 v^2 + 4.1 v + 108``; accommodation uses
    ``u' = a b (v + 65)`` (``v_u = -65, u_decay = 0``); inhibition-induced
    spiking and bursting use a negative ``a``.

    Integration is the figure code's forward Euler: ``v`` advances first and
    ``u`` is then updated from the *new* ``v``; spike detection and reset
    follow both updates.  The figure uses a step of 0.25 ms for most panels
    (0.5, 0.2 or 0.1 ms for some; each preset carries its own).
    """

    model_name = "Izhikevich2004Neuron"
    aliases = ("izhikevich2004",)
    reference = ("E. M. Izhikevich (2004), Which model to use for cortical spiking neurons? "
                 "IEEE Trans. Neural Netw. 15:1063-1070, Fig. 1 and its published code")
    state_variables = {"v": -65.0, "u": -13.0}
    state_units = {"v": "mV", "u": "mV/ms"}
    current_unit = "mV/ms (a.u.)"
    current_range = (0.0, 15.0)
    phase_plane = ("v", "u")
    default_dt = 0.25

    a = Real(0.02, unit="1/ms", doc="recovery rate of u (negative in the inhibition-induced panels)")
    b = Real(0.2, unit="1/ms", doc="sensitivity of u to v")
    c = Real(-65.0, unit="mV", doc="reset potential")
    d = Real(6.0, unit="mV/ms", doc="jump of u after a spike")
    k2 = Real(0.04, bounds=(0.0, None), inclusive_bounds=(False, True), unit="1/(mV ms)",
              doc="quadratic coefficient of v'")
    k1 = Real(5.0, unit="1/ms", doc="linear coefficient of v'")
    k0 = Real(140.0, unit="mV/ms", doc="constant term of v'")
    v_u = Real(0.0, unit="mV", doc="voltage offset in u' (-65 in the accommodation panel)")
    u_decay = Real(1.0, bounds=(0.0, None), unit="", doc="weight of u's own decay in u' (0 in the accommodation panel)")

    def initial_state(self, n):
        return {"v": np.full(n, self.c, dtype=np.float64),
                "u": np.full(n, self.b * (self.c - self.v_u), dtype=np.float64)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, u):
        # the figure code's order: v first, then u from the updated v
        v_new = v + dt * (p.k2 * v * v + p.k1 * v + p.k0 - u + I)
        # a huge input can overshoot v to inf: still a spike, and the reset clears v, but u
        # would keep it; the cap leaves every value short of 1e12 mV as it is
        u_new = u + dt * p.a * (p.b * (np.minimum(v_new, 1e12) - p.v_u) - p.u_decay * u)
        spikes = v_new >= V_PEAK
        return spikes, spike_reset(spikes, v_new, p.c), spike_reset(spikes, u_new, u_new + p.d)
