"""Izhikevich's resonate-and-fire neuron."""

from __future__ import annotations

import numpy as np

from engine.models.base import NeuronModel, Real, register



def rf_propagator(b, w, dt):
    """Exact one-step propagator of ``z' = (b + i w) z + I`` for ``I`` held
    over ``dt``: ``x' = p x - q y + g I``, ``y' = q x + p y + h I``."""
    decay = np.exp(b * dt)
    p, q = decay * np.cos(w * dt), decay * np.sin(w * dt)
    norm = b * b + w * w
    return p, q, ((p - 1.0) * b + q * w) / norm, (q * b - (p - 1.0) * w) / norm


@register
class ResonateAndFire(NeuronModel):
    """Resonate-and-fire neuron (Izhikevich 2001): a damped linear oscillator
    with a firing threshold.

    .. math::
        dz/dt = (b + i\\omega) z + I, \\qquad z = x + i y

    x is current-like, y voltage-like (the plotted "membrane potential").
    When ``y >= y_threshold`` the neuron fires and z is reset to
    ``x_reset + i y_reset``.  b < 0 sets the damping (1/ms) and omega the
    eigenfrequency (rad/ms; default 2 pi / 10 ms), so the neuron is a band-pass
    detector: a pair of input pulses ``2 pi / omega`` apart adds up in phase and
    can fire it, the same pair half a period apart cancels.

    Integration: exact for input held constant over the step,
    ``z <- e^{lambda dt} z + I (e^{lambda dt} - 1) / lambda`` with
    lambda = b + i omega, written in real arithmetic; any dt is accurate.  The
    threshold is checked at the end of each step.
    """

    model_name = "ResonateAndFireNeuron"
    aliases = ("resonate_and_fire", "rf")
    category = "oscillator"
    reference = "E. M. Izhikevich (2001), 'Resonate-and-fire neurons', Neural Networks 14:883-894"
    state_variables = {"x": 0.0, "y": 0.0}
    state_units = {"x": "a.u.", "y": "a.u."}
    voltage_variable = "y"
    current_unit = "a.u./ms"
    phase_plane = ("x", "y")
    default_dt = 0.1

    b = Real(-0.05, bounds=(-100.0, 0.0), unit="1/ms", doc="damping rate (<= 0)")
    omega = Real(2.0 * np.pi / 10.0, bounds=(1e-6, None), unit="rad/ms", doc="eigenfrequency")
    y_threshold = Real(1.0, unit="a.u.", doc="firing threshold on y")
    x_reset = Real(0.0, unit="a.u.", doc="x after a spike")
    y_reset = Real(0.0, unit="a.u.", doc="y after a spike")

    @property
    def period(self) -> float:
        """Resonant (eigen) period 2 pi / omega, in ms."""
        return 2.0 * np.pi / self.omega

    def propagator(self, dt: float) -> tuple[float, float, float, float]:
        """(p, q, g, h) of the exact step (see :func:`rf_propagator`)."""
        return rf_propagator(self.b, self.omega, dt)

    checks_current = True

    @staticmethod
    def constants(p, dt):
        pp, q, g, h = rf_propagator(p.b, p.omega, dt)
        return {"prop_p": pp, "prop_q": q, "prop_g": g, "prop_h": h}

    @staticmethod
    def dynamics(p, I, noise, dt, x, y):
        x_new = p.prop_p * x - p.prop_q * y + p.prop_g * I
        y_new = p.prop_q * x + p.prop_p * y + p.prop_h * I
        spikes = y_new >= p.y_threshold
        return spikes, np.where(spikes, p.x_reset, x_new), np.where(spikes, p.y_reset, y_new)
