"""Morris-Lecar barnacle muscle fibre model (2-D conductance-based)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from engine.models.base import NeuronModel, Real, register
from engine.models._form import rk4_cross2



def _ml_rhs(p, I, v, w):
    m_inf = 0.5 * (1.0 + np.tanh((v - p.v1) * p.inv_v2))
    x = (v - p.v3) * p.inv_v4
    dv = (I - p.g_l * (v - p.v_l) - p.g_ca * m_inf * (v - p.v_ca) - p.g_k * w * (v - p.v_k)) * p.inv_c
    # (w_inf - w) / tau_w with w_inf = (1 + tanh x)/2 and 1/tau_w = cosh(x/2)
    return dv, p.phi * (0.5 * (1.0 + np.tanh(x)) - w) * np.cosh(0.5 * x)


@register
class MorrisLecar(NeuronModel):
    """Morris-Lecar (1981) model with the Rinzel-Ermentrout (1998) parameter sets.

    .. math::
        C dV/dt = I - g_L (V - V_L) - g_{Ca} m_\\infty(V) (V - V_{Ca}) - g_K w (V - V_K)

        dw/dt = \\phi (w_\\infty(V) - w) / \\tau_w(V)

        m_\\infty = [1 + \\tanh((V - V_1)/V_2)] / 2, \\quad
        w_\\infty = [1 + \\tanh((V - V_3)/V_4)] / 2, \\quad
        \\tau_w = 1 / \\cosh((V - V_3) / (2 V_4))

    V in mV, t in ms, I in µA/cm², C in µF/cm², g in mS/cm².

    Parameter sets (:attr:`PARAMETER_SETS`, from Rinzel & Ermentrout 1998;
    the defaults are the ``"hopf"`` set):

    * ``"hopf"`` (g_Ca = 4.4, V3 = 2, V4 = 30, phi = 0.04): class II -- the rest
      state loses stability in a subcritical Hopf bifurcation (I ~ 93.8
      µA/cm² by linearisation); the limit cycle already coexists with rest
      from I ~ 89 µA/cm², where a current step from rest starts firing, so
      repetitive firing begins at a finite frequency (~9.7 Hz);
    * ``"snlc"`` (g_Ca = 4.0, V3 = 12, V4 = 17.4, phi = 1/15): class I -- a
      saddle-node on an invariant circle at I ~ 39.96 µA/cm², so firing starts
      at arbitrarily low frequency (~2.6 Hz at I = 40.2).

    Integration: RK4 on (V, w), input held over the step, internal substeps of
    at most ``max_substep`` (0.1 ms; the fastest time scale is C/g ~ 2 ms).
    Spike = upward crossing of ``v_spike`` (0 mV) in any substep.
    """

    model_name = "MorrisLecarNeuron"
    aliases = ("morris_lecar", "ml")
    category = "conductance-based"
    reference = ("C. Morris & H. Lecar (1981), Biophys. J. 35:193-213; parameter sets from "
                 "J. Rinzel & G. B. Ermentrout (1998), 'Analysis of neural excitability and "
                 "oscillations', in Koch & Segev (eds.), Methods in Neuronal Modeling, 2nd ed., MIT Press")
    state_variables = {"v": -60.9, "w": 0.0149}
    state_units = {"v": "mV", "w": "1"}
    voltage_variable = "v"
    current_unit = "µA/cm²"
    phase_plane = ("v", "w")
    default_dt = 0.1
    current_range = (0.0, 150.0)  # "hopf" set: firing from ~89 µA/cm²

    #: Rinzel & Ermentrout (1998) parameter sets (pass as keyword arguments)
    PARAMETER_SETS: ClassVar[dict[str, dict[str, float]]] = {
        "hopf": {"g_ca": 4.4, "v3": 2.0, "v4": 30.0, "phi": 0.04},
        "snlc": {"g_ca": 4.0, "v3": 12.0, "v4": 17.4, "phi": 1.0 / 15.0},
    }

    c_m = Real(20.0, bounds=(1e-3, None), unit="µF/cm²", doc="membrane capacitance")
    g_l = Real(2.0, bounds=(0.0, None), unit="mS/cm²", doc="leak conductance")
    g_ca = Real(4.4, bounds=(0.0, None), unit="mS/cm²", doc="maximal calcium conductance")
    g_k = Real(8.0, bounds=(0.0, None), unit="mS/cm²", doc="maximal potassium conductance")
    v_l = Real(-60.0, unit="mV", doc="leak reversal potential")
    v_ca = Real(120.0, unit="mV", doc="calcium reversal potential")
    v_k = Real(-84.0, unit="mV", doc="potassium reversal potential")
    v1 = Real(-1.2, unit="mV", doc="half-activation of m_inf")
    v2 = Real(18.0, bounds=(1e-3, None), unit="mV", doc="slope of m_inf")
    v3 = Real(2.0, unit="mV", doc="half-activation of w_inf")
    v4 = Real(30.0, bounds=(1e-3, None), unit="mV", doc="slope of w_inf")
    phi = Real(0.04, bounds=(1e-6, None), unit="1/ms", doc="rate scale of w")
    v_init = Real(-60.9, bounds=(-150.0, 150.0), unit="mV", doc="initial V; w starts at w_inf(V)")
    v_spike = Real(0.0, unit="mV", doc="spike detection threshold (upward crossing)")
    max_substep = Real(0.1, bounds=(1e-3, 0.5), unit="ms", doc="longest internal RK4 substep")

    @classmethod
    def preset(cls, name: str, **overrides) -> "MorrisLecar":
        """A model with one of :attr:`PARAMETER_SETS` (``"hopf"`` or ``"snlc"``)."""
        if name not in cls.PARAMETER_SETS:
            raise ValueError(f"preset must be one of {sorted(cls.PARAMETER_SETS)}, got {name!r}")
        return cls(**{**cls.PARAMETER_SETS[name], **overrides})

    def w_inf(self, v):
        return 0.5 * (1.0 + np.tanh((v - self.v3) / self.v4))

    def initial_state(self, n):
        return {"v": np.full(n, self.v_init), "w": np.full(n, float(self.w_inf(self.v_init)))}

    checks_current = True

    @staticmethod
    def constants(p, dt):
        return {"inv_c": 1.0 / p.c_m, "inv_v2": 1.0 / p.v2, "inv_v4": 1.0 / p.v4}

    @staticmethod
    def dynamics(p, I, noise, dt, v, w):
        return rk4_cross2(_ml_rhs, p, I, dt, p.max_substep, p.v_spike, v, w)
