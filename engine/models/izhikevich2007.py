"""Izhikevich's simple model in the dimensional form of his 2007 book."""

from __future__ import annotations

import numpy as np

from engine.models._form import spike_reset
from engine.models.base import NeuronModel, Real, register


@register
class Izhikevich2007(NeuronModel):
    """Izhikevich simple model, dimensional form (Izhikevich 2007, ch. 8).

    .. math::
        C\\, dv/dt = k (v - v_r)(v - v_t) - u + I, \\qquad du/dt = a (b (v - v_r) - u)

    Spike when ``v >= vpeak``; then ``v = c``, ``u += d``.  Units: pF, nS/mV,
    mV, ms, pA.  Forward Euler, both variables from the old state.  Starts at
    ``v = vr, u = 0``.

    Presets (:attr:`presets`, from the book's section 8.2):

    * ``RS`` regular-spiking layer-5 pyramidal cell (the defaults):
      C=100, k=0.7, vr=-60, vt=-40, vpeak=35, a=0.03, b=-2, c=-50, d=100;
    * ``IB`` intrinsically bursting: C=150, k=1.2, vr=-75, vt=-45, vpeak=50,
      a=0.01, b=5, c=-56, d=130;
    * ``CH`` chattering: C=50, k=1.5, vr=-60, vt=-40, vpeak=25, a=0.03, b=1,
      c=-40, d=150;
    * ``FS`` fast-spiking interneuron: C=20, k=1, vr=-55, vt=-40, vpeak=25,
      a=0.2, b=0.025, c=-45, d=0.  The book's FS cell has a cubic
      u-nullcline ``0.025 (v - vb)^3`` above ``vb = -55``; this linear form
      keeps the weak coupling ``b = 0.025`` and ``d = 0``, so it fires tonic,
      non-adapting, high-rate trains but faster than the book's cell at the
      same current.
    """

    model_name = "Izhikevich2007Neuron"
    aliases = ("izhikevich2007",)
    reference = ("E. M. Izhikevich (2007), Dynamical Systems in Neuroscience: The Geometry of Excitability "
                 "and Bursting, MIT Press, ch. 8, eqs. 8.5-8.6")
    state_variables = {"v": -60.0, "u": 0.0}
    state_units = {"v": "mV", "u": "pA"}
    current_unit = "pA"
    current_range = (0.0, 600.0)
    phase_plane = ("v", "u")
    default_dt = 0.1
    presets = {
        "RS": dict(C=100.0, k=0.7, vr=-60.0, vt=-40.0, vpeak=35.0, a=0.03, b=-2.0, c=-50.0, d=100.0),
        "IB": dict(C=150.0, k=1.2, vr=-75.0, vt=-45.0, vpeak=50.0, a=0.01, b=5.0, c=-56.0, d=130.0),
        "CH": dict(C=50.0, k=1.5, vr=-60.0, vt=-40.0, vpeak=25.0, a=0.03, b=1.0, c=-40.0, d=150.0),
        "FS": dict(C=20.0, k=1.0, vr=-55.0, vt=-40.0, vpeak=25.0, a=0.2, b=0.025, c=-45.0, d=0.0),
    }

    C = Real(100.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="pF", doc="membrane capacitance")
    k = Real(0.7, bounds=(0.0, None), unit="nS/mV", doc="curvature of the v-nullcline")
    vr = Real(-60.0, unit="mV", doc="resting potential")
    vt = Real(-40.0, unit="mV", doc="instantaneous threshold potential")
    vpeak = Real(35.0, unit="mV", doc="spike cut-off")
    a = Real(0.03, bounds=(0.0, None), unit="1/ms", doc="recovery rate")
    b = Real(-2.0, unit="nS", doc="sensitivity of u to v")
    c = Real(-50.0, unit="mV", doc="reset potential")
    d = Real(100.0, unit="pA", doc="jump of u after a spike")

    def initial_state(self, n):
        return {"v": np.full(n, self.vr, dtype=np.float64), "u": np.zeros(n, dtype=np.float64)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, u):
        # forward Euler, both variables from the old state
        v_new = v + dt * (p.k * (v - p.vr) * (v - p.vt) - u + I) / p.C
        u_new = u + dt * p.a * (p.b * (v - p.vr) - u)
        spikes = v_new >= p.vpeak
        return spikes, spike_reset(spikes, v_new, p.c), spike_reset(spikes, u_new, u_new + p.d)
