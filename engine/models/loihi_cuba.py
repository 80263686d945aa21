"""Intel Loihi's current-based LIF neuron, bit-accurate integer arithmetic."""

from __future__ import annotations

import numpy as np

from engine.models._form import to_int
from engine.models.base import Count, NeuronModel, register

DECAY_SHIFT = 12             # decays are 12-bit fractions of 2**12
DECAY_UNITY = 1 << DECAY_SHIFT
ACT_SHIFT = 6                # synaptic input is MSB-aligned by 6 bits
VTH_SHIFT = 6                # so is the threshold mantissa
DS_OFFSET = 1                # Loihi adds 1 to du (lets the current decay fully) ...
DM_OFFSET = 0                # ... and 0 to dv
MAX_UV = 1 << 23             # u and v are 24-bit signed registers


def _decay(x: np.ndarray, factor: int) -> np.ndarray:
    """``x*factor / 2**12`` truncated toward zero (sign-magnitude shift)."""
    prod = x * factor
    return np.sign(prod) * np.right_shift(np.abs(prod), DECAY_SHIFT)


@register
class LoihiCUBA(NeuronModel):
    """Loihi current-based (CUBA) leaky integrate-and-fire neuron, integer
    arithmetic as in Davies et al. (2018) and Lava's bit-accurate model
    (``lava.proc.lif.models.PyLifModelBitAcc``).

    Per time step, with integer synaptic input ``a`` (the step's current,
    truncated toward zero like ``Population.step`` does for integer models)::

        u = trunc(u * (4096 - (du + 1)) / 4096) + (a << 6)      # 24-bit wrap
        v = trunc(v * (4096 - dv) / 4096) + u + (bias_mant << bias_exp)
        v = clip(v, -(2**23 - 1), 2**23 - 1)
        spike = v > (vth << 6);  on spike v = 0

    ``trunc`` rounds toward zero.  The current wraps like Lava's model:
    values above ``2**23`` lose ``2**24``, values at or below ``-2**23`` gain
    it.  ``du, dv`` are 12-bit unsigned (0..4095); the hardware's extra +1 on
    ``du`` makes ``du = 4095`` a complete current decay.  Decay time
    constants are about ``4096/du`` and ``4096/dv`` steps.  The step ignores
    ``dt``.
    """

    model_name = "LoihiCUBANeuron"
    aliases = ("loihi", "loihi_cuba", "loihi_lif")
    category = "hardware"
    reference = ("M. Davies et al. (2018), Loihi: A Neuromorphic Manycore Processor with On-Chip Learning, "
                 "IEEE Micro 38(1):82-99; Lava v0.x, lava/proc/lif/models.py (PyLifModelBitAcc)")
    state_variables = {"u": 0, "v": 0}
    state_units = {"u": "int (24-bit)", "v": "int (24-bit)"}
    current_unit = "integer synaptic input"
    current_range = (-20.0, 40.0)
    uses_dt = False
    integer = True

    du = Count(410, bounds=(0, 4095), unit="1/4096", doc="current decay (12-bit); 4095 = full decay")
    dv = Count(205, bounds=(0, 4095), unit="1/4096", doc="voltage decay (12-bit)")
    bias_mant = Count(0, bounds=(-4096, 4095), unit="int", doc="bias mantissa (13-bit signed)")
    bias_exp = Count(0, bounds=(0, 7), unit="bits", doc="bias exponent: bias = bias_mant << bias_exp")
    vth = Count(10, bounds=(0, (1 << 17) - 1), unit="int", doc="threshold mantissa; threshold = vth << 6")

    @staticmethod
    def constants(p, dt):
        return {"u_factor": DECAY_UNITY - (int(p.du) + DS_OFFSET), "v_factor": DECAY_UNITY - (int(p.dv) + DM_OFFSET),
                "bias": int(p.bias_mant) << int(p.bias_exp), "vth_scaled": int(p.vth) << VTH_SHIFT}

    @staticmethod
    def dynamics(p, I, noise, dt, u, v):
        u_new = _decay(u, p.u_factor) + np.left_shift(to_int(I), ACT_SHIFT)
        u_new = np.where(u_new > MAX_UV, u_new - 2 * MAX_UV, u_new)    # 24-bit wrap
        u_new = np.where(u_new <= -MAX_UV, u_new + 2 * MAX_UV, u_new)
        v_new = _decay(v, p.v_factor) + u_new + p.bias
        v_new = np.minimum(np.maximum(v_new, -MAX_UV + 1), MAX_UV - 1)
        spikes = v_new > p.vth_scaled
        return spikes, u_new, np.where(spikes, 0, v_new)
