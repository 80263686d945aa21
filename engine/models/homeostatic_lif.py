"""Stochastic LIF neuron with a homeostatic (firing-rate-tracking) threshold."""

from __future__ import annotations

import numpy as np

from engine.models.base import Real, register
from engine.models.stochastic_lif import StochasticLIF, lif_euler


@register
class HomeostaticLIF(StochasticLIF):
    """Stochastic LIF neuron whose threshold tracks a target firing rate
    (homeostatic intrinsic plasticity, Turrigiano 2012).

    The membrane step is :class:`StochasticLIF`'s, using the neuron's own
    adaptive threshold ``threshold``.  After every step (refractory steps
    included, with ``spike = 0``)::

        rate_trace = rate_trace*trace_decay + spike*(1 - trace_decay)
        threshold += adaptation_rate*(rate_trace - target_rate)
        threshold  = min(max(threshold, threshold_floor), v_threshold*ceiling_multiple)

    ``v_threshold`` is the initial threshold.  A neuron firing faster than
    ``target_rate`` (spikes per step) raises its threshold; a silent one
    lowers it down to the floor.
    """

    model_name = "HomeostaticLIFNeuron"
    aliases = ("homeostatic_lif",)
    reference = ("G. Turrigiano (2012), Homeostatic synaptic plasticity, Cold Spring Harb. Perspect. Biol. "
                 "4:a005736; W. Gerstner & W. M. Kistler (2002), Spiking Neuron Models, ch. 4.1")
    state_variables = {"v": 0.0, "refractory": 0.0, "threshold": 1.0, "rate_trace": 0.0}
    state_units = {"v": "a.u.", "refractory": "steps", "threshold": "a.u.", "rate_trace": "spikes/step"}

    target_rate = Real(0.1, bounds=(0.0, 1.0), unit="spikes/step", doc="firing rate the threshold steers to")
    adaptation_rate = Real(0.01, bounds=(0.0, None), unit="a.u.", doc="threshold change per unit rate error")
    trace_decay = Real(0.95, bounds=(0.0, 1.0), unit="", doc="per-step decay of the rate trace")
    threshold_floor = Real(0.1, unit="a.u.", doc="lowest allowed threshold")
    ceiling_multiple = Real(10.0, bounds=(1.0, None), unit="",
                            doc="highest allowed threshold, as a multiple of v_threshold")

    def initial_state(self, n):
        state = super().initial_state(n)
        state["threshold"] = np.full(n, self.v_threshold, dtype=np.float64)
        state["rate_trace"] = np.zeros(n, dtype=np.float64)
        return state

    @staticmethod
    def dynamics(p, I, noise, dt, v, refractory, threshold, rate_trace):
        spikes, v, refractory = lif_euler(p, I, noise, dt, threshold, v, refractory)
        trace = rate_trace * p.trace_decay + spikes * (1.0 - p.trace_decay)
        adapted = threshold + p.adaptation_rate * (trace - p.target_rate)
        threshold = np.minimum(np.maximum(adapted, p.threshold_floor), p.v_threshold * p.ceiling_multiple)
        return spikes, v, refractory, threshold, trace
