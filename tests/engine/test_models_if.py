"""Characteristic behaviour of the integrate-and-fire model library."""

import math

import numpy as np
import pytest

import engine.neurons as neurons
from engine.models import Count, Real, registry

IF_MODELS = ["StochasticLIFNeuron", "HomeostaticLIFNeuron", "SCIzhikevichNeuron", "StochasticDendriticNeuron",
             "LapicqueNeuron", "AdExNeuron", "ExpIFNeuron", "QIFNeuron", "Izhikevich2007Neuron",
             "AdaptiveThresholdIFNeuron", "PerfectIntegratorNeuron", "LoihiCUBANeuron"]


def spike_steps(neuron, current, n_steps):
    return [i + 1 for i in range(n_steps) if neuron.step(current)]


# -- declarations are complete -----------------------------------------------------------
@pytest.mark.parametrize("name", IF_MODELS)
def test_declaration_is_documented(name):
    decl = registry[name]
    assert decl.reference and "(" in decl.reference  # author (year)
    assert "=" in decl.equations() or "math::" in decl.equations()
    lo, hi = decl.current_range
    assert lo < hi
    for pname in decl.parameter_names():
        p = decl.param[pname]
        assert p.doc, f"{name}.{pname} lacks a doc"
        if isinstance(p, (Real, Count)):
            assert isinstance(p.unit, str)
    if decl.phase_plane is not None:
        assert set(decl.phase_plane) <= set(decl.state_variables)


@pytest.mark.parametrize("name", IF_MODELS)
def test_every_parameter_rejects_bad_values_by_name(name):
    decl = registry[name]
    for pname in decl.parameter_names():
        p = decl.param[pname]
        bad = []
        if isinstance(p, Real):
            bad = [np.nan, np.inf, -np.inf, "1.0"]
            lo, hi = p.bounds or (None, None)
            lo_in, hi_in = p.inclusive_bounds
            if lo is not None:
                bad.append(lo - 1.0)
                if not lo_in:  # an open bound such as tau > 0 refuses the bound itself
                    bad.append(lo)
            if hi is not None:
                bad.append(hi + 1.0)
                if not hi_in:
                    bad.append(hi)
        elif isinstance(p, Count):
            bad = [2.5, True, np.nan]
            lo, hi = p.bounds or (None, None)
            if lo is not None:
                bad.append(lo - 1)
            if hi is not None:
                bad.append(hi + 1)
        else:  # selectors
            bad = ["no-such-option"]
        for value in bad:
            with pytest.raises(ValueError, match=pname):
                decl(**{pname: value})


# -- AdEx ------------------------------------------------------------------------------------
def test_adex_rests_at_e_l_without_input():
    n = neurons.AdExNeuron()
    assert spike_steps(n, 0.0, 2000) == []
    # the exponential term adds g_L*dT*exp((E_L-V_T)/dT) ~ 2.5e-3 pA, so rest sits just above E_L
    s = n.get_state()
    assert -70.6 < s["v"] < -70.6 + 1e-3 and 0.0 < s["w"] < 1e-3


def test_adex_spike_frequency_adaptation():
    isi = np.diff(spike_steps(neurons.AdExNeuron(), 1000.0, 6000))
    assert len(isi) >= 8
    # each spike adds b to w, which builds up over tau_w: ISIs lengthen, then level off
    assert np.all(np.diff(isi[:6]) > 0) and isi[-1] > 2 * isi[0]
    # without adaptation (a = b = 0) the same drive gives constant ISIs
    flat = np.diff(spike_steps(neurons.AdExNeuron(a=0.0, b=0.0), 1000.0, 6000))
    assert flat.max() - flat.min() <= 1 and flat[0] < isi[0]


