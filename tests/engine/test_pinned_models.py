"""Pinned values for engine/models: the shared form helpers (``_form.py``) and
model details the mutation run found unpinned.  Expected values are worked out
by hand or from closed forms (noted next to each)."""
import math

import numpy as np
import pytest

from engine.models import _form


# -- refractory counter: period where spiked, else count down to 0 ---------------------
@pytest.mark.parametrize("fn", [_form.refractory_count, _form._np_refractory_count])
def test_refractory_count_exact(fn):
    refr = np.array([0.0, 1.0, 3.0, 0.5, 4.0])
    spikes = np.array([False, False, False, True, True])
    out = fn(refr, spikes, 2)
    # 0 -> max(-1, 0) = 0; 1 -> 0; 3 -> 2; spiked -> 2.0 (the period)
    np.testing.assert_array_equal(out, [0.0, 0.0, 2.0, 2.0, 2.0])
    assert out.dtype == np.float64
    assert out is not refr
    np.testing.assert_array_equal(refr, [0.0, 1.0, 3.0, 0.5, 4.0])  # input untouched


def test_np_refractory_count_float_period_and_fallbacks():
    out = _form._np_refractory_count(np.array([5.0, 0.0]), np.array([True, False]), 2.5)
    np.testing.assert_array_equal(out, [2.5, 0.0])
    # an int64 counter takes the np.where path: float result, same values
    out = _form._np_refractory_count(np.array([3, 0]), np.array([True, False]), 2)
    np.testing.assert_array_equal(out, [2.0, 0.0])
    assert out.dtype == np.float64
    # a per-neuron period (array) also takes the np.where path
    out = _form._np_refractory_count(np.array([3.0, 2.0]), np.array([True, False]), np.array([7.0, 8.0]))
    np.testing.assert_array_equal(out, [7.0, 1.0])
    # a scalar counter (broadcast)
    out = _form._np_refractory_count(1.0, np.array([True, False]), 4)
    np.testing.assert_array_equal(out, [4.0, 0.0])


