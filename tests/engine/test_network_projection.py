"""Projection: CSR construction, topologies, weights, delays, propagation."""

import math

import numpy as np
import pytest

from engine.network import Population, Projection


def pops(n_src=200, n_tgt=150):
    return Population("lif", n_src, label="src"), Population("lif", n_tgt, label="tgt")


def check_csr(proj):
    n_src, n_tgt = proj.source.n, proj.target.n
    assert proj.indptr.shape == (n_src + 1,) and proj.indptr[0] == 0
    assert np.all(np.diff(proj.indptr) >= 0) and proj.indptr[-1] == proj.indices.size == proj.data.size
    for i in range(n_src):
        row = proj.indices[proj.indptr[i]:proj.indptr[i + 1]]
        assert np.all(np.diff(row) > 0)  # sorted, unique
    assert proj.indices.size == 0 or (proj.indices.min() >= 0 and proj.indices.max() < n_tgt)


@pytest.mark.parametrize("p", [0.02, 0.1, 0.5])
def test_random_connectivity_matches_probability(p):
    src, tgt = pops()
    proj = Projection(src, tgt, 1.0, probability=p, seed=11)
    check_csr(proj)
    n = 200 * 150
    assert abs(proj.nnz - n * p) < 5 * math.sqrt(n * p * (1 - p))
    # rows are independent Bernoulli too: out-degree variance ~ n_tgt p (1-p)
    deg = np.diff(proj.indptr)
    assert deg.var() == pytest.approx(150 * p * (1 - p), rel=0.35)


def test_random_connectivity_reproducible_by_seed():
    src, tgt = pops()
    a = Projection(src, tgt, {"dist": "normal", "mean": 1.0, "std": 0.5}, probability=0.1, seed=4)
    b = Projection(src, tgt, {"dist": "normal", "mean": 1.0, "std": 0.5}, probability=0.1, seed=4)
    c = Projection(src, tgt, {"dist": "normal", "mean": 1.0, "std": 0.5}, probability=0.1, seed=5)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.indices[:50], c.indices[:50]) or a.nnz != c.nnz


def test_self_connection_flag():
    p = Population("lif", 300)
    with_self = Projection(p, p, 1.0, probability=0.2, seed=1)
    no_self = Projection(p, p, 1.0, probability=0.2, seed=1, allow_self_connections=False)
    dense_with, dense_no = with_self.to_dense(), no_self.to_dense()
    assert np.trace(dense_with != 0) > 20  # ~60 expected
    assert np.trace(dense_no != 0) == 0
    # only the diagonal differs
    off = ~np.eye(300, dtype=bool)
    np.testing.assert_array_equal(dense_with[off], dense_no[off])
    a2a = Projection(p, p, 1.0, topology="all_to_all", allow_self_connections=False)
    assert a2a.nnz == 300 * 299
    with pytest.raises(TypeError, match="allow_self_connections"):
        Projection(p, p, 1.0, allow_self_connections="no")


def test_all_to_all_and_one_to_one():
    src, tgt = pops(4, 3)
    a2a = Projection(src, tgt, 0.5, topology="all_to_all")
    check_csr(a2a)
    np.testing.assert_array_equal(a2a.to_dense(), np.full((4, 3), 0.5))
    same = Population("lif", 5)
    o2o = Projection(same, Population("lif", 5), 2.0, topology="one_to_one")
    np.testing.assert_array_equal(o2o.to_dense(), 2.0 * np.eye(5))
    with pytest.raises(ValueError, match="one_to_one.*n=4.*n=3"):
        Projection(src, tgt, 1.0, topology="one_to_one")
    with pytest.raises(ValueError, match="topology"):
        Projection(src, tgt, 1.0, topology="ring")
    with pytest.raises(ValueError, match="probability"):
        Projection(src, tgt, 1.0, topology="all_to_all", probability=0.5)


