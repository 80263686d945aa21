"""Adaptive exponential integrate-and-fire neuron."""

from __future__ import annotations

import numpy as np

from engine.models._form import hold, refractory_count, spike_reset
from engine.models.base import Count, NeuronModel, Real, register

#: largest exponent used; exp(50) is only reached far above spike onset, and
#: the cap keeps one Euler step from overflowing when delta_T is tiny
EXP_CAP = 50.0


@register
class AdEx(NeuronModel):
    """Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005).

    .. math::
        C\\, dV/dt = -g_L (V - E_L) + g_L \\Delta_T e^{(V - V_T)/\\Delta_T} - w + I

        \\tau_w\\, dw/dt = a (V - E_L) - w

    Spike when ``V >= V_peak``; then ``V = V_reset``, ``w += b`` and ``V`` is
    held for ``refractory_period`` steps.  Units: pF, nS, mV, ms, pA.
    Forward Euler with ``w`` updated from the old ``V``; the exponent is
    capped at 50 (see ``EXP_CAP``).  Defaults: the paper's Table 1 cortical
    pyramidal cell (regular spiking with adaptation).
    """

    model_name = "AdExNeuron"
    aliases = ("adex", "aeif")
    reference = ("R. Brette & W. Gerstner (2005), Adaptive exponential integrate-and-fire model as an "
                 "effective description of neuronal activity, J. Neurophysiol. 94:3637-3642")
    state_variables = {"v": -70.6, "w": 0.0, "refractory": 0.0}
    state_units = {"v": "mV", "w": "pA", "refractory": "steps"}
    current_unit = "pA"
    current_range = (0.0, 1500.0)
    phase_plane = ("v", "w")
    default_dt = 0.1

    C = Real(281.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="pF", doc="membrane capacitance")
    g_L = Real(30.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="nS", doc="leak conductance")
    E_L = Real(-70.6, unit="mV", doc="leak reversal potential")
    V_T = Real(-50.4, unit="mV", doc="threshold slope potential")
    delta_T = Real(2.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="mV", doc="slope factor")
    tau_w = Real(144.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms",
                 doc="adaptation time constant")
    a = Real(4.0, unit="nS", doc="subthreshold adaptation")
    b = Real(80.5, unit="pA", doc="spike-triggered adaptation")
    V_reset = Real(-70.6, unit="mV", doc="reset potential")
    V_peak = Real(20.0, unit="mV", doc="spike detection (cut-off) potential")
    refractory_period = Count(0, doc="steps held at V_reset after a spike")

    def initial_state(self, n):
        return {"v": np.full(n, self.E_L, dtype=np.float64), "w": np.zeros(n, dtype=np.float64),
                "refractory": np.zeros(n, dtype=np.float64)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, w, refractory):
        active = refractory <= 0.0
        spike_current = p.g_L * p.delta_T * np.exp(np.minimum((v - p.V_T) / p.delta_T, EXP_CAP))
        dv = (-p.g_L * (v - p.E_L) + spike_current - w + I) / p.C
        w_new = w + dt * (p.a * (v - p.E_L) - w) / p.tau_w  # w evolves while refractory too
        v_new = hold(active, v + dt * dv, v)
        spikes = active & (v_new >= p.V_peak)
        return (spikes, spike_reset(spikes, v_new, p.V_reset), spike_reset(spikes, w_new, w_new + p.b),
                refractory_count(refractory, spikes, p.refractory_period))
