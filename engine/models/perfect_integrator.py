"""Perfect (non-leaky) integrate-and-fire neuron."""

from __future__ import annotations

import numpy as np

from engine.models._form import hold, refractory_count, spike_reset
from engine.models.base import Count, NeuronModel, Real, register


@register
class PerfectIntegrator(NeuronModel):
    """Perfect (non-leaky) integrate-and-fire neuron (Gerstein & Mandelbrot
    1964; Stein 1965).

    .. math::
        C\\, dv/dt = I

    Exact for input constant over a step: ``v += I*dt/C``.  Spike when
    ``v >= v_threshold``; then ``v = v_reset`` and ``v`` is held for
    ``refractory_period`` steps.  Under constant ``I > 0`` from
    ``v = v_reset`` it fires every ``ceil(C*(v_threshold - v_reset)/(I*dt))``
    steps (plus the refractory period): the rate is linear in ``I``.
    """

    model_name = "PerfectIntegratorNeuron"
    aliases = ("perfect_integrator", "nonleaky_if", "if")
    reference = ("G. L. Gerstein & B. Mandelbrot (1964), Random walk models for the spike activity of a single "
                 "neuron, Biophys. J. 4:41-68; R. B. Stein (1965), Biophys. J. 5:173-194")
    state_variables = {"v": 0.0, "refractory": 0.0}
    state_units = {"v": "a.u.", "refractory": "steps"}
    current_unit = "a.u. (v*C per ms)"
    current_range = (0.0, 0.5)

    capacitance = Real(1.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="a.u.", doc="capacitance C")
    v_reset = Real(0.0, unit="a.u.", doc="initial and post-spike potential")
    v_threshold = Real(1.0, unit="a.u.", doc="spike threshold")
    refractory_period = Count(0, doc="steps held at v_reset after a spike")

    def initial_state(self, n):
        return {"v": np.full(n, self.v_reset, dtype=np.float64), "refractory": np.zeros(n, dtype=np.float64)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, refractory):
        active = refractory <= 0.0
        v_new = hold(active, v + I * dt / p.capacitance, v)
        spikes = active & (v_new >= p.v_threshold)
        return spikes, spike_reset(spikes, v_new, p.v_reset), refractory_count(refractory, spikes,
                                                                               p.refractory_period)
