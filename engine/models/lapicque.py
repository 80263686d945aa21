"""Lapicque's RC integrate-and-fire neuron."""

from __future__ import annotations

import numpy as np

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

    def step(self, state, current, dt, rng=None):
        v, ref = state["v"], state["refractory"]
        decay = np.exp(-dt / self.tau)
        v_inf = self.v_rest + self.resistance * current
        active = ref <= 0
        v_new = v_inf + (v - v_inf) * decay
        np.copyto(v, v_new, where=active)
        spikes = active & (v >= self.v_threshold)
        np.subtract(ref, 1.0, out=ref, where=~active)
        v[spikes] = self.v_reset
        ref[spikes] = self.refractory_period
        return spikes.astype(np.float64)
