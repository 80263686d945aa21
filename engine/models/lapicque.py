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
        # Few, in-place NumPy calls: per-call overhead dominates a step of a
        # few thousand neurons.  The arithmetic is exactly
        # v_inf + (v - v_inf) * decay (the torch backend and LapicqueCell
        # mirror that order, so all three agree bit for bit).
        v, ref = state["v"], state["refractory"]
        decay = np.exp(-dt / self.tau)
        v_inf = current * self.resistance
        v_inf += self.v_rest
        v_new = v - v_inf
        v_new *= decay
        v_new += v_inf
        if self.refractory_period == 0 and not ref.any():
            v[...] = v_new
            spikes = v >= self.v_threshold
        else:
            active = ref <= 0
            np.copyto(v, v_new, where=active)
            spikes = v >= self.v_threshold
            spikes &= active
            ref -= 1.0  # counts down the refractory neurons; active ones clip back to 0
            np.maximum(ref, 0.0, out=ref)
        fired = np.flatnonzero(spikes)
        if fired.size:
            v[fired] = self.v_reset
            ref[fired] = self.refractory_period
        return spikes.astype(np.float64)
