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
    with pytest.raises(ValueError, match=r"^a random threshold needs a random generator \(rng\); the population owns one$"):
        _form._int_noise(4, None, (3,))
    draws = _form._int_noise(4, np.random.default_rng(0), (2000,))
    assert draws.dtype == np.int64 and draws.shape == (2000,)
    assert set(np.unique(draws)) == {0, 1, 2, 3}


# -- rebind ---------------------------------------------------------------------------------------------
# Functions built here with their own globals (module-level, so their helpers
# are global names, as in the models' modules); engine functions themselves are
# not rebound in these tests, since mutmut replaces them with trampolines.
def _rb_helper(c, a, b):
    return np.where(c, a, b)


def _rb_outer(c, a):
    return _rb_helper(c, a, 0.0)


def _rb_default(c, a, b=5.0):
    return _rb_helper(c, a, b)


def _rb_table():
    return TABLE  # noqa: F821 - supplied through the globals below


def _rb_closure(k):
    def inner(c, a):
        return _rb_helper(c, a, k)
    return inner


def _nf_dynamics(spikes, v):
    return spike_reset(spikes, v * np.float64(1.0), 0.0)  # noqa: F821 - supplied through the globals below


class _FakeNP:
    inf = np.inf

    @staticmethod
    def asarray(x):
        return ("asarray", tuple(np.asarray(x).tolist()))

    @staticmethod
    def where(c, a, b):
        return ("fake-where", a, b)


def _mk(fn, g, module="engine.models.pinned_fake"):
    import types as _t

    f = _t.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    f.__module__ = module
    return f


def test_rebind_swaps_namespace_helpers_and_memoises():
    g = {"np": np, "TABLE": np.array([1.0, 2.0])}
    h = g["_rb_helper"] = _mk(_rb_helper, g)
    outer = _mk(_rb_outer, g)
    assert outer(True, 1.0) == 1.0
    r = _form.rebind(outer, _FakeNP)
    assert r is not outer and r.__name__ == "_rb_outer"
    assert r(True, 1.0) == ("fake-where", 1.0, 0.0)  # the engine.models helper is re-bound too
    assert outer(True, 1.0) == 1.0 and g["_rb_helper"] is h  # the originals are untouched
    swapped = _form.rebind(outer, _FakeNP, swap={h: lambda c, a, b: ("swapped", a, b)})
    assert swapped(True, 1.0) == ("swapped", 1.0, 0.0)
    # defaults and closures are kept
    assert _form.rebind(_mk(_rb_default, g), _FakeNP)(True, 1.0) == ("fake-where", 1.0, 5.0)
    inner = _rb_closure(7.0)
    inner = _mk(inner, g)
    assert _form.rebind(inner, _FakeNP)(False, 1.0) == ("fake-where", 1.0, 7.0)
    # module-level arrays are converted to the namespace's arrays
    assert _form.rebind(_mk(_rb_table, g), _FakeNP)() == ("asarray", (1.0, 2.0))
    # a helper from outside engine.models is left as it is
    g2 = {"np": np}
    g2["_rb_helper"] = _mk(_rb_helper, {"np": np}, module="somewhere.else")
    assert _form.rebind(_mk(_rb_outer, g2), _FakeNP)(True, 1.0) == 1.0
    # memoised per function object
    memo = {}
    first = _form.rebind(outer, _FakeNP, memo)
    assert memo[id(outer)] is first and _form.rebind(outer, _FakeNP, memo) is first
    assert _form.rebind(outer, _FakeNP) is not first


def test_numpy_form_is_cached_and_uses_array_helpers():
    f = _mk(_nf_dynamics, {"np": np, "spike_reset": _form.spike_reset})
    fn = _form.numpy_form(f)
    assert fn is not f and _form.numpy_form(f) is fn
    assert fn.__globals__["spike_reset"] is _form._np_spike_reset
    assert fn.__globals__["np"] is np
    np.testing.assert_array_equal(fn(np.array([True, False]), np.array([3.0, 4.0])), [0.0, 4.0])


# -- SCIzhikevich: both integrators against a plain reference ---------------------------------------
def _izh_f(a, b, v, u, I):
    return 0.04 * v * v + 5 * v + 140 - u + I, a * (b * v - u)


