"""Hodgkin-Huxley squid giant axon model."""

from __future__ import annotations


import numpy as np

from engine.models._form import hh_rate_set, rk4_cross4
from engine.models.base import NeuronModel, Real, register



def hh_rates(v, shifts):
    """Stacked HH-form rate constants (1/ms), shape ``(6, n)``, for voltage ``v`` (mV):
    rows alpha_m, alpha_h, alpha_n, beta_m, beta_h, beta_n (see
    :func:`engine.models._form.hh_rate_set`).  ``shifts`` is the column of
    offsets D (mV) of the six rates: Hodgkin & Huxley (1952) use (40, 65, 55, 65,
    35, 65) in the modern convention, Wang & Buzsaki (1996) (35, 58, 34, 60, 28, 44).
    """
    return np.stack(hh_rate_set(np.asarray(v, dtype=np.float64), *np.ravel(shifts)))


def _hh_rhs(p, I, v, m, h, n):
    am, ah, an, bm, bh, bn = hh_rate_set(v, 40.0, 65.0, 55.0, 65.0, 35.0, 65.0)
    n2 = n * n
    i_ion = (p.g_na * (m * m * m * h)) * (v - p.e_na) + (p.g_k * (n2 * n2)) * (v - p.e_k) + p.g_l * (v - p.e_l)
    phi = p.phi
    return ((I - i_ion) * p.inv_c, phi * (am - (am + bm) * m), phi * (ah - (ah + bh) * h),
            phi * (an - (an + bn) * n))


@register
class HodgkinHuxley(NeuronModel):
    """Hodgkin-Huxley (1952) squid giant axon, modern sign convention (rest -65 mV).

    .. math::
        C_m dV/dt = I - g_{Na} m^3 h (V - E_{Na}) - g_K n^4 (V - E_K) - g_L (V - E_L)

        dx/dt = \\phi [\\alpha_x(V) (1 - x) - \\beta_x(V) x], \\quad x \\in \\{m, h, n\\}

        \\alpha_m = 0.1 (V+40) / (1 - e^{-(V+40)/10}),  \\beta_m = 4 e^{-(V+65)/18}
        \\alpha_h = 0.07 e^{-(V+65)/20},                \\beta_h = 1 / (1 + e^{-(V+35)/10})
        \\alpha_n = 0.01 (V+55) / (1 - e^{-(V+55)/10}), \\beta_n = 0.125 e^{-(V+65)/80}

    with V in mV, t in ms, rates in 1/ms, I in µA/cm², C_m in µF/cm²,
    conductances in mS/cm² and the temperature factor
    ``phi = 3 ** ((T - 6.3) / 10)`` (Q10 = 3; phi = 1 at the original 6.3 °C).

    Integration: classical RK4 on (V, m, h, n) with the input held constant over
    the step, split into equal internal substeps no longer than ``max_substep``
    (default 0.025 ms; divided by phi above 6.3 °C), so a network step of 1 ms
    is 40 RK4 substeps and does not blow up; dt = 0.01 ms and 0.05 ms give the same spike times to within
    one coarse step.

    A spike is reported in a step when V crosses ``v_spike`` (0 mV) from below
    during any of its substeps (at most one per step).

    Behaviour with these constants: a current step from rest gives a few
    transient spikes below I ~ 6.26 µA/cm² and sustained firing (~50 Hz at
    onset, class II) from 6.26 µA/cm² on (the same for dt = 0.01, 0.025 and
    0.05 ms); ~68 Hz at 10 µA/cm².
    """

    model_name = "HodgkinHuxleyNeuron"
    aliases = ("hodgkin_huxley", "hh")
    category = "conductance-based"
    reference = ("A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500-544; "
                 "constants in the modern convention as in P. Dayan & L. F. Abbott (2001), "
                 "Theoretical Neuroscience, ch. 5.6, and W. Gerstner et al. (2014), "
                 "Neuronal Dynamics, ch. 2.2")
    state_variables = {"v": -65.0, "m": 0.0529, "h": 0.5961, "n": 0.3177}
    state_units = {"v": "mV", "m": "1", "h": "1", "n": "1"}
    voltage_variable = "v"
    current_unit = "µA/cm²"
    default_dt = 0.025
    current_range = (0.0, 15.0)  # repetitive firing from ~6.2 µA/cm²

    c_m = Real(1.0, bounds=(1e-3, None), unit="µF/cm²", doc="membrane capacitance")
    g_na = Real(120.0, bounds=(0.0, None), unit="mS/cm²", doc="maximal sodium conductance")
    g_k = Real(36.0, bounds=(0.0, None), unit="mS/cm²", doc="maximal potassium conductance")
    g_l = Real(0.3, bounds=(0.0, None), unit="mS/cm²", doc="leak conductance")
    e_na = Real(50.0, unit="mV", doc="sodium reversal potential")
    e_k = Real(-77.0, unit="mV", doc="potassium reversal potential")
    e_l = Real(-54.387, unit="mV", doc="leak reversal potential (rest at -65 mV)")
    temperature = Real(6.3, bounds=(-10.0, 40.0), unit="°C", doc="temperature (Q10 = 3 on the gate rates)")
    v_init = Real(-65.0, bounds=(-150.0, 100.0), unit="mV", doc="initial V; gates start at their steady state there")
    v_spike = Real(0.0, unit="mV", doc="spike detection threshold (upward crossing)")
    max_substep = Real(0.025, bounds=(1e-3, 0.05), unit="ms", doc="longest internal RK4 substep")

    #: offsets D (mV) of (alpha_m, alpha_h, alpha_n, beta_m, beta_h, beta_n)
    _SHIFTS = np.array([40.0, 65.0, 55.0, 65.0, 35.0, 65.0])[:, None]

    # -- gate kinetics -----------------------------------------------------------
    def rates(self, v):
        """Stacked (alpha_m, alpha_h, alpha_n, beta_m, beta_h, beta_n) at 6.3 °C, 1/ms."""
        return hh_rates(np.atleast_1d(np.asarray(v, dtype=np.float64)), self._SHIFTS)

    def steady_gates(self, v):
        """Steady-state (m, h, n) at voltage ``v`` (shape ``(3, len(v))``)."""
        r = self.rates(v)
        return r[0:3] / (r[0:3] + r[3:6])

    def initial_state(self, n):
        m, h, k = self.steady_gates(self.v_init)[:, 0]
        return {"v": np.full(n, self.v_init), "m": np.full(n, m),
                "h": np.full(n, h), "n": np.full(n, k)}

    checks_current = True

    @staticmethod
    def constants(p, dt):
        phi = 3.0 ** ((p.temperature - 6.3) / 10.0)
        # warmer = faster gates (phi > 1): shrink the substep in proportion so
        # that RK4 stays inside its stability region
        return {"phi": phi, "inv_c": 1.0 / p.c_m, "max_h": p.max_substep / max(1.0, phi)}

    @staticmethod
    def dynamics(p, I, noise, dt, v, m, h, n):
        return rk4_cross4(_hh_rhs, p, I, dt, p.max_h, p.v_spike, v, m, h, n)
