"""Tests for engine.spike_ode: exact LIF stepping, adaptive fallback, references."""
import math

import numpy as np
import pytest

from engine.spike_ode import (
    CallableDynamics,
    ODELIFDynamics,
    SpikingDynamics,
    SpikingODELayer,
    fixed_step_euler,
)

# 0.04 is sub-threshold (v_inf = 0.8); 5.0 fires about every 0.2 ms.
CURRENTS = np.array([0.04, 0.06, 0.1, 0.2, 1.0, 5.0])


def _driven_layer(currents, dynamics=None, **kw):
    """Layer whose neuron n receives exactly currents[n] from a constant input of 1."""
    n = len(currents)
    layer = SpikingODELayer(1, n, dynamics, **kw)
    layer.weight = np.ones((n, 1))
    layer.bias = np.asarray(currents) - 1.0
    return layer


def test_lif_dvdt_and_closed_form_agree():
    dyn = ODELIFDynamics(tau_mem=10.0, v_rest=0.2, C_mem=2.0)
    # dv/dt = -(v - v_rest)/tau + I/C
    assert dyn.dvdt(np.array([0.5]), np.array([1.0]))[0] == pytest.approx(-0.03 + 0.5)
    v0, I, h = np.array([0.3]), np.array([0.4]), 3.0
    # The exact solution satisfies the ODE: compare with a tiny central difference.
    eps = 1e-6
    deriv = (dyn.advance(v0, I, h + eps) - dyn.advance(v0, I, h - eps)) / (2 * eps)
    assert deriv[0] == pytest.approx(dyn.dvdt(dyn.advance(v0, I, h), I)[0], rel=1e-6)
    # crossing_time lands exactly on threshold.
    tc = dyn.crossing_time(v0, I)
    assert dyn.advance(v0, I, tc)[0] == pytest.approx(dyn.v_threshold, abs=1e-12)
    assert math.isinf(dyn.crossing_time(np.array([0.0]), np.array([0.01]))[0])


def test_spike_counts_match_analytic_lif_rate():
    dyn = ODELIFDynamics()
    layer = _driven_layer(CURRENTS, dyn)
    n_int, interval = 300, 1.0
    counts, times = layer.forward(np.ones((n_int, 1)), interval, return_spike_times=True)
    for n, I in enumerate(CURRENTS):
        isi = dyn.isi(I)
        # Spike k happens at exactly k * ISI (start at v_reset = v_rest).
        expected_cum = np.floor(np.arange(1, n_int + 1) * interval / isi + 1e-9) if math.isfinite(isi) \
            else np.zeros(n_int)
        cum = np.cumsum(counts[:, n])
        np.testing.assert_array_equal(cum, expected_cum)
        # Per window, the count is within one spike of rate * window.
        rate = 0.0 if math.isinf(isi) else 1.0 / isi
        assert np.all(np.abs(counts[:, n] - rate * interval) < 1.0 + 1e-9)
        if math.isfinite(isi):
            k = np.arange(1, len(times[n]) + 1)
            np.testing.assert_allclose(times[n], k * isi, rtol=1e-9)
    assert counts[:, 0].sum() == 0  # sub-threshold neuron never fires
    assert counts[:, -1].max() >= 3  # several spikes in one interval (ISI ~ 0.21 ms)


def test_matches_fine_euler_reference_with_far_fewer_steps():
    dyn = ODELIFDynamics()
    rng = np.random.default_rng(3)
    n_int, n = 100, 8
    # Piecewise-constant random currents per interval.
    currents = rng.uniform(0.0, 1.5, size=(n_int, n))
    layer = SpikingODELayer(n, n, dyn)
    layer.weight = np.eye(n)
    counts = layer.forward(currents, interval=1.0)
    ref, ref_steps = fixed_step_euler(dyn, currents, interval=1.0, dt=1e-3)
    # Euler's O(dt) spike-time error may move a spike across a window edge.
    assert np.abs(counts - ref).max() <= 1
    assert np.abs(counts.sum(0) - ref.sum(0)).max() <= 1
    assert counts.sum() > 200  # the comparison is about real spikes
    ratio = ref_steps * n / layer.step_count
    assert ratio > 100, ratio


@pytest.mark.parametrize("use_closed_form", [True, False])
def test_lif_closed_form_and_adaptive_fallback_agree(use_closed_form):
    dyn = ODELIFDynamics(tau_mem=15.0)
    layer = _driven_layer(CURRENTS, dyn, use_closed_form=use_closed_form, rtol=1e-8, atol=1e-10)
    _counts, times = layer.forward(np.ones((120, 1)), 1.0, return_spike_times=True)
    for n, I in enumerate(CURRENTS):
        isi = dyn.isi(I)
        if math.isinf(isi):
            assert len(times[n]) == 0
            continue
        k = np.arange(1, len(times[n]) + 1)
        np.testing.assert_allclose(times[n], k * isi, rtol=1e-6)
        assert len(times[n]) == int(np.floor(120 / isi + 1e-9))
    if not use_closed_form:
        # Even at rtol=1e-8 the fallback needs far fewer steps than a
        # dt = 1e-3 Euler reference (1000 per interval).
        assert layer.step_count < 120 * len(CURRENTS) * 50


