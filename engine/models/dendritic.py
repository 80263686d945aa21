"""Two-input dendritic XOR unit of the reference system."""

from __future__ import annotations

import numpy as np

from engine.models.base import NeuronModel, Real, register


@register
class StochasticDendritic(NeuronModel):
    """Dendritic XOR neuron: two inputs ``a, b`` combine nonlinearly on the
    dendrite (Gidon et al. 2020 found XOR-like dendritic action potentials
    in human layer 2/3 cortex).

    .. math::
        I_d = a + b - 2ab, \\qquad \\text{spike} = [I_d > \\theta]

    For stochastic bitstreams with ``P(a=1)=p_a, P(b=1)=p_b``, ``I_d`` is the
    probability that exactly one input is 1, i.e. ``P(a \\oplus b)``
    (stochastic computing, Alaghi & Hayes 2013), and for binary inputs it is
    the XOR truth table itself.

    Population form: the step's ``current`` is input ``a``; input ``b`` is
    the state variable ``b`` (default 0, set by whoever drives the second
    channel).  With ``b = 0`` the unit reduces to a threshold unit on ``a``.
    ``current`` records ``I_d``.  The step ignores ``dt``.
    """

    model_name = "StochasticDendriticNeuron"
    aliases = ("dendritic", "dendritic_xor", "stochastic_dendritic")
    category = "reference"
    reference = ("A. Gidon et al. (2020), Science 367:83-87; A. Alaghi & J. P. Hayes (2013), "
                 "ACM Trans. Embed. Comput. Syst. 12:92 (stochastic computing)")
    state_variables = {"b": 0.0, "current": 0.0}
    state_units = {"b": "probability", "current": "probability"}
    voltage_variable = "current"
    current_unit = "probability / bit"
    current_range = (0.0, 1.0)
    uses_dt = False

    threshold = Real(0.5, unit="", doc="the dendritic current must exceed this to spike")

    @staticmethod
    def dynamics(p, I, noise, dt, b, current):
        combined = I + b - 2.0 * I * b
        return combined > p.threshold, b, combined
