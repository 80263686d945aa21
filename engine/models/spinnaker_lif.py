"""sPyNNaker's current-based LIF neuron in s16.15 fixed point."""

from __future__ import annotations

import math

import numpy as np

from engine.fixedpoint import QFormat
from engine.models._form import round_half_away, to_int, wrap_bits
from engine.models.base import NeuronModel, Real, register

#: ISO/IEC TR 18037 ``accum`` as used by sPyNNaker's REAL type: s16.15 in 32 bits
S1615 = QFormat(32, 15)


def mul_s1615(a, b):
    """s16.15 x s16.15 -> s16.15: exact 64-bit product, arithmetic shift right by
    15 (truncation towards -inf), wrapped to 32 bits (int64 operands)."""
    return wrap_bits(np.right_shift(a * b, 15), 32)


@register
class SpiNNakerLIFNeuron(NeuronModel):
    """Current-based LIF neuron as run by sPyNNaker on SpiNNaker (``IF_curr_exp``'s
    neuron model, ``neuron_model_lif_impl``), bit-true in s16.15 fixed point.

    Per time step (dt ms), all arithmetic on s16.15 integers (value x 2^15):

    * if the refractory counter is > 0: decrement it and hold V;
    * else ``alpha = I * R + V_rest`` and ``V <- alpha - exp_TC * (alpha - V)``,
      the exact solution of ``tau_m dV/dt = -(V - V_rest) + R I`` over one step
      for input held constant, with ``exp_TC = exp(-dt / tau_m)`` and
      ``R = tau_m / c_m`` (ms / nF = MΩ);
    * then, in every step: if ``V >= V_thresh``: spike, ``V = V_reset``,
      counter = ``ceil(tau_refrac / dt)``.

    What is modelled: parameters (and the input current, in nA, each step) are
    quantised to s16.15 by rounding to nearest (:class:`engine.fixedpoint.QFormat`);
    each product is the exact 64-bit product shifted right by 15 (truncation,
    as the ARM's ``accum`` multiply) and every result wraps to 32 bits (plain,
    non-saturating ``accum``).  Not modelled: the synaptic current shaping
    (``exc``/``inh`` exponential synapses -- the input here is the summed
    current), ring-buffer weight scaling and the event-driven timing of the
    real machine.  State ``v`` is the raw s16.15 code; ``v / 2**15`` is in mV.
    """

    model_name = "SpiNNakerLIFNeuron"
    aliases = ("spinnaker_lif", "spinnaker")
    category = "hardware"
    reference = ("sPyNNaker neuron_model_lif_impl (SpiNNakerManchester/sPyNNaker, GitHub); "
                 "O. Rhodes et al. (2018), 'sPyNNaker: a software package for running PyNN simulations "
                 "on SpiNNaker', Front. Neurosci. 12:816; S. B. Furber et al. (2014), Proc. IEEE "
                 "102:652-665; fixed-point types: ISO/IEC TR 18037")
    state_variables = {"v": -65 * 2 ** 15, "refractory": 0}
    state_units = {"v": "mV x 2^15 (s16.15 code)", "refractory": "steps"}
    voltage_variable = "v"
    current_unit = "nA"
    integer = True
    default_dt = 1.0

    tau_m = Real(20.0, bounds=(1e-3, None), unit="ms", doc="membrane time constant")
    cm = Real(1.0, bounds=(1e-6, None), unit="nF", doc="membrane capacitance")
    v_rest = Real(-65.0, bounds=(-1000.0, 1000.0), unit="mV", doc="resting potential")
    v_reset = Real(-65.0, bounds=(-1000.0, 1000.0), unit="mV", doc="potential after a spike")
    v_thresh = Real(-50.0, bounds=(-1000.0, 1000.0), unit="mV", doc="spike threshold")
    tau_refrac = Real(0.1, bounds=(0.0, 1000.0), unit="ms", doc="refractory period")
    i_offset = Real(0.0, bounds=(-1000.0, 1000.0), unit="nA", doc="constant bias current")
    v_init = Real(-65.0, bounds=(-1000.0, 1000.0), unit="mV", doc="initial potential")

    FORMAT = S1615

    @staticmethod
    def to_mV(code):
        """s16.15 code(s) -> mV (float)."""
        return S1615.to_float(code)

    @staticmethod
    def constants(p, dt):
        """The integer codes the kernel uses (s16.15), prefixed ``c_``."""
        q = S1615.quantize
        return {"c_exp_tc": q(math.exp(-dt / p.tau_m)), "c_r_membrane": q(p.tau_m / p.cm),
                "c_v_rest": q(p.v_rest), "c_v_reset": q(p.v_reset), "c_v_thresh": q(p.v_thresh),
                "c_i_offset": q(p.i_offset), "c_scale": float(S1615.scale),
                "c_t_refract": int(math.ceil(p.tau_refrac / dt - 1e-9))}

    def initial_state(self, n):
        return {"v": np.full(n, S1615.quantize(self.v_init), dtype=np.int64),
                "refractory": np.zeros(n, dtype=np.int64)}

    checks_current = True

    @staticmethod
    def dynamics(p, I, noise, dt, v, refractory):
        i_in = wrap_bits(wrap_bits(to_int(round_half_away(I * p.c_scale)), 32) + p.c_i_offset, 32)
        alpha = wrap_bits(mul_s1615(i_in, p.c_r_membrane) + p.c_v_rest, 32)
        v_new = wrap_bits(alpha - mul_s1615(p.c_exp_tc, wrap_bits(alpha - v, 32)), 32)
        active = refractory <= 0
        v_new = np.where(active, v_new, v)
        ref = np.where(active, refractory, refractory - 1)  # count down while refractory
        # sPyNNaker tests the threshold every step, refractory or not (the held
        # V_reset is normally below threshold)
        spikes = v_new >= p.c_v_thresh
        return spikes, np.where(spikes, p.c_v_reset, v_new), np.where(spikes, p.c_t_refract, ref)
