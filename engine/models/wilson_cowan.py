"""Wilson-Cowan excitatory/inhibitory population rate model."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from engine.models.base import NeuronModel, Real, register
from engine.models._integrators import finite_current, rk4, substeps


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

    @staticmethod
    def _derivs(y, drive, p):
        # parameters arrive as a tuple read once per step (param attribute
        # access is slow enough to dominate this small kernel)
        inv_te, inv_ti, k_e, k_i, c1, c2, c3, c4, a_e, th_e, a_i, th_i, r_e, r_i, q, s0_e, s0_i = p
        e, i = y
        s_e = 1.0 / (1.0 + np.exp(-a_e * (c1 * e - c2 * i + drive - th_e))) - s0_e
        s_i = 1.0 / (1.0 + np.exp(-a_i * (c3 * e - c4 * i + q - th_i))) - s0_i
        out = np.empty_like(y)
        out[0] = (-e + (k_e - r_e * e) * s_e) * inv_te
        out[1] = (-i + (k_i - r_i * i) * s_i) * inv_ti
        return out

    def step(self, state, current, dt, rng=None):
        e = state["E"]
        drive = self.p + finite_current(current, e.shape)
        a_e, th_e, a_i, th_i = self.a_e, self.theta_e, self.a_i, self.theta_i
        s0_e = 1.0 / (1.0 + np.exp(a_e * th_e))  # S(0) offsets; k = 1 - S offset
        s0_i = 1.0 / (1.0 + np.exp(a_i * th_i))
        p = (1.0 / self.tau_e, 1.0 / self.tau_i, 1.0 - s0_e, 1.0 - s0_i, self.c1, self.c2, self.c3,
             self.c4, a_e, th_e, a_i, th_i, self.r_e, self.r_i, self.q, s0_e, s0_i)
        y = np.stack((e, state["I"]))
        n_sub, h = substeps(dt, self.max_substep)
        with np.errstate(over="ignore"):  # exp overflow -> inf -> sigmoid 0 is the right limit
            for _ in range(n_sub):
                y = rk4(self._derivs, y, h, drive, p)
        e[...] = y[0]
        state["I"][...] = y[1]
        return e.copy()
