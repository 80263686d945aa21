"""Lapicque's RC integrate-and-fire neuron."""

from __future__ import annotations

import numpy as np

from engine.models._form import hold, refractory_count, spike_reset
from engine.models.base import Count, NeuronModel, Real, register


@register
class Lapicque(NeuronModel):
    """RC integrate-and-fire neuron (Lapicque 1907).

    .. math::
        \\tau \\, dv/dt = -(v - v_{rest}) + R I

    Integrated exactly for input held constant over a step:
    ``v <- v_inf + (v - v_inf) * exp(-dt/tau)`` with ``v_inf = v_rest + R*I``.
    Spike when ``v >= v_threshold``; then ``v = v_reset`` and the neuron is
    held at ``v_reset`` (input ignored) for ``refractory_period`` steps.
    """

    model_name = "LapicqueNeuron"
    aliases = ("lapicque", "lif", "rc_lif")
    category = "reference"
    reference = ("L. Lapicque (1907), J. Physiol. Pathol. Gen. 9:620-635; "
                 "N. Brunel & M. van Rossum (2007), Biol. Cybern. 97:337-339")
    state_variables = {"v": 0.0, "refractory": 0.0}
    current_unit = "a.u. (v per unit R)"
    current_range = (0.0, 3.0)  # fires above R*I = v_threshold - v_rest = 1

    tau = Real(20.0, bounds=(1e-6, None), unit="ms", doc="membrane time constant R*C")
    resistance = Real(1.0, bounds=(0.0, None), unit="a.u.", doc="membrane resistance R")
    v_rest = Real(0.0, unit="a.u.", doc="resting potential")
    v_reset = Real(0.0, unit="a.u.", doc="potential after a spike")
    v_threshold = Real(1.0, unit="a.u.", doc="spike threshold")
    refractory_period = Count(0, doc="steps held at v_reset after a spike")

    def initial_state(self, n):
        return {"v": np.full(n, self.v_rest, dtype=np.float64), "refractory": np.zeros(n, dtype=np.float64)}

    @staticmethod
    def constants(p, dt):
        return {"decay": np.exp(-dt / p.tau)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, refractory):
        active = refractory <= 0.0
        v_inf = I * p.resistance + p.v_rest
        v_new = hold(active, v_inf + (v - v_inf) * p.decay, v)  # exact for I held over the step
        spikes = active & (v_new >= p.v_threshold)
        return spikes, spike_reset(spikes, v_new, p.v_reset), refractory_count(refractory, spikes,
                                                                               p.refractory_period)
