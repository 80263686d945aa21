"""Hindmarsh-Rose bursting neuron."""

from __future__ import annotations

import numpy as np

from engine.models.base import NeuronModel, Real, register
from engine.models._form import rk4_cross3



def _hr_rhs(p, I, x, y, z):
    x2 = x * x
    return y - p.a * x2 * x + p.b * x2 - z + I, p.c - p.d * x2 - y, p.r * (p.s * (x - p.x_r) - z)


@register
class HindmarshRose(NeuronModel):
    """Hindmarsh-Rose (1984) three-variable bursting model.

    .. math::
        dx/dt = y - a x^3 + b x^2 - z + I, \\quad
        dy/dt = c - d x^2 - y, \\quad
        dz/dt = r [s (x - x_R) - z]

    Dimensionless; one unit of model time is read as 1 ms.  Defaults a = 1,
    b = 3, c = 1, d = 5, s = 4, x_R = -1.6, r = 0.001 are the standard
    bursting values.  For I ~ 1.3-3 the model fires square-wave bursts
    (I = 2: 9 spikes per burst with ISIs of 12-31, ~300 time units of silence
    between bursts); I ~ 3.25 gives irregular bursting and a larger r shortens
    the bursts (r = 0.005: 3 spikes at I = 2); I = 1 rests and I = 4 spikes
    tonically.  The fast (x, y) subsystem spikes; the slow z terminates and
    restarts the bursts.

    Integration: RK4, input held over the step, internal substeps of at most
    ``max_substep`` (0.05).  Spike = upward crossing of ``x_spike`` (1.0) in any
    substep.
    """

    model_name = "HindmarshRoseNeuron"
    aliases = ("hindmarsh_rose", "hr")
    category = "oscillator"
    reference = ("J. L. Hindmarsh & R. M. Rose (1984), Proc. R. Soc. Lond. B 221:87-102; "
                 "square-wave bursting: E. M. Izhikevich (2007), Dynamical Systems in Neuroscience, ch. 9")
    state_variables = {"x": -1.6, "y": -11.8, "z": 0.0}
    state_units = {"x": "a.u.", "y": "a.u.", "z": "a.u."}
    voltage_variable = "x"
    current_unit = "a.u."
    phase_plane = None  # three-dimensional: no planar nullclines
    default_dt = 0.05

    a = Real(1.0, bounds=(0.0, None), unit="1", doc="cubic coefficient")
    b = Real(3.0, unit="1", doc="quadratic coefficient (switches bursting/spiking)")
    c = Real(1.0, unit="1", doc="recovery offset")
    d = Real(5.0, unit="1", doc="recovery coupling")
    r = Real(0.001, bounds=(0.0, 1.0), unit="1/ms", doc="slow adaptation rate")
    s = Real(4.0, unit="1", doc="adaptation coupling")
    x_r = Real(-1.6, unit="a.u.", doc="adaptation reference potential")
    x_spike = Real(1.0, unit="a.u.", doc="spike detection threshold (upward crossing)")
    max_substep = Real(0.05, bounds=(1e-3, 0.1), unit="ms", doc="longest internal RK4 substep")
    checks_current = True

    @staticmethod
    def dynamics(p, I, noise, dt, x, y, z):
        return rk4_cross3(_hr_rhs, p, I, dt, p.max_substep, p.x_spike, x, y, z)
