"""The reference system's noisy leaky integrate-and-fire neuron (Euler form)."""

from __future__ import annotations

import math

import numpy as np

from engine.models._form import hold, refractory_count, spike_reset
from engine.models.base import Count, NeuronModel, Real, register


def lif_euler(p, I, noise, dt, threshold, v, refractory):
    """One Euler(-Maruyama) step of the reference LIF with ``threshold`` (a
    parameter or the homeostatic state): ``(spikes, v, refractory)``."""
    active = refractory <= 0.0
    # same operation order as the reference scalar update, so results are bit-identical
    dv = -(v - p.v_rest) * dt / p.tau_mem + p.resistance * I * dt + noise
    v_new = hold(active, v + dv, p.v_rest)
    spikes = active & (v_new >= threshold)
    return spikes, spike_reset(spikes, v_new, p.v_reset), refractory_count(refractory, spikes, p.refractory_period)


@register
class StochasticLIF(NeuronModel):
    """Leaky integrate-and-fire neuron with additive Gaussian noise
    (Gerstner & Kistler 2002), forward Euler(-Maruyama) as in the reference API.

    .. math::
        \\tau_{mem}\\, dv/dt = -(v - v_{rest}) + \\tau_{mem} R I + \\text{noise}

    One step of ``dt`` ms for a neuron that is not refractory::

        v += -(v - v_rest)*dt/tau_mem + resistance*I*dt + N(0, noise_std*sqrt(dt))

    Spike when ``v >= v_threshold``; then ``v = v_reset`` and the refractory
    counter is set to ``refractory_period``.  While the counter is positive it
    counts down, ``v`` is held at ``v_rest`` and no noise is drawn.
    Without noise the neuron fires for ``R*I*tau_mem > v_threshold - v_rest``.
    """

    model_name = "StochasticLIFNeuron"
    aliases = ("stochastic_lif", "noisy_lif")
    category = "reference"
    reference = ("W. Gerstner & W. M. Kistler (2002), Spiking Neuron Models, Cambridge Univ. Press, "
                 "ch. 4.1 (LIF) and 5.5 (diffusive noise)")
    state_variables = {"v": 0.0, "refractory": 0.0}
    state_units = {"v": "a.u.", "refractory": "steps"}
    current_unit = "a.u. (v per unit R per ms)"
    current_range = (0.0, 0.2)

    v_rest = Real(0.0, unit="a.u.", doc="resting potential (also held while refractory)")
    v_reset = Real(0.0, unit="a.u.", doc="potential after a spike")
    v_threshold = Real(1.0, unit="a.u.", doc="spike threshold")
    tau_mem = Real(20.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms",
                   doc="membrane time constant")
    resistance = Real(1.0, bounds=(0.0, None), unit="a.u.", doc="membrane resistance R")
    noise_std = Real(0.0, bounds=(0.0, None), unit="a.u./sqrt(ms)",
                     doc="noise amplitude; per-step std is noise_std*sqrt(dt)")
    refractory_period = Count(0, doc="steps held at v_rest after a spike")

    def initial_state(self, n):
        return {"v": np.full(n, self.v_rest, dtype=np.float64), "refractory": np.zeros(n, dtype=np.float64)}

    @staticmethod
    def step_noise(p, dt):
        return p.noise_std * math.sqrt(dt)

    @staticmethod
    def draws(p, v, refractory, *rest):
        return refractory <= 0.0  # a refractory neuron draws nothing, as in the reference

    @staticmethod
    def dynamics(p, I, noise, dt, v, refractory):
        return lif_euler(p, I, noise, dt, p.v_threshold, v, refractory)