def test_adex_reset_adds_b_to_w():
    n = neurons.AdExNeuron()
    first = spike_steps(n, 1000.0, 2000)[0]
    n.reset_state()
    for _ in range(first - 1):
        n.step(1000.0)
    w_before, v_before = n.get_state()["w"], n.get_state()["v"]
    assert n.step(1000.0) == 1
    s = n.get_state()
    w_euler = w_before + 0.1 * (4.0 * (v_before + 70.6) - w_before) / 144.0
    assert s["v"] == -70.6 and s["w"] == pytest.approx(w_euler + 80.5, abs=1e-12)


# -- ExpIF / QIF rheobase -----------------------------------------------------------------------
@pytest.mark.parametrize("name,analytic", [
    # min over V of -(V-E_L) + dT exp((V-V_T)/dT) is at V = V_T: R I_rh = V_T - E_L - dT
    ("ExpIFNeuron", lambda m: (m.V_T - m.E_L - m.delta_T) / m.resistance),
    # min of a0 (V-V_rest)(V-V_c) is at the midpoint: R I_rh = a0 (V_c - V_rest)^2 / 4
    ("QIFNeuron", lambda m: m.a0 * (m.V_c - m.V_rest) ** 2 / 4 / m.resistance),
])
def test_fires_above_not_below_analytic_rheobase(name, analytic):
    cls = getattr(neurons, name)
    rheobase = analytic(cls().model)
    assert cls().model.rheobase() == pytest.approx(rheobase)
    below, above = cls(), cls()
    assert spike_steps(below, 0.97 * rheobase, 20000) == []
    assert len(spike_steps(above, 1.03 * rheobase, 20000)) >= 1
    # below rheobase the neuron settles on the stable fixed point, under V_T / the midpoint
    assert below.get_state()["v"] < (below.V_T if name == "ExpIFNeuron" else (below.V_rest + below.V_c) / 2)


def test_expif_refractory_period_holds_v_reset():
    n = neurons.ExpIFNeuron(refractory_period=20)
    steps = spike_steps(n, 3.0, 3000)
    free = spike_steps(neurons.ExpIFNeuron(), 3.0, 3000)
    assert np.all(np.diff(steps) == np.diff(free)[0] + 20)


# -- Izhikevich 2007 ----------------------------------------------------------------------------
def test_izhikevich2007_presets_construct_and_default_is_rs():
    presets = registry["Izhikevich2007Neuron"].presets
    assert set(presets) == {"RS", "IB", "CH", "FS"}
    rs = neurons.Izhikevich2007Neuron()
    assert {k: getattr(rs, k) for k in presets["RS"]} == presets["RS"]
    # Izhikevich (2007), Dynamical Systems in Neuroscience, sec. 8.2
    assert presets["RS"] == dict(C=100.0, k=0.7, vr=-60.0, vt=-40.0, vpeak=35.0, a=0.03, b=-2.0, c=-50.0, d=100.0)
    assert presets["IB"] == dict(C=150.0, k=1.2, vr=-75.0, vt=-45.0, vpeak=50.0, a=0.01, b=5.0, c=-56.0, d=130.0)
    assert presets["CH"] == dict(C=50.0, k=1.5, vr=-60.0, vt=-40.0, vpeak=25.0, a=0.03, b=1.0, c=-40.0, d=150.0)
    for p in presets.values():
        model = registry["Izhikevich2007Neuron"](**p)
        # from rest (v = vr, u = 0) one Euler step only sees the input: dv = dt*I/C, du = 0
        state = model.initial_state(2)
        model.step(state, np.array([0.0, 100.0]), 0.5)
        assert state["v"].tolist() == [p["vr"], p["vr"] + 0.5 * 100.0 / p["C"]]
        assert state["u"].tolist() == [0.0, 0.0]
        # at vpeak it fires: v -> c, u -> u + dt*a*(b*(v - vr) - u) + d
        state = {"v": np.array([p["vpeak"]]), "u": np.array([0.0])}
        assert model.step(state, np.array([0.0]), 0.5).tolist() == [True]
        assert state["v"].tolist() == [p["c"]]
        assert state["u"][0] == pytest.approx(0.5 * p["a"] * p["b"] * (p["vpeak"] - p["vr"]) + p["d"], rel=1e-12)


