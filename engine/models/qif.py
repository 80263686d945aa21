"""Quadratic integrate-and-fire neuron."""

from __future__ import annotations

import numpy as np

from engine.models._form import hold, refractory_count, spike_reset
from engine.models.base import Count, NeuronModel, Real, register


@register
class QIF(NeuronModel):
    """Quadratic integrate-and-fire neuron, the normal form of a saddle-node
    on invariant circle bifurcation (Ermentrout & Kopell 1986; Latham et al.
    2000).

    .. math::
        \\tau_m\\, dV/dt = a_0 (V - V_{rest})(V - V_c) + R I

    Spike when ``V >= V_peak``; then ``V = V_reset`` and ``V`` is held for
    ``refractory_period`` steps.  Forward Euler.  The quadratic is smallest
    at ``(V_rest + V_c)/2``, so constant input makes the neuron fire iff
    ``R I > a_0 (V_c - V_rest)^2 / 4`` (see :meth:`rheobase`).
    Units: mV, ms, MOhm, nA, ``a_0`` in 1/mV.
    """

    model_name = "QIFNeuron"
    aliases = ("qif", "quadratic_if")
    reference = ("G. B. Ermentrout & N. Kopell (1986), SIAM J. Appl. Math. 46:233-253; P. E. Latham, "
                 "B. J. Richmond, P. G. Nelson & S. Nirenberg (2000), J. Neurophysiol. 83:808-827")
    state_variables = {"v": -65.0, "refractory": 0.0}
    state_units = {"v": "mV", "refractory": "steps"}
    current_unit = "nA"
    current_range = (0.0, 1.0)
    default_dt = 0.1

    tau_m = Real(10.0, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms", doc="membrane time constant")
    resistance = Real(10.0, bounds=(0.0, None), unit="MOhm", doc="membrane resistance")
    a0 = Real(0.04, bounds=(0.0, None), inclusive_bounds=(False, True), unit="1/mV", doc="curvature")
    V_rest = Real(-65.0, unit="mV", doc="stable resting potential")
    V_c = Real(-50.0, unit="mV", doc="critical (unstable) potential")
    V_reset = Real(-70.0, unit="mV", doc="reset potential")
    V_peak = Real(30.0, unit="mV", doc="spike detection (cut-off) potential")
    refractory_period = Count(0, doc="steps held at V_reset after a spike")

    def rheobase(self) -> float:
        """Smallest constant current (nA) that makes the neuron fire."""
        return self.a0 * (self.V_c - self.V_rest) ** 2 / 4.0 / self.resistance

    def initial_state(self, n):
        return {"v": np.full(n, self.V_rest, dtype=np.float64), "refractory": np.zeros(n, dtype=np.float64)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, refractory):
        active = refractory <= 0.0
        drive = p.a0 * (v - p.V_rest) * (v - p.V_c) + p.resistance * I
        v_new = hold(active, v + dt * drive / p.tau_m, v)
        spikes = active & (v_new >= p.V_peak)
        return spikes, spike_reset(spikes, v_new, p.V_reset), refractory_count(refractory, spikes,
                                                                               p.refractory_period)
