"""Rulkov's two-dimensional chaotic spiking-bursting map."""

from __future__ import annotations

import numpy as np

from engine.models.base import NeuronModel, Real, register


@register
class RulkovMap(NeuronModel):
    """Rulkov map (Rulkov 2001, 2002): a fast 1-D map driven by a slow variable.

    .. math::
        x_{n+1} = \\alpha / (1 + x_n^2) + y_n + \\beta_e I_n, \\qquad
        y_{n+1} = y_n - \\mu (x_n + 1) + \\mu (\\sigma + \\sigma_e I_n)

    One call of :meth:`step` is one iteration (``dt`` is ignored;
    ``uses_dt = False``).  x is the fast "membrane potential", y the slow
    variable (mu << 1); the input enters both, through the gains beta_e and
    sigma_e, as in Rulkov (2002).

    Regimes (mu = 0.001; the fixed point is x* = sigma - 1,
    y* = x* - alpha / (1 + x*^2)): it is stable -- silence -- while the fast map's
    slope there is below one, 2 alpha |x*| / (1 + x*^2)^2 < 1 - mu, i.e. for
    sigma < -0.63 at alpha = 4.1 (sigma < -0.71 at alpha = 4.5).  Just above
    that threshold alpha > 4 gives chaotic bursting: bursts of tens of spikes
    separated by hundreds of silent iterations (defaults alpha = 4.1,
    sigma = -0.4: ~20 spikes per burst, ~270 iterations between bursts); at
    larger sigma (e.g. alpha = 4.5, sigma = 0.6) the neuron spikes tonically.

    A spike is an upward crossing of ``x_spike`` (0) by x between iterations.
    """

    model_name = "RulkovMapNeuron"
    aliases = ("rulkov", "rulkov_map")
    category = "map"
    reference = ("N. F. Rulkov (2001), Phys. Rev. Lett. 86:183-186; N. F. Rulkov (2002), "
                 "Phys. Rev. E 65:041922; A. L. Shilnikov & N. F. Rulkov (2003), "
                 "Int. J. Bifurcation Chaos 13:3325-3340")
    state_variables = {"x": -1.0, "y": -3.0}
    state_units = {"x": "a.u.", "y": "a.u."}
    voltage_variable = "x"
    current_unit = "a.u."
    uses_dt = False
    phase_plane = ("x", "y")
    default_dt = 1.0

    alpha = Real(4.1, bounds=(0.0, 10.0), unit="1", doc="nonlinearity of the fast map (> 4: chaotic bursts)")
    mu = Real(0.001, bounds=(0.0, 0.1), unit="1", doc="rate of the slow variable")
    sigma = Real(-0.4, bounds=(-5.0, 5.0), unit="a.u.", doc="slow-variable target (excitability)")
    beta_e = Real(1.0, bounds=(0.0, None), unit="1", doc="gain of the input on x")
    sigma_e = Real(1.0, bounds=(0.0, None), unit="1", doc="gain of the input on sigma")
    x_init = Real(-1.0, bounds=(-10.0, 10.0), unit="a.u.", doc="initial x")
    y_init = Real(-3.0, bounds=(-10.0, 10.0), unit="a.u.", doc="initial y")
    x_spike = Real(0.0, unit="a.u.", doc="spike detection threshold (upward crossing)")

    def initial_state(self, n):
        return {"x": np.full(n, self.x_init), "y": np.full(n, self.y_init)}

    checks_current = True

    @staticmethod
    def dynamics(p, I, noise, dt, x, y):
        x_new = p.alpha / (1.0 + x * x) + y + p.beta_e * I
        y_new = y - p.mu * (x + 1.0 - p.sigma - p.sigma_e * I)
        spikes = (x < p.x_spike) & (x_new >= p.x_spike)
        return spikes, x_new, y_new
