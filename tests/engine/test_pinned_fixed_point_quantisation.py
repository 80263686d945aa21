"""Quantisation warnings of the fixed_point backend: where they point, how often
they come, and the Q-format they suggest.

The suggested formats are worked out by hand from the definition of
``smallest_qformat`` (fraction bits from the smallest magnitude: the least f
with |v|*2**f >= 0.5; then the least width whose signed range holds every
rounded code), and checked against that function applied to *every* value.
"""
import math
import warnings

import numpy as np
import pytest

from engine import fixedpoint as fx
from engine.backends.fixed_point import (FixedPointSimulator, QuantisationWarning, map_population,
                                         quantise_weights)
from engine.network import Network, Population, Projection

Q88 = fx.QFormat(16, 8)
HERE = __file__


def lapicque(n=1, label="L", **params):
    return Population("LapicqueNeuron", n, params=params, label=label)


def quant_warnings(rec):
    return [w for w in rec if issubclass(w.category, QuantisationWarning)]


# -- the warnings point at the caller's line ------------------------------------------

def test_map_population_warning_points_at_the_caller():
    with pytest.warns(QuantisationWarning) as rec:
        map_population(lapicque(v_threshold=0.001), Q88, dt_ms=1.0)
    ws = quant_warnings(rec)
    assert len(ws) == 1 and all(w.filename == HERE for w in ws)


@pytest.mark.parametrize("weight, what", [(0.001, "round to 0"), (200.0, "saturate in Q8.8")])
def test_float_weight_warnings_point_at_the_caller(weight, what):
    a, b = lapicque(label="a"), lapicque(label="b")
    with pytest.warns(QuantisationWarning, match=what) as rec:
        quantise_weights(Projection(a, b, weight=weight), map_population(b, Q88, dt_ms=1.0))
    assert [w.filename for w in quant_warnings(rec)] == [HERE]


def test_native_weight_warning_points_at_the_caller():
    a = Population("FixedPointLIFNeuron", 1, label="a")
    b = Population("FixedPointLIFNeuron", 1, label="b")
    with pytest.warns(QuantisationWarning, match="outside the 16-bit range") as rec:
        codes = quantise_weights(Projection(a, b, weight=40000.0), map_population(b, Q88, dt_ms=1.0))
    assert codes.tolist() == [32767]
    assert [w.filename for w in quant_warnings(rec)] == [HERE]


def _tiny_leak_network():
    # leak 1 - exp(-1/500) ~ 0.002 rounds to 0 in Q4.4 (0.002 * 16 < 0.5)
    a = lapicque(2, "slow", tau=500.0)
    return Network(a, Projection(a, a, weight=0.01, label="tiny", tau_syn=0.1))


def test_a_compile_warns_each_problem_once_at_the_callers_line():
    net = _tiny_leak_network()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        sim = FixedPointSimulator(net, 0.001, qformat="Q4.4")
        sim.advance(3)
        sim.advance(3)
    ws = quant_warnings(rec)
    msgs = [str(w.message) for w in ws]
    # leak, gain (same value), the weight 0.01 and the synaptic decay exp(-1/0.1) ~ 4.5e-5
    assert len(msgs) == 4 and len(set(msgs)) == 4, msgs
    assert sum("'slow': leak" in m for m in msgs) == 1
    assert sum("'slow': gain" in m for m in msgs) == 1
    assert sum("projection 'tiny': 4 of 4 weights (e.g. 0.01) round to 0 in Q4.4" in m for m in msgs) == 1
    assert sum("projection 'tiny': synaptic decay" in m for m in msgs) == 1
    assert all(w.filename == HERE for w in ws)


def test_a_run_through_the_network_warns_at_the_callers_line():
    net = _tiny_leak_network()
    net.populations[0].model.data_width = 8  # not a FixedPointLIF: the network's Q-format is the default
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        net.run(0.003, backend="fixed_point")
    ws = quant_warnings(rec)
    assert ws and all(w.filename == HERE for w in ws)
    # each message once although the run maps the network twice (compile and first chunk)
    assert len({str(w.message) for w in ws}) == len(ws)


def test_no_warning_when_warn_is_false_but_the_notes_are_kept():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = map_population(lapicque(v_threshold=0.001), Q88, dt_ms=1.0, warn=False)
        a, b = lapicque(label="a"), lapicque(label="b")
        notes = ["earlier"]
        codes = quantise_weights(Projection(a, b, weight=0.001), map_population(b, Q88, dt_ms=1.0),
                                 warn=False, notes=notes)
        quantise_weights(Projection(a, b, weight=0.001), map_population(b, Q88, dt_ms=1.0), warn=False)
    assert m.notes == ["population 'L': v_threshold = 0.001 rounds to 0 in Q8.8; smallest Q-format that "
                       "keeps it: Q1.9"]
    # 0.001 * 2**9 = 0.512 >= 0.5; the other values (leak = gain = 0.0488) are below 1: a sign bit only
    assert codes.tolist() == [0]
    assert notes[0] == "earlier" and len(notes) == 2
    assert notes[1].startswith("projection 'a->b': 1 of 1 weights (e.g. 0.001) round to 0 in Q8.8")


def test_notes_are_collected_and_warned():
    a, b = lapicque(label="a"), lapicque(label="b")
    notes = []
    with pytest.warns(QuantisationWarning) as rec:
        quantise_weights(Projection(a, b, weight=500.0), map_population(b, Q88, dt_ms=1.0), notes=notes)
    assert [str(w.message) for w in quant_warnings(rec)] == notes
    assert notes[0].startswith("projection 'a->b': 1 weights saturate in Q8.8")