@pytest.mark.parametrize("fn", [_form.hold, _form._np_hold])
def test_hold_exact(fn):
    active = np.array([True, False, True, False])
    new = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(fn(active, new, 9.0), [1.0, 9.0, 3.0, 9.0])
    held = np.array([-1.0, -2.0, -3.0, -4.0])
    out = fn(active, new, held)
    np.testing.assert_array_equal(out, [1.0, -2.0, 3.0, -4.0])
    assert out is not new and out is not held
    np.testing.assert_array_equal(new, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(held, [-1.0, -2.0, -3.0, -4.0])


def test_np_hold_fallbacks():
    active = np.array([True, False])
    # int held value, int new array, broadcast held, scalar active: the np.where path
    np.testing.assert_array_equal(_form._np_hold(active, np.array([1.0, 2.0]), 7), [1.0, 7.0])
    np.testing.assert_array_equal(_form._np_hold(active, np.array([1, 2]), 7), [1, 7])
    np.testing.assert_array_equal(_form._np_hold(active, np.array([1.0, 2.0]), np.array([5.0])), [1.0, 5.0])
    np.testing.assert_array_equal(_form._np_hold(False, np.array([1.0, 2.0]), 0.0), [0.0, 0.0])
    np.testing.assert_array_equal(
        _form._np_hold(active, np.array([1.0, 2.0]), np.array([5, 6])), [1.0, 6.0])


@pytest.mark.parametrize("fn", [_form.spike_reset, _form._np_spike_reset])
def test_spike_reset_exact(fn):
    spikes = np.array([False, True, True])
    value = np.array([0.5, 1.5, 2.5])
    np.testing.assert_array_equal(fn(spikes, value, -70.0), [0.5, -70.0, -70.0])
    reset = np.array([10.0, 20.0, 30.0])
    out = fn(spikes, value, reset)
    np.testing.assert_array_equal(out, [0.5, 20.0, 30.0])
    assert out is not value
    np.testing.assert_array_equal(value, [0.5, 1.5, 2.5])


def test_np_spike_reset_fallbacks():
    spikes = np.array([True, False])
    np.testing.assert_array_equal(_form._np_spike_reset(spikes, np.array([1.0, 2.0]), 0), [0.0, 2.0])
    np.testing.assert_array_equal(_form._np_spike_reset(spikes, np.array([1, 2]), 0), [0, 2])
    np.testing.assert_array_equal(_form._np_spike_reset(spikes, np.array([1.0, 2.0]), np.array([9.0])), [9.0, 2.0])
    np.testing.assert_array_equal(_form._np_spike_reset(spikes, np.array([1.0, 2.0]), np.array([8, 9])), [8.0, 2.0])
    np.testing.assert_array_equal(_form._np_spike_reset(True, np.array([1.0, 2.0]), 3.0), [3.0, 3.0])


# -- substeps and RK4 ---------------------------------------------------------------------
def test_substeps_exact():
    assert _form.substeps(1.0, 0.25) == (4, 0.25)
    assert _form.substeps(1.0, 0.3) == (4, 0.25)  # ceil(3.33) = 4
    assert _form.substeps(0.1, 1.0) == (1, 0.1)  # at least one
    assert _form.substeps(0.0, 1.0) == (1, 0.0)
    # a ratio a hair above a whole number (rounding of dt / max_step) is not one more substep
    n, h = _form.substeps(0.3, 0.1)  # 0.3 / 0.1 = 2.9999999999999996
    assert n == 3 and h == pytest.approx(0.1)
    n, h = _form.substeps(1.0 + 1e-12, 0.5)
    assert n == 2


def test_rk4_step_exact():
    # y + h/6 (k1 + 2 k2 + 2 k3 + k4) = 10 + 1 * (1 + 4 + 6 + 4)
    assert _form.rk4_step(1.0, 2.0, 3.0, 4.0, 10.0, 6.0) == 25.0


def test_rk4_cross_constant_slope_exact():
    # da/dt = 1, db/dt = 2 (exact under RK4): over dt = 1 in substeps of 0.5
    rhs = lambda p, I, a, b: (1.0 + 0 * a, 2.0 + 0 * b)  # noqa: E731
    a0 = np.array([0.0, 0.2, 0.8, -5.0])
    crossed, a, b = _form.rk4_cross2(rhs, None, 0.0, 1.0, 0.5, 0.75, a0, np.zeros(4))
    np.testing.assert_allclose(a, a0 + 1.0)
    np.testing.assert_allclose(b, 2.0)
    # starts below 0.75 and ends at or above it; 0.8 started above: no crossing
    np.testing.assert_array_equal(crossed, [True, True, False, False])


def test_rk4_cross_lands_exactly_on_threshold():
    rhs = lambda p, I, a, b, c: (1.0 + 0 * a, 0 * b, 0 * c)  # noqa: E731
    crossed, a, b, c = _form.rk4_cross3(rhs, None, 0.0, 1.0, 1.0, 1.0, np.array([0.0]), np.zeros(1), np.zeros(1))
    assert a[0] == 1.0 and crossed[0]  # a >= threshold counts
    rhs4 = lambda p, I, a, b, c, d: (1.0 + 0 * a, 0 * b, 0 * c, 3.0 + 0 * d)  # noqa: E731
    crossed, a, b, c, d = _form.rk4_cross4(rhs4, None, 0.0, 2.0, 1.0, 5.0, np.array([4.5]),
                                           np.zeros(1), np.zeros(1), np.zeros(1))
    assert a[0] == pytest.approx(6.5) and d[0] == pytest.approx(6.0) and crossed[0]


def test_rk4_cross_one_crossing_per_step_with_exact_rk4():
    # da/dt = a (exponential): one RK4 substep multiplies by 1 + h + h^2/2 + h^3/6 + h^4/24
    rhs = lambda p, I, a, b: (a, 0 * b)  # noqa: E731
    crossed, a, _ = _form.rk4_cross2(rhs, None, 0.0, 0.2, 0.1, 1.05, np.array([1.0]), np.zeros(1))
    g = 1 + 0.1 + 0.1 ** 2 / 2 + 0.1 ** 3 / 6 + 0.1 ** 4 / 24
    assert a[0] == pytest.approx(g * g, rel=1e-14)
    assert crossed[0]  # 1.0 -> 1.105 (crosses) -> 1.221 (already above)


# -- HH rate functions ------------------------------------------------------------------------
def test_rate_functions_closed_forms():
    assert _form.lin_rate(0.1, 0.0, 10.0) == pytest.approx(1.0)  # the limit c f at x = 0
    assert _form.lin_rate(0.1, 10.0, 10.0) == pytest.approx(1.0 / (1 - math.exp(-1)))
    assert _form.lin_rate(0.01, -10.0, 10.0) == pytest.approx(-0.1 / (1 - math.exp(1)))
    assert _form.exp_rate(4.0, 18.0, 18.0) == pytest.approx(4.0 * math.exp(-1))
    assert _form.sig_rate(0.0, 10.0) == 0.5
    assert _form.sig_rate(10.0, 10.0) == pytest.approx(1 / (1 + math.exp(-1)))
    r = _form.hh_rate_set(np.array([-65.0]), 40, 65, 55, 65, 35, 65)
    # HH at rest (-65 mV), modern convention
    assert r[0][0] == pytest.approx(0.1 * -25 / (1 - math.exp(2.5)))
    assert r[1][0] == pytest.approx(0.07)
    assert r[2][0] == pytest.approx(0.01 * -10 / (1 - math.exp(1)))
    assert r[3][0] == pytest.approx(4.0)
    assert r[4][0] == pytest.approx(1 / (1 + math.exp(3)))
    assert r[5][0] == pytest.approx(0.125)


# -- integer helpers --------------------------------------------------------------------------
def test_integer_helpers_exact():
    assert _form.wrap_bits(127, 8) == 127
    assert _form.wrap_bits(128, 8) == -128
    assert _form.wrap_bits(-129, 8) == 127
    assert _form.wrap_bits(-128, 8) == -128
    assert _form.wrap_bits(1 << 31, 32) == -(1 << 31)
    assert _form.to_int(-2.7) == -2 and _form.to_int(2.7) == 2
    assert _form.to_int(np.float64(3.999)).dtype == np.int64
    np.testing.assert_array_equal(_form.round_half_away(np.array([-2.5, -1.5, -0.4, 0.5, 1.49, 2.5])),
                                  [-3.0, -2.0, -0.0, 1.0, 1.0, 3.0])


def test_int_noise():
    assert _form._int_noise(0, None, (3,)) == 0
    with pytest.raises(ValueError, match="rng"):
        _form._int_noise(4, None, (3,))
    draws = _form._int_noise(4, np.random.default_rng(0), (2000,))
    assert draws.dtype == np.int64 and draws.shape == (2000,)
    assert set(np.unique(draws)) == {0, 1, 2, 3}
