"""Leaky integrate-and-fire neuron with a spike-triggered dynamic threshold."""

from __future__ import annotations

import numpy as np

from engine.models._form import hold, refractory_count, spike_reset
from engine.models.base import Count, NeuronModel, Real, register


@register
class AdaptiveThresholdIF(NeuronModel):
    """LIF neuron with a dynamic threshold (Chacron, Pakdaman & Longtin 2003).

    .. math::
        \\tau_m\\, dv/dt = -(v - v_{rest}) + R I, \\qquad
        \\tau_\\theta\\, d\\theta/dt = -(\\theta - \\theta_0)

    Both are integrated exactly for input constant over a step.  Spike when
    ``v >= theta`` (after the update); then ``v = v_reset``,
    ``theta += delta_theta`` and ``v`` is held for ``refractory_period``
    steps.  Each spike raises the threshold, which relaxes back to
    ``theta_0``: spike-frequency adaptation and negative ISI correlations.
    """

    model_name = "AdaptiveThresholdIFNeuron"
    aliases = ("adaptive_threshold_if", "dynamic_threshold_lif")
    reference = ("M. J. Chacron, K. Pakdaman & A. Longtin (2003), Interspike interval correlations, memory, "
                 "adaptation, and refractoriness in a leaky model with dynamic threshold, "
                 "Neural Comput. 15:253-278")
    state_variables = {"v": 0.0, "theta": 1.0, "refractory": 0.0}
    state_units = {"v": "a.u.", "theta": "a.u.", "refractory": "steps"}
    current_unit = "a.u. (v per unit R)"
    current_range = (0.0, 4.0)
    phase_plane = ("v", "theta")

    tau_m = Real(20.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms", doc="membrane time constant")
    tau_theta = Real(100.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms",
                     doc="threshold relaxation time constant")
    resistance = Real(1.0, bounds=(0.0, None), unit="a.u.", doc="membrane resistance R")
    v_rest = Real(0.0, unit="a.u.", doc="resting potential")
    v_reset = Real(0.0, unit="a.u.", doc="potential after a spike")
    theta_0 = Real(1.0, unit="a.u.", doc="resting threshold")
    delta_theta = Real(0.2, bounds=(0.0, None), unit="a.u.", doc="threshold jump per spike")
    refractory_period = Count(0, doc="steps held at v_reset after a spike")

    def initial_state(self, n):
        return {"v": np.full(n, self.v_rest, dtype=np.float64), "theta": np.full(n, self.theta_0, dtype=np.float64),
                "refractory": np.zeros(n, dtype=np.float64)}

    @staticmethod
    def constants(p, dt):
        return {"decay_m": np.exp(-dt / p.tau_m), "decay_theta": np.exp(-dt / p.tau_theta)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, theta, refractory):
        active = refractory <= 0.0
        v_inf = p.v_rest + p.resistance * I
        v_new = hold(active, v_inf + (v - v_inf) * p.decay_m, v)
        theta_new = p.theta_0 + (theta - p.theta_0) * p.decay_theta
        spikes = active & (v_new >= theta_new)
        return (spikes, spike_reset(spikes, v_new, p.v_reset), spike_reset(spikes, theta_new, theta_new + p.delta_theta),
                refractory_count(refractory, spikes, p.refractory_period))
