"""Wilson-Cowan excitatory/inhibitory population rate model."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from engine.models.base import NeuronModel, Real, register
from engine.models._form import rk4_step, substeps



def _wc_sigmoid(x, a, theta, s0):
    # exponent capped: past exp(700) the sigmoid is 0 to double precision anyway
    return 1.0 / (1.0 + np.exp(np.minimum(-a * (x - theta), 700.0))) - s0


def _wc_rhs(p, drive, e, i):
    s_e = _wc_sigmoid(p.c1 * e - p.c2 * i + drive, p.a_e, p.theta_e, p.s0_e)
    s_i = _wc_sigmoid(p.c3 * e - p.c4 * i + p.q, p.a_i, p.theta_i, p.s0_i)
    return (-e + (p.k_e - p.r_e * e) * s_e) / p.tau_e, (-i + (p.k_i - p.r_i * i) * s_i) / p.tau_i


@register
class WilsonCowan(NeuronModel):
    """Wilson-Cowan (1972) coupled excitatory (E) / inhibitory (I) populations.

    .. math::
        \\tau_E dE/dt = -E + (k_E - r_E E) S_E(c_1 E - c_2 I + P + I_{ext})

        \\tau_I dI/dt = -I + (k_I - r_I I) S_I(c_3 E - c_4 I + Q)

        S(x) = 1 / (1 + e^{-a (x - \\theta)}) - 1 / (1 + e^{a \\theta}), \\quad
        k = 1 - 1 / (1 + e^{a \\theta}) = \\sup S

    E and I are the fractions of active cells (dimensionless, 0 <= E < k_E);
    each unit of a population is one E/I pair.  The model is a rate model:
    :meth:`step` returns the graded E activity (``output = "rate"``), and the
    input current adds to the external drive P of the E population.

    Defaults: the limit-cycle set of Wilson & Cowan (1972; c1 = 16,
    c2 = 12, c3 = 15, c4 = 3, a_E = 1.3, theta_E = 4, a_I = 2, theta_I = 3.7,
    r = 1, P = 1.25, Q = 0) -- E and I oscillate (E between ~0.10 and ~0.27,
    period ~50 ms with tau = 10 ms).  With P = 0.5 (the ``"steady_state"`` entry
    of :attr:`PARAMETER_SETS`) the same network rests at a stable low-activity
    fixed point (E ~ 0.006).  The paper's time unit is read as
    ``tau = 10 ms``.

    Integration: RK4, input held over the step, internal substeps of at most
    ``max_substep`` (1 ms = tau/10).
    """

    model_name = "WilsonCowanPopulation"
    aliases = ("wilson_cowan", "wc")
    category = "rate"
    output = "rate"
    reference = ("H. R. Wilson & J. D. Cowan (1972), 'Excitatory and inhibitory interactions in "
                 "localized populations of model neurons', Biophys. J. 12:1-24")
    state_variables = {"E": 0.0, "I": 0.0}
    state_units = {"E": "1 (active fraction)", "I": "1 (active fraction)"}
    voltage_variable = "E"
    current_unit = "a.u. (added to P)"
    phase_plane = ("E", "I")
    default_dt = 0.1

    #: named parameter sets (pass as keyword arguments)
    PARAMETER_SETS: ClassVar[dict[str, dict[str, float]]] = {
        "limit_cycle": {"p": 1.25},
        "steady_state": {"p": 0.5},
    }

    tau_e = Real(10.0, bounds=(1e-3, None), unit="ms", doc="E time constant")
    tau_i = Real(10.0, bounds=(1e-3, None), unit="ms", doc="I time constant")
    c1 = Real(16.0, bounds=(0.0, None), unit="1", doc="E -> E coupling")
    c2 = Real(12.0, bounds=(0.0, None), unit="1", doc="I -> E coupling")
    c3 = Real(15.0, bounds=(0.0, None), unit="1", doc="E -> I coupling")
    c4 = Real(3.0, bounds=(0.0, None), unit="1", doc="I -> I coupling")
    a_e = Real(1.3, bounds=(1e-3, 100.0), unit="1", doc="slope of S_E")
    theta_e = Real(4.0, bounds=(-50.0, 50.0), unit="1", doc="threshold of S_E")
    a_i = Real(2.0, bounds=(1e-3, 100.0), unit="1", doc="slope of S_I")
    theta_i = Real(3.7, bounds=(-50.0, 50.0), unit="1", doc="threshold of S_I")
    r_e = Real(1.0, bounds=(0.0, None), unit="1", doc="E refractoriness")
    r_i = Real(1.0, bounds=(0.0, None), unit="1", doc="I refractoriness")
    p = Real(1.25, bounds=(-50.0, 50.0), unit="a.u.", doc="external drive to E")
    q = Real(0.0, bounds=(-50.0, 50.0), unit="a.u.", doc="external drive to I")
    max_substep = Real(1.0, bounds=(1e-2, 5.0), unit="ms", doc="longest internal RK4 substep")

    @staticmethod
    def sigmoid(x, a, theta):
        """Wilson-Cowan sigmoid, shifted so that S(0) = 0."""
        return 1.0 / (1.0 + np.exp(-a * (x - theta))) - 1.0 / (1.0 + np.exp(a * theta))

    checks_current = True

    @staticmethod
    def constants(p, dt):
        s0_e = 1.0 / (1.0 + np.exp(p.a_e * p.theta_e))  # S(0) offsets; k = 1 - S offset
        s0_i = 1.0 / (1.0 + np.exp(p.a_i * p.theta_i))
        return {"s0_e": s0_e, "s0_i": s0_i, "k_e": 1.0 - s0_e, "k_i": 1.0 - s0_i}

    @staticmethod
    def dynamics(p, I, noise, dt, E, I_pop):
        drive = p.p + I
        n_sub, h = substeps(dt, p.max_substep)
        hh = 0.5 * h
        e, i = E, I_pop
        for _ in range(n_sub):
            ke1, ki1 = _wc_rhs(p, drive, e, i)
            ke2, ki2 = _wc_rhs(p, drive, e + hh * ke1, i + hh * ki1)
            ke3, ki3 = _wc_rhs(p, drive, e + hh * ke2, i + hh * ki2)
            ke4, ki4 = _wc_rhs(p, drive, e + h * ke3, i + h * ki3)
            e, i = rk4_step(ke1, ke2, ke3, ke4, e, h), rk4_step(ki1, ki2, ki3, ki4, i, h)
        return e, e, i   # the output is the active fraction E
