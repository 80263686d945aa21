"""Single-neuron analysis: the science behind the neuron lab, usable without a GUI.

* :mod:`.protocols` -- injected-current protocols (step, ramp, noise, pulses);
* :mod:`.single` -- one neuron run over a protocol (fast path over the
  model's own kernel), spike detection for graded models;
* :mod:`.fi` -- F-I curves as one population, rheobase, class I/II;
* :mod:`.phase` -- vector field, nullclines, fixed points, Jacobian
  eigenvalues and their classification, trajectories;
* :mod:`.equations` -- LaTeX equations of every registered model;
* :mod:`.presets` -- textbook parameter sets with their protocol and a
  paragraph each.

May import: numpy, contourpy, ``engine.models``, ``engine.backends``,
``engine.network``.  Never GUI libraries.
"""

from engine.analysis.protocols import PROTOCOLS, AnalysisInputError, protocol_current
from engine.analysis.single import detect_spikes, is_graded, simulate
from engine.analysis.fi import Cancelled, FICurve, fi_curve, rheobase
from engine.analysis.phase import (FixedPoint, classify, fixed_points, flow, jacobian, nullclines,
                                   phase_box, phase_plane_note, plane_variables, vector_field)
from engine.analysis.equations import EQUATIONS, equations_latex
from engine.analysis.presets import PRESETS, Preset, lab_currents, presets_for

__all__ = [
    "PROTOCOLS", "AnalysisInputError", "protocol_current",
    "simulate", "detect_spikes", "is_graded",
    "fi_curve", "rheobase", "FICurve", "Cancelled",
    "flow", "jacobian", "fixed_points", "classify", "FixedPoint", "nullclines", "vector_field",
    "phase_box", "phase_plane_note", "plane_variables",
    "EQUATIONS", "equations_latex",
    "PRESETS", "Preset", "presets_for", "lab_currents",
]
