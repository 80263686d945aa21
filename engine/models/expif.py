"""Exponential integrate-and-fire neuron."""

from __future__ import annotations

import numpy as np

from engine.models._form import hold, refractory_count, spike_reset
from engine.models.adex import EXP_CAP
from engine.models.base import Count, NeuronModel, Real, register


@register
class ExpIF(NeuronModel):
    """Exponential integrate-and-fire neuron (Fourcaud-Trocme et al. 2003).

    .. math::
        \\tau_m\\, dV/dt = -(V - E_L) + \\Delta_T e^{(V - V_T)/\\Delta_T} + R I

    Spike when ``V >= V_peak``; then ``V = V_reset`` and ``V`` is held for
    ``refractory_period`` steps.  Forward Euler, exponent capped at 50.
    The right-hand side is smallest at ``V = V_T``, so the neuron fires
    under constant input iff ``R I > V_T - E_L - Delta_T`` (the rheobase,
    see :meth:`rheobase`).  Units: mV, ms, MOhm, nA.
    ``Delta_T = 3.5 mV`` is the paper's fit to cortical pyramidal cells.
    """

    model_name = "ExpIFNeuron"
    aliases = ("expif", "eif")
    reference = ("N. Fourcaud-Trocme, D. Hansel, C. van Vreeswijk & N. Brunel (2003), How spike generation "
                 "mechanisms determine the neuronal response to fluctuating inputs, J. Neurosci. 23:11628-11640")
    state_variables = {"v": -65.0, "refractory": 0.0}
    state_units = {"v": "mV", "refractory": "steps"}
    current_unit = "nA"
    current_range = (0.0, 3.0)
    default_dt = 0.1

    tau_m = Real(10.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms", doc="membrane time constant")
    resistance = Real(10.0, bounds=(0.0, None), unit="MOhm", doc="membrane resistance")
    E_L = Real(-65.0, unit="mV", doc="resting potential")
    V_T = Real(-50.0, unit="mV", doc="threshold slope potential")
    delta_T = Real(3.5, bounds=(0.0, None), inclusive_bounds=(False, True), unit="mV", doc="slope factor")
    V_reset = Real(-68.0, unit="mV", doc="reset potential")
    V_peak = Real(0.0, unit="mV", doc="spike detection (cut-off) potential")
    refractory_period = Count(0, doc="steps held at V_reset after a spike")

    def rheobase(self) -> float:
        """Smallest constant current (nA) that makes the neuron fire."""
        return (self.V_T - self.E_L - self.delta_T) / self.resistance

    def initial_state(self, n):
        return {"v": np.full(n, self.E_L, dtype=np.float64), "refractory": np.zeros(n, dtype=np.float64)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, refractory):
        active = refractory <= 0.0
        spike_term = p.delta_T * np.exp(np.minimum((v - p.V_T) / p.delta_T, EXP_CAP))
        v_new = hold(active, v + dt * (-(v - p.E_L) + spike_term + p.resistance * I) / p.tau_m, v)
        spikes = active & (v_new >= p.V_peak)
        return spikes, spike_reset(spikes, v_new, p.V_reset), refractory_count(refractory, spikes,
                                                                               p.refractory_period)
