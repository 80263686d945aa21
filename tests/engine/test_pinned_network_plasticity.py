"""Pinned STDP behaviour (engine/network/plasticity.py): the rule's defaults
and validation, ``make_plasticity``, and the trace/weight updates step by
step, with expected values worked out by hand from the rule in the module
docstring."""

import math

import numpy as np
import pytest

from engine.network import STDP, Population
from engine.network.plasticity import STDPRuntime, make_plasticity
from engine.network.projection import Projection


def test_stdp_defaults_and_repr():
    rule = STDP()
    assert rule.to_dict() == {"rule": "stdp", "tau_plus": 20.0, "tau_minus": 20.0, "a_plus": 0.01,
                              "a_minus": 0.012, "w_min": 0.0, "w_max": 1.0}
    assert repr(STDP(tau_plus=5.0, w_max=2.0)) == \
        "STDP(tau_plus=5.0, tau_minus=20.0, a_plus=0.01, a_minus=0.012, w_min=0.0, w_max=2.0)"


@pytest.mark.parametrize("kwargs, exc, name", [
    ({"tau_plus": 0.0}, ValueError, "tau_plus"),
    ({"tau_minus": 0.0}, ValueError, "tau_minus"),
    ({"tau_minus": -1.0}, ValueError, "tau_minus"),
    ({"a_plus": "x"}, TypeError, "a_plus"),
    ({"a_minus": True}, TypeError, "a_minus"),
    ({"w_min": float("nan")}, ValueError, "w_min"),
    ({"w_max": float("inf")}, ValueError, "w_max"),
    ({"tau_plus": float("inf")}, ValueError, "tau_plus"),
])
def test_stdp_bad_values_name_the_parameter(kwargs, exc, name):
    with pytest.raises(exc, match=f"STDP {name} must be"):
        STDP(**kwargs)


def test_stdp_boundaries():
    # a time constant below 1 ms is fine, amplitudes may be 0, w_min == w_max is allowed
    r = STDP(tau_plus=0.5, tau_minus=0.25, a_plus=0.0, a_minus=0.0, w_min=0.3, w_max=0.3)
    assert (r.tau_plus, r.tau_minus, r.a_plus, r.w_max) == (0.5, 0.25, 0.0, 0.3)
    for kwargs in ({"a_plus": -0.1}, {"a_minus": -0.1}):
        with pytest.raises(ValueError, match=r"^STDP a_plus and a_minus must be >= 0 \(their signs are fixed "
                                             r"by the rule\)$"):
            STDP(**kwargs)
    with pytest.raises(ValueError, match=r"STDP w_max \(0.1\) must be >= w_min \(0.2\)"):
        STDP(w_min=0.2, w_max=0.1)


def test_make_plasticity_forms():
    assert make_plasticity(None) is None
    r = STDP(a_plus=0.5)
    assert make_plasticity(r) is r
    assert make_plasticity("StDp").to_dict() == STDP().to_dict()
    assert make_plasticity({"rule": "stdp", "tau_plus": 7.0}).tau_plus == 7.0
    with pytest.raises(NotImplementedError, match=r"plasticity='hebb' is not implemented; available: stdp \(or None\)"):
        make_plasticity("hebb")
    with pytest.raises(NotImplementedError, match=r"plasticity rule None is not implemented; available: stdp"):
        make_plasticity({"tau_plus": 5.0})
    with pytest.raises(ValueError, match=r"bad STDP parameters \['bogus'\]: "):
        make_plasticity({"rule": "stdp", "bogus": 1})
    with pytest.raises(NotImplementedError, match=r"use None, STDP\(\.\.\.\) or \{'rule': 'stdp', \.\.\.\}"):
        make_plasticity(3)


def _projection(weights, **rule):
    pre = Population("LapicqueNeuron", len(weights), label="pre")
    post = Population("LapicqueNeuron", len(weights[0]), label="post")
    return Projection(pre, post, np.array(weights, dtype=float), plasticity=STDP(**rule))


def test_runtime_decays_and_state():
    proj = _projection([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], tau_plus=10.0, tau_minus=20.0)
    rt = STDPRuntime(proj, 1.0)
    assert rt.dec_pre == pytest.approx(math.exp(-0.1), rel=1e-15)
    assert rt.dec_post == pytest.approx(math.exp(-0.05), rel=1e-15)
    # the traces live on the projection and start at zero
    assert proj.plasticity_state["pre"] is rt.pre and proj.plasticity_state["post"] is rt.post
    np.testing.assert_array_equal(rt.pre, np.zeros(2))
    np.testing.assert_array_equal(rt.post, np.zeros(3))
    # a second runtime (recompile) keeps traces of the right shape ...
    rt.pre[:] = [0.25, 0.5]
    rt.post[:] = [1.0, 2.0, 3.0]
    rt2 = STDPRuntime(proj, 1.0)
    assert rt2.pre is rt.pre and rt2.post is rt.post
    np.testing.assert_array_equal(rt2.post, [1.0, 2.0, 3.0])
    # ... and replaces traces whose shape no longer matches (either side)
    for bad in ({"pre": np.ones(5), "post": np.ones(3)}, {"pre": np.ones(2), "post": np.ones(4)}):
        proj.plasticity_state = bad
        rt3 = STDPRuntime(proj, 1.0)
        assert rt3.pre.shape == (2,) and rt3.post.shape == (3,)
        assert not rt3.pre.any() and not rt3.post.any()
        assert proj.plasticity_state["pre"] is rt3.pre


