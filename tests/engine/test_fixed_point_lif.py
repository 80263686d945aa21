"""FixedPointLIFNeuron: the scalar reference API, validation, and bit-exactness
of the vectorised forms (declaration kernel and in-place array kernel)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import fixedpoint as fx
from engine.models import get_model
from engine.models.fixed_point_lif import (FixedPointLIF, FixedPointLIFArray, FixedPointLIFNeuron,
                                           lif_reference_step)


def test_spec_example_and_hand_computed_values():
    n = FixedPointLIFNeuron()
    assert (n.data_width, n.fraction, n.v_threshold, n.refractory_period) == (16, 8, 256, 2)
    # dv_leak = (0 * 240) >> 8 = 0 ; dv_in = (100 * 16) >> 8 = 6
    assert n.step(leak_k=240, gain_k=16, I_t=100) == (0, 6)
    # dv_leak = ((0 - 6) * 240) >> 8 = -1440 >> 8 = -6 (floor) ; dv_in = 6 -> v = 6
    assert n.step(240, 16, 100) == (0, 6)
    # big input: 6 + (-6) + (5000*16 >> 8 = 312) = 312 >= 256 -> spike, reset to 0
    assert n.step(240, 16, 5000) == (1, 0)
    assert n.get_state() == {"v": 0, "refractory_counter": 2}
    # two refractory cycles ignore the input and hold v_rest
    assert n.step(240, 16, 5000) == (0, 0)
    assert n.step(240, 16, 5000) == (0, 0)
    assert n.step(240, 16, 5000) == (1, 0)


def test_arithmetic_shift_floors_negative_products():
    n = FixedPointLIFNeuron(v_threshold=32767, refractory_period=0)
    # (-1 * 1) >> 8 == -1 in an arithmetic shift (floor), not 0 (truncation)
    assert n.step(0, 1, -1) == (0, -1)


def test_overflow_wraps_to_data_width():
    n = FixedPointLIFNeuron(data_width=8, fraction=4, v_threshold=127, refractory_period=0)
    n.v = 120
    # 120 + (16 * 16 >> 4 = 16) = 136 -> wraps to 136 - 256 = -120, no spike
    assert n.step(0, 16, 16) == (0, -120)
    n.v = -120
    # -120 + (-16 * 16 >> 4 = -16) = -136 -> wraps to +120, below the threshold
    assert n.step(0, 16, -16) == (0, 120)
    n.v = -128
    # -129 wraps to +127 == threshold: a spike caused purely by wrap-around
    assert n.step(0, 16, -1) == (1, 0)


def test_threshold_equality_fires_and_reset_clears():
    n = FixedPointLIFNeuron(refractory_period=0, v_reset=-10)
    assert n.step(0, 256, 255) == (0, 255)
    assert n.step(0, 256, 1) == (1, -10)
    n.reset()
    assert n.get_state() == {"v": 0, "refractory_counter": 0}
    n.step(0, 256, 300)
    n.reset_state()
    assert n.get_state() == {"v": 0, "refractory_counter": 0}


@pytest.mark.parametrize("kwargs, name", [
    (dict(data_width=0), "data_width"), (dict(data_width=33), "data_width"),
    (dict(data_width=8, fraction=8), "fraction"), (dict(fraction=-1), "fraction"),
    (dict(data_width=8, fraction=4, v_threshold=128), "v_threshold"),
    (dict(v_rest=-40000), "v_rest"), (dict(v_reset=1.5), "v_reset"),
    (dict(refractory_period=-1), "refractory_period"), (dict(data_width=16.0), "data_width"),
])
def test_bad_configuration_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        FixedPointLIFNeuron(**kwargs)


@pytest.mark.parametrize("inputs, name", [
    (dict(leak_k=40000, gain_k=1, I_t=0), "leak_k"), (dict(leak_k=1, gain_k=-40000, I_t=0), "gain_k"),
    (dict(leak_k=1, gain_k=1, I_t=2.5), "I_t"), (dict(leak_k=1, gain_k=1, I_t=0, noise_in=1 << 15), "noise_in"),
])
def test_bad_step_inputs_name_the_input(inputs, name):
    with pytest.raises(ValueError, match=name):
        FixedPointLIFNeuron().step(**inputs)


def test_declaration_is_registered_and_validates():
    assert get_model("FixedPointLIFNeuron") is FixedPointLIF
    assert FixedPointLIFNeuron.declaration is FixedPointLIF
    assert FixedPointLIF.integer and not FixedPointLIF.uses_dt
    with pytest.raises(ValueError, match="leak_k"):
        FixedPointLIF(data_width=8, fraction=4, v_threshold=16, leak_k=300)
    with pytest.raises(ValueError, match="v_threshold"):
        FixedPointLIF(data_width=8, fraction=4)  # default threshold 256 does not fit 8 bits


def test_declaration_noise_is_seeded_and_bounded():
    m = FixedPointLIF(noise_amplitude=3, leak_k=0, gain_k=0, v_threshold=10_000)
    st1, st2 = m.initial_state(1000), m.initial_state(1000)
    m.step(st1, np.zeros(1000, dtype=np.int64), None, np.random.default_rng(5))
    m.step(st2, np.zeros(1000, dtype=np.int64), None, np.random.default_rng(5))
    assert np.array_equal(st1["v"], st2["v"])
    assert st1["v"].min() == -3 and st1["v"].max() == 3


class SmallBlockArray(FixedPointLIFArray):
    BLOCK = 16  # several blocks for n = 37: block boundaries are exercised


@st.composite
def configs(draw):
    w = draw(st.integers(1, 32))
    f = draw(st.integers(0, w - 1))
    lo, hi = fx.int_range(w)
    val = st.integers(lo, hi)
    return dict(data_width=w, fraction=f, v_rest=draw(val), v_reset=draw(val), v_threshold=draw(val),
                refractory_period=draw(st.integers(0, 6)))


@settings(max_examples=60, deadline=None)
@given(cfg=configs(), seed=st.integers(0, 2**32 - 1), noise=st.booleans())
def test_vectorised_forms_are_bit_exact_with_scalar(cfg, seed, noise):
    rng = np.random.default_rng(seed)
    lo, hi = fx.int_range(cfg["data_width"])
    n, steps = 37, 25
    scalars = [FixedPointLIFNeuron(**cfg) for _ in range(n)]
    arr = SmallBlockArray(n, **cfg)
    leak, gain = int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
    decl = FixedPointLIF(**cfg, leak_k=leak, gain_k=gain)
    state = decl.initial_state(n)
    for _ in range(steps):
        cur = rng.integers(lo, hi + 1, size=n)
        nz = rng.integers(lo, hi + 1, size=n) if noise else np.zeros(n, dtype=np.int64)
        want = [s.step(leak, gain, int(c), int(z)) for s, c, z in zip(scalars, cur, nz)]
        got = arr.step(leak, gain, cur, nz if noise else None)
        assert got.astype(int).tolist() == [w[0] for w in want]
        assert arr.v.tolist() == [w[1] for w in want]
        assert arr.counter.tolist() == [s.refractory_counter for s in scalars]
        if not noise:
            spk = decl.step(state, cur, None, None)
            assert spk.tolist() == [w[0] for w in want]
            assert state["v"].tolist() == [w[1] for w in want]


@settings(max_examples=60, deadline=None)
@given(cfg=configs(), seed=st.integers(0, 2**32 - 1))
def test_scalar_class_matches_written_out_reference(cfg, seed):
    rng = np.random.default_rng(seed)
    lo, hi = fx.int_range(cfg["data_width"])
    n = FixedPointLIFNeuron(**cfg)
    v, c = cfg["v_rest"], 0
    for _ in range(50):
        lk, gk, it, nz = (int(x) for x in rng.integers(lo, hi + 1, size=4))
        spike, v, c = lif_reference_step(v, c, lk, gk, it, nz, **cfg)
        assert n.step(lk, gk, it, nz) == (spike, v)
        assert n.refractory_counter == c


def test_array_blocks_agree_with_single_block():
    rng = np.random.default_rng(0)
    cfg = dict(data_width=16, fraction=8, v_rest=0, v_reset=-20, v_threshold=256, refractory_period=3)
    big = FixedPointLIFArray(100_000, **cfg)  # several 32k blocks
    ref_v = np.zeros(100_000, dtype=np.int64)
    ref_c = np.zeros(100_000, dtype=np.int64)
    from engine.models.fixed_point_lif import _naive_step
    for _ in range(20):
        cur = rng.integers(-2000, 3000, size=100_000)
        s, ref_v, ref_c = _naive_step(ref_v, ref_c, 20, 64, cur, 0, **cfg)
        got = big.step(20, 64, cur)
        assert np.array_equal(got, s) and np.array_equal(big.v, ref_v)
    assert 0 < s.sum() < 100_000