def test_izhikevich2007_rs_adapts_fs_does_not():
    presets = registry["Izhikevich2007Neuron"].presets
    rs = np.diff(spike_steps(neurons.Izhikevich2007Neuron(**presets["RS"]), 200.0, 10000)) * 0.1
    fs = np.diff(spike_steps(neurons.Izhikevich2007Neuron(**presets["FS"]), 200.0, 10000)) * 0.1
    assert len(rs) > 5 and len(fs) > 5 * len(rs)
    assert rs[-1] / rs[0] > 1.2          # RS: spike-frequency adaptation
    assert fs[-1] / fs[0] < 1.05         # FS: tonic, no adaptation
    assert fs.mean() < rs.mean() / 5


def test_izhikevich2007_chattering_bursts():
    ch = np.diff(spike_steps(neurons.Izhikevich2007Neuron(**registry["Izhikevich2007Neuron"].presets["CH"]),
                             300.0, 10000)) * 0.1
    short, long = ch[ch < 10.0], ch[ch > 30.0]
    assert len(short) >= 3 and len(long) >= 3  # bursts separated by pauses


# -- adaptive threshold ---------------------------------------------------------------------------
def test_adaptive_threshold_rises_with_firing_and_relaxes():
    n = neurons.AdaptiveThresholdIFNeuron()
    v_inf = 2.0
    # before the first spike theta = theta_0 = 1 and v = v_inf (1 - exp(-t/tau)) exactly
    first = math.ceil(-20.0 * math.log(1 - 1.0 / v_inf))
    steps = spike_steps(n, 2.0, 400)
    assert steps[0] == first
    isi = np.diff(steps)
    assert isi[-1] > isi[0]  # accumulated threshold slows the neuron
    theta = n.get_state()["theta"]
    assert theta > 1.0 + 0.2
    n.step(0.0)
    assert n.get_state()["theta"] - 1.0 == pytest.approx((theta - 1.0) * math.exp(-1.0 / 100.0), rel=1e-12)
    for _ in range(2000):
        n.step(0.0)
    assert n.get_state()["theta"] == pytest.approx(1.0, abs=1e-6)


def test_adaptive_threshold_without_jump_is_a_plain_lif():
    n = neurons.AdaptiveThresholdIFNeuron(delta_theta=0.0)
    lif = neurons.LapicqueNeuron(tau=20.0)
    assert spike_steps(n, 1.7, 500) == spike_steps(lif, 1.7, 500)


# -- perfect integrator ----------------------------------------------------------------------------
@pytest.mark.parametrize("current,dt,refractory", [(0.125, 1.0, 0), (0.0625, 0.5, 0), (0.25, 0.25, 3)])
def test_perfect_integrator_fires_every_threshold_over_i_dt_steps(current, dt, refractory):
    # dyadic values keep I*dt sums exact in binary floating point
    period = round(1.0 / (current * dt))
    n = neurons.PerfectIntegratorNeuron(dt=dt, refractory_period=refractory)
    steps = spike_steps(n, current, 5 * (period + refractory))
    assert steps[0] == period
    assert set(np.diff(steps)) == {period + refractory}


def test_perfect_integrator_does_not_leak():
    n = neurons.PerfectIntegratorNeuron()
    n.step(0.5)
    for _ in range(1000):
        n.step(0.0)
    assert n.get_state()["v"] == 0.5
    assert n.step(0.5) == 1