def test_weight_forms():
    src, tgt = pops(30, 20)
    rng = np.random.default_rng(0)
    w = rng.normal(size=(30, 20))
    w[w < -1.0] = 0.0
    dense = Projection(src, tgt, w, topology="all_to_all")
    np.testing.assert_array_equal(dense.to_dense(), w)
    assert dense.nnz == np.count_nonzero(w)  # explicit zeros are no synapse
    base = Projection(src, tgt, 1.0, probability=0.3, seed=2)
    per_edge = Projection(src, tgt, np.arange(base.nnz, dtype=float), probability=0.3, seed=2)
    np.testing.assert_array_equal(per_edge.data, np.arange(base.nnz))
    np.testing.assert_array_equal(per_edge.indices, base.indices)
    normal = Projection(src, tgt, {"dist": "normal", "mean": 2.0, "std": 0.5}, topology="all_to_all", seed=1)
    assert abs(normal.data.mean() - 2.0) < 5 * 0.5 / math.sqrt(600)
    assert normal.data.std() == pytest.approx(0.5, rel=0.15)
    uni = Projection(src, tgt, {"dist": "uniform", "low": -1.0, "high": 3.0}, topology="all_to_all")
    assert uni.data.min() >= -1.0 and uni.data.max() < 3.0 and abs(uni.data.mean() - 1.0) < 0.25
    pruned = Projection(src, tgt, {"dist": "uniform", "low": 0.0, "high": 1.0}, topology="all_to_all",
                        weight_threshold=0.5, seed=3)
    assert pruned.data.min() >= 0.5 and abs(pruned.nnz - 300) < 5 * math.sqrt(150)


@pytest.mark.parametrize("weight, err, match", [
    (np.zeros((3, 3)), ValueError, r"shape \(30, 20\)"),
    (np.zeros(7), ValueError, "one per synapse"),
    ({"dist": "gamma"}, ValueError, "dist"),
    ({"dist": "normal", "mean": 1.0}, ValueError, "'std'"),
    ({"dist": "normal", "mean": 1.0, "std": -1.0}, ValueError, "std"),
    ({"dist": "uniform", "low": 1.0, "high": 0.0, "x": 1}, ValueError, "'x'"),
    (float("nan"), ValueError, "weight"),
    (True, TypeError, "bool"),
    (None, TypeError, "weight is required"),
    ("heavy", TypeError, "weight"),
    (np.array([[np.inf] * 20] * 30), ValueError, "non-finite"),
])
def test_bad_weights(weight, err, match):
    src, tgt = pops(30, 20)
    with pytest.raises(err, match=match):
        Projection(src, tgt, weight, topology="all_to_all")


def test_delay_and_other_arguments():
    src, tgt = pops(5, 5)
    assert Projection(src, tgt, 1.0, delay=2.0).delay == 2
    assert Projection(src, tgt, 1.0, delay=3).delay == 3
    for bad, match in ((1.5, "whole number"), (-1, ">= 0"), (float("inf"), "whole number")):
        with pytest.raises(ValueError, match=match):
            Projection(src, tgt, 1.0, delay=bad)
    with pytest.raises(TypeError, match="delay"):
        Projection(src, tgt, 1.0, delay="2")
    with pytest.raises(NotImplementedError, match="plasticity='bcm'"):
        Projection(src, tgt, 1.0, plasticity="bcm")
    with pytest.raises(NotImplementedError, match="rule 'oja'"):
        Projection(src, tgt, 1.0, plasticity={"rule": "oja"})
    with pytest.raises(ValueError, match="tau_plus"):
        Projection(src, tgt, 1.0, plasticity={"rule": "stdp", "tau_plus": -1.0})
    with pytest.raises(ValueError, match="w_max"):
        Projection(src, tgt, 1.0, plasticity={"rule": "stdp", "w_min": 1.0, "w_max": 0.0})
    with pytest.raises(ValueError, match="probability"):
        Projection(src, tgt, 1.0, probability=1.5)
    with pytest.raises(ValueError, match="tau_syn"):
        Projection(src, tgt, 1.0, tau_syn=0.0)
    with pytest.raises(ValueError, match="seed"):
        Projection(src, tgt, 1.0, seed=-2)
    with pytest.raises(TypeError, match="source must be a Population"):
        Projection("a", tgt, 1.0)
    with pytest.raises(ValueError, match="synapses"):
        Projection(Population("lif", 10**6), Population("lif", 10**6), 1.0, probability=0.5)