def test_adaptive_fallback_on_quadratic_if_matches_exact_period():
    # QIF normal form dv/dt = v^2 + I, I > 0: time from 0 to 1 is atan(1/sqrt(I))/sqrt(I)
    # (integrate dv/(v^2 + I); Ermentrout & Kopell 1986).
    dyn = CallableDynamics(lambda v, I: v * v + I, v_threshold=1.0, v_reset=0.0)
    I = np.array([0.05, 0.5, 2.0])
    layer = _driven_layer(I, dyn)
    assert not layer.use_closed_form
    counts, times = layer.forward(np.ones((40, 1)), 1.0, return_spike_times=True)
    for n, i in enumerate(I):
        period = math.atan(1 / math.sqrt(i)) / math.sqrt(i)
        k = np.arange(1, len(times[n]) + 1)
        np.testing.assert_allclose(times[n], k * period, rtol=1e-5)
        assert counts[:, n].sum() == int(np.floor(40 / period))
    ref, ref_steps = fixed_step_euler(dyn, np.tile(I, (40, 1)), 1.0, dt=1e-3)
    assert np.abs(counts.sum(0) - ref.sum(0)).max() <= 1
    assert layer.step_count * 5 < ref_steps * len(I)


def test_adaptive_steps_grow_far_from_threshold():
    # Sub-threshold drive: no spikes, so the integrator should coast with long steps.
    dyn = CallableDynamics(lambda v, I: -v / 20.0 + I, v_threshold=1.0)
    layer = _driven_layer([0.01], dyn, dt_init=0.01)
    layer.forward(np.ones((50, 1)), 2.0)
    assert layer.step_count <= 50 * 3  # ~1 step per interval once warmed up
    assert layer.voltage[0] == pytest.approx(0.2 * (1 - math.exp(-100 / 20.0)), rel=1e-5)


def test_reset_and_state():
    layer = _driven_layer([0.5])
    layer.forward(np.ones((5, 1)))
    assert layer.step_count > 0 and layer.t == pytest.approx(5.0)
    layer.reset()
    assert layer.step_count == 0 and layer.t == 0.0 and layer.voltage[0] == 0.0
    v = layer.voltage
    v[0] = 99.0  # voltage is a copy
    assert layer.voltage[0] == 0.0


def test_seeded_weights_reproducible():
    a = SpikingODELayer(4, 3, seed=7).weight
    b = SpikingODELayer(4, 3, seed=7).weight
    c = SpikingODELayer(4, 3, seed=8).weight
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_input_raises():
    layer = SpikingODELayer(2, 3)
    with pytest.raises(ValueError, match="x must have shape"):
        layer.step(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="non-finite"):
        layer.step(np.array([1.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="interval"):
        layer.step(np.ones(2), 0.0)
    with pytest.raises(ValueError, match="inputs must have shape"):
        layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match="weight must have shape"):
        layer.weight = np.ones((2, 2))
    with pytest.raises(ValueError, match="tau_mem"):
        ODELIFDynamics(tau_mem=0)
    with pytest.raises(ValueError, match="v_reset"):
        ODELIFDynamics(v_reset=2.0)
    with pytest.raises(ValueError, match="dt_min"):
        SpikingODELayer(2, 3, dt_init=0.01, dt_min=0.1)
    with pytest.raises(ValueError, match="n_neurons"):
        SpikingODELayer(2, 0)
    with pytest.raises(TypeError, match="dynamics"):
        SpikingODELayer(2, 3, dynamics="lif")
    with pytest.raises(TypeError, match="callable"):
        CallableDynamics("v**2")
    with pytest.raises(ValueError, match="multiple of dt"):
        fixed_step_euler(ODELIFDynamics(), np.ones((2, 1)), interval=1.0, dt=0.3)


def test_step_limit_raises():
    layer = _driven_layer([1000.0], max_steps_per_interval=50)
    with pytest.raises(RuntimeError, match="max_steps_per_interval"):
        layer.step(np.ones(1), 1.0)


def test_custom_dynamics_subclass_uses_fallback():
    class Leakless(SpikingDynamics):
        def dvdt(self, v, I):
            return np.broadcast_to(I, np.shape(v)).astype(float)

    layer = _driven_layer([0.3], Leakless())
    assert not layer.use_closed_form
    _, times = layer.forward(np.ones((11, 1)), 1.0, return_spike_times=True)
    # Perfect integrator: spike every 1/0.3 ms.
    np.testing.assert_allclose(times[0], np.arange(1, 4) / 0.3, rtol=1e-7)
