"""TrueNorth-style integer leaky integrate-and-fire neuron."""

from __future__ import annotations

import numpy as np

from engine.models._form import to_int, wrap_bits
from engine.models.base import Count, NeuronModel, register


@register
class TrueNorthNeuron(NeuronModel):
    """Integer LIF neuron of IBM's TrueNorth core, simplified from Cassidy et al. (2013).

    One call of :meth:`step` is one 1-ms tick (``dt`` is ignored,
    ``uses_dt = False``).  All quantities are integers; the input current is
    the tick's summed synaptic input (weights x spikes) and is rounded to the
    nearest integer (``np.rint``, ties to even).  Per tick:

    1. integrate:  ``V <- V + I``
    2. leak:       ``V <- V + Omega * lambda``, ``Omega = 1`` or, in leak-reversal
       mode (``leak_reversal = 1``), ``Omega = sgn(V)`` so the leak pulls V
       towards 0 from either side
    3. threshold:  ``eta = rho & (2**threshold_mask_bits - 1)`` with rho a
       uniform random word (``eta = 0`` for a deterministic threshold);
       if ``V >= alpha + eta`` the neuron spikes and V is reset by
       ``reset_mode`` gamma: 0 -> ``V = R``, 1 (linear) -> ``V = V - (alpha + eta)``,
       2 -> ``V`` unchanged;
       else, with kappa = ``neg_saturate``: if ``V < -beta`` (kappa = 1: then ``V = -beta``, saturation) or
       ``V < -(beta + eta)`` (kappa = 0: then V is reset like the positive
       side, mirrored: ``-R``, ``V + (beta + eta)``, or unchanged).
    V is held in a ``v_bits``-bit (20 by default) two's-complement register
    and wraps on overflow after steps 2 and 3 (our assumption: a plain adder,
    no saturation).

    Not modelled: the per-synapse-type weight table, stochastic synapses and
    stochastic leak (they change what feeds steps 1 and 2, not the neuron).
    """

    model_name = "TrueNorthNeuron"
    aliases = ("truenorth",)
    category = "hardware"
    reference = ("A. S. Cassidy et al. (2013), 'Cognitive computing building block: a versatile "
                 "and efficient digital neuron model for neurosynaptic cores', Proc. IJCNN 2013; "
                 "P. A. Merolla et al. (2014), Science 345:668-673")
    state_variables = {"v": 0}
    state_units = {"v": "integer units"}
    voltage_variable = "v"
    current_unit = "integer units per tick"
    uses_dt = False
    integer = True
    default_dt = 1.0
    current_range = (0.0, 30.0)  # units per tick; the default threshold is 100

    leak = Count(-1, bounds=(-255, 255), unit="units/tick", doc="leak lambda added every tick")
    leak_reversal = Count(0, bounds=(0, 1), unit="", doc="1: leak towards 0 (Omega = sgn V)")
    threshold = Count(100, bounds=(1, 2 ** 18), unit="units", doc="positive threshold alpha")
    neg_threshold = Count(0, bounds=(0, 2 ** 18), unit="units", doc="negative threshold beta (V floor at -beta)")
    reset_value = Count(0, bounds=(-2 ** 18, 2 ** 18), unit="units", doc="reset potential R")
    reset_mode = Count(0, bounds=(0, 2), unit="", doc="gamma: 0 reset to R, 1 linear (subtract), 2 none")
    neg_saturate = Count(1, bounds=(0, 1), unit="", doc="kappa: 1 saturate at -beta, 0 mirrored reset")
    threshold_mask_bits = Count(0, bounds=(0, 17), unit="bits", doc="random threshold range 2**bits - 1 (needs rng)")
    v_bits = Count(20, bounds=(2, 32), unit="bits", doc="membrane register width")

    def initial_state(self, n):
        return {"v": np.zeros(n, dtype=np.int64)}

    checks_current = True
    noise_kind = "uniform_int"

    @staticmethod
    def step_noise(p, dt):
        # stochastic threshold: eta uniform in [0, 2**bits) each tick
        return (1 << p.threshold_mask_bits) if p.threshold_mask_bits else 0

    @staticmethod
    def dynamics(p, I, noise, dt, v):
        eta = noise
        v = v + to_int(np.rint(I))  # whole units per tick
        if p.leak_reversal:
            v = v + np.sign(v) * p.leak
        else:
            v = v + p.leak
        v = wrap_bits(v, p.v_bits)  # the register holds the integrated potential
        alpha = p.threshold + eta
        spikes = v >= alpha
        gamma = p.reset_mode
        if gamma == 2:
            pos = v
        elif gamma == 0:
            pos = v * 0 + p.reset_value
        else:
            pos = v - alpha
        beta = p.neg_threshold
        if p.neg_saturate:
            low = np.logical_not(spikes) & (v < -beta)
            neg = v * 0 - beta
        else:
            low = np.logical_not(spikes) & (v < -(beta + eta))
            if gamma == 2:
                neg = v
            elif gamma == 0:
                neg = v * 0 - p.reset_value
            else:
                neg = v + (beta + eta)
        return spikes, wrap_bits(np.where(spikes, pos, np.where(low, neg, v)), p.v_bits)