def test_propagate_matches_dense_product():
    src, tgt = pops(60, 40)
    proj = Projection(src, tgt, {"dist": "normal", "mean": 0.0, "std": 1.0}, probability=0.3, seed=8)
    spikes = (np.random.default_rng(1).random(60) < 0.3).astype(float)
    np.testing.assert_allclose(proj.propagate(spikes), spikes @ proj.to_dense(), rtol=1e-12, atol=1e-12)
    graded = np.random.default_rng(2).random(60)
    np.testing.assert_allclose(proj.propagate(graded), graded @ proj.to_dense(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(proj.propagate(np.zeros(60)), np.zeros(40))
    with pytest.raises(ValueError, match=r"shape \(60,\)"):
        proj.propagate(np.zeros(40))


def test_from_csr_validates():
    src, tgt = pops(3, 4)
    proj = Projection.from_csr(src, tgt, [0, 2, 2, 3], [1, 3, 0], [0.5, -1.0, 2.0], delay=1)
    np.testing.assert_array_equal(proj.to_dense(), [[0, 0.5, 0, -1.0], [0, 0, 0, 0], [2.0, 0, 0, 0]])
    assert proj.delay == 1
    with pytest.raises(ValueError, match="indptr"):
        Projection.from_csr(src, tgt, [0, 2, 3], [1, 3, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="indices must lie"):
        Projection.from_csr(src, tgt, [0, 1, 1, 1], [4], [1.0])
    with pytest.raises(ValueError, match="duplicate"):
        Projection.from_csr(src, tgt, [0, 2, 2, 2], [1, 1], [1.0, 1.0])


# -- properties ---------------------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(n_src=st.integers(1, 40), n_tgt=st.integers(1, 40), p=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**31), self_conn=st.booleans(), same=st.booleans())
def test_csr_invariants_and_propagation_property(n_src, n_tgt, p, seed, self_conn, same):
    src = Population("lif", n_src)
    tgt = src if same else Population("lif", n_tgt)
    proj = Projection(src, tgt, {"dist": "uniform", "low": -1.0, "high": 1.0}, probability=p, seed=seed,
                      allow_self_connections=self_conn)
    check_csr(proj)
    dense = proj.to_dense()
    if same and not self_conn:
        assert not np.any(np.diag(dense))
    spikes = (np.random.default_rng(seed).random(src.n) < 0.5).astype(float)
    np.testing.assert_allclose(proj.propagate(spikes), spikes @ dense, atol=1e-12)
    again = Projection(src, tgt, {"dist": "uniform", "low": -1.0, "high": 1.0}, probability=p, seed=seed,
                       allow_self_connections=self_conn)
    np.testing.assert_array_equal(proj.indices, again.indices)
    np.testing.assert_array_equal(proj.data, again.data)


def test_tiny_probability_terminates_with_correct_count():
    src, tgt = pops(1000, 1000)
    assert Projection(src, tgt, 1.0, probability=1e-300).nnz == 0
    proj = Projection(src, tgt, 1.0, probability=5e-10, seed=1)
    check_csr(proj)
    assert proj.nnz <= 5  # expected 5e-4 synapses
    dense = Projection(src, tgt, 1.0, probability=0.6, seed=1)  # the dense-mask branch
    assert abs(dense.nnz - 6e5) < 5 * math.sqrt(1e6 * 0.24)