def test_runtime_pairing_step_by_step():
    a_plus, a_minus = 0.1, 0.2
    proj = _projection([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], tau_plus=10.0, tau_minus=20.0,
                       a_plus=a_plus, a_minus=a_minus, w_min=0.45, w_max=0.55)
    rt = STDPRuntime(proj, 1.0)
    none = np.zeros(0, dtype=np.int64)
    w = lambda: proj.to_dense()  # noqa: E731  (rows = source, columns = target)
    # step 1: pre 0 fires, no post trace yet: weights stay, x0 = 1
    rt.apply(np.array([0]), none)
    np.testing.assert_array_equal(w(), np.full((2, 3), 0.5))
    np.testing.assert_array_equal(rt.pre, [1.0, 0.0])
    # step 2: post 1 fires one step later: w[0,1] += a_plus * exp(-1/10), clipped at w_max = 0.55
    rt.apply(none, np.array([1]))
    assert 0.5 + a_plus * math.exp(-0.1) > 0.55
    np.testing.assert_array_equal(w(), [[0.5, 0.55, 0.5], [0.5, 0.5, 0.5]])
    np.testing.assert_allclose(rt.pre, [math.exp(-0.1), 0.0], rtol=1e-15)
    np.testing.assert_array_equal(rt.post, [0.0, 1.0, 0.0])
    # step 3: pre 1 fires after post 1: w[1,1] -= a_minus * exp(-1/20) = 0.31..., clipped at w_min = 0.45
    rt.apply(np.array([1]), none)
    np.testing.assert_array_equal(w(), [[0.5, 0.55, 0.5], [0.5, 0.45, 0.5]])
    np.testing.assert_allclose(rt.pre, [math.exp(-0.2), 1.0], rtol=1e-15)
    np.testing.assert_allclose(rt.post, [0.0, math.exp(-0.05), 0.0], rtol=1e-15)
    # step 4: pre 0 and post 1 again: traces accumulate (decay, then + 1)
    rt.apply(np.array([0]), np.array([1]))
    np.testing.assert_allclose(rt.pre, [1.0 + math.exp(-0.3), math.exp(-0.1)], rtol=1e-15)
    np.testing.assert_allclose(rt.post, [0.0, 1.0 + math.exp(-0.1), 0.0], rtol=1e-15)


def test_runtime_unclipped_values_and_an_empty_last_column():
    # target 2 receives nothing (dense zeros are no synapses): the column
    # pointers must still cover it
    proj = _projection([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]], tau_plus=10.0, tau_minus=20.0,
                       a_plus=0.1, a_minus=0.2)
    rt = STDPRuntime(proj, 2.0)
    np.testing.assert_array_equal(rt.col_ptr, [0, 2, 4, 4])
    rt.apply(np.array([0]), np.zeros(0, dtype=np.int64))
    rt.apply(np.zeros(0, dtype=np.int64), np.array([0, 1]))
    # pre 0 -> post 0/1 potentiated by a_plus * exp(-2/10)
    up = 0.5 + 0.1 * math.exp(-0.2)
    np.testing.assert_allclose(proj.to_dense(), [[up, up, 0.0], [0.5, 0.5, 0.0]], rtol=1e-15)
    rt.apply(np.array([1]), np.zeros(0, dtype=np.int64))
    down = 0.5 - 0.2 * math.exp(-0.1)
    np.testing.assert_allclose(proj.to_dense(), [[up, up, 0.0], [down, down, 0.0]], rtol=1e-15)


def test_runtime_clips_only_the_weights_it_touched():
    # weights outside [w_min, w_max] from the start stay as they are until a spike moves them
    proj = _projection([[0.5, 0.5], [0.5, 0.5]], a_plus=0.1, a_minus=0.1, w_min=0.0, w_max=0.3)
    rt = STDPRuntime(proj, 1.0)
    none = np.zeros(0, dtype=np.int64)
    rt.apply(np.array([0]), none)  # pre 0: row 0 depressed by 0 (no post trace), then clipped
    np.testing.assert_array_equal(proj.to_dense(), [[0.3, 0.3], [0.5, 0.5]])
    rt.apply(none, np.array([1]))  # post 1: column 1 potentiated, then clipped
    np.testing.assert_array_equal(proj.to_dense(), [[0.3, 0.3], [0.5, 0.3]])
