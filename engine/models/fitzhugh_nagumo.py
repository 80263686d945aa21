"""FitzHugh-Nagumo relaxation oscillator."""

from __future__ import annotations

import numpy as np

from engine.models.base import NeuronModel, Real, register
from engine.models._form import rk4_cross2



def _fhn_rhs(p, I, v, w):
    return v - v * v * v / 3.0 - w + I, (v + p.a - p.b * w) / p.tau


@register
class FitzHughNagumo(NeuronModel):
    """FitzHugh-Nagumo model (FitzHugh 1961; Nagumo, Arimoto & Yoshizawa 1962).

    .. math::
        dv/dt = v - v^3/3 - w + I, \\qquad \\tau \\, dw/dt = v + a - b w

    Dimensionless variables; one unit of model time is read as 1 ms (so the
    period in ms equals the dimensionless period).  Defaults a = 0.7, b = 0.8,
    tau = 12.5 are FitzHugh's.  With these, the fixed point is stable for
    I < ~0.33 (excitable rest) and I > ~1.42 (depolarisation block) and the
    model settles on a relaxation limit cycle in between (Hopf bifurcations at
    both ends, where v* = ±sqrt(1 - b/tau)).

    Integration: RK4, input held over the step, internal substeps of at most
    ``max_substep`` (0.1).  Spike = upward crossing of ``v_spike`` (1.0) in
    any substep.
    """

    model_name = "FitzHughNagumoNeuron"
    aliases = ("fitzhugh_nagumo", "fhn")
    category = "oscillator"
    reference = ("R. FitzHugh (1961), Biophys. J. 1:445-466; J. Nagumo, S. Arimoto & "
                 "S. Yoshizawa (1962), Proc. IRE 50:2061-2070")
    state_variables = {"v": -1.1994, "w": -0.6243}
    state_units = {"v": "a.u.", "w": "a.u."}
    voltage_variable = "v"
    current_unit = "a.u."
    phase_plane = ("v", "w")
    default_dt = 0.1

    a = Real(0.7, bounds=(-5.0, 5.0), unit="a.u.", doc="recovery offset")
    b = Real(0.8, bounds=(0.0, 5.0), unit="1", doc="recovery self-coupling")
    tau = Real(12.5, bounds=(1e-3, None), unit="ms", doc="recovery time constant (time-scale separation)")
    v_spike = Real(1.0, unit="a.u.", doc="spike detection threshold (upward crossing)")
    max_substep = Real(0.1, bounds=(1e-3, 0.5), unit="ms", doc="longest internal RK4 substep")
    checks_current = True

    @staticmethod
    def dynamics(p, I, noise, dt, v, w):
        return rk4_cross2(_fhn_rhs, p, I, dt, p.max_substep, p.v_spike, v, w)