# -- stored zero weights ----------------------------------------------------------------

def test_stored_zero_weights_are_not_reported_as_lost():
    # a scalar weight of 0 (or a plastic weight at its lower bound) is stored in CSR
    a, b = lapicque(2, "a"), lapicque(2, "b")
    proj = Projection(a, b, weight=0.0)
    assert proj.data.tolist() == [0.0] * 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = quantise_weights(proj, map_population(b, Q88, dt_ms=1.0))
        proj2 = Projection(a, b, weight=np.array([[0.0, 0.5], [0.5, 0.0]]))
        proj2.data[0] = 0.0  # as plasticity would leave it
        codes2 = quantise_weights(proj2, map_population(b, Q88, dt_ms=1.0))
    assert codes.tolist() == [0, 0, 0, 0]
    assert codes2.tolist() == [0, 128]


def test_a_stored_zero_beside_a_lost_weight_is_not_counted():
    a, b = lapicque(1, "a"), lapicque(2, "b")
    proj = Projection(a, b, weight=np.array([[0.001, 0.001]]), label="p")
    proj.data[0] = 0.0  # as plasticity would leave it
    with pytest.warns(QuantisationWarning, match=r"projection 'p': 1 of 2 weights \(e\.g\. 0\.001\) round to 0"):
        quantise_weights(proj, map_population(b, Q88, dt_ms=1.0))


# -- the suggested Q-format sees every weight ----------------------------------------------

def _hint(weights, what):
    """The suggested format of a projection 1 -> len(weights) onto a default
    Lapicque target (leak = gain = 1 - exp(-1/20) ~ 0.0488, v_threshold 1)."""
    a, b = lapicque(1, "a"), lapicque(len(weights), "b")
    proj = Projection(a, b, weight=np.array([weights]), label="p")
    assert proj.data.tolist() == list(weights)  # CSR order is the order given
    m = map_population(b, Q88, dt_ms=1.0)
    with pytest.warns(QuantisationWarning) as rec:
        quantise_weights(proj, m)
    msgs = [str(w.message) for w in quant_warnings(rec) if what in str(w.message)]
    assert len(msgs) == 1, msgs
    hint = msgs[0].rsplit(": ", 1)[1]
    # the reference: smallest_qformat over every weight and the target's values
    ref = fx.smallest_qformat([*weights, *m.float_values.values()])
    assert hint == f"Q{ref.data_width - ref.fraction}.{ref.fraction}"
    return hint


def test_saturation_hint_holds_a_large_weight_after_the_first_thousand():
    # leak 0.0488 needs 4 fraction bits (0.0488 * 16 = 0.78); 200 * 16 = 3200
    # needs 2**(w-1) > 3200: w = 13, so Q9.4
    assert _hint([0.5] * 1200 + [200.0], "saturate") == "Q9.4"


def test_saturation_hint_positive_and_negative_extremes():
    # 256 -> code 4096 needs w - 1 = 13 (4096 > 2**12 - 1): Q10.4; -200 -> -3200 needs w = 13: Q9.4
    assert _hint([0.5] * 1200 + [256.0], "saturate") == "Q10.4"
    assert _hint([0.5] * 1200 + [-200.0], "saturate") == "Q9.4"
    assert _hint([-200.0] + [0.5] * 5 + [256.0], "saturate") == "Q10.4"
    assert _hint([256.0] + [0.5] * 5 + [-200.0], "saturate") == "Q10.4"


def test_rounding_hint_keeps_a_tiny_weight_after_the_first_thousand():
    # 0.0001 needs 2**f >= 5000: f = 13; v_threshold 1.0 -> code 8192 needs w = 15: Q2.13
    assert _hint([0.5] * 1200 + [0.0001], "round to 0") == "Q2.13"
    assert _hint([0.0001] + [0.5] * 1200 + [-0.0001], "round to 0") == "Q2.13"


def test_hints_of_a_weight_exactly_one():
    # 1.0 with a tiny weight: 1.0 is the largest value, as is v_threshold 1.0, so Q2.13 as above;
    # with v_threshold 0.25 only the weight 1.0 sets the integer bits
    a, b = lapicque(1, "a"), lapicque(2, "b", v_threshold=0.25)
    proj = Projection(a, b, weight=np.array([[1.0, 0.0001]]), label="p")
    with pytest.warns(QuantisationWarning, match="round to 0") as rec:
        quantise_weights(proj, map_population(b, Q88, dt_ms=1.0))
    # f = 13; 1.0 -> 8192 needs w = 15 (Q2.13); without it 0.25 -> 2048 would give Q0.13 + sign = Q1.13
    msg = [str(w.message) for w in quant_warnings(rec)][0]
    assert msg.endswith("smallest Q-format that keeps them: Q2.13")
    assert math.isclose(0.0001 * 2 ** 13, 0.8192)


def test_rounding_hint_keeps_a_tiny_weight_between_large_ones():
    # the smallest magnitude is neither the largest nor the most negative weight
    assert _hint([-0.5] * 5 + [0.5] * 5 + [0.0001] + [0.25], "round to 0") == "Q2.13"


def test_warning_from_code_without_a_module_name():
    # code run through exec() with its own globals has no __name__: it counts as
    # the user's code (the warning points there) and does not break the search
    ns = {"map_population": map_population, "pop": lapicque(v_threshold=0.001), "Q88": Q88}
    with pytest.warns(QuantisationWarning, match="v_threshold = 0.001 rounds to 0") as rec:
        exec(compile("map_population(pop, Q88, dt_ms=1.0)", "<cell>", "exec"), ns)
    assert [w.filename for w in quant_warnings(rec)] == ["<cell>"]
