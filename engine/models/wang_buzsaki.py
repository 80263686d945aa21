"""Wang-Buzsaki fast-spiking hippocampal interneuron."""

from __future__ import annotations

import numpy as np

from engine.models.base import NeuronModel, Real, register
from engine.models._form import hh_rate_set, rk4_cross3
from engine.models.hodgkin_huxley import hh_rates



def _wb_rhs(p, I, v, h, n):
    am, ah, an, bm, bh, bn = hh_rate_set(v, 35.0, 58.0, 34.0, 60.0, 28.0, 44.0)
    m_inf = am / (am + bm)  # instantaneous sodium activation
    n2 = n * n
    i_ion = (p.g_na * (m_inf * m_inf * m_inf * h)) * (v - p.e_na) + (p.g_k * (n2 * n2)) * (v - p.e_k) \
        + p.g_l * (v - p.e_l)
    return (I - i_ion) * p.inv_c, p.phi * (ah - (ah + bh) * h), p.phi * (an - (an + bn) * n)


@register
class WangBuzsaki(NeuronModel):
    """Wang-Buzsaki (1996) fast-spiking interneuron (single compartment).

    .. math::
        C_m dV/dt = I - g_{Na} m_\\infty^3 h (V - E_{Na}) - g_K n^4 (V - E_K) - g_L (V - E_L)

        dh/dt = \\phi [\\alpha_h (1 - h) - \\beta_h h], \\quad
        dn/dt = \\phi [\\alpha_n (1 - n) - \\beta_n n], \\quad
        m_\\infty = \\alpha_m / (\\alpha_m + \\beta_m)

        \\alpha_m = 0.1 (V+35) / (1 - e^{-(V+35)/10}),  \\beta_m = 4 e^{-(V+60)/18}
        \\alpha_h = 0.07 e^{-(V+58)/20},                \\beta_h = 1 / (1 + e^{-(V+28)/10})
        \\alpha_n = 0.01 (V+34) / (1 - e^{-(V+34)/10}), \\beta_n = 0.125 e^{-(V+44)/80}

    V in mV, t in ms, I in µA/cm², C_m = 1 µF/cm², g in mS/cm², phi = 5.
    The sodium activation is instantaneous and the gates are five times faster
    than HH's, which gives a low rheobase (type-I onset, ~0.16 µA/cm² in the
    paper) and firing rates of several hundred Hz.

    Integration: RK4 on (V, h, n), input held over the step, internal substeps
    of at most ``max_substep`` (0.02 ms).  Spike = upward crossing of
    ``v_spike`` (-20 mV; WB spikes shrink at very high drive, so the detector
    sits below 0 mV) in any substep, at most one per step.
    """

    model_name = "WangBuzsakiNeuron"
    aliases = ("wang_buzsaki", "wb")
    category = "conductance-based"
    reference = ("X.-J. Wang & G. Buzsaki (1996), J. Neurosci. 16(20):6402-6413, "
                 "'Gamma oscillation by synaptic inhibition in a hippocampal interneuronal network model'")
    state_variables = {"v": -64.0, "h": 0.78, "n": 0.09}
    state_units = {"v": "mV", "h": "1", "n": "1"}
    voltage_variable = "v"
    current_unit = "µA/cm²"
    default_dt = 0.02

    c_m = Real(1.0, bounds=(1e-3, None), unit="µF/cm²", doc="membrane capacitance")
    g_na = Real(35.0, bounds=(0.0, None), unit="mS/cm²", doc="maximal sodium conductance")
    g_k = Real(9.0, bounds=(0.0, None), unit="mS/cm²", doc="maximal potassium conductance")
    g_l = Real(0.1, bounds=(0.0, None), unit="mS/cm²", doc="leak conductance")
    e_na = Real(55.0, unit="mV", doc="sodium reversal potential")
    e_k = Real(-90.0, unit="mV", doc="potassium reversal potential")
    e_l = Real(-65.0, unit="mV", doc="leak reversal potential")
    phi = Real(5.0, bounds=(1e-3, 100.0), unit="1", doc="temperature factor of the h and n kinetics")
    v_init = Real(-64.0, bounds=(-150.0, 100.0), unit="mV", doc="initial V; gates start at their steady state there")
    v_spike = Real(-20.0, unit="mV", doc="spike detection threshold (upward crossing)")
    max_substep = Real(0.02, bounds=(1e-3, 0.05), unit="ms", doc="longest internal RK4 substep")

    #: offsets D (mV) of (alpha_m, alpha_h, alpha_n, beta_m, beta_h, beta_n)
    _SHIFTS = np.array([35.0, 58.0, 34.0, 60.0, 28.0, 44.0])[:, None]

    def rates(self, v):
        """Stacked (alpha_m, alpha_h, alpha_n, beta_m, beta_h, beta_n), 1/ms (before phi)."""
        return hh_rates(np.atleast_1d(np.asarray(v, dtype=np.float64)), self._SHIFTS)

    def initial_state(self, n):
        r = self.rates(self.v_init)[:, 0]
        h = r[1] / (r[1] + r[4])
        k = r[2] / (r[2] + r[5])
        return {"v": np.full(n, self.v_init), "h": np.full(n, h), "n": np.full(n, k)}

    checks_current = True

    @staticmethod
    def constants(p, dt):
        return {"inv_c": 1.0 / p.c_m}

    @staticmethod
    def dynamics(p, I, noise, dt, v, h, n):
        return rk4_cross3(_wb_rhs, p, I, dt, p.max_substep, p.v_spike, v, h, n)