@pytest.mark.parametrize("preset", ["RS", "FS"])
def test_sc_izhikevich_rk4_and_half_euler_against_reference(preset):
    from engine.models.sc_izhikevich import SCIzhikevich

    pars = SCIzhikevich.presets[preset]
    a, b, c, d = pars["a"], pars["b"], pars["c"], pars["d"]
    dt, I = 0.5, np.array([0.0, 5.0, 12.0])
    for integ in ("rk4", "baseline_half_euler"):
        m = SCIzhikevich(integrator=integ, **pars)
        st = m.initial_state(3)
        np.testing.assert_array_equal(st["v"], [c] * 3)
        np.testing.assert_array_equal(st["u"], [b * c] * 3)
        v, u = np.full(3, c), np.full(3, b * c)
        n_spk = 0
        for _ in range(400):
            if integ == "rk4":
                k1 = _izh_f(a, b, v, u, I)
                k2 = _izh_f(a, b, v + dt / 2 * k1[0], u + dt / 2 * k1[1], I)
                k3 = _izh_f(a, b, v + dt / 2 * k2[0], u + dt / 2 * k2[1], I)
                k4 = _izh_f(a, b, v + dt * k3[0], u + dt * k3[1], I)
                vn = v + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
                un = u + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
            else:
                dv, du = _izh_f(a, b, v, u, I)
                vn, un = v + dt / 2 * dv, u + dt / 2 * du
                dv, du = _izh_f(a, b, vn, un, I)
                vn, un = vn + dt / 2 * dv, un + dt / 2 * du
            spk = vn >= 30.0
            v, u = np.where(spk, c, vn), np.where(spk, un + d, un)
            out = m.step(st, I, dt)
            np.testing.assert_array_equal(out, spk)
            np.testing.assert_allclose(st["v"], v, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(st["u"], u, rtol=1e-12, atol=1e-12)
            n_spk += int(spk.sum())
        assert n_spk > 5  # the driven neurons fire


def test_sc_izhikevich_noise_added_unscaled():
    from engine.models.sc_izhikevich import SCIzhikevich

    m = SCIzhikevich(noise_std=2.0)
    st = m.initial_state(4)
    rng = np.random.default_rng(3)
    draws = np.random.default_rng(3).normal(0.0, 2.0, size=4)
    m.step(st, np.zeros(4), 1.0, rng)
    # v = -65, u = -13: dv = 0.04*4225 - 325 + 140 + 13 = -3; two half-steps, then the noise
    v1 = -65 + 0.5 * -3.0
    u1 = -13 + 0.5 * 0.02 * (0.2 * -65 + 13)
    dv2 = 0.04 * v1 * v1 + 5 * v1 + 140 - u1
    np.testing.assert_allclose(st["v"], v1 + 0.5 * dv2 + draws, rtol=1e-12)


# -- theta neuron: the exact solution of tau v' = v^2 + I, v = tan(theta/2) --------------------------
def test_theta_positive_drive_exact_phase_and_spike():
    from engine.models.theta import ThetaNeuron

    # I = 1, tau = 1 from theta = 0: v = tan(t), so theta = 2 t until it passes pi at t = pi/2
    m = ThetaNeuron()
    st = m.initial_state(1)
    spikes = [bool(m.step(st, np.array([1.0]), 0.5)[0]) for _ in range(3)]
    assert spikes == [False, False, False]
    assert st["theta"][0] == pytest.approx(3.0, abs=1e-12)  # t = 1.5
    assert bool(m.step(st, np.array([1.0]), 0.5)[0])  # t = 2.0 > pi/2
    assert st["theta"][0] == pytest.approx(4.0 - 2 * math.pi, abs=1e-12)  # theta = 2 t = 4, wrapped
    # tau = 2 halves the speed: theta = t after dt = 0.5
    m2 = ThetaNeuron(tau=2.0)
    st = m2.initial_state(1)
    m2.step(st, np.array([1.0]), 0.5)
    assert st["theta"][0] == pytest.approx(0.5, abs=1e-12)
    # I = 4 from 0: v = 2 tan(2 t)
    st = m.initial_state(1)
    assert not m.step(st, np.array([4.0]), 0.3)[0]
    assert st["theta"][0] == pytest.approx(2 * math.atan(2 * math.tan(0.6)), abs=1e-12)


def test_theta_zero_and_negative_drive_exact():
    from engine.models.theta import ThetaNeuron

    # I = 0 from theta = pi/2 (v = 1): v = 1 / (1 - t), through infinity at t = 1
    m = ThetaNeuron(theta_init=math.pi / 2)
    st = m.initial_state(1)
    assert not m.step(st, np.array([0.0]), 0.6)[0]
    assert st["theta"][0] == pytest.approx(2 * math.atan(2.5), abs=1e-12)
    assert m.step(st, np.array([0.0]), 0.6)[0]
    assert st["theta"][0] == pytest.approx(2 * math.atan(-5.0), abs=1e-12)
    # I = 0 from theta < 0: never fires, v = v0 / (1 - v0 t)
    m = ThetaNeuron(theta_init=-1.0)
    st = m.initial_state(1)
    v0 = math.tan(-0.5)
    assert not m.step(st, np.array([0.0]), 2.0)[0]
    assert st["theta"][0] == pytest.approx(2 * math.atan(v0 / (1 - 2 * v0)), abs=1e-12)
    # I = -1 from theta = 0: v = -tanh(t), rests towards -pi/2, no spike
    m = ThetaNeuron()
    st = m.initial_state(1)
    for k in range(1, 4):
        assert not m.step(st, np.array([-1.0]), 0.5)[0]
        assert st["theta"][0] == pytest.approx(-2 * math.atan(math.tanh(0.5 * k)), abs=1e-12)
    # I = -1 above the unstable point (theta = 2 > pi/2): v = coth(c - t), c = atanh(1/v0)
    m = ThetaNeuron(theta_init=2.0)
    st = m.initial_state(1)
    v0 = math.tan(1.0)
    c = math.atanh(1 / v0)  # 0.76: the spike is in the second step of 0.5
    assert not m.step(st, np.array([-1.0]), 0.5)[0]
    assert st["theta"][0] == pytest.approx(2 * math.atan(1 / math.tanh(c - 0.5)), abs=1e-12)
    assert m.step(st, np.array([-1.0]), 0.5)[0]
    assert st["theta"][0] == pytest.approx(2 * math.atan(1 / math.tanh(c - 1.0)), abs=1e-12)


# -- TrueNorth: integrate, leak, threshold, reset by hand ---------------------------------------------
def _tn(values, current, **kw):
    from engine.models.truenorth import TrueNorthNeuron

    m = TrueNorthNeuron(**kw)
    st = m.initial_state(len(values))
    assert st["v"].dtype == np.int64
    st["v"][:] = values
    out = m.step(st, np.asarray(current, dtype=float), 1.0)
    return out.tolist(), st["v"].tolist()


def test_truenorth_positive_reset_modes():
    # threshold 10, leak -1: V + I - 1 against 10
    assert _tn([5, 5, 0], [5.0, 6.0, 2.5], threshold=10) == ([0, 1, 0], [9, 0, 1])  # rint(2.5) = 2
    assert _tn([5, 5], [5.0, 9.0], threshold=10, reset_mode=1) == ([0, 1], [9, 3])  # 13 - 10
    assert _tn([5, 5], [5.0, 9.0], threshold=10, reset_mode=2) == ([0, 1], [9, 13])
    assert _tn([5], [9.0], threshold=10, reset_value=-3) == ([1], [-3])
    assert _tn([0], [10.0], threshold=10, leak=0) == ([1], [0])  # exactly on alpha fires


def test_truenorth_leak_reversal_and_negative_side():
    # (beta = 100 keeps the negative floor out of the way)
    assert _tn([5, -5, 0], [0.0, 0.0, 0.0], leak=-2, leak_reversal=1, neg_threshold=100) == ([0, 0, 0], [3, -3, 0])
    assert _tn([-5], [0.0], leak=-2, neg_threshold=100) == ([0], [-7])  # plain leak: Omega = 1
    # saturation at -beta (kappa = 1)
    assert _tn([-3, -3], [-3.0, -1.0], leak=0, neg_threshold=4) == ([0, 0], [-4, -4])
    assert _tn([-3], [-1.0], leak=0, neg_threshold=5) == ([0], [-4])
    # mirrored reset (kappa = 0) below -(beta + eta)
    kw = dict(leak=0, neg_threshold=4, neg_saturate=0)
    assert _tn([-3, -3], [-2.0, -1.0], reset_value=7, **kw) == ([0, 0], [-7, -4])
    assert _tn([-3], [-4.0], reset_mode=1, **kw) == ([0], [-3])  # -7 + 4
    assert _tn([-3], [-4.0], reset_mode=2, **kw) == ([0], [-7])


def test_truenorth_register_wraps():
    assert _tn([127], [1.0], v_bits=8, leak=0, threshold=200, neg_threshold=200) == ([0], [-128])
    assert _tn([-128], [-1.0], v_bits=8, leak=0, threshold=200, neg_threshold=255, neg_saturate=0) \
        == ([0], [127])


# -- point neurons step by step against plain scalar loops (non-default parameters) ------------------
def _run_against(model, ref_step, ref_state, currents, dt, steps=300):
    """Step ``model`` on one neuron per current and a scalar reference ``ref_step``
    (a dict state -> spike) side by side; returns the spike counts."""
    n = len(currents)
    st = model.initial_state(n)
    for name, value in ref_state.items():
        np.testing.assert_array_equal(st[name], np.full(n, value), err_msg=name)
        assert st[name].dtype == np.float64 and st[name].shape == (n,)
    refs = [dict(ref_state) for _ in range(n)]
    counts = [0] * n
    I = np.asarray(currents, dtype=float)
    for _ in range(steps):
        out = model.step(st, I, dt)
        for i, r in enumerate(refs):
            s = ref_step(r, currents[i], dt)
            assert bool(out[i]) == s
            counts[i] += s
            for name in r:
                assert st[name][i] == pytest.approx(r[name], rel=1e-12, abs=1e-12), name
    return counts


def _refr(r, spiked, period):
    r["refractory"] = float(period) if spiked else max(r["refractory"] - 1.0, 0.0)


def test_adex_against_scalar_loop():
    from engine.models.adex import AdEx

    P = dict(C=200.0, g_L=10.0, E_L=-65.0, V_T=-50.0, delta_T=2.0, tau_w=100.0, a=2.0, b=60.0,
             V_reset=-58.0, V_peak=0.0, refractory_period=3)

    def step(r, I, dt):
        v, w = r["v"], r["w"]
        active = r["refractory"] <= 0
        dv = (-P["g_L"] * (v - P["E_L"]) + P["g_L"] * P["delta_T"] * math.exp(min((v - P["V_T"]) / P["delta_T"], 50.0))
              - w + I) / P["C"]
        w_new = w + dt * (P["a"] * (v - P["E_L"]) - w) / P["tau_w"]
        v_new = v + dt * dv if active else v
        s = active and v_new >= P["V_peak"]
        r["v"], r["w"] = (P["V_reset"], w_new + P["b"]) if s else (v_new, w_new)
        _refr(r, s, P["refractory_period"])
        return s

    counts = _run_against(AdEx(**P), step, {"v": -65.0, "w": 0.0, "refractory": 0.0}, [0.0, 300.0, 800.0], 0.1, 3000)
    assert counts[0] == 0 and counts[2] > counts[1] > 0


def test_qif_against_scalar_loop():
    from engine.models.qif import QIF

    P = dict(tau_m=8.0, resistance=5.0, a0=0.05, V_rest=-60.0, V_c=-45.0, V_reset=-66.0, V_peak=25.0,
             refractory_period=2)

    def step(r, I, dt):
        v = r["v"]
        active = r["refractory"] <= 0
        drive = P["a0"] * (v - P["V_rest"]) * (v - P["V_c"]) + P["resistance"] * I
        v_new = v + dt * drive / P["tau_m"] if active else v
        s = active and v_new >= P["V_peak"]
        r["v"] = P["V_reset"] if s else v_new
        _refr(r, s, P["refractory_period"])
        return s

    counts = _run_against(QIF(**P), step, {"v": -60.0, "refractory": 0.0}, [0.0, 3.0, 8.0], 0.1, 1500)
    assert counts[0] == 0 and counts[2] > counts[1] > 0


def test_adaptive_threshold_against_scalar_loop():
    from engine.models.adaptive_threshold_if import AdaptiveThresholdIF

    P = dict(tau_m=10.0, tau_theta=50.0, resistance=2.0, v_rest=0.1, v_reset=-0.2, theta_0=1.1, delta_theta=0.3,
             refractory_period=2)
    dm, dth = math.exp(-0.5 / P["tau_m"]), math.exp(-0.5 / P["tau_theta"])

    def step(r, I, dt):
        active = r["refractory"] <= 0
        v_inf = P["v_rest"] + P["resistance"] * I
        v_new = v_inf + (r["v"] - v_inf) * dm if active else r["v"]
        th = P["theta_0"] + (r["theta"] - P["theta_0"]) * dth
        s = active and v_new >= th
        r["v"], r["theta"] = (P["v_reset"], th + P["delta_theta"]) if s else (v_new, th)
        _refr(r, s, P["refractory_period"])
        return s

    counts = _run_against(AdaptiveThresholdIF(**P), step, {"v": 0.1, "theta": 1.1, "refractory": 0.0},
                          [0.0, 0.8, 2.0], 0.5)
    assert counts[0] == 0 and counts[2] > counts[1] > 0


def test_lapicque_against_scalar_loop():
    from engine.models.lapicque import Lapicque

    P = dict(tau=5.0, resistance=2.0, v_rest=-0.5, v_reset=-1.0, v_threshold=0.5, refractory_period=2)
    dec = math.exp(-0.25 / P["tau"])

    def step(r, I, dt):
        active = r["refractory"] <= 0
        v_inf = I * P["resistance"] + P["v_rest"]
        v_new = v_inf + (r["v"] - v_inf) * dec if active else r["v"]
        s = active and v_new >= P["v_threshold"]
        r["v"] = P["v_reset"] if s else v_new
        _refr(r, s, P["refractory_period"])
        return s

    counts = _run_against(Lapicque(**P), step, {"v": -0.5, "refractory": 0.0}, [0.0, 0.6, 1.5], 0.25)
    assert counts[0] == 0 and counts[2] > counts[1] > 0


def test_izhikevich2007_against_scalar_loop():
    from engine.models.izhikevich2007 import Izhikevich2007

    P = dict(C=50.0, k=1.5, vr=-55.0, vt=-42.0, vpeak=30.0, a=0.05, b=-1.0, c=-48.0, d=60.0)

    def step(r, I, dt):
        v, u = r["v"], r["u"]
        v_new = v + dt * (P["k"] * (v - P["vr"]) * (v - P["vt"]) - u + I) / P["C"]
        u_new = u + dt * P["a"] * (P["b"] * (v - P["vr"]) - u)
        s = v_new >= P["vpeak"]
        r["v"], r["u"] = (P["c"], u_new + P["d"]) if s else (v_new, u_new)
        return s

    counts = _run_against(Izhikevich2007(**P), step, {"v": -55.0, "u": 0.0}, [0.0, 150.0, 400.0], 0.1, 2000)
    assert counts[0] == 0 and counts[2] > counts[1] > 0


# -- base: parameters, the parameter view, describe, the registry ---------------------------------
def test_real_and_count_parameters():
    from engine.models.lapicque import Lapicque
    from engine.models.truenorth import TrueNorthNeuron

    m = Lapicque(v_rest=-1)
    assert m.v_rest == -1.0 and type(m.v_rest) is float  # an int is stored as a float
    for bad in (float("nan"), float("inf"), True, 1 + 2j):
        with pytest.raises((ValueError, TypeError), match="v_rest"):
            Lapicque(v_rest=bad)
    with pytest.raises(ValueError, match="tau"):
        Lapicque(tau=0.0)  # below its lower bound 1e-6
    assert Lapicque.param["refractory_period"].unit == "steps"  # Count's default unit
    assert Lapicque.param["refractory_period"].bounds == (0, None)  # and default bounds
    assert Lapicque.param["tau"].unit == "ms"
    m = Lapicque(refractory_period=3.0)
    assert m.refractory_period == 3 and type(m.refractory_period) is int
    for bad in (-1, 2.5, True, float("nan")):
        with pytest.raises(ValueError, match="refractory_period"):
            Lapicque(refractory_period=bad)
    t = TrueNorthNeuron(leak=-255)
    assert t.leak == -255
    with pytest.raises(ValueError, match="leak"):
        TrueNorthNeuron(leak=256)
    assert TrueNorthNeuron.param["leak"].unit == "units/tick"


def test_parameter_view():
    from engine.models.lapicque import Lapicque

    m = Lapicque(tau=7.0, dt=0.5)
    view = m.view()
    assert view.tau == 7.0 and view.dt == 0.5 and view.v_threshold == 1.0
    assert "tau" in view.__dict__ and view.__dict__["_model"] is m
    m.tau = 9.0
    assert view.tau == 7.0  # a copy until refresh
    view.refresh()
    assert view.tau == 9.0
    # methods are bound to the view (helpers read the copy) and cached
    init = view.initial_state
    assert init.__self__ is view and view.__dict__["initial_state"] is init
    m.v_rest = 0.25
    assert view.initial_state(2)["v"].tolist() == [0.0, 0.0]  # the view's copy of v_rest
    # other attributes are forwarded to the model
    assert view.model_name == "LapicqueNeuron" and view.name == m.name
    with pytest.raises(AttributeError):
        view.__no_such_protocol__
    from engine.models.base import ParameterView
    # a view without a model (copy.copy's half-built object) has no attributes to forward
    blank = ParameterView.__new__(ParameterView)
    with pytest.raises(AttributeError, match="tau"):
        blank.tau
    # dt not set: refresh still carries the attribute (None)
    v2 = Lapicque().view()
    assert v2.dt is None and "dt" not in Lapicque().values()
    assert Lapicque(dt=0.5).values()["dt"] == 0.5


def test_describe_lapicque_exact():
    from engine.models.lapicque import Lapicque

    d = Lapicque().describe()
    assert d["name"] == "LapicqueNeuron"
    assert d["category"] == "reference"
    assert d["reference"] == Lapicque.reference and d["reference"]
    assert d["equations"] == Lapicque.__doc__.strip() and Lapicque.equations() == d["equations"]
    assert d["state_variables"] == {"v": 0.0, "refractory": 0.0} and d["state_variables"] is not Lapicque.state_variables
    assert d["voltage_variable"] == "v"
    assert d["current_unit"] == "a.u. (v per unit R)"
    assert d["output"] == "spikes"
    assert d["current_range"] == (0.0, 3.0) and type(d["current_range"]) is tuple
    assert list(d["parameters"]) == Lapicque.parameter_names()
    assert "dt" not in d["parameters"] and "name" not in d["parameters"]
    tau = d["parameters"]["tau"]
    assert tau == {"default": 20.0, "bounds": (1e-6, None), "unit": "ms", "doc": Lapicque.param["tau"].doc,
                   "type": "Real"}
    assert tau["doc"]
    r = d["parameters"]["refractory_period"]
    assert r["type"] == "Count" and r["default"] == 0 and r["unit"] == "steps" and r["bounds"] == (0, None)
    assert Lapicque.accepted_parameters() == [*Lapicque.parameter_names(), "dt"]


def test_describe_param_without_unit_or_doc():
    import param as _param

    from engine.models import base

    class NoUnit(base.NeuronModel):
        model_name = "PinnedNoUnitModel"
        flag = _param.Boolean(False)

    d = NoUnit().describe()
    assert d["parameters"]["flag"] == {"default": False, "bounds": None, "unit": "", "doc": "", "type": "Boolean"}
    assert d["name"] == "PinnedNoUnitModel" and d["category"] == "integrate-and-fire"
    assert NoUnit.registry_name() == "PinnedNoUnitModel"

    class Unnamed(base.NeuronModel):
        pass

    assert Unnamed.registry_name() == "Unnamed"


def test_register_and_get_model():
    from engine.models import base
    from engine.models.lapicque import Lapicque
    from engine.models.sc_izhikevich import SCIzhikevich

    class Dummy(base.NeuronModel):
        model_name = "PinnedDummyModel"
        aliases = ("Pinned_Dummy_Alias",)

    try:
        assert base.register(Dummy) is Dummy
        assert base.registry["PinnedDummyModel"] is Dummy
        assert base.get_model("pinned_dummy_alias") is Dummy  # aliases are case-insensitive
        assert base.get_model("PINNEDDUMMYMODEL") is Dummy
        assert base.register(Dummy) is Dummy  # the same class again is fine

        class Other(base.NeuronModel):
            model_name = "PinnedDummyModel"

        with pytest.raises(ValueError, match="PinnedDummyModel"):
            base.register(Other)
        assert base.registry["PinnedDummyModel"] is Dummy
    finally:
        base.registry.pop("PinnedDummyModel", None)
        base._aliases.pop("pinneddummymodel", None)
        base._aliases.pop("pinned_dummy_alias", None)
    assert base.get_model("LIF") is Lapicque and base.get_model("izhikevich2003") is SCIzhikevich
    assert base.get_model(Lapicque) is Lapicque
    with pytest.raises(ValueError, match="LapicqueNeuron"):
        base.get_model("LapicqueNeuro")  # the close match is suggested
    with pytest.raises(TypeError, match="int"):
        base.get_model(5)
    names = base.model_names()
    assert names == sorted(names) and "LapicqueNeuron" in names and "TrueNorthNeuron" in names


def test_draws_random():
    from engine.models.fixed_point_lif import FixedPointLIF
    from engine.models.sc_izhikevich import SCIzhikevich
    from engine.models.truenorth import TrueNorthNeuron

    assert SCIzhikevich().draws_random() is False
    assert SCIzhikevich(noise_std=0.5).draws_random() is True
    assert TrueNorthNeuron().draws_random() is False
    assert TrueNorthNeuron(threshold_mask_bits=3).draws_random() is True
    assert FixedPointLIF().draws_random() is False  # a hand-written step


# -- bit-true hardware neurons against Python-integer loops written from their documentation ------------
def _trunc_div(x, d):
    q = abs(x) // d
    return q if x >= 0 else -q


def test_loihi_cuba_against_integer_loop():
    from engine.models.loihi_cuba import LoihiCUBA

    P = dict(du=300, dv=150, bias_mant=5, bias_exp=2, vth=40)
    m = LoihiCUBA(**P)
    currents = [0.0, 7.9, -6.5, 30.0, -40.0]  # truncated toward zero: 0, 7, -6, 30, -40
    st = m.initial_state(len(currents))
    assert st["u"].dtype == np.int64 and st["v"].dtype == np.int64
    ref = [[0, 0] for _ in currents]
    n_spikes = 0
    for _ in range(200):
        out = m.step(st, np.array(currents), 1.0)
        for i, I in enumerate(currents):
            u, v = ref[i]
            u = _trunc_div(u * (4096 - (P["du"] + 1)), 4096) + (int(I) << 6)
            if u > 2 ** 23:
                u -= 2 ** 24
            if u <= -2 ** 23:
                u += 2 ** 24
            v = _trunc_div(v * (4096 - P["dv"]), 4096) + u + (P["bias_mant"] << P["bias_exp"])
            v = min(max(v, -(2 ** 23 - 1)), 2 ** 23 - 1)
            s = v > (P["vth"] << 6)
            ref[i] = [u, 0 if s else v]
            assert int(out[i]) == int(s)
            n_spikes += s
        assert st["u"].tolist() == [r[0] for r in ref]
        assert st["v"].tolist() == [r[1] for r in ref]
    assert n_spikes > 10


def test_loihi_cuba_full_current_decay_and_register_limits():
    from engine.models.loihi_cuba import LoihiCUBA

    m = LoihiCUBA(du=4095, dv=0, vth=(1 << 17) - 1)
    st = m.initial_state(1)
    m.step(st, np.array([3.0]), 1.0)
    assert st["u"].tolist() == [192] and st["v"].tolist() == [192]  # 3 << 6
    m.step(st, np.array([0.0]), 1.0)
    assert st["u"].tolist() == [0] and st["v"].tolist() == [192]  # du = 4095: the current is gone; dv = 0 holds v
    # the 24-bit wrap of u and the clip of v
    st = {"u": np.array([2 ** 23 - 10, -(2 ** 23) + 10]), "v": np.array([2 ** 23 - 5, -(2 ** 23) + 5])}
    m2 = LoihiCUBA(du=0, dv=0, vth=(1 << 17) - 1)  # u keeps 4095/4096 of itself
    m2.step(st, np.array([1.0, -1.0]), 1.0)
    u0 = _trunc_div((2 ** 23 - 10) * 4095, 4096) + 64
    u1 = -u0
    assert st["u"].tolist() == [u0 - 2 ** 24 if u0 > 2 ** 23 else u0, u1 + 2 ** 24 if u1 <= -2 ** 23 else u1]
    v0 = min(max(2 ** 23 - 5 + st["u"][0], -(2 ** 23 - 1)), 2 ** 23 - 1)
    v1 = min(max(-(2 ** 23) + 5 + st["u"][1], -(2 ** 23 - 1)), 2 ** 23 - 1)
    assert v0 == 2 ** 23 - 1 and v1 == -(2 ** 23 - 1)  # both clipped
    # the clipped top is above the largest threshold ((2**17 - 1) << 6 = 2**23 - 64): a spike resets v to 0
    assert st["v"].tolist() == [0, v1]


def _q1615(x):
    y = abs(x) * 32768.0
    c = int(math.floor(y + 0.5))
    return c if x >= 0 else -c


def _w32(x):
    return ((x + 2 ** 31) % 2 ** 32) - 2 ** 31


def test_spinnaker_lif_against_integer_loop():
    from engine.models.spinnaker_lif import SpiNNakerLIFNeuron

    P = dict(tau_m=15.0, cm=0.5, v_rest=-60.0, v_reset=-70.0, v_thresh=-52.0, tau_refrac=2.5, i_offset=0.25,
             v_init=-62.5)
    dt = 1.0
    m = SpiNNakerLIFNeuron(**P)
    currents = [0.0, 0.3, 1.2, -0.7]
    st = m.initial_state(len(currents))
    assert st["v"].tolist() == [_q1615(-62.5)] * 4 and st["refractory"].tolist() == [0] * 4
    exp_tc, r_m = _q1615(math.exp(-dt / 15.0)), _q1615(15.0 / 0.5)
    t_ref = 3  # ceil(2.5 / 1)
    ref = [[_q1615(-62.5), 0] for _ in currents]
    n_spikes = 0
    for _ in range(150):
        out = m.step(st, np.array(currents), dt)
        for i, I in enumerate(currents):
            v, r = ref[i]
            i_in = _w32(_w32(_q1615(I)) + _q1615(0.25))
            alpha = _w32(((i_in * r_m) >> 15) + _q1615(-60.0))
            if r <= 0:
                v = _w32(alpha - ((exp_tc * _w32(alpha - v)) >> 15))
            else:
                r -= 1
            s = v >= _q1615(-52.0)
            ref[i] = [_q1615(-70.0), t_ref] if s else [v, r]
            assert int(out[i]) == int(s)
            n_spikes += s
        assert st["v"].tolist() == [x[0] for x in ref]
        assert st["refractory"].tolist() == [x[1] for x in ref]
    assert n_spikes > 5
    assert SpiNNakerLIFNeuron.to_mV(np.array([_q1615(-62.5)]))[0] == -62.5


# -- Wilson-Cowan: RK4 with substeps against a plain reference ----------------------------------------
def test_wilson_cowan_sigmoid_closed_form():
    from engine.models.wilson_cowan import WilsonCowan

    assert WilsonCowan.sigmoid(0.0, 1.3, 4.0) == pytest.approx(0.0, abs=1e-15)  # S(0) = 0
    assert WilsonCowan.sigmoid(4.0, 1.3, 4.0) == pytest.approx(0.5 - 1 / (1 + math.exp(5.2)))
    assert WilsonCowan.sigmoid(1e6, 2.0, 3.7) == pytest.approx(1 - 1 / (1 + math.exp(7.4)))  # sup S = k


def test_wilson_cowan_against_reference_rk4():
    from engine.models.wilson_cowan import WilsonCowan

    P = dict(tau_e=8.0, tau_i=12.0, c1=14.0, c2=11.0, c3=13.0, c4=2.5, a_e=1.2, theta_e=3.5, a_i=1.8,
             theta_i=3.2, r_e=0.9, r_i=1.1, p=1.4, q=0.3, max_substep=1.0)
    m = WilsonCowan(**P)

    def S(x, a, th):
        return 1 / (1 + math.exp(-a * (x - th))) - 1 / (1 + math.exp(a * th))

    k_e, k_i = 1 - 1 / (1 + math.exp(1.2 * 3.5)), 1 - 1 / (1 + math.exp(1.8 * 3.2))

    def f(e, i, ext):
        se = S(14.0 * e - 11.0 * i + 1.4 + ext, 1.2, 3.5)
        si = S(13.0 * e - 2.5 * i + 0.3, 1.8, 3.2)
        return (-e + (k_e - 0.9 * e) * se) / 8.0, (-i + (k_i - 1.1 * i) * si) / 12.0

    ext = [0.0, 0.7, -0.5]
    st = m.initial_state(3)
    ref = [(0.0, 0.0)] * 3
    dt, n_sub = 2.5, 3  # three substeps of 2.5/3 ms <= 1 ms
    h = dt / n_sub
    for _ in range(60):
        out = m.step(st, np.array(ext), dt)
        new = []
        for (e, i), x in zip(ref, ext):
            for _ in range(n_sub):
                a1 = f(e, i, x)
                a2 = f(e + h / 2 * a1[0], i + h / 2 * a1[1], x)
                a3 = f(e + h / 2 * a2[0], i + h / 2 * a2[1], x)
                a4 = f(e + h * a3[0], i + h * a3[1], x)
                e = e + h / 6 * (a1[0] + 2 * a2[0] + 2 * a3[0] + a4[0])
                i = i + h / 6 * (a1[1] + 2 * a2[1] + 2 * a3[1] + a4[1])
            new.append((e, i))
        ref = new
        np.testing.assert_allclose(out, [r[0] for r in ref], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(st["E"], [r[0] for r in ref], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(st["I"], [r[1] for r in ref], rtol=1e-12, atol=1e-15)
    assert ref[1][0] > 0.01


# -- Hodgkin-Huxley: rates from the closed forms, RK4 substeps, warm temperature -----------------------
def _hh_rates_ref(v, d=(40.0, 65.0, 55.0, 65.0, 35.0, 65.0)):
    x = v + d[0]
    am = 0.1 * x / (1 - math.exp(-x / 10)) if x != 0 else 1.0
    x = v + d[2]
    an = 0.01 * x / (1 - math.exp(-x / 10)) if x != 0 else 0.1
    return (am, 0.07 * math.exp(-(v + d[1]) / 20), an, 4 * math.exp(-(v + d[3]) / 18),
            1 / (1 + math.exp(-(v + d[4]) / 10)), 0.125 * math.exp(-(v + d[5]) / 80))


def test_hh_rates_and_steady_gates():
    from engine.models.hodgkin_huxley import HodgkinHuxley, hh_rates

    m = HodgkinHuxley()
    for v in (-65.0, -40.0, -55.0, 10.0):  # -40 and -55 are the removable singularities
        np.testing.assert_allclose(m.rates(v)[:, 0], _hh_rates_ref(v), rtol=1e-12)
        r = _hh_rates_ref(v)
        np.testing.assert_allclose(m.steady_gates(v)[:, 0], [r[i] / (r[i] + r[i + 3]) for i in range(3)],
                                   rtol=1e-12)
    assert m.rates(np.array([-65.0, 0.0])).shape == (6, 2)
    wb = (35.0, 58.0, 34.0, 60.0, 28.0, 44.0)
    np.testing.assert_allclose(hh_rates(np.array([-60.0]), np.array(wb)[:, None])[:, 0], _hh_rates_ref(-60.0, wb),
                               rtol=1e-12)


def test_hh_warm_against_reference_rk4():
    from engine.models.hodgkin_huxley import HodgkinHuxley

    P = dict(c_m=1.5, g_na=110.0, g_k=30.0, g_l=0.25, e_na=52.0, e_k=-75.0, e_l=-55.0, temperature=16.3,
             v_init=-63.0, v_spike=-10.0, max_substep=0.03)
    m = HodgkinHuxley(**P)
    phi = 3.0  # 3 ** ((16.3 - 6.3) / 10)
    r0 = _hh_rates_ref(-63.0)
    g0 = [r0[i] / (r0[i] + r0[i + 3]) for i in range(3)]
    st = m.initial_state(3)
    for name, val in zip("vmhn", [-63.0, *g0]):
        np.testing.assert_allclose(st[name], val, rtol=1e-12)

    def f(y, I):
        v, gm, gh, gn = y
        am, ah, an, bm, bh, bn = _hh_rates_ref(v)
        i_ion = 110 * gm ** 3 * gh * (v - 52) + 30 * gn ** 4 * (v + 75) + 0.25 * (v + 55)
        return [(I - i_ion) / 1.5, phi * (am * (1 - gm) - bm * gm), phi * (ah * (1 - gh) - bh * gh),
                phi * (an * (1 - gn) - bn * gn)]

    dt, n_sub = 0.1, 10  # the substep 0.03 is divided by phi = 3: 0.01 ms
    h = dt / n_sub
    currents = [0.0, 8.0, 20.0]
    ref = [[-63.0, *g0] for _ in currents]
    counts = [0, 0, 0]
    for _ in range(150):
        out = m.step(st, np.array(currents), dt)
        for k, I in enumerate(currents):
            y, crossed = ref[k], False
            for _ in range(n_sub):
                below = y[0] < -10.0
                k1 = f(y, I)
                k2 = f([a + h / 2 * b for a, b in zip(y, k1)], I)
                k3 = f([a + h / 2 * b for a, b in zip(y, k2)], I)
                k4 = f([a + h * b for a, b in zip(y, k3)], I)
                y = [a + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4) for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4)]
                crossed |= below and y[0] >= -10.0
            ref[k] = y
            assert bool(out[k]) == crossed
            counts[k] += crossed
        for j, name in enumerate("vmhn"):
            np.testing.assert_allclose(st[name], [r[j] for r in ref], rtol=1e-9, atol=1e-12)
    assert counts[0] == 0 and counts[2] >= 1


# -- the array helpers take their np.where-free path on plain float64 arrays --------------------------
def _boom(*_a):
    raise AssertionError("the np.where fallback was taken")


def test_np_helpers_take_the_fast_path(monkeypatch):
    for name in ("refractory_count", "hold", "spike_reset"):
        monkeypatch.setattr(_form, name, _boom)
    b = np.array([True, False, True])
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(_form._np_refractory_count(x, b, 5), [5.0, 1.0, 5.0])
    np.testing.assert_array_equal(_form._np_refractory_count(x, b, 2.5), [2.5, 1.0, 2.5])
    np.testing.assert_array_equal(_form._np_hold(b, x, 0.0), [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(_form._np_hold(b, x, 7), [1.0, 7.0, 3.0])
    np.testing.assert_array_equal(_form._np_hold(b, x, -x), [1.0, -2.0, 3.0])
    np.testing.assert_array_equal(_form._np_spike_reset(b, x, 0.0), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(_form._np_spike_reset(b, x, 4), [4.0, 2.0, 4.0])
    np.testing.assert_array_equal(_form._np_spike_reset(b, x, -x), [-1.0, 2.0, -3.0])


def test_np_helpers_fall_back_on_other_inputs():
    b = np.array([True, False])
    # Python scalars and lists where arrays are expected
    np.testing.assert_array_equal(_form._np_hold(b, 3.0, np.array([1.0, 2.0])), [3.0, 2.0])
    np.testing.assert_array_equal(_form._np_spike_reset(b, 3.0, np.array([1.0, 2.0])), [1.0, 3.0])
    np.testing.assert_array_equal(_form._np_refractory_count(np.array([3.0, 3.0]), [True, False], 4), [4.0, 2.0])
    # shapes that broadcast (np.where's result is the broadcast shape)
    np.testing.assert_array_equal(_form._np_hold(b, np.array([5.0]), 0.0), [5.0, 0.0])
    np.testing.assert_array_equal(_form._np_spike_reset(b, np.array([5.0]), 0.0), [0.0, 5.0])
    np.testing.assert_array_equal(_form._np_refractory_count(np.array([3.0]), b, 4), [4.0, 2.0])
    col_f, col_i = np.array([[7.0], [8.0], [9.0]]), np.array([[7], [8], [9]])
    for col in (col_f, col_i):
        out = _form._np_hold(b, np.array([1.0, 2.0]), col)
        np.testing.assert_array_equal(out, [[1.0, 7.0], [1.0, 8.0], [1.0, 9.0]])
        out = _form._np_spike_reset(b, np.array([1.0, 2.0]), col)
        np.testing.assert_array_equal(out, [[7.0, 2.0], [8.0, 2.0], [9.0, 2.0]])


# -- smaller models and helpers ----------------------------------------------------------------------
def test_perfect_integrator_against_scalar_loop_and_exact_landing():
    from engine.models.perfect_integrator import PerfectIntegrator

    P = dict(capacitance=2.0, v_reset=-0.5, v_threshold=1.0, refractory_period=2)

    def step(r, I, dt):
        active = r["refractory"] <= 0
        v_new = r["v"] + I * dt / 2.0 if active else r["v"]
        s = active and v_new >= 1.0
        r["v"] = -0.5 if s else v_new
        _refr(r, s, 2)
        return s

    counts = _run_against(PerfectIntegrator(**P), step, {"v": -0.5, "refractory": 0.0}, [0.0, 0.5, 2.0, -1.0], 0.5)
    assert counts[0] == 0 and counts[3] == 0 and counts[2] > counts[1] > 0
    # I dt / C = 0.25 exactly (binary fractions): from -0.5 it lands on 1.0 at the sixth step and fires
    m = PerfectIntegrator(**P)
    st = m.initial_state(1)
    out = [bool(m.step(st, np.array([1.0]), 0.5)[0]) for _ in range(9)]
    assert out == [False] * 5 + [True, False, False, False]  # held 2 steps at -0.5, then -0.25
    assert st["v"][0] == -0.25


def test_dendritic_xor_exact():
    from engine.models.dendritic import StochasticDendritic

    m = StochasticDendritic(threshold=0.5)
    st = m.initial_state(4)
    st["b"][:] = [0.0, 1.0, 0.0, 1.0]
    out = m.step(st, np.array([0.0, 0.0, 1.0, 1.0]), 1.0)  # the XOR truth table
    assert out.tolist() == [False, True, True, False]
    np.testing.assert_array_equal(st["current"], [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(st["b"], [0.0, 1.0, 0.0, 1.0])
    st = m.initial_state(2)
    st["b"][:] = [0.25, 0.0]
    out = m.step(st, np.array([0.5, 0.5]), 1.0)  # 0.5 + 0.25 - 0.25 = 0.5: exactly the threshold is no spike
    assert out.tolist() == [False, False]
    np.testing.assert_array_equal(st["current"], [0.5, 0.5])


def test_resonate_and_fire_propagator_closed_form():
    import cmath

    from engine.models.resonate_and_fire import ResonateAndFire, rf_propagator

    for b, w, dt in [(-0.1, 2 * math.pi / 10, 0.5), (-0.3, 1.0, 2.0), (0.05, 0.7, 1.0)]:
        lam = complex(b, w)
        e = cmath.exp(lam * dt)
        g = (e - 1) / lam  # the response to a unit input held over dt
        np.testing.assert_allclose(rf_propagator(b, w, dt), (e.real, e.imag, g.real, g.imag), rtol=1e-12)
    m = ResonateAndFire(b=-0.3, omega=1.0)
    e = cmath.exp(complex(-0.3, 1.0) * 2.0)
    g = (e - 1) / complex(-0.3, 1.0)
    np.testing.assert_allclose(m.propagator(2.0), (e.real, e.imag, g.real, g.imag), rtol=1e-12)


def test_form_params_namespace():
    from engine.models.lapicque import Lapicque

    m = Lapicque(tau=5.0, v_rest=0.25)
    p = _form.form_params(m, 0.5)
    assert p.tau == 5.0 and p.v_rest == 0.25
    assert p.decay == pytest.approx(math.exp(-0.1), rel=1e-15)
    assert _form.form_params(m, 1.0).decay == pytest.approx(math.exp(-0.2), rel=1e-15)


def test_fixed_point_array_reset_and_draws_random():
    from engine.models.fixed_point_lif import FixedPointLIF, FixedPointLIFArray

    arr = FixedPointLIFArray(3, v_rest=5, v_threshold=20, refractory_period=2, count_wraps=True)
    np.testing.assert_array_equal(arr.v, [5, 5, 5])
    for _ in range(3):
        arr.step(256, 256, np.array([30, 0, 10]))
    assert arr.v.tolist() != [5, 5, 5] or arr.counter.tolist() != [0, 0, 0]
    arr.reset()
    assert arr.v.tolist() == [5, 5, 5] and arr.counter.tolist() == [0, 0, 0]
    assert arr.spikes.tolist() == [False, False, False] and arr.wraps.tolist() == [0, 0, 0]
    assert FixedPointLIF(noise_amplitude=1).draws_random() is True
    assert FixedPointLIF(noise_amplitude=0).draws_random() is False


def test_equations_of_an_undocumented_model():
    from engine.models import base

    class Bare(base.NeuronModel):
        pass

    assert Bare.__doc__ is None and Bare.equations() == ""


@pytest.mark.parametrize("cls_path, params", [
    ("adaptive_threshold_if.AdaptiveThresholdIF", {"v_rest": 0.5, "theta_0": 1.5}),
    ("perfect_integrator.PerfectIntegrator", {"v_reset": 0.25}),
    ("lapicque.Lapicque", {"v_rest": 0.25}),
    ("adex.AdEx", {"E_L": -60.5}),
    ("qif.QIF", {"V_rest": -60.5}),
    ("izhikevich2007.Izhikevich2007", {"vr": -60.5}),
    ("sc_izhikevich.SCIzhikevich", {"c": -60.5, "b": 0.25}),
    ("homeostatic_lif.HomeostaticLIF", {"v_threshold": 1.25}),
    ("stochastic_lif.StochasticLIF", {"v_rest": 0.25}),
])
def test_initial_state_is_float64_for_float32_parameters(cls_path, params):
    # a parameter given as np.float32 (read from a float32 array) keeps its type;
    # the state must still be float64, as the kernels write float64 results into it
    import importlib

    mod, name = cls_path.split(".")
    cls = getattr(importlib.import_module("engine.models." + mod), name)
    m = cls(**{k: np.float32(v) for k, v in params.items()})
    st = m.initial_state(3)
    for var, arr in st.items():
        assert arr.dtype == np.float64, var
        assert arr.shape == (3,)
    first = next(iter(params))
    if first in ("v_rest", "v_reset", "E_L", "V_rest", "vr", "c"):
        np.testing.assert_array_equal(st["v"], [params[first]] * 3)


# -- the fixed-point LIF reference step by hand ---------------------------------------------------------
def _ref_step(v, counter, leak_k, gain_k, I_t, noise=0, **kw):
    from engine.models.fixed_point_lif import lif_reference_step

    cfg = dict(data_width=16, fraction=8, v_rest=0, v_reset=-5, v_threshold=1000, refractory_period=3)
    cfg.update(kw)
    return lif_reference_step(v, counter, leak_k, gain_k, I_t, noise, **cfg)


def test_lif_reference_step_refractory_hold():
    assert _ref_step(40, 2, 64, 256, 7) == (0, 0, 1)  # held at v_rest (default), counted down
    assert _ref_step(40, 2, 64, 256, 7, v_rest=3) == (0, 3, 1)
    assert _ref_step(40, 2, 64, 256, 7, refractory_hold="v_reset") == (0, -5, 1)
    assert _ref_step(40, 1, 64, 256, 7, refractory_hold="v_rest") == (0, 0, 0)


def test_lif_reference_step_rounding_by_hand():
    # leak: (0 - 10) * 64 = -640; floor(-640 / 256) = -3, nearest (+128 first) = -2
    # input: 3 * 128 = 384; floor(384 / 256) = 1, nearest = floor(512 / 256) = 2
    assert _ref_step(10, 0, 64, 128, 3) == (0, 10 - 3 + 1, 0)
    assert _ref_step(10, 0, 64, 128, 3, rounding="floor") == (0, 8, 0)
    assert _ref_step(10, 0, 64, 128, 3, rounding="nearest") == (0, 10 - 2 + 2, 0)
    assert _ref_step(10, 0, 64, 128, 3, noise=-4, rounding="nearest") == (0, 6, 0)
    # fraction 0: nearest adds nothing
    assert _ref_step(10, 0, 0, 3, 5, fraction=0, rounding="nearest") == (0, 25, 0)
    # the threshold: v_next >= v_threshold spikes, to v_reset with the full period
    assert _ref_step(0, 0, 0, 256, 1000) == (1, -5, 3)
    assert _ref_step(0, 0, 0, 256, 999) == (0, 999, 0)


def test_lif_reference_step_wrap_and_saturate():
    kw = dict(data_width=8, fraction=4, v_rest=100, v_reset=0, v_threshold=127)
    # 100 + (1600 >> 4 = 100) = 200: wraps to 200 - 256 = -56, or saturates at 127 (and fires)
    assert _ref_step(100, 0, 0, 16, 100, **kw) == (0, -56, 0)
    assert _ref_step(100, 0, 0, 16, 100, saturate=False, **kw) == (0, -56, 0)
    assert _ref_step(100, 0, 0, 16, 100, saturate=True, **kw) == (1, 0, 3)
    assert _ref_step(-100, 0, 0, 16, -100, saturate=True, **{**kw, "v_rest": -100}) == (0, -128, 0)


# -- Izhikevich (2004) general form: exact landing on the peak and the u cap --------------------------
def test_izhikevich2004_exact_landing_and_cap():
    from engine.models.izhikevich2004 import Izhikevich2004

    m = Izhikevich2004(c=0.0, v_u=0.0, d=6.0)
    st = m.initial_state(2)
    np.testing.assert_array_equal(st["v"], [0.0, 0.0])
    np.testing.assert_array_equal(st["u"], [0.0, 0.0])
    # v' = 140 + I from v = u = 0: I = -110 lands on 30 mV exactly (a spike); -110.5 does not
    out = m.step(st, np.array([-110.0, -110.5]), 1.0)
    assert out.tolist() == [True, False]
    assert st["v"].tolist() == [0.0, 29.5]
    assert st["u"][0] == pytest.approx(0.02 * 0.2 * 30.0 + 6.0, rel=1e-15)
    assert st["u"][1] == pytest.approx(0.02 * 0.2 * 29.5, rel=1e-15)
    # an overshoot past 1e12 mV: u sees v capped at 1e12 (the spike resets v)
    st = m.initial_state(1)
    assert m.step(st, np.array([1e13]), 1.0).tolist() == [True]
    assert st["u"][0] == pytest.approx(0.02 * (0.2 * 1e12) + 6.0, rel=1e-15)
    m = Izhikevich2004(c=np.float32(-60.5), v_u=np.float32(2.0), b=0.25)
    st = m.initial_state(2)
    assert st["v"].dtype == np.float64 and st["u"].dtype == np.float64
    np.testing.assert_array_equal(st["u"], [0.25 * (-62.5)] * 2)


# -- stochastic LIF: noise drawn by active neurons only, held at v_rest while refractory ---------------
def test_stochastic_lif_against_scalar_loop_with_noise():
    from engine.models.stochastic_lif import StochasticLIF

    P = dict(v_rest=-0.25, v_reset=-0.5, v_threshold=0.75, tau_mem=10.0, resistance=2.0, noise_std=0.3,
             refractory_period=2)
    dt = 0.5
    m = StochasticLIF(**P)
    currents = [0.0, 0.3, 1.0]
    st = m.initial_state(3)
    np.testing.assert_array_equal(st["v"], [-0.25] * 3)
    assert st["refractory"].dtype == np.float64
    rng, ref_rng = np.random.default_rng(11), np.random.default_rng(11)
    v, r = [-0.25] * 3, [0.0] * 3
    total = 0
    for _ in range(300):
        out = m.step(st, np.array(currents), dt, rng)
        active = [k for k in range(3) if r[k] <= 0]
        draws = dict(zip(active, ref_rng.normal(0.0, 0.3 * math.sqrt(dt), size=len(active))))
        for k, I in enumerate(currents):
            if k in draws:
                vn = v[k] + (-(v[k] + 0.25) * dt / 10.0 + 2.0 * I * dt + draws[k])
                s = vn >= 0.75
                v[k], r[k] = (-0.5, 2.0) if s else (vn, 0.0)
            else:
                v[k], r[k], s = -0.25, r[k] - 1.0, False
            assert bool(out[k]) == s
            total += s
        np.testing.assert_allclose(st["v"], v, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(st["refractory"], r)
    assert total > 10
    # noise-free exact landing: R I dt = 1.0 from v = 0 is a spike
    m = StochasticLIF(v_rest=0.0, v_threshold=1.0, resistance=1.0)
    st = m.initial_state(1)
    assert m.step(st, np.array([0.5]), 2.0).tolist() == [True]


# -- SpiNNaker: register types, per-dt refractory count, 32-bit wraps --------------------------------
def test_spinnaker_registers_and_overflow():
    from engine.models.spinnaker_lif import SpiNNakerLIFNeuron, mul_s1615

    m = SpiNNakerLIFNeuron(tau_refrac=2.5)
    st = m.initial_state(2)
    assert st["v"].dtype == np.int64 and st["refractory"].dtype == np.int64
    assert _form.form_params(m, 0.5).c_t_refract == 5  # ceil(2.5 / 0.5)
    assert _form.form_params(m, 1.0).c_t_refract == 3
    big = np.array([2 ** 31 - 1, -(2 ** 31)], dtype=np.int64)
    np.testing.assert_array_equal(mul_s1615(big, big), [_w32(((2 ** 31 - 1) ** 2) >> 15), _w32((2 ** 62) >> 15)])
    # input codes beyond 32 bits wrap before and after the offset is added
    m = SpiNNakerLIFNeuron(i_offset=0.5, tau_m=20.0, cm=1.0)
    st = m.initial_state(3)
    v0 = st["v"].copy()
    currents = [70000.0, -70000.0, 65535.9]
    m.step(st, np.array(currents), 1.0)
    exp_tc, r_m = _q1615(math.exp(-1 / 20.0)), _q1615(20.0)
    for k, I in enumerate(currents):
        i_in = _w32(_w32(_q1615(I)) + _q1615(0.5))
        alpha = _w32(((i_in * r_m) >> 15) + _q1615(-65.0))
        v = _w32(alpha - ((exp_tc * _w32(alpha - int(v0[k]))) >> 15))
        expect = _q1615(-65.0) if v >= _q1615(-50.0) else v
        assert int(st["v"][k]) == expect


# -- landing exactly on the threshold fires (>=, not >) ---------------------------------------------------
def test_exact_landings_fire():
    from engine.models.izhikevich2007 import Izhikevich2007
    from engine.models.qif import QIF
    from engine.models.resonate_and_fire import ResonateAndFire

    # v = vr + dt I / C = -60 + 95 = 35 = vpeak (u = 0, the quadratic term 0 at v = vr)
    m = Izhikevich2007()
    st = m.initial_state(2)
    assert m.step(st, np.array([9500.0, 9400.0]), 1.0).tolist() == [True, False]
    # QIF: v = V_rest + dt R I / tau_m = -65 + 95 = 30 = V_peak
    m = QIF()
    st = m.initial_state(2)
    assert m.step(st, np.array([95.0, 94.0]), 1.0).tolist() == [True, False]
    # resonate-and-fire: probe the y one step reaches, then make that the threshold
    probe = ResonateAndFire(y_threshold=1e9)
    st = probe.initial_state(1)
    probe.step(st, np.array([3.0]), 1.0)
    y1 = float(st["y"][0])
    assert y1 > 0
    m = ResonateAndFire(y_threshold=y1)
    st = m.initial_state(1)
    assert m.step(st, np.array([3.0]), 1.0).tolist() == [True]


def test_theta_reaching_pi_exactly_at_the_end_of_the_step_fires():
    # the spike is a zero of u in (0, T], T included (the docstring's condition)
    from engine.models.theta import ThetaNeuron

    # I = 1 from 0: theta = 2 t reaches pi at t = pi / 2
    m = ThetaNeuron()
    st = m.initial_state(1)
    assert m.step(st, np.array([1.0]), math.pi / 2).tolist() == [True]
    assert st["theta"][0] == pytest.approx(-math.pi, abs=1e-12)
    # I = 0 from pi/2: v = v0 / (1 - v0 t) blows up at t = 1 / v0 = cos(pi/4) / sin(pi/4)
    sp, q = np.sin(math.pi / 4), np.cos(math.pi / 4)
    t = float(q / sp)
    assert sp * t == q  # the step is exactly the blow-up time in floating point too
    m = ThetaNeuron(theta_init=math.pi / 2)
    st = m.initial_state(1)
    assert m.step(st, np.array([0.0]), t).tolist() == [True]


def test_theta_zero_drive_does_not_warn():
    import warnings

    from engine.models.theta import ThetaNeuron

    m = ThetaNeuron(theta_init=0.5)
    st = m.initial_state(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 in the branches np.where leaves out
        m.step(st, np.array([0.0, 1.0, -1.0]), 0.1)
    assert np.all(np.isfinite(st["theta"]))


def test_adex_landing_exactly_on_v_peak_fires():
    # probe the v one step reaches, then make that V_peak: the step must fire (v_new >= V_peak)
    from engine.models.adex import AdEx

    probe = AdEx(V_peak=1e6)
    st = probe.initial_state(1)
    probe.step(st, np.array([5000.0]), 0.5)
    v1 = float(st["v"][0])
    assert v1 > -70.6
    m = AdEx(V_peak=v1)
    st = m.initial_state(1)
    assert m.step(st, np.array([5000.0]), 0.5).tolist() == [True]
    assert st["v"][0] == -70.6  # V_reset


def test_rulkov_spike_is_an_upward_crossing_including_the_landing():
    from engine.models.rulkov import RulkovMap

    # from x = -1: x' = alpha / 2 + y + I = 2 - 2 + 0 = 0 = x_spike exactly: a spike
    m = RulkovMap(alpha=4.0, x_init=-1.0, y_init=-2.0)
    st = m.initial_state(1)
    assert m.step(st, np.array([0.0]), 1.0).tolist() == [True]
    assert st["x"][0] == 0.0
    # already at x_spike (not below it): x' = 4 + 0 is no new crossing
    m = RulkovMap(alpha=4.0, x_init=0.0, y_init=0.0)
    st = m.initial_state(1)
    assert m.step(st, np.array([0.0]), 1.0).tolist() == [False]
    assert st["x"][0] == 4.0


# -- the fixed-point LIF population model ---------------------------------------------------------------
def test_fixed_point_lif_step_against_reference_step():
    from engine.models.fixed_point_lif import FixedPointLIF, lif_reference_step

    m = FixedPointLIF(data_width=12, fraction=6, v_rest=-10, v_reset=-20, v_threshold=300, refractory_period=2,
                      leak_k=5, gain_k=70, rounding="nearest")
    st = m.initial_state(4)
    assert st["v"].dtype == np.int64 and st["refractory_counter"].dtype == np.int64
    assert st["v"].tolist() == [-10] * 4 and st["refractory_counter"].tolist() == [0] * 4
    # float input is rounded (ties to even, np.rint) and saturated to the 12-bit range [-2048, 2047]
    current = np.array([2.5, 700.4, 9999.0, -9999.0])
    codes = [2, 700, 2047, -2048]
    ref = [(-10, 0)] * 4
    cfg = m.config()
    for _ in range(12):
        out = m.step(st, current)
        assert out.dtype == np.int64
        for k in range(4):
            s, v, c = lif_reference_step(ref[k][0], ref[k][1], 5, 70, codes[k], 0, **cfg)
            ref[k] = (v, c)
            assert int(out[k]) == s
        assert st["v"].tolist() == [r[0] for r in ref]
        assert st["refractory_counter"].tolist() == [r[1] for r in ref]
    # integer codes go in as they are (clipped only)
    st = m.initial_state(1)
    m.step(st, np.array([3], dtype=np.int64))
    assert st["v"].tolist() == [lif_reference_step(-10, 0, 5, 70, 3, 0, **cfg)[1]]


def test_fixed_point_lif_refusals_name_the_problem():
    from engine.models.fixed_point_lif import FixedPointLIF

    m = FixedPointLIF()
    st = m.initial_state(2)
    with pytest.raises(ValueError, match=r"^current must be finite$"):
        m.step(st, np.array([1.0, float("nan")]))
    with pytest.raises(ValueError, match=r"^FixedPointLIFNeuron with noise_amplitude > 0 needs an rng$"):
        FixedPointLIF(noise_amplitude=3).step(st, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^gain_k=300 does not fit"):
        FixedPointLIF(data_width=8, fraction=4, v_threshold=100, gain_k=300)
    with pytest.raises(ValueError, match=r"^leak_k=300 does not fit"):
        FixedPointLIF(data_width=8, fraction=4, v_threshold=100, leak_k=300)
    with pytest.raises(ValueError, match="noise_amplitude=200 does not fit 8 bits"):
        FixedPointLIF(data_width=8, fraction=4, v_threshold=100, gain_k=16, leak_k=2, noise_amplitude=200)
    draws = FixedPointLIF(noise_amplitude=2).draw_noise(3000, np.random.default_rng(1))
    assert draws.dtype == np.int64 and set(np.unique(draws)) == {-2, -1, 0, 1, 2}
    assert FixedPointLIF().draw_noise(5, None) == 0


def test_morris_lecar_w_inf_closed_form():
    from engine.models.morris_lecar import MorrisLecar

    m = MorrisLecar(v3=2.0, v4=30.0)
    np.testing.assert_allclose(m.w_inf(np.array([2.0, 32.0, -28.0])),
                               [0.5, 0.5 * (1 + math.tanh(1.0)), 0.5 * (1 - math.tanh(1.0))], rtol=1e-15)


@pytest.mark.parametrize("per_neuron", ["leak", "gain", "both", "none"])
def test_fixed_point_array_per_neuron_constants_against_reference(per_neuron):
    from engine.models.fixed_point_lif import FixedPointLIFArray, lif_reference_step

    n = 6
    cfg = dict(data_width=12, fraction=6, v_rest=-10, v_reset=-20, v_threshold=300, refractory_period=0,
               refractory_hold="v_rest", saturate=False, rounding="nearest")
    arr = FixedPointLIFArray(n, **cfg)
    assert arr.dtype == np.int32  # the narrow work type: constants and inputs are cast to it
    leak = np.array([1, 5, 9, 13, 17, 21]) if per_neuron in ("leak", "both") else 5
    gain = np.array([40, 50, 60, 70, 80, 90]) if per_neuron in ("gain", "both") else 70
    I_t = np.array([3, 20, 45, 60, 90, 120], dtype=np.int64)  # int64 codes, cast to the work type
    noise = np.array([1, -1, 0, 2, -2, 0], dtype=np.int64)
    ref = [(-10, 0)] * n
    fired = 0
    for _ in range(20):
        out = arr.step(leak, gain, I_t, noise)
        fired += int(np.count_nonzero(out))
        for k in range(n):
            lk = int(leak[k]) if np.ndim(leak) else leak
            gk = int(gain[k]) if np.ndim(gain) else gain
            s, v, c = lif_reference_step(ref[k][0], ref[k][1], lk, gk, int(I_t[k]), int(noise[k]), **cfg)
            ref[k] = (v, c)
            assert bool(out[k]) == bool(s)
        assert arr.v.tolist() == [r[0] for r in ref]
    assert fired > 0


def _rb_mid(c, a):
    return _rb_helper(c, a, 1.0)


def _rb_outer_mid(c, a):
    return _rb_mid(c, a)


def test_rebind_swaps_inside_nested_helpers():
    g = {"np": np}
    h = g["_rb_helper"] = _mk(_rb_helper, g)
    g["_rb_mid"] = _mk(_rb_mid, g)
    outer = _mk(_rb_outer_mid, g)
    swapped = _form.rebind(outer, _FakeNP, swap={h: lambda c, a, b: ("swapped", a, b)})
    assert swapped(True, 2.0) == ("swapped", 2.0, 1.0)


def test_parameter_view_forwards_instance_attributes():
    from engine.models.lapicque import Lapicque

    m = Lapicque()
    m.pinned_extra = 5  # on the instance only, not the class
    assert m.view().pinned_extra == 5


def test_theta_negative_drive_below_the_unstable_point_does_not_fire():
    from engine.models.theta import ThetaNeuron

    # I = -1, theta = 1 < pi/2 (the unstable point): it decays to rest, whatever the step
    m = ThetaNeuron(theta_init=1.0)
    st = m.initial_state(1)
    assert m.step(st, np.array([-1.0]), 5.0).tolist() == [False]
    v0 = math.tan(0.5)  # v = -tanh(t - c) with tanh(c) = v0
    c = math.atanh(v0)
    assert st["theta"][0] == pytest.approx(2 * math.atan(-math.tanh(5.0 - c)), abs=1e-12)


def test_loihi_current_register_wraps_at_24_bits():
    from engine.models.loihi_cuba import LoihiCUBA

    # du = 4095: the current decays fully, so u = I << 6; above 2**23 loses 2**24, at or below -2**23 gains it
    m = LoihiCUBA(du=4095, dv=0, vth=(1 << 17) - 1)
    st = m.initial_state(4)
    m.step(st, np.array([131072.0, 131073.0, -131072.0, -131071.0]), 1.0)
    assert st["u"].tolist() == [2 ** 23, 2 ** 23 + 64 - 2 ** 24, -(2 ** 23) + 2 ** 24, -(2 ** 23) + 64]


def test_draws_random_without_a_form():
    from engine.models import base

    class HandWritten(base.NeuronModel):
        model_name = "PinnedHandWritten"

    assert HandWritten().draws_random() is False


def test_adaptive_threshold_and_spinnaker_exact_landings_fire():
    # probe the value one step reaches, then make it the threshold: landing on it fires (>=)
    from engine.models.adaptive_threshold_if import AdaptiveThresholdIF
    from engine.models.spinnaker_lif import SpiNNakerLIFNeuron

    probe = AdaptiveThresholdIF(theta_0=1e6)
    st = probe.initial_state(1)
    probe.step(st, np.array([2.0]), 1.0)
    v1 = float(st["v"][0])
    m = AdaptiveThresholdIF(theta_0=v1)  # theta stays at theta_0 until the first spike
    st = m.initial_state(1)
    assert m.step(st, np.array([2.0]), 1.0).tolist() == [True]

    probe = SpiNNakerLIFNeuron(v_thresh=1000.0)
    st = probe.initial_state(1)
    probe.step(st, np.array([5.0]), 1.0)
    code = int(st["v"][0])
    m = SpiNNakerLIFNeuron(v_thresh=code / 2 ** 15)  # an s16.15 value quantises to itself
    st = m.initial_state(1)
    assert m.step(st, np.array([5.0]), 1.0).tolist() == [True]


# -- the recorded replay (NumPy backend) against the form evaluated directly -------------------
@pytest.fixture
def fresh_replays(monkeypatch):
    """An empty replay cache for the test: a replay recorded earlier in the
    process (mutmut forks each mutant's run from a process that ran the clean
    tests) would hide the recorder and the buffer planner under test."""
    monkeypatch.setattr(_form, "_REPLAY_CACHE", {})
    monkeypatch.setattr(_form, "_replay_bytes", [0])


# integer (bit-true) forms return their spikes as integers from np.where on constants, which the
# recorder refuses, so they run as written
_NOT_RECORDED = {"LoihiCUBANeuron", "SpiNNakerLIFNeuron", "TrueNorthNeuron"}


def _form_models():
    from engine.models import registry
    return sorted(n for n, c in registry.items() if c.dynamics is not None)


def _run_both(model, n, steps, seed, noisy):
    lo, hi = getattr(model, "current_range", (0.0, 1.0))
    cur = np.random.default_rng(seed).uniform(lo, hi, size=(steps, n))
    if model.integer:
        cur = np.rint(cur).astype(np.int64)
    direct, viewed = model.initial_state(n), model.initial_state(n)
    view = model.view()
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    outs = []
    for c in cur:
        y1 = model.step(direct, c.copy(), model.default_dt, r1 if noisy else None)
        y2 = type(model).step(view, viewed, c.copy(), model.default_dt, r2 if noisy else None)
        np.testing.assert_array_equal(y1, y2)
        assert np.asarray(y1).dtype == np.asarray(y2).dtype
        outs.append(np.asarray(y1))
    for var in direct:
        np.testing.assert_array_equal(direct[var], viewed[var], err_msg=var)
        assert direct[var].dtype == viewed[var].dtype, var
    return view, outs


@pytest.mark.parametrize("name", _form_models())
def test_recorded_replay_equals_the_form_evaluated_directly(name, fresh_replays):
    from engine.models import registry
    model = registry[name]()
    view, _ = _run_both(model, 4, 12, seed=11, noisy=False)
    replay = view.__dict__["_form_replay"][3]
    # the replay is used wherever the form is recordable (a speed path: same values either way)
    assert (replay is None) == (name in _NOT_RECORDED)
    if replay is not None:
        assert replay.source.startswith("def replay(I, N, S0")
        assert replay.nbytes >= 0


@pytest.mark.parametrize("name, params", [
    ("StochasticLIFNeuron", {"noise_std": 0.7}),
    ("HomeostaticLIFNeuron", {"noise_std": 0.5}),
    ("SCIzhikevichNeuron", {"noise_std": 3.0}),
])
def test_recorded_replay_with_noise_equals_direct(name, params, fresh_replays):
    from engine.models import registry
    model = registry[name](**params)
    view, outs = _run_both(model, 5, 15, seed=12, noisy=True)
    assert view.__dict__["_form_replay"][3] is not None


def _plan_of(dynamics, integer=False):
    # (p, names, dynamics, std, draws, checks, integer), as _plan builds it
    return (_form.Constants({"th": 1.0}), ("v",), dynamics, 0.0, None, False, integer)


def _state_first(p, I, noise, dt, v):
    v_new = v + I                      # op 0: the new state, straight into the state array
    return v_new >= p.th, v_new


def _output_first(p, I, noise, dt, v):
    spikes = I >= p.th                 # op 0: the output
    return spikes, v + I


def test_replay_writes_the_new_state_in_place_and_takes_an_output_computed_first():
    cur = np.array([0.5, 1.5, 1.0])
    v = np.array([0.0, 0.0, 0.25])
    fn = _form._record(_plan_of(_state_first), 1.0, cur, [v.copy()], 0.0)
    assert fn is not None
    # v + I goes straight into S0: no scratch buffer, no copy at the end
    assert fn.nbytes == 0 and "copyto" not in fn.source and "out=S0" in fn.source
    s = v.copy()
    np.testing.assert_array_equal(fn(cur, 0.0, s), [False, True, True])
    np.testing.assert_array_equal(s, [0.5, 1.5, 1.25])
    fn = _form._record(_plan_of(_output_first), 1.0, cur, [v.copy()], 0.0)
    assert fn is not None  # the output is the first recorded operation (slot n_in)
    s = v.copy()
    np.testing.assert_array_equal(fn(cur, 0.0, s), [False, True, True])
    np.testing.assert_array_equal(s, [0.5, 1.5, 1.25])


def test_record_refuses_a_constant_output_and_other_array_functions():
    cur, v = np.array([0.5, 2.0]), np.array([0.0, 0.0])

    def constant_output(p, I, noise, dt, v):
        return False, v + I

    def uses_clip(p, I, noise, dt, v):
        w = np.clip(v + I, 0.0, 1.0)   # a NumPy function that is not np.where
        return w >= p.th, w

    assert _form._record(_plan_of(constant_output), 1.0, cur, [v.copy()], 0.0) is None
    assert _form._record(_plan_of(uses_clip), 1.0, cur, [v.copy()], 0.0) is None


def test_replay_casts_a_float_value_into_an_integer_state_as_assignment_does():
    def count_up(p, I, noise, dt, c):
        new = c + I                    # int64 state + float input: a float value
        return new >= p.th, np.where(new >= p.th, 0.0, new)

    cur = np.array([0.75, 1.5, -0.75])
    c = np.array([0, 0, 2], dtype=np.int64)
    fn = _form._record(_plan_of(count_up), 1.0, cur, [c.copy()], 0.0)
    assert fn is not None and "casting='unsafe'" in fn.source
    s = c.copy()
    np.testing.assert_array_equal(fn(cur, 0.0, s), [False, True, True])
    # 0.75 -> 0 (truncated, as arr[...] = 0.75 does), 1.5 fired -> 0, 1.25 fired -> 0
    np.testing.assert_array_equal(s, [0, 0, 0])
    assert s.dtype == np.int64
    s = np.array([0, 0, 0], dtype=np.int64)
    np.testing.assert_array_equal(fn(np.array([0.5, -1.5, 0.25]), 0.0, s), [False, False, False])
    np.testing.assert_array_equal(s, [0, -1, 0])  # int(0.5) = 0, int(-1.5) = -1, int(0.25) = 0


# -- fixed-point LIF: saturation, rounding, hold, wraps, validation -------------------------------
def _fp_cfg(**kw):
    cfg = dict(data_width=8, fraction=4, v_rest=-3, v_reset=-20, v_threshold=100, refractory_period=1,
               refractory_hold="v_reset", saturate=True, rounding="nearest")
    cfg.update(kw)
    return cfg


# I codes chosen so the sum leaves the 8-bit range both ways (saturation / wrap) and lands on ties
_FP_CODES = [127, 127, -128, -128, 9, -7, 100, 3, -128, 127, 0, 24]


@pytest.mark.parametrize("kw", [{}, {"saturate": False}, {"rounding": "floor", "refractory_hold": "v_rest"}])
def test_fixed_point_scalar_neuron_saturate_round_hold_against_reference(kw):
    from engine.models.fixed_point_lif import FixedPointLIFNeuron, lif_reference_step
    cfg = _fp_cfg(**kw)
    n = FixedPointLIFNeuron(**cfg)
    v, c = cfg["v_rest"], 0
    for k, code in enumerate(_FP_CODES):
        noise = (-1) ** k * 3
        s, v, c = lif_reference_step(v, c, 7, 90, code, noise, **cfg)
        assert n.step(7, 90, code, noise) == (s, v), k
        assert n.refractory_counter == c


def test_fixed_point_scalar_saturates_to_the_exact_bounds():
    from engine.models.fixed_point_lif import FixedPointLIFNeuron
    n = FixedPointLIFNeuron(data_width=8, fraction=4, v_threshold=127, saturate=True, refractory_period=0)
    # v + (0 - v) * 0 + (127 * 127 >> 4 = 1008) -> clipped to 127 = threshold: spike, reset 0
    assert n.step(0, 127, 127) == (1, 0)
    # 0 + (-128 * 127 >> 4 = -1016) -> clipped to -128
    assert n.step(0, 127, -128) == (0, -128)
    n = FixedPointLIFNeuron(data_width=8, fraction=4, v_threshold=127, saturate=False, refractory_period=0)
    # -1016 wraps: -1016 + 1024 = 8
    assert n.step(0, 127, -128) == (0, 8)


@pytest.mark.parametrize("name", ["leak_k", "gain_k", "I_t", "noise_in"])
def test_fixed_point_scalar_input_checks_name_the_input(name):
    from engine.models.fixed_point_lif import FixedPointLIFNeuron
    args = {"leak_k": 1, "gain_k": 1, "I_t": 1, "noise_in": 0}
    args[name] = 1.5
    with pytest.raises(ValueError, match=rf"^{name} must be an integer code, got 1.5$"):
        FixedPointLIFNeuron().step(**args)
    args[name] = 40000
    with pytest.raises(ValueError, match=rf"^{name}=40000 does not fit a signed 16-bit input"):
        FixedPointLIFNeuron().step(**args)


@pytest.fixture
def small_blocks(monkeypatch):
    from engine.models.fixed_point_lif import FixedPointLIFArray
    monkeypatch.setattr(FixedPointLIFArray, "BLOCK", 2)  # 5 neurons: blocks of 2, 2, 1


@pytest.mark.parametrize("kw", [{}, {"saturate": False}, {"rounding": "floor", "refractory_hold": "v_rest"}])
@pytest.mark.parametrize("count_wraps", [False, True])
def test_fixed_point_array_blocks_saturate_wraps_against_reference(kw, count_wraps, small_blocks):
    from engine.models.fixed_point_lif import FixedPointLIFArray, lif_reference_step
    cfg = _fp_cfg(**kw)
    n = 5
    leak = np.array([7, 0, 15, -3, 2])
    gain = np.array([90, 127, 16, 64, -100])
    arr = FixedPointLIFArray(n, **cfg, count_wraps=count_wraps)
    ref = [(cfg["v_rest"], 0)] * n
    wraps = [0] * n
    lo, hi = -128, 127
    for k, code in enumerate(_FP_CODES):
        codes = np.array([code, -code, code // 2, 5, -code // 3], dtype=np.int64)
        noise = np.array([(-1) ** k * 3, 0, 1, -2, 4], dtype=np.int64)
        spk = arr.step(leak, gain, codes.astype(np.float64), noise.astype(np.float64))  # float codes are cast
        for i in range(n):
            v, c = ref[i]
            s, v2, c2 = lif_reference_step(v, c, int(leak[i]), int(gain[i]), int(codes[i]), int(noise[i]), **cfg)
            if c == 0:  # the sum of an active neuron that leaves the W-bit range counts as a wrap
                b = 8 if cfg["rounding"] == "nearest" else 0
                raw = v + (((cfg["v_rest"] - v) * int(leak[i]) + b) >> 4) + ((int(codes[i]) * int(gain[i]) + b) >> 4) \
                    + int(noise[i])
                wraps[i] += not lo <= raw <= hi
            ref[i] = (v2, c2)
            assert bool(spk[i]) == bool(s), (k, i)
        assert arr.v.tolist() == [r[0] for r in ref], k
        assert arr.counter.tolist() == [r[1] for r in ref], k
        assert arr.wraps.tolist() == (wraps if count_wraps else [0] * n)
    assert sum(wraps) > 0  # the codes do make sums leave the range


def test_fixed_point_array_defaults_dtypes_and_checks():
    from engine.models.fixed_point_lif import FixedPointLIFArray, FixedPointLIFNeuron
    arr, ref = FixedPointLIFArray(3), FixedPointLIFNeuron()  # the same reference-hardware defaults
    for k in ("data_width", "fraction", "v_rest", "v_reset", "v_threshold", "refractory_period",
              "refractory_hold", "saturate", "rounding"):
        assert getattr(arr, k) == getattr(ref, k), k
    assert arr.count_wraps is False and arr.saturate is False
    # W + F = 24 <= 32: int32 work dtype; exact (int64) when counting wraps or saturating
    assert arr.dtype == np.int32 and arr.v.dtype == np.int32 and arr.counter.dtype == np.int32
    assert arr.wraps.dtype == np.int64 and arr._raw is None
    assert FixedPointLIFArray(2, count_wraps=True).dtype == np.int64
    assert FixedPointLIFArray(2, saturate=True).dtype == np.int64
    assert FixedPointLIFArray(2, count_wraps=1).count_wraps is True
    assert FixedPointLIFArray(2, saturate=np.True_).saturate is True
    assert FixedPointLIFArray(1).n == 1
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match=rf"^n must be a positive integer, got {bad!r}$"):
            FixedPointLIFArray(bad)
    # saturate needs 2W - F <= 62: Q30.2 (62) is allowed, Q31.1 (63) is not; without saturate both are
    FixedPointLIFArray(1, data_width=32, fraction=2, v_threshold=1 << 20, saturate=True)
    FixedPointLIFArray(1, data_width=32, fraction=1, v_threshold=1 << 20)
    with pytest.raises(ValueError, match=r"^saturate needs 2\*data_width - fraction <= 62 in the vectorised "
                                         r"kernel, got Q31\.1$"):
        FixedPointLIFArray(1, data_width=32, fraction=1, v_threshold=1 << 20, saturate=True)


def test_fixed_point_check_config_messages_and_defaults():
    from engine.models.fixed_point_lif import FixedPointLIFArray, _check_config
    _check_config(16, 8, 0, 0, 256, 2)  # the option defaults are valid options
    for name in ("v_rest", "v_reset", "v_threshold"):
        kw = {"v_rest": 0, "v_reset": 0, "v_threshold": 100, name: 200}
        with pytest.raises(ValueError, match=rf"^{name}"):
            FixedPointLIFArray(1, data_width=8, fraction=4, **kw)
    with pytest.raises(ValueError, match=r"^rounding must be one of"):
        FixedPointLIFArray(1, rounding="bogus")
    for bad in (True, -1, 1.0):
        with pytest.raises(ValueError, match=rf"^refractory_period must be a non-negative integer, got {bad!r}$"):
            FixedPointLIFArray(1, refractory_period=bad)
    FixedPointLIFArray(1, refractory_period=65535)
    with pytest.raises(ValueError, match=r"^refractory_period must be < 65536, got 65536$"):
        FixedPointLIFArray(1, refractory_period=65536)


def test_fixed_point_naive_step_defaults_options_and_wide_products():
    from engine.models.fixed_point_lif import _naive_step, lif_reference_step
    base = dict(data_width=24, fraction=4, v_rest=0, v_reset=-5, v_threshold=1 << 22, refractory_period=1)
    v = np.array([0, 100, 0], dtype=np.int64)
    cnt = np.array([0, 1, 0], dtype=np.int64)
    # int32 codes whose product with gain_k needs more than 32 bits: 2**22 * 3000 > 2**31
    codes = np.array([1 << 22, 7, -(1 << 22)], dtype=np.int32)
    s, vn, cn = _naive_step(v, cnt, 3, 3000, codes, np.array([1, 2, -3]), **base)  # defaults: v_rest, wrap, floor
    for i in range(3):
        ref = lif_reference_step(int(v[i]), int(cnt[i]), 3, 3000, int(codes[i]), [1, 2, -3][i], **base)
        assert (int(s[i]), int(vn[i]), int(cn[i])) == ref, i
    s, vn, cn = _naive_step(v, cnt, 3, 3000, codes, 0, **base, refractory_hold="v_reset", saturate=True,
                            rounding="nearest")
    cfg = dict(base, refractory_hold="v_reset", saturate=True, rounding="nearest")
    for i in range(3):
        assert (int(s[i]), int(vn[i]), int(cn[i])) == lif_reference_step(int(v[i]), int(cnt[i]), 3, 3000,
                                                                         int(codes[i]), 0, **cfg), i
    assert vn[1] == -5  # held at v_reset while refractory


def test_fixed_point_model_clips_float_input_at_both_ends():
    from engine.models.fixed_point_lif import FixedPointLIF, lif_reference_step
    m = FixedPointLIF(data_width=8, fraction=4, v_threshold=100, gain_k=16, leak_k=0, refractory_period=0)
    st = m.initial_state(2)
    m.step(st, np.array([-1000.4, 1000.6]))
    cfg = m.config()
    # rounded then clipped to [-128, 127]: gain 16 >> 4 is 1, so v is the clipped code (127 >= 100 fires)
    assert st["v"].tolist() == [lif_reference_step(0, 0, 0, 16, -128, 0, **cfg)[1],
                                lif_reference_step(0, 0, 0, 16, 127, 0, **cfg)[1]] == [-128, 0]


def test_fixed_point_scalar_neuron_validates_rounding():
    from engine.models.fixed_point_lif import FixedPointLIFNeuron
    with pytest.raises(ValueError, match=r"^rounding must be one of"):
        FixedPointLIFNeuron(rounding="bogus")


# -- base: Real / Count built at test time, get_model -------------------------------------------
def test_real_and_count_constructed_here_have_their_defaults():
    # the model classes build theirs at import time, before a mutant is switched on: build new ones
    from engine.models.base import Count, Real
    r, c = Real(), Count()
    assert r.default == 0.0 and type(r.default) is float and r.unit == ""
    assert c.default == 0 and c.unit == "steps" and c.bounds == (0, None)
    r, c = Real(2.5, unit="mV", bounds=(0.0, 5.0)), Count(3, unit="ticks", bounds=(1, 9), doc="d")
    assert (r.default, r.unit, r.bounds) == (2.5, "mV", (0.0, 5.0))
    assert (c.default, c.unit, c.bounds, c.doc) == (3, "ticks", (1, 9), "d")


def test_count_validation_messages_and_none():
    import param

    from engine.models.base import Count

    class P(param.Parameterized):
        k = Count(2, bounds=(1, 10))
        u = Count(None, bounds=None)

    p = P()
    with pytest.raises(ValueError, match=r"^parameter 'k' must be <= 10, got 11$"):
        p.k = 11
    with pytest.raises(ValueError, match=r"^parameter 'k' must be >= 1, got 0$"):
        p.k = 0
    with pytest.raises(ValueError, match=r"^parameter 'u' is out of range: \|9007199254740993\| > 9007199254740992$"):
        p.u = 2 ** 53 + 1  # no bounds, but |v| <= 2**53 always
    p.u = -(2 ** 40)
    assert p.u == -(2 ** 40)
    p.u = None  # allowed (the default is None)
    assert p.u is None
    p.k = 4.0
    assert p.k == 4 and type(p.k) is int
    p.k = lambda: 3  # a dynamic (callable) value is param's to resolve, not checked as a number
    assert p.k == 3


def test_get_model_resolves_scalar_classes_and_explains_unknown_names():
    import difflib

    from engine.models import base
    from engine.models.fixed_point_lif import FixedPointLIF, FixedPointLIFNeuron
    assert base.get_model(FixedPointLIFNeuron) is FixedPointLIF  # via its declaration
    known = ", ".join(sorted(base.registry))
    with pytest.raises(ValueError) as e:
        base.get_model("zzqqxx")
    assert str(e.value) == f"unknown neuron model 'zzqqxx' (known: {known})"
    # a name close to many: the three best suggestions (difflib's ranking), comma separated
    name = "IFNeuron"
    close = difflib.get_close_matches(name, list(base.registry), n=10)
    assert len(close) >= 4
    with pytest.raises(ValueError) as e:
        base.get_model(name)
    assert str(e.value) == f"unknown neuron model {name!r}; did you mean {', '.join(close[:3])}? (known: {known})"


def test_parameter_view_does_not_forward_protocol_lookups():
    import copy

    from engine.models.qif import QIF
    m = QIF()
    view = m.view()
    # the model has a __setstate__ (param); the view must not borrow it, or copy.copy(view) would
    # hand the view's state to the model's __setstate__
    assert hasattr(m, "__setstate__") and not hasattr(view, "__setstate__")
    with pytest.raises(AttributeError, match=r"^__setstate__$"):
        view.__setstate__  # noqa: B018
    dup = copy.copy(view)
    assert dup is not view and dup._model is m


def test_base_initial_state_dtype_follows_integer_not_the_values():
    from engine.models import base

    class FloatState(base.NeuronModel):
        model_name = "PinnedFloatState"
        state_variables = {"v": 0, "c": 2}  # ints written in a float model: still float64 arrays

    class IntState(base.NeuronModel):
        model_name = "PinnedIntState"
        integer = True
        state_variables = {"u": 0.0, "w": 3}

    st = FloatState().initial_state(3)
    assert st["v"].dtype == np.float64 and st["c"].dtype == np.float64 and st["c"].tolist() == [2.0] * 3
    st = IntState().initial_state(2)
    assert st["u"].dtype == np.int64 and st["w"].dtype == np.int64 and st["w"].tolist() == [3, 3]


# -- Wang-Buzsaki gates at rest and the capacitance; ExpIF refractory and exact landing ---------
def _wb_rates_by_hand(v):
    # Wang & Buzsaki (1996), J. Neurosci. 16:6402, the h and n rates
    a_h = 0.07 * math.exp(-(v + 58.0) / 20.0)
    b_h = 1.0 / (1.0 + math.exp(-(v + 28.0) / 10.0))
    a_n = 0.01 * (v + 34.0) / (1.0 - math.exp(-(v + 34.0) / 10.0))
    b_n = 0.125 * math.exp(-(v + 44.0) / 80.0)
    return a_h, b_h, a_n, b_n


@pytest.mark.parametrize("v_init", [-64.0, -70.0])
def test_wang_buzsaki_gates_start_at_their_steady_state(v_init):
    from engine.models.wang_buzsaki import WangBuzsaki
    st = WangBuzsaki(v_init=v_init).initial_state(2)
    a_h, b_h, a_n, b_n = _wb_rates_by_hand(v_init)
    assert st["v"].tolist() == [v_init, v_init]
    np.testing.assert_allclose(st["h"], a_h / (a_h + b_h), rtol=1e-12)
    np.testing.assert_allclose(st["n"], a_n / (a_n + b_n), rtol=1e-12)


def test_wang_buzsaki_capacitance_divides_the_current():
    from engine.models.wang_buzsaki import WangBuzsaki, _wb_rhs
    assert WangBuzsaki.constants(_form.Constants({"c_m": 2.0}), 0.01) == {"inv_c": 0.5}
    m = WangBuzsaki(c_m=2.0)
    p = _form.Constants(_form.form_constants(m, m.values(), 0.01))
    st = m.initial_state(1)
    v, h, n = st["v"], st["h"], st["n"]
    dv0 = _wb_rhs(p, np.array([0.0]), v, h, n)[0]
    dv1 = _wb_rhs(p, np.array([3.0]), v, h, n)[0]
    # C dV/dt = I - I_ion: 3 uA/cm2 more adds 3 / C_m = 1.5 mV/ms
    np.testing.assert_allclose(dv1 - dv0, [1.5], rtol=1e-12)


def _expif_by_hand(m, currents, dt):
    v, refr, out = m.E_L, 0, []
    for cur in currents:
        if refr > 0:
            refr -= 1
            out.append((False, v))
            continue
        x = min((v - m.V_T) / m.delta_T, 50.0)
        v = v + dt * (-(v - m.E_L) + m.delta_T * math.exp(x) + m.resistance * cur) / m.tau_m
        if v >= m.V_peak:
            v, refr = m.V_reset, m.refractory_period
            out.append((True, v))
        else:
            out.append((False, v))
    return out


def test_expif_refractory_and_reset_step_by_step():
    from engine.models.expif import ExpIF
    m = ExpIF(refractory_period=2, V_peak=-30.0)
    st = m.initial_state(1)
    currents = [6.0] * 200
    ref = _expif_by_hand(m, currents, 0.1)
    assert sum(s for s, _ in ref) >= 2
    for k, cur in enumerate(currents):
        s = m.step(st, np.array([cur]), 0.1)
        assert (bool(s[0]), float(st["v"][0])) == (ref[k][0], pytest.approx(ref[k][1], abs=1e-9)), k


def test_expif_landing_exactly_on_v_peak_fires():
    from engine.models.expif import ExpIF
    probe = ExpIF(V_peak=100.0)
    st = probe.initial_state(1)
    probe.step(st, np.array([2.0]), 0.1)
    m = ExpIF(V_peak=float(st["v"][0]))
    st = m.initial_state(1)
    assert m.step(st, np.array([2.0]), 0.1).tolist() == [True]
    assert st["v"].tolist() == [m.V_reset]


def _rb_rec(c, a, k):
    return _rb_rec(c, a, k - 1) if k > 0 else np.where(c, a, -1.0)  # Python if on a parameter only


def _rb_outer_rec(c, a):
    return _rb_rec(c, a, 3)


def _rb_left(c, a):
    return _rb_helper(c, a, 1.0)


def _rb_right(c, a):
    return _rb_helper(c, a, 2.0)


def _rb_outer_two(c, a):
    return _rb_left(c, a), _rb_right(c, a)


def test_rebind_shares_one_copy_per_helper_and_handles_recursion():
    g = {"np": np}
    g["_rb_rec"] = _mk(_rb_rec, g)
    r = _form.rebind(_mk(_rb_outer_rec, g), _FakeNP)  # a helper that calls itself: one copy, no loop
    assert r(True, 2.0) == ("fake-where", 2.0, -1.0)
    g = {"np": np}
    g["_rb_helper"] = _mk(_rb_helper, g)
    g["_rb_left"], g["_rb_right"] = _mk(_rb_left, g), _mk(_rb_right, g)
    r = _form.rebind(_mk(_rb_outer_two, g), _FakeNP)
    assert r(True, 3.0) == (("fake-where", 3.0, 1.0), ("fake-where", 3.0, 2.0))
    left, right = r.__globals__["_rb_left"], r.__globals__["_rb_right"]
    assert left.__globals__["_rb_helper"] is right.__globals__["_rb_helper"]  # rebound once, shared


def _rhs_unit2(p, I, a, b):
    return np.ones_like(a), np.zeros_like(b)  # da/dt = 1: one RK4 substep of h adds exactly h


def _rhs_unit3(p, I, a, b, c):
    return np.ones_like(a), np.zeros_like(b), np.zeros_like(c)


def _rhs_unit4(p, I, a, b, c, d):
    return np.ones_like(a), np.zeros_like(b), np.zeros_like(c), np.zeros_like(d)


@pytest.mark.parametrize("which", [2, 3, 4])
def test_rk4_crossing_counts_an_upward_landing_on_the_threshold_not_a_start_on_it(which):
    cross = {2: _form.rk4_cross2, 3: _form.rk4_cross3, 4: _form.rk4_cross4}[which]
    rhs = {2: _rhs_unit2, 3: _rhs_unit3, 4: _rhs_unit4}[which]
    # a = 0.5 below 1.0, then 1.0 after one substep of 0.5: an upward crossing (>=), fires
    # a = 1.0 at the start (not below): no crossing; a = 2.0 above: none
    a = np.array([0.5, 1.0, 2.0])
    rest = [np.zeros(3)] * (which - 1)
    out = cross(rhs, None, 0.0, 0.5, 0.5, 1.0, a, *rest)
    assert out[0].tolist() == [True, False, False]
    assert out[1].tolist() == [1.0, 1.5, 2.5]
    # two substeps (dt 1, max 0.5): 0.25 -> 0.75 -> 1.25 crosses in the second one
    out = cross(rhs, None, 0.0, 1.0, 0.5, 1.0, np.array([0.25, -5.0]), *[np.zeros(2)] * (which - 1))
    assert out[0].tolist() == [True, False] and out[1].tolist() == [1.25, -4.0]


def _swap_like(p, I, noise, dt, a, b):
    b_new = a + I          # op 0: b's new value, from a, which nothing reads after it
    a_new = b * 2.0        # op 1: a's new value, from the old b
    return a_new > 0.0, a_new, b_new


def test_replay_keeps_a_new_state_value_out_of_another_states_array():
    cur = np.array([1.0, -4.0])
    a, b = np.array([10.0, 20.0]), np.array([3.0, -1.0])
    plan = (_form.Constants({}), ("a", "b"), _swap_like, 0.0, None, False, False)
    fn = _form._record(plan, 1.0, cur, [a.copy(), b.copy()], 0.0)
    assert fn is not None
    sa, sb = a.copy(), b.copy()
    np.testing.assert_array_equal(fn(cur, 0.0, sa, sb), [True, False])
    # by hand: a_new = 2 b = [6, -2], b_new = a + I = [11, 16]
    np.testing.assert_array_equal(sa, [6.0, -2.0])
    np.testing.assert_array_equal(sb, [11.0, 16.0])


@pytest.mark.parametrize("reset_mode", [0, 1])
def test_truenorth_mirrored_negative_reset_with_a_random_threshold(reset_mode):
    from engine.models.truenorth import TrueNorthNeuron
    m = TrueNorthNeuron(leak=0, threshold=40, neg_threshold=5, neg_saturate=0, reset_mode=reset_mode,
                        reset_value=3, threshold_mask_bits=3)
    n, draws = 4, np.random.default_rng(9)
    st, rng = m.initial_state(n), np.random.default_rng(9)
    v = [0] * n
    inputs = [[-4, -7, 20, -2], [-4, -7, 25, -2], [-3, 0, 1, -2], [-6, -7, -30, -2]] * 3
    for cur in inputs:
        eta = draws.integers(0, 8, size=n, dtype=np.int64)  # the threshold's random part, [0, 2**3)
        out = m.step(st, np.array(cur, dtype=np.float64), 1.0, rng)
        for i in range(n):
            x = v[i] + cur[i]
            if x >= 40 + eta[i]:
                s, x = 1, (3 if reset_mode == 0 else x - (40 + eta[i]))
            else:
                s = 0
                if x < -(5 + eta[i]):  # below -(beta + eta): mirrored reset
                    x = -3 if reset_mode == 0 else x + (5 + int(eta[i]))
            v[i] = int(x)
            assert int(out[i]) == s
        assert st["v"].tolist() == v


def test_spinnaker_wraps_at_32_bits_with_a_non_integer_resistance():
    from engine.models.spinnaker_lif import SpiNNakerLIFNeuron, mul_s1615
    # (2**16 * 2**30) >> 15 = 2**31, one past the largest s16.15 code: wraps to -2**31
    assert mul_s1615(np.array([2 ** 16], dtype=np.int64), np.array([2 ** 30], dtype=np.int64)).tolist() == [-2 ** 31]
    # R = tau_m / cm = 20 / 3 MOhm: its code is no multiple of 2**15, so a wrong wrap of i_in shows in alpha
    m = SpiNNakerLIFNeuron(tau_m=20.0, cm=3.0, i_offset=0.5, v_thresh=900.0, tau_refrac=0.0)
    # the last input puts alpha - exp_TC (alpha - v) at exactly 2**31 (found by a search with the
    # reference below): it must wrap to -2**31, below the threshold
    currents = [65535.9, 65535.9, -65536.0, 30000.0, 0.0, 9839.6643]
    v0 = [_q1615(-65.0), -(2 ** 31) + 5, _q1615(-65.0), -(2 ** 31) + 7, 2 ** 31 - 9, -(2 ** 31) + 7]
    st = m.initial_state(len(currents))
    st["v"][...] = v0
    out = m.step(st, np.array(currents), 1.0)
    exp_tc, r_m = _q1615(math.exp(-1 / 20.0)), _q1615(20.0 / 3.0)
    for k, I in enumerate(currents):
        i_in = _w32(_w32(_q1615(I)) + _q1615(0.5))
        alpha = _w32(((i_in * r_m) >> 15) + _q1615(-65.0))
        v = _w32(alpha - ((exp_tc * _w32(alpha - v0[k])) >> 15))
        s = v >= _q1615(900.0)
        assert (int(out[k]), int(st["v"][k])) == (int(s), _q1615(-65.0) if s else v), k
    assert int(st["v"][5]) == -(2 ** 31)


# -- the buffer planner (round 5): which buffer each recorded value goes into --------------------
# Each form below is recorded directly (no replay cache involved) on n = 3 float64 values.  The
# expected scratch memory is worked out by hand from the planner's rules: a value goes into the
# memory of an operand whose last read is this operation (never I, N or F, never another state's
# array), a new state value goes straight into its own state array once that array's content is no
# longer read, np.where writes in place only over its third argument, and a buffer whose value has
# had its last read goes back to a pool for the next value of the same shape and dtype.
_F8 = 3 * 8        # bytes of one float64 scratch buffer of 3 values
_B1 = 3            # bytes of one bool buffer of 3 values


def _rec(dynamics, cur, states, **consts):
    plan = (_form.Constants(consts or {"th": 1.0}), tuple(f"s{i}" for i in range(len(states))),
            dynamics, 0.0, None, False, False)
    fn = _form._record(plan, 1.0, cur, [s.copy() for s in states], 0.0)
    assert fn is not None
    return fn


def _pool_form(p, I, noise, dt, v):
    a = I * 2.0        # op0: buffer 1
    b = I * 3.0        # op1: buffer 2 (a is still to be read)
    c = a + b          # op2: into a's buffer (its last read); b's buffer goes back to the pool
    d = I * 4.0        # op3: takes b's buffer from the pool
    e = c + d          # op4: into c's buffer; d's buffer free again
    v_new = v + e      # op5: the new state, straight into v's array
    return v_new > p.th, v_new


def test_planner_reuses_a_freed_buffer_for_a_later_value():
    cur, v = np.array([0.5, -1.0, 0.0]), np.array([0.0, 10.0, 0.5])
    fn = _rec(_pool_form, cur, [v])
    # two buffers at most are alive at once (a and b); d reuses b's
    assert fn.nbytes == 2 * _F8
    s = v.copy()
    out = fn(cur, 0.0, s)
    # by hand: e = 2I + 3I + 4I = 9I = [4.5, -9, 0]; v + e = [4.5, 1, 0.5]
    np.testing.assert_array_equal(s, [4.5, 1.0, 0.5])
    np.testing.assert_array_equal(out, [True, False, False])


def _chain_form(p, I, noise, dt, v):
    x = I * 2.0        # op0: buffer 1 (I is read again below)
    z = 1.0 + x        # op1: operands (1.0, x): a constant first, then x at its last read
    w = I + z          # op2: I at its last read comes first (never written), then z
    v_new = v + w      # op3: into v's array
    return v_new > p.th, v_new


def test_planner_writes_into_a_dying_operand_after_a_constant_or_the_input():
    cur, v = np.array([0.25, -1.0, 2.0]), np.array([0.0, 1.0, -7.0])
    fn = _rec(_chain_form, cur, [v])
    assert fn.nbytes == _F8          # x, z and w share one buffer
    c, s = cur.copy(), v.copy()
    out = fn(c, 0.0, s)
    np.testing.assert_array_equal(c, cur)   # the caller's current is never written
    # by hand: v + I + 1 + 2I = v + 3I + 1 = [1.75, -1, 0]
    np.testing.assert_array_equal(s, [1.75, -1.0, 0.0])
    np.testing.assert_array_equal(out, [True, False, False])


def _via_state_form(p, I, noise, dt, v):
    d = v * 0.5        # op0: v's last read: d goes into v's array (not a new state, but v is done)
    v_new = d + I      # op1: the new state over d, in the same array
    return v_new > p.th, v_new


def _unread_state_form(p, I, noise, dt, v):
    spikes = v >= p.th  # op0: v's last read
    v_new = I * 2.0     # op1: v's array holds nothing still to be read: v_new goes straight in
    return spikes, v_new


def test_planner_puts_values_into_a_state_array_whose_content_is_done():
    cur, v = np.array([1.0, -0.5, 0.75]), np.array([2.0, 1.0, 0.5])
    fn = _rec(_via_state_form, cur, [v])
    assert fn.nbytes == 0 and "copyto" not in fn.source
    s = v.copy()
    out = fn(cur, 0.0, s)
    np.testing.assert_array_equal(s, [2.0, 0.0, 1.0])   # v / 2 + I
    np.testing.assert_array_equal(out, [True, False, False])
    fn = _rec(_unread_state_form, cur, [v])
    assert fn.nbytes == 0 and "copyto" not in fn.source
    s = v.copy()
    out = fn(cur, 0.0, s)
    np.testing.assert_array_equal(out, [True, True, False])  # the old v against th = 1
    np.testing.assert_array_equal(s, [2.0, -1.0, 1.5])


def _old_read_after_form(p, I, noise, dt, v):
    v_new = v + I       # op0: the new state, but the old v is read by op1
    spikes = v >= p.th  # op1: the OLD v
    return spikes, v_new


def test_planner_keeps_a_state_that_is_read_after_its_new_value_is_computed():
    cur, v = np.array([0.5, -2.0, 0.0]), np.array([0.75, 1.5, 1.0])
    fn = _rec(_old_read_after_form, cur, [v])
    assert fn.nbytes == _F8           # v_new waits in a buffer, copied in at the end
    s = v.copy()
    out = fn(cur, 0.0, s)
    np.testing.assert_array_equal(out, [False, True, True])   # 0.75, 1.5, 1.0 against 1
    np.testing.assert_array_equal(s, [1.25, -0.5, 1.0])


def _clamp_form(p, I, noise, dt, v):
    v_new = v + I                            # op0: into v's array (v's last read)
    up = v_new > p.floor                     # op1: a bool buffer
    v_out = np.where(up, v_new, p.floor)     # op2: v_new is where's 2nd argument: not in place
    return v_out >= p.th, v_out


@pytest.mark.parametrize("floor", [-1.0, np.array([-1.0, 0.0, -3.0])])
def test_planner_where_never_overwrites_its_second_argument(floor):
    cur, v = np.array([-2.0, 0.5, 4.0]), np.array([0.5, -1.0, -6.0])
    fn = _rec(_clamp_form, cur, [v], th=0.25, floor=floor)
    assert fn.nbytes == _B1 + _F8      # up, and v_out's own buffer (copied into v at the end)
    s = v.copy()
    out = fn(cur, 0.0, s)
    # by hand: v + I = [-1.5, -0.5, -2]; floored at -1 (scalar) or at [-1, 0, -3]
    expected = np.maximum([-1.5, -0.5, -2.0], floor)
    np.testing.assert_array_equal(s, expected)
    np.testing.assert_array_equal(out, expected >= 0.25)


def _where_b_form(p, I, noise, dt, v):
    t = I * 2.0                    # op0: float buffer
    c = I > 0.0                    # op1: bool buffer
    w = np.where(c, 0.0, t)        # op2: c (bool) and t die here; w goes over t, where's 3rd argument
    v_new = w + v                  # op3: v's last read: into v's array
    return v_new > p.th, v_new


def test_planner_where_writes_over_its_third_argument():
    cur, v = np.array([1.0, -1.0, -0.25]), np.array([5.0, 3.5, 0.0])
    fn = _rec(_where_b_form, cur, [v])
    assert fn.nbytes == _F8 + _B1
    s = v.copy()
    out = fn(cur, 0.0, s)
    # by hand: w = [0, -2, -0.5]; v + w = [5, 1.5, -0.5]
    np.testing.assert_array_equal(s, [5.0, 1.5, -0.5])
    np.testing.assert_array_equal(out, [True, True, False])


def _where_cond_form(p, I, noise, dt, v):
    m = v > 0.5                    # op0: bool
    a = I > 1.0                    # op1: bool
    b = I < 0.0                    # op2: bool
    w = np.where(m, a, b)          # op3: the condition m dies here too, but must not be written first
    v_new = v + I                  # op4
    return ~w, v_new               # op5: the output


def test_planner_where_never_overwrites_its_condition():
    cur, v = np.array([2.0, -1.0, 2.0, -1.0]), np.array([1.0, 1.0, 0.0, 0.0])
    fn = _rec(_where_cond_form, cur, [v])
    assert fn.nbytes == 3 * 4       # m, a, b: three bool buffers of 4; w goes over b
    s = v.copy()
    out = fn(cur, 0.0, s)
    # by hand: m = [T, T, F, F]; w = a where m else b = [T, F, F, T]
    np.testing.assert_array_equal(out, [False, True, True, False])
    np.testing.assert_array_equal(s, [3.0, 0.0, 2.0, -1.0])


def _two_state_form(p, I, noise, dt, a, b):
    t = I * 2.0        # op0: buffer 1
    a_new = b + t      # op1: a is still read (op2), so not into a's array; b's array is b's own: t's buffer
    spikes = a > p.th  # op2: the OLD a
    b_new = I + 1.0    # op3: b's array is done: straight in
    return spikes, a_new, b_new


def test_planner_skips_another_states_array_and_takes_the_next_operand():
    cur = np.array([0.5, -1.0, 3.0])
    a, b = np.array([2.0, 0.0, 1.5]), np.array([1.0, 4.0, -6.0])
    fn = _rec(_two_state_form, cur, [a, b])
    assert fn.nbytes == _F8
    sa, sb = a.copy(), b.copy()
    out = fn(cur, 0.0, sa, sb)
    np.testing.assert_array_equal(out, [True, False, True])
    np.testing.assert_array_equal(sa, [2.0, 2.0, 0.0])     # b + 2I
    np.testing.assert_array_equal(sb, [1.5, 0.0, 4.0])     # I + 1


def _state_after_temp_form(p, I, noise, dt, v):
    t = I * 2.0        # op0: buffer 1
    v_new = t + v      # op1: v's last read: into v's array, though t (first operand) dies here too
    u = I * 3.0        # op2: t's buffer is free again
    return u > p.th, v_new


def test_planner_prefers_the_state_array_for_a_new_state():
    cur, v = np.array([0.5, -1.0, 0.25]), np.array([1.0, 1.0, 1.0])
    fn = _rec(_state_after_temp_form, cur, [v])
    assert fn.nbytes == _F8 and "copyto" not in fn.source
    s = v.copy()
    out = fn(cur, 0.0, s)
    np.testing.assert_array_equal(out, [True, False, False])
    np.testing.assert_array_equal(s, [2.0, -1.0, 1.5])


# -- exact landings and the sigmoid cap (round 5) ----------------------------------------------------
def test_theta_negative_drive_reaching_pi_exactly_at_the_end_of_the_step_fires():
    # I = -1 (s = 1) from theta = 1.75, above the unstable point pi/2: v = tan(theta/2) blows up when
    # tanh(T) = q / p (the docstring's condition s q <= p tanh(s T), T included).  This step T lands
    # on it exactly in floating point (found by a search over the floats next to atanh(q / p)).
    from engine.models.theta import ThetaNeuron

    sp, q = np.sin(0.875), np.cos(0.875)
    T = 1.2048491368674443
    assert T == pytest.approx(math.atanh(q / sp), rel=1e-15)
    assert sp * np.tanh(T) == q  # the landing is exact in floating point too
    m = ThetaNeuron(theta_init=1.75)
    st = m.initial_state(2)
    out = m.step(st, np.array([-1.0, -1.0]), T)
    assert out.tolist() == [True, True]
    assert st["theta"][0] == pytest.approx(-math.pi, abs=1e-6)  # through pi, continued at -pi
    st = m.initial_state(1)
    assert m.step(st, np.array([-1.0]), 1.2).tolist() == [False]  # short of the blow-up time


@pytest.mark.parametrize("integrator", ["rk4", "baseline_half_euler"])
def test_sc_izhikevich_resting_exactly_on_the_peak_fires(integrator):
    # a = 0 keeps u; u = 0 and I = -(0.04 v^2 + 5 v + 140) at v = 30 make dv/dt exactly 0, so both
    # integrators leave v at 30 mV, the peak itself, which is a spike (v >= 30); I one lower stays below
    from engine.models.sc_izhikevich import SCIzhikevich

    m = SCIzhikevich(a=0.0, integrator=integrator)
    st = m.initial_state(2)
    st["v"][...] = 30.0
    st["u"][...] = 0.0
    balance = -(0.04 * 30.0 * 30.0 + 5.0 * 30.0 + 140.0)
    assert 0.04 * 30.0 * 30.0 + 5.0 * 30.0 + 140.0 - 0.0 + balance == 0.0
    out = m.step(st, np.array([balance, balance - 1.0]), 0.5)
    assert out.tolist() == [True, False]
    assert st["v"][0] == -65.0 and st["u"][0] == 8.0   # reset to c, u + d
    assert st["v"][1] < 30.0


def test_wilson_cowan_sigmoid_exponent_cap():
    import warnings

    from engine.models.wilson_cowan import _wc_sigmoid

    # the exponent -a (x - theta) is capped at 700 (exp overflows past about 709.8): far below the
    # threshold S is 1 / (1 + e^700), with no overflow; visible only where the offset s0 is 0
    floor = 1.0 / (1.0 + math.exp(700.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = _wc_sigmoid(np.array([0.0, -50.0, 1.0]), 100.0, 8.0, 0.0)
    np.testing.assert_array_equal(s, [floor, floor, floor])
    # just inside the cap the sigmoid is the plain formula: -a (x - theta) = 699
    np.testing.assert_array_equal(_wc_sigmoid(np.array([1.01]), 100.0, 8.0, 0.0),
                                  [1.0 / (1.0 + np.exp(-100.0 * (1.01 - 8.0)))])


# -- the replay cache's bounds (round 5) ------------------------------------------------------------
class _Sized:
    """A stand-in replay function holding ``nbytes`` of scratch buffers."""

    def __init__(self, nbytes):
        self.nbytes = nbytes


@pytest.fixture
def small_cache(monkeypatch):
    """An empty cache bounded at 3 entries and 100 bytes."""
    monkeypatch.setattr(_form, "_REPLAY_CACHE", {})
    monkeypatch.setattr(_form, "_replay_bytes", [0])
    monkeypatch.setattr(_form, "_REPLAY_CACHE_MAX", 3)
    monkeypatch.setattr(_form, "_REPLAY_CACHE_BYTES", 100)
    return _form._REPLAY_CACHE


def test_cache_put_counts_bytes_and_moves_a_replaced_entry_to_the_end(small_cache):
    put = _form._cache_put
    put("a", _Sized(10))
    assert _form._replay_bytes == [10]
    put("b", None)                     # a form that cannot be recorded: cached as None, 0 bytes
    assert _form._replay_bytes == [10]
    put("a", _Sized(30))               # replaces a: 10 out, 30 in, and a is now the newest
    assert _form._replay_bytes == [30] and list(small_cache) == ["b", "a"]
    put("c", _Sized(5))
    assert list(small_cache) == ["b", "a", "c"] and _form._replay_bytes == [35]  # exactly 3: all kept
    put("d", _Sized(20))               # 4 > 3 entries: the oldest (b, the None) goes
    assert list(small_cache) == ["a", "c", "d"] and _form._replay_bytes == [55]
    put("e", _Sized(45))               # 4 entries and 100 bytes: a goes (count); 70 bytes left
    assert list(small_cache) == ["c", "d", "e"] and _form._replay_bytes == [70]


def test_cache_put_evicts_by_bytes_down_to_the_newest_entry(small_cache):
    put = _form._cache_put
    put("a", _Sized(40))
    put("b", None)
    put("c", _Sized(60))
    assert list(small_cache) == ["a", "b", "c"] and _form._replay_bytes == [100]  # exactly at the bound
    put("d", _Sized(1))                # 101 bytes and 4 entries: a goes (60 + 1 = 61 left)
    assert list(small_cache) == ["b", "c", "d"] and _form._replay_bytes == [61]
    put("e", _Sized(50))               # 111 bytes: b (None, 0 bytes) goes, then c -> 51 bytes
    assert list(small_cache) == ["d", "e"] and _form._replay_bytes == [51]
    put("f", _Sized(90))               # two entries over the bound: down to f alone
    assert list(small_cache) == ["f"] and _form._replay_bytes == [90]
    put("g", _Sized(500))              # the newest stays even alone over the bound
    assert list(small_cache) == ["g"] and _form._replay_bytes == [500]


def test_record_refuses_a_ufunc_called_with_keywords():
    def float32_form(p, I, noise, dt, v):
        v_new = np.multiply(v, 0.5, dtype=np.float32)   # keywords change the result: not replayable
        return v_new > p.th, v_new

    cur, v = np.array([0.0, 0.0]), np.array([0.1, 3.0])
    plan = (_form.Constants({"th": 1.0}), ("v",), float32_form, 0.0, None, False, False)
    assert _form._record(plan, 1.0, cur, [v.copy()], 0.0) is None


# -- the replay's lookup on a view, and what the recorder refuses (round 5) -------------------------
def _lapicque_pair():
    from engine.models import registry
    model = registry["LapicqueNeuron"](tau=10.0, v_threshold=1.5)
    return model, model.view()


class _NoLookups(dict):
    def get(self, *_a, **_k):
        raise AssertionError("the replay cache was consulted")


def test_view_reuses_its_replay_for_the_same_arrays_and_follows_a_dt_change(fresh_replays, monkeypatch):
    model, view = _lapicque_pair()
    cur = np.array([2.0, 0.5, 3.0])
    st, ref = model.initial_state(3), model.initial_state(3)
    step = type(model).step
    for dt in (1.0, 1.0):
        np.testing.assert_array_equal(step(view, st, cur, dt), model.step(ref, cur.copy(), dt))
        # after the first call the view answers from its own memo for these very arrays
        monkeypatch.setattr(_form, "_REPLAY_CACHE", _NoLookups())
    np.testing.assert_array_equal(st["v"], ref["v"])
    # another dt is another plan: recorded again, with that dt's decay
    monkeypatch.setattr(_form, "_REPLAY_CACHE", {})
    for _ in range(3):
        np.testing.assert_array_equal(step(view, st, cur, 0.25), model.step(ref, cur.copy(), 0.25))
        np.testing.assert_array_equal(st["v"], ref["v"])
    assert len(_form._REPLAY_CACHE) == 1


def test_views_with_equal_parameters_share_one_recording(fresh_replays, monkeypatch):
    from engine.models import registry
    calls = []
    real = _form._record

    def counting(*a):
        calls.append(1)
        return real(*a)

    monkeypatch.setattr(_form, "_record", counting)
    cur = np.array([2.0, 0.5])
    for _ in range(2):
        model = registry["LapicqueNeuron"](tau=10.0)
        st = model.initial_state(2)
        type(model).step(model.view(), st, cur, 1.0)
        np.testing.assert_allclose(st["v"], cur * (1 - math.exp(-0.1)), rtol=1e-15)
    assert len(calls) == 1   # the second view found the first one's replay under the same key


@pytest.mark.parametrize("cur", [2.0, np.array([2.0])], ids=["python float", "shape (1,)"])
def test_view_runs_the_form_as_written_for_a_current_that_is_not_per_neuron(cur, fresh_replays):
    model, view = _lapicque_pair()
    st, ref = model.initial_state(3), model.initial_state(3)
    ref["v"][...] = st["v"][...] = [0.0, 1.0, -1.0]
    out = type(model).step(view, st, cur, 1.0)
    # the current broadcasts: v <- 2 + (v - 2) exp(-0.1) for every neuron
    expected = 2.0 + (np.array([0.0, 1.0, -1.0]) - 2.0) * math.exp(-0.1)
    np.testing.assert_allclose(st["v"], expected, rtol=1e-15)
    np.testing.assert_array_equal(out, expected >= 1.5)
    assert view.__dict__["_form_replay"][3] is None


def _int_plan(dynamics, std):
    return (_form.Constants({"th": 0}), ("c",), dynamics, std, None, False, True)


def _wide_int_form(p, I, noise, dt, c):
    # a product past 2**53 (3**19 times about 2**31): exact in int64 arithmetic, not in float64
    new = (c + I + noise) * 1162261467
    return new >= p.th, new


@pytest.mark.parametrize("std", [0, 7])
def test_integer_form_replays_in_int64_arithmetic(std):
    c = np.array([2 ** 31 - 5, -(2 ** 31) + 3, 12345], dtype=np.int64)
    cur = np.array([3, -1, 0], dtype=np.int64)
    noise = np.array([6, 0, 4], dtype=np.int64) if std else 0
    fn = _form._record(_int_plan(_wide_int_form, std), 1.0, cur, [c.copy()], std)
    assert fn is not None
    s = c.copy()
    out = fn(cur, noise, s)
    nz = [6, 0, 4] if std else [0, 0, 0]
    exp = [(int(c[k]) + int(cur[k]) + nz[k]) * 1162261467 for k in range(3)]  # Python ints
    assert s.tolist() == exp and s.dtype == np.int64
    assert out.tolist() == [e >= 0 for e in exp]


def test_float_form_with_noise_replays_the_noise_as_float():
    def doubled_noise(p, I, noise, dt, v):
        v_new = v + I + noise * 2      # an int constant: float noise times 2 stays float
        return v_new > p.th, v_new

    cur, v = np.array([0.5, 0.0, -1.0]), np.array([0.0, 1.0, 2.0])
    plan = (_form.Constants({"th": 1.0}), ("v",), doubled_noise, 0.5, None, False, False)
    fn = _form._record(plan, 1.0, cur, [v.copy()], 0.5)
    assert fn is not None
    s = v.copy()
    out = fn(cur, np.array([0.25, -0.125, 0.375]), s)
    np.testing.assert_array_equal(s, [1.0, 0.75, 1.75])   # v + I + 2 noise, all exact binary fractions
    np.testing.assert_array_equal(out, [False, False, True])


def test_float_form_with_an_integer_current_keeps_a_float_output():
    def rate(p, I, noise, dt, v):
        r = I + noise                  # noise is 0.0 for a float form: the output is float64
        return r, v + r

    cur, v = np.array([1, -2, 3], dtype=np.int64), np.array([0.5, 0.5, 0.5])
    plan = (_form.Constants({}), ("v",), rate, 0.0, None, False, False)
    fn = _form._record(plan, 1.0, cur, [v.copy()], 0.0)
    s = v.copy()
    out = fn(cur, 0.0, s)
    assert out.dtype == np.float64 and out.tolist() == [1.0, -2.0, 3.0]
    np.testing.assert_array_equal(s, [1.5, -1.5, 3.5])


def test_record_is_silent_on_floating_point_errors():
    import warnings

    def divides(p, I, noise, dt, v):
        r = np.where(v > 0.0, I / v, 0.0)   # 1/0 in the branch np.where leaves out
        return r > p.th, v + r

    cur, v = np.array([1.0, 1.0]), np.array([2.0, 0.0])
    plan = (_form.Constants({"th": 0.25}), ("v",), divides, 0.0, None, False, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn = _form._record(plan, 1.0, cur, [v.copy()], 0.0)
    assert fn is not None
    s = v.copy()
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(fn(cur, 0.0, s), [True, False])
    np.testing.assert_array_equal(s, [2.5, 0.0])


def test_record_refuses_an_extra_output_and_a_constant_where_condition():
    cur, v = np.array([0.5, 2.0]), np.array([0.0, 0.0])

    def extra(p, I, noise, dt, v):
        w = v + I
        return w >= p.th, w, w * 2.0     # one value more than there are state variables

    def constant_condition(p, I, noise, dt, v):
        w = v + I
        return w >= p.th, np.where(p.th, w, v)   # np.copyto's where= takes booleans only

    for form in (extra, constant_condition):
        assert _form._record(_plan_of(form), 1.0, cur, [v.copy()], 0.0) is None, form.__name__


def test_theta_one_ulp_short_of_pi_keeps_its_side_of_the_spike():
    # bug found by mutant theta.dynamics 120: I = 0 from theta = 1 blows up at T = 1 / tan(1/2); this step
    # ends one ulp short of pi (no spike yet), and np.mod(new + pi, 2 pi) - pi rounded that to -pi, the far
    # side of the spike, so the neuron never fired at I = 0 again.  The wrap is now an exact +-2 pi.
    from engine.models.theta import ThetaNeuron

    m = ThetaNeuron(theta_init=1.0)
    st = m.initial_state(1)
    assert m.step(st, np.array([0.0]), 1.8304877217124518).tolist() == [False]
    assert st["theta"][0] == np.nextafter(np.pi, 0.0)
    assert m.step(st, np.array([0.0]), 0.1).tolist() == [True]   # q = cos(theta/2) ~ 1e-16 <= p T


def test_theta_wrap_is_exact():
    # one step is the docstring's linear map (p, q) <- (C p + I S q, C q - S p): C = 1, S = T at I = 0,
    # C = cos(T), S = sin(T) at I = 1; theta = 2 atan2 of that, kept as is in [-pi, pi) and otherwise
    # shifted by exactly 2 pi (a difference of floats within a factor 2 of each other is exact)
    from engine.models.theta import ThetaNeuron

    cases = ((-1.0, 0.0, 2.0, False), (0.5, 0.0, 0.25, False), (2.0, 0.0, 1.0, True),
             (0.0, 1.0, 4.0, True),      # 2 atan2 = 8 - 4 pi < -pi: gains 2 pi (theta = 8 - 2 pi)
             (-np.pi, 0.0, 1e-20, False))  # the step keeps 2 atan2 at exactly -pi, which stays -pi
    for theta0, I, T, fires in cases:
        m = ThetaNeuron(theta_init=theta0)
        st = m.initial_state(1)
        assert m.step(st, np.array([I]), T).tolist() == [fires]
        p, q = np.sin(0.5 * theta0), np.cos(0.5 * theta0)
        C, S = (np.cos(T), np.sin(T)) if I else (1.0, T)
        new = 2.0 * np.arctan2(C * p + I * S * q, C * q - S * p)
        assert st["theta"][0] == (new - 2.0 * np.pi if new >= np.pi else new + 2.0 * np.pi if new < -np.pi
                                  else new), (theta0, I, T)
        assert -np.pi <= st["theta"][0] < np.pi
    assert st["theta"][0] == -np.pi


def _late_current_form(p, I, noise, dt, v):
    v_new = v * 0.5        # op0: straight into v's array (v's last read)
    return I > p.th, v_new  # op1: reads I after v's array was written


def test_replay_is_not_used_when_the_current_shares_memory_with_a_state():
    view = type("View", (), {})()
    v = np.array([2.0, 0.0, 1.5])
    plan = _plan_of(_late_current_form)
    # the current is the state array itself, or a view of it: the form runs as written
    assert _form._replay_for(view, plan, 1.0, v, [v], 0.0) is None
    assert _form._replay_for(type("View", (), {})(), plan, 1.0, v[::1], [v], 0.0) is None
    a = np.array([2.0, 0.0, 1.5])
    assert _form._replay_for(type("View", (), {})(), _plan_of(_late_current_form), 1.0, a.copy(), [a], 0.0) \
        is not None


def _weighted_form(p, I, noise, dt, v):
    v_new = v + I * p.w
    return v_new > p.th, v_new


def test_replay_for_array_constants_is_recorded_per_view(fresh_replays):
    # constants that cannot be hashed (a per-neuron array): each view keeps its own recording
    cur = np.array([1.0, 2.0])
    outs = []
    for w in (np.array([0.5, 1.0]), np.array([2.0, -1.0])):
        p = _form.Constants({"w": w, "th": 1.0})
        plan = (p, ("v",), _weighted_form, 0.0, None, False, False)
        v = np.array([0.0, 0.25])
        fn = _form._replay_for(type("View", (), {})(), plan, 1.0, cur, [v], 0.0)
        assert fn is not None
        outs.append((fn(cur, 0.0, v).tolist(), v.tolist()))
    # by hand: v + I w = [0.5, 2.25] and [2, -1.75]
    assert outs == [([False, True], [0.5, 2.25]), ([True, False], [2.0, -1.75])]


def test_a_noisy_view_does_not_take_the_replay_of_a_noiseless_one(fresh_replays):
    from engine.models.stochastic_lif import StochasticLIF

    class Quiet(StochasticLIF):       # the same form and parameters, but no noise
        @staticmethod
        def step_noise(p, dt):
            return 0.0

    cur = np.array([0.5, 0.25, 0.0])
    quiet, noisy = Quiet(noise_std=0.5), StochasticLIF(noise_std=0.5)
    st_quiet = quiet.initial_state(3)
    type(quiet).step(quiet.view(), st_quiet, cur, 1.0)
    st, ref = noisy.initial_state(3), noisy.initial_state(3)
    type(noisy).step(noisy.view(), st, cur, 1.0, np.random.default_rng(4))
    noisy.step(ref, cur.copy(), 1.0, np.random.default_rng(4))   # the form evaluated directly
    np.testing.assert_array_equal(st["v"], ref["v"])
    assert np.all(ref["v"] != st_quiet["v"])   # the noise is there


def test_view_dt_is_the_value_at_its_last_refresh():
    from engine.models import registry

    for first in (None, 0.5):          # unset (values() leaves it out) and set
        m = registry["LapicqueNeuron"](dt=first)
        view = m.view()
        assert view.dt == first
        m.dt = 0.25
        # a copy, not a live attribute: live edits apply when the simulator refreshes (each advance)
        assert view.dt == first
        view.refresh()
        assert view.dt == 0.25


def test_hh_rates_compute_in_float64_whatever_the_voltage_dtype():
    from engine.models.hodgkin_huxley import HodgkinHuxley, hh_rates

    v32 = np.array([-65.0, -40.0, 10.5], dtype=np.float32)   # exactly representable in both
    shifts = np.array([40.0, 65.0, 55.0, 65.0, 35.0, 65.0])
    want = np.array([_hh_rates_ref(float(x)) for x in v32]).T   # the 1952 rates written out, per voltage
    got = hh_rates(v32, shifts)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_array_equal(got, hh_rates(v32.astype(np.float64), shifts))
    np.testing.assert_array_equal(HodgkinHuxley().rates(v32), got)


def test_a_models_own_step_evaluates_the_form_as_written(monkeypatch):
    # model.step (not a view) is the reference evaluation: it neither records nor looks up a replay
    from engine.models import registry

    monkeypatch.setattr(_form, "_REPLAY_CACHE", _NoLookups())
    monkeypatch.setattr(_form, "_numpy_forms", {})      # and re-binds the form to NumPy's helpers afresh
    m = registry["LapicqueNeuron"](tau=10.0)
    st = m.initial_state(2)
    assert m.step(st, np.array([20.0, 5.0]), 1.0).tolist() == [True, False]
    # by hand: v = I (1 - e^-0.1) = [1.903, 0.476] against v_threshold 1; the spiking one is reset to 0
    np.testing.assert_allclose(st["v"], [0.0, 5.0 * (1 - math.exp(-0.1))], rtol=1e-15)
    assert "_form_replay" not in m.__dict__
    assert set(_form._numpy_forms) == {type(m).dynamics}


def test_real_parameter_accepts_none_and_callables_and_names_bad_values():
    from engine.models import registry

    m = registry["LapicqueNeuron"](dt=0.5)
    m.dt = None                        # the unset dt (allow_None)
    assert m.dt is None
    m.tau = lambda: 5.0                # param's dynamic value: called when read
    assert m.tau == 5.0
    m.tau = 7                          # an int is stored as a float
    assert m.tau == 7.0 and type(m.tau) is float
    with pytest.raises(ValueError, match=r"^parameter 'tau' must be a real number, got 'abc'$"):
        m.tau = "abc"
    with pytest.raises(ValueError, match=r"^parameter 'tau' must be a real number, got a list of length 1$"):
        m.tau = [1.0]
    with pytest.raises(ValueError, match=r"^parameter 'tau' is out of range: an integer of about 401 digits"):
        m.tau = 10 ** 400
    assert m.tau == 7.0


def _stale_state_form(p, I, noise, dt, v):
    d = v * 0.5            # op0: v's last read: d goes into v's array
    v_new = I * 2.0        # op1: v's array still holds d, read below: v_new must not go there
    return d > p.th, v_new  # op2: reads d


def _dead_value_form(p, I, noise, dt, v):
    unused = I * 2.0       # op0: never read: its buffer is free again at once
    u = I * 3.0            # op1: takes that buffer
    v_new = v + u          # op2: into v's array
    return v_new > p.th, v_new


def _constant_state_form(p, I, noise, dt, v, r):
    v_new = v + I
    return v_new > p.th, v_new, 0.0     # r is set to the constant 0 every step


def test_planner_tracks_what_a_state_array_holds_and_frees_unread_values():
    cur = np.array([1.0, -1.0, 4.0])
    v = np.array([4.0, 1.0, 0.5])
    fn = _rec(_stale_state_form, cur, [v])
    s = v.copy()
    np.testing.assert_array_equal(fn(cur, 0.0, s), [True, False, False])   # v / 2 = [2, 0.5, 0.25] > 1
    np.testing.assert_array_equal(s, [2.0, -2.0, 8.0])                      # 2 I
    fn = _rec(_dead_value_form, cur, [v])
    assert fn.nbytes == _F8
    s = v.copy()
    np.testing.assert_array_equal(fn(cur, 0.0, s), [True, False, True])
    np.testing.assert_array_equal(s, [7.0, -2.0, 12.5])                     # v + 3 I
    r = np.array([3.0, 0.0, -2.0])
    fn = _rec(_constant_state_form, cur, [v, r])
    s, sr = v.copy(), r.copy()
    np.testing.assert_array_equal(fn(cur, 0.0, s, sr), [True, False, True])
    np.testing.assert_array_equal(sr, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(s, [5.0, 0.0, 4.5])


def test_replay_code_is_named_in_warnings():
    import warnings

    def divides(p, I, noise, dt, v):
        r = I / v                     # 1/0 warns where the replay runs it
        return r > p.th, v + 0.0 * r

    cur, v = np.array([1.0, 1.0]), np.array([2.0, 0.0])
    fn = _rec(divides, cur, [v])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(cur, 0.0, v.copy())
    assert [w.filename for w in caught if issubclass(w.category, RuntimeWarning)][:1] == ["<form replay>"]


def test_form_step_refuses_a_non_finite_current_with_its_message():
    from engine.models.theta import ThetaNeuron

    m = ThetaNeuron()
    st = m.initial_state(2)
    with pytest.raises(ValueError, match=r"^current must be finite$"):
        m.step(st, np.array([0.5, np.nan]), 0.1)
    assert st["theta"].tolist() == [0.0, 0.0]


def test_float_form_gets_float_noise_without_noise():
    from engine.models.perfect_integrator import PerfectIntegrator

    class Relay(PerfectIntegrator):    # not registered: a graded output that is the input plus the noise
        @staticmethod
        def dynamics(p, I, noise, dt, v, refractory):
            return I + noise, v + I * dt, refractory

    m = Relay()
    st = m.initial_state(3)
    out = m.step(st, np.array([1, -2, 3], dtype=np.int64), 1.0)
    # a float form's noise is 0.0 when it draws none, so an integer current gives a float output
    assert out.dtype == np.float64 and out.tolist() == [1.0, -2.0, 3.0]


def test_a_recorded_integer_form_answers_0_1_in_int64(fresh_replays):
    from engine.models.truenorth import TrueNorthNeuron

    class Counter(TrueNorthNeuron):    # not registered: an integer form that the recorder accepts
        @staticmethod
        def dynamics(p, I, noise, dt, v):
            v_new = v + I + noise
            spikes = v_new >= p.threshold
            return spikes, np.where(spikes, 0, v_new)

    m = Counter(threshold=5)
    view = m.view()
    st = m.initial_state(3)
    for cur, want_out, want_v in (([2, 6, 5], [0, 1, 1], [2, 0, 0]), ([3, 4, -1], [1, 0, 0], [0, 4, -1])):
        out = type(m).step(view, st, np.array(cur, dtype=np.int64), 1.0)
        assert out.dtype == np.int64 and out.tolist() == want_out   # by hand: v + I against 5, reset to 0
        assert st["v"].tolist() == want_v and st["v"].dtype == np.int64
    assert view.__dict__["_form_replay"][3] is not None     # it went through the replay


def test_a_recorded_integer_form_with_noise_replays_the_draws(fresh_replays):
    from engine.models.truenorth import TrueNorthNeuron

    class NoisyCounter(TrueNorthNeuron):   # not registered: noise in [0, 2**3) added each tick
        @staticmethod
        def dynamics(p, I, noise, dt, v):
            v_new = v + I + noise
            spikes = v_new >= p.threshold
            return spikes, np.where(spikes, 0, v_new)

    m = NoisyCounter(threshold=9, threshold_mask_bits=3)
    view = m.view()
    st, ref = m.initial_state(4), m.initial_state(4)
    r1, r2, draws = np.random.default_rng(8), np.random.default_rng(8), np.random.default_rng(8)
    v = [0, 0, 0, 0]
    for _ in range(4):
        cur = np.array([2, 5, 0, 1], dtype=np.int64)
        out = type(m).step(view, st, cur, 1.0, r1)
        assert out.tolist() == m.step(ref, cur.copy(), 1.0, r2).tolist()
        eta = draws.integers(0, 8, size=4, dtype=np.int64)          # by hand from the same stream
        x = [v[k] + int(cur[k]) + int(eta[k]) for k in range(4)]
        assert out.tolist() == [int(e >= 9) for e in x]
        v = [0 if e >= 9 else e for e in x]
        assert st["v"].tolist() == v == ref["v"].tolist()
    assert view.__dict__["_form_replay"][3] is not None


def test_form_step_noise_for_a_one_state_model_whose_mask_reads_parameters():
    from engine.models.theta import ThetaNeuron

    class Jitter(ThetaNeuron):         # not registered: one state variable, noise masked by a parameter
        @staticmethod
        def step_noise(p, dt):
            return 0.5

        @staticmethod
        def draws(p, theta):
            return theta < p.tau         # tau = 1: the neurons below 1 draw, in index order

        @staticmethod
        def dynamics(p, I, noise, dt, theta):
            new = theta + noise
            return new > 1.0, new

    m = Jitter()
    st = m.initial_state(3)
    st["theta"][...] = [0.0, 2.0, -1.0]
    m.step(st, np.zeros(3), 0.1, np.random.default_rng(6))
    eta = np.random.default_rng(6).normal(0.0, 0.5, size=2)   # neurons 0 and 2
    assert st["theta"].tolist() == [0.0 + eta[0], 2.0, -1.0 + eta[1]]
    with pytest.raises(ValueError, match=r"^noise_std > 0 needs a random generator \(rng\); "
                                         r"the population owns one$"):
        m.step(st, np.zeros(3), 0.1)


def test_an_integer_form_evaluated_directly_reads_dt():
    from engine.models.truenorth import TrueNorthNeuron

    class Ticks(TrueNorthNeuron):      # not registered: an integer form that reads dt (ticks per step)
        @staticmethod
        def dynamics(p, I, noise, dt, v):
            v_new = v + I * round(dt)
            spikes = v_new >= p.threshold
            return spikes, np.where(spikes, 0, v_new)

    m = Ticks(threshold=10)
    st = m.initial_state(3)
    out = m.step(st, np.array([2, 5, -1], dtype=np.int64), 2.0)
    assert out.tolist() == [0, 1, 0] and out.dtype == np.int64   # 2 I = [4, 10, -2] against 10
    assert st["v"].tolist() == [4, 0, -2]


def test_a_model_without_a_form_or_a_step_says_so():
    from engine.models.perfect_integrator import PerfectIntegrator

    class NoForm(PerfectIntegrator):   # not registered
        model_name = "NoFormNeuron"
        dynamics = None

    m = NoForm()
    with pytest.raises(NotImplementedError, match=r"^model NoFormNeuron has no dynamics form and no step of its own$"):
        m.step(m.initial_state(2), np.zeros(2), 1.0)


def test_form_constants_leave_out_dt_and_give_plain_python_numbers():
    from engine.models import registry

    m = registry["LapicqueNeuron"](tau=10.0, dt=0.5, refractory_period=2)
    c = _form.form_constants(m, m.values(), 1.0)
    assert "dt" not in c and "dt" in m.values()       # the dt parameter is left out (dt is an argument)
    # NumPy scalars become Python numbers (a NumPy scalar left of a torch tensor would make it an array)
    assert type(c["decay"]) is float and c["decay"] == math.exp(-0.1)
    assert type(c["refractory_period"]) is int and type(c["tau"]) is float
    c = _form.form_constants(m, {**m.values(), "refractory_period": np.int64(3)}, 1.0)
    assert type(c["refractory_period"]) is int and c["refractory_period"] == 3