# -- Loihi CUBA ---------------------------------------------------------------------------------------
def test_loihi_integer_decay_matches_hand_computation():
    n = neurons.LoihiCUBANeuron(du=410, dv=205, vth=10)
    assert n.step(10) == 0
    # u = 10 << 6 = 640; v = 640, not above the threshold 10 << 6 = 640
    assert n.get_state() == {"u": 640, "v": 640}
    assert n.step(0) == 1
    # u = trunc(640*(4096-411)/4096) = trunc(575.78) = 575
    # v = trunc(640*(4096-205)/4096) + 575 = 607 + 575 = 1182 > 640 -> spike, v = 0
    assert n.get_state() == {"u": 575, "v": 0}
    assert n.step(0) == 0
    assert n.get_state() == {"u": 517, "v": 517}  # trunc(575*3685/4096) = trunc(517.30)
    assert all(isinstance(x, int) for x in n.get_state().values())


def test_loihi_decay_truncates_toward_zero_for_negative_values():
    n = neurons.LoihiCUBANeuron(du=410, dv=205)
    n.step(-10)
    n.step(0)
    # -640*3685/4096 = -575.78 -> -575 (a floor shift would give -576); v = -607 - 575
    assert n.get_state() == {"u": -575, "v": -1182}


def test_loihi_bias_drives_an_exact_integer_ramp():
    # full current decay (du = 4095 -> factor 0), no voltage decay: v grows by 3 << 2 = 12 per step
    n = neurons.LoihiCUBANeuron(du=4095, dv=0, bias_mant=3, bias_exp=2, vth=10)
    steps = spike_steps(n, 0, 200)
    assert steps[0] == 54  # 53*12 = 636 <= 640 < 648 = 54*12
    assert set(np.diff(steps)) == {54}


def test_loihi_current_wraps_and_voltage_saturates_at_24_bits():
    n = neurons.LoihiCUBANeuron(du=4095, dv=0, vth=(1 << 17) - 1)
    n.step(131073)  # (131073 << 6) = 2**23 + 64 wraps to 2**23 + 64 - 2**24
    assert n.get_state() == {"u": 2**23 + 64 - 2**24, "v": 2**23 + 64 - 2**24}
    m = neurons.LoihiCUBANeuron(du=4095, dv=0, vth=(1 << 17) - 1)
    assert m.step(100000) == 0 and m.get_state()["v"] == 6400000
    assert m.step(100000) == 1  # 12 800 000 clips to 2**23 - 1 = 8388607 > 8388544
    assert m.get_state()["v"] == 0


def test_loihi_input_is_truncated_to_integers_like_a_population():
    a, b, c = neurons.LoihiCUBANeuron(), neurons.LoihiCUBANeuron(), neurons.LoihiCUBANeuron()
    a.step(2.9)
    b.step(2)
    c.step(-2.9)
    assert a.get_state() == b.get_state() == {"u": 128, "v": 128}
    assert c.get_state() == {"u": -128, "v": -128}


def test_dendritic_population_takes_b_from_state():
    model = registry["StochasticDendriticNeuron"]()
    state = model.initial_state(4)
    state["b"][...] = [0.0, 1.0, 0.0, 1.0]
    out = model.step(state, np.array([0.0, 0.0, 1.0, 1.0]), 1.0)
    assert out.tolist() == [0.0, 1.0, 1.0, 0.0]  # XOR, one neuron per truth-table row
    assert state["current"].tolist() == [0.0, 1.0, 1.0, 0.0]


def test_sc_izhikevich_rk4_step_by_hand():
    n = neurons.SCIzhikevichNeuron(integrator="rk4", dt=0.5)
    a, b, current, dt = 0.02, 0.2, 5.0, 0.5

    def f(v, u):
        return 0.04 * v * v + 5 * v + 140 - u + current, a * (b * v - u)

    v, u = -65.0, -13.0
    k1 = f(v, u)
    k2 = f(v + dt / 2 * k1[0], u + dt / 2 * k1[1])
    k3 = f(v + dt / 2 * k2[0], u + dt / 2 * k2[1])
    k4 = f(v + dt * k3[0], u + dt * k3[1])
    v_next = v + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
    u_next = u + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    assert n.step(current) == 0
    assert n.get_state() == {"v": pytest.approx(v_next, abs=1e-12), "u": pytest.approx(u_next, abs=1e-12)}
