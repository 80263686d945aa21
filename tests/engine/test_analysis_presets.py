"""Every preset shows the behaviour its paragraph claims (ISI criteria on a
run of its own protocol); every registered model has equations."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.analysis import EQUATIONS, PRESETS, equations_latex, fi_curve, simulate
from engine.analysis.presets import describe_protocol, find_preset, lab_currents, preset_current, presets_for
from engine.analysis.single import make_model
from engine.models import get_model, model_names

FIG1 = "Izhikevich2004Neuron"


def _run(p, **over):
    # the kernel loop (NumPy): no numba compile per model in the test run
    r = simulate(p.model, preset_current(p), dict(p.params, **over), dt_ms=p.dt_ms, initial=p.initial,
                 backend="kernel")
    return r, r["spike_times_ms"]


def _onset(p):
    if p.protocol:
        return p.protocol.get("onset_ms", 0.0)
    return min([s[0] for s in p.segments] + [r[0] for r in p.ramps])


def _inside(st, seg, slack=10.0):
    return (st >= seg[0]) & (st < seg[1] + slack)


def _groups(st):
    """Bursts: spikes split at the ISIs above the widest gap (on a log scale) between the sorted ISIs,
    i.e. intra-burst intervals (which lengthen through a burst) against the pauses between bursts."""
    isi = np.diff(st)
    srt = np.sort(isi)
    j = int(np.argmax(np.diff(np.log(srt)))) if srt.size > 1 else 0
    cut = np.sqrt(srt[j] * srt[j + 1]) if srt.size > 1 else srt.max()
    return np.split(st, np.flatnonzero(isi > cut) + 1)


def _check(p, r, st):  # noqa: C901 - one criterion per claimed behaviour
    isi = np.diff(st)
    onset, end = _onset(p), p.duration_ms
    v = r["states"][get_model(p.model).voltage_variable]
    e = p.expect
    if e == "tonic":
        assert st.size >= 4
        last = isi[-3:]
        assert np.ptp(last) < 0.1 * last.mean(), isi
    elif e == "phasic":
        assert st.size == 1 and st[0] < onset + 0.5 * (end - onset)
    elif e == "bursting":
        g = _groups(st)
        assert len(g) >= 2 and all(len(x) >= 2 for x in g[:-1]), g
        assert isi.max() > 4 * isi.min()
    elif e == "phasic_burst":
        assert st.size >= 3 and st[-1] < onset + 0.5 * (end - onset)
        assert isi.max() < 15.0
    elif e == "initial_burst":
        assert st.size >= 5 and isi[:2].max() < 0.3 * np.median(isi[2:]), isi
    elif e == "adapting":
        assert st.size >= 4 and isi[-1] > 3 * isi[0] and np.all(np.diff(isi) > -0.5), isi
    elif e == "class2":
        assert st.size >= 5
        if p.protocol.get("protocol") == "ramp" or p.ramps:   # firing starts at a finite rate on a slow ramp
            assert (1.0 / isi[0]) > 0.3 * (1.0 / isi[-1]), isi
        else:
            assert 1000.0 / isi[0] > 40.0
    elif e == "repetitive":
        assert st.size >= 5 and np.ptp(isi[1:]) < 0.05 * isi.mean()
    elif e == "class1":
        assert st.size >= 3 and 1000.0 / isi.mean() < 15.0   # slow firing just above the SNLC
    elif e == "latency":
        assert st.size == 1
        end_of_pulse = p.segments[0][1]
        assert st[0] - end_of_pulse > 3.0
        # the latency shrinks with a stronger pulse: it is the slow passage near threshold
        strong = type(p)(**{**p.__dict__, "segments": ((p.segments[0][0], p.segments[0][1], 2 * p.segments[0][2]),)})
        _, st2 = _run(strong)
        assert st2.size >= 1 and st2[0] < st[0] - 2.0
    elif e == "subthreshold_oscillation":
        assert st.size <= 1
        after = v[int((st[-1] if st.size else p.segments[0][1]) / r["dt_ms"]) + 40:]
        rest = after[-1]
        crossings = np.count_nonzero(np.diff(np.sign(after - rest)) != 0)
        assert crossings >= 4 and after.max() < 0.0  # rings around rest, no further spike
    elif e == "resonator":
        assert st.size == 1 and st[0] > p.segments[2][0]   # only the resonant pair fires
    elif e == "rebound":
        assert st.size == 1 and st[0] > p.segments[0][1]
    elif e == "rebound_burst":
        assert st.size >= 3 and st[0] > p.segments[0][1] and isi.max() < 10.0
    elif e == "threshold_variability":
        assert st.size == 1 and st[0] > p.segments[2][0]   # not after the first, identical pulse
    elif e == "bistable":
        t_on, t_off = p.segments[0][0], p.segments[1][0]
        assert st.size >= 3 and st[0] > t_on and st[-1] < t_off + 15.0
        assert np.count_nonzero(st < t_off) >= 3
    elif e == "dap":
        assert st.size == 1
        k, dt = int(round(st[0] / r["dt_ms"])), r["dt_ms"]
        after = v[k:k + int(5.0 / dt)]
        # reset to c, then the voltage climbs above it (a hump, not a decay) and stays well above
        # rest for several ms before it returns there
        assert after.max() > p.params["c"] + 3.0 and v[k + int(4.0 / dt)] > p.initial["v"] + 5.0
        assert abs(v[-1] - p.initial["v"]) < 1.0
    elif e == "delayed":
        assert st[0] - onset > 20.0 and isi[-1] < isi[0]
    elif e == "transient":
        assert 1 <= st.size <= 4 and st[-1] < onset + 100.0
    elif e == "irregular":
        late = isi[3:]
        assert late.size >= 10 and late.std() / late.mean() > 0.3
    elif e == "single_spike":
        assert st.size == 1 and st[0] > p.segments[0][0]
    elif e == "class1_ramp":
        # on the slow ramp the rate starts low and grows steadily with the input
        assert st.size >= 5 and st[0] > p.ramps[0][0] + 20.0
        assert np.all(np.diff(isi) < 0.25) and isi[0] > 2.0 * isi[-1], isi
    elif e == "integrator":
        # the close pair sums to a spike, the same pair 10 ms apart does not
        assert st.size == 1 and p.segments[1][0] <= st[0] < p.segments[2][0], st
        one = type(p)(**{**p.__dict__, "segments": p.segments[:1]})
        assert _run(one)[1].size == 0          # one pulse alone is subthreshold
    elif e == "accommodation":
        slow, fast = p.ramps
        assert slow[3] > fast[3]               # the slow ramp ends higher than the fast one...
        assert st.size >= 1 and st.min() >= fast[0] and st.max() < fast[1] + 20.0, st  # ...yet only the fast fires
    elif e in ("inhibition_spiking", "inhibition_bursting"):
        step = p.segments[0]
        assert step[2] < p.baseline            # the step hyperpolarises
        inside = _inside(st, step)
        assert np.all(inside), st              # silent on the resting drive, before and after
        if e == "inhibition_spiking":
            assert st.size >= 3 and isi.min() > 20.0, isi   # single spikes, no bursts
        else:
            g = _groups(st)
            assert len(g) >= 2 and all(len(x) >= 3 for x in g), g
    else:
        raise AssertionError(f"no criterion for {e!r}")


@pytest.mark.parametrize("p", PRESETS, ids=[f"{p.model}:{p.key}" for p in PRESETS])
def test_preset_shows_its_behaviour(p):
    assert len(p.text) > 80 and p.reference
    r, st = _run(p)
    _check(p, r, st)


def test_izhikevich_2004_fig1_has_all_twenty_panels_in_order():
    fig1 = presets_for(FIG1)
    assert [p.title[:3] for p in fig1] == [f"({chr(ord('A') + i)})" for i in range(20)]
    assert len({p.key for p in fig1}) == 20
    for p in fig1:
        assert p.dt_ms in (0.1, 0.2, 0.25, 0.5) and p.initial.keys() == {"v", "u"}
        text = describe_protocol(p)
        assert text.startswith("Protocol: ") and f"{p.duration_ms:g} ms" in text and f"{p.dt_ms:g} ms" in text
    # the five panels the 2003 equation cannot express use the general form's extra parameters
    assert find_preset(FIG1, "class1_excitability").params["k1"] == 4.1
    assert find_preset(FIG1, "integrator").params["k0"] == 108.0
    acc = find_preset(FIG1, "accommodation").params
    assert (acc["v_u"], acc["u_decay"]) == (-65.0, 0.0)
    assert find_preset(FIG1, "inhibition_induced_spiking").params["a"] < 0
    assert find_preset(FIG1, "inhibition_induced_bursting").params["a"] < 0


def test_describe_protocol_names_the_input():
    p = find_preset(FIG1, "inhibition_induced_spiking")
    assert describe_protocol(p) == "Protocol: I = 75 from 50 ms to 250 ms; I = 80 otherwise; 350 ms, Euler step 0.5 ms."
    assert "ramp I = 0 \u2192 20.25 from 30 to 300 ms" in describe_protocol(find_preset(FIG1, "class1_excitability"))
    assert "step I = 0.5 from 20 ms" in describe_protocol(find_preset("SCIzhikevichNeuron", "phasic_spiking"))


def test_preset_ramps_are_linear_pieces_on_the_baseline():
    p = find_preset(FIG1, "accommodation")
    cur = preset_current(p)
    dt = p.dt_ms
    assert cur.size == int(p.duration_ms / dt)
    assert cur[int(100 / dt)] == pytest.approx(4.0) and cur[int(199.5 / dt)] == pytest.approx(7.98)
    assert cur[int(250 / dt)] == 0.0 and cur[int(306 / dt)] == pytest.approx(6 / 12.5 * 4) and cur[-1] == 0.0


def _steady_rates(p, currents, duration_ms=1000.0):
    """Steady rate (Hz, second half of the run) of one neuron per constant current: one NumPy
    population of the preset's model, step and start."""
    m = make_model(p.model, p.params)
    view, step, dt = m.view(), type(m).step, p.dt_ms
    state = m.initial_state(currents.size)
    for k, v in p.initial.items():
        state[k][...] = v
    n, skip = int(duration_ms / dt), int(0.5 * duration_ms / dt)
    first, last = np.full(currents.size, -1), np.full(currents.size, -1)
    count = np.zeros(currents.size, dtype=int)
    for k in range(n):
        fired = np.asarray(step(view, state, currents, dt)) != 0
        if k >= skip:
            count += fired
            first[(first < 0) & fired] = k
            last[fired] = k
    ok = count >= 2
    rates = np.zeros(currents.size)
    rates[ok] = (count[ok] - 1) / ((last[ok] - first[ok]) * dt * 1e-3)
    return rates


@pytest.mark.parametrize("key, lo, hi", [("class1_excitability", 0.0, 30.0), ("class2_excitability", -0.5, 4.0)])
def test_fig1_class_1_starts_firing_from_zero_class_2_at_a_finite_rate(key, lo, hi):
    p = find_preset(FIG1, key)
    rates = _steady_rates(p, np.linspace(lo, hi, 61))
    j = int(np.flatnonzero(rates > 0)[0])
    # silent below rheobase, then rising (to within the ~2 Hz resolution of a 500 ms count)
    assert j > 0 and np.all(np.diff(rates[j:]) > -3.0) and rates[-1] > 2 * rates[j]
    if key.startswith("class1"):
        assert rates[j] < 0.1 * rates[-1] and rates[j] < 8.0, rates[j:j + 5]
    else:
        assert rates[j] > 0.25 * rates[-1] and rates[j] > 20.0, rates[j:j + 5]


def test_izhikevich_2004_features_covered():
    keys = {p.key for p in presets_for("SCIzhikevichNeuron")}
    assert len(keys) >= 15
    assert {"tonic_spiking", "phasic_spiking", "tonic_bursting", "phasic_bursting", "mixed_mode",
            "spike_frequency_adaptation", "class2_excitability", "resonator", "bistability"} <= keys
    assert {p.key for p in presets_for("AdExNeuron")} == {"tonic", "adapting", "initial_burst", "bursting",
                                                          "delayed", "transient", "irregular"}


@pytest.mark.parametrize("key, kind", [("hopf", "class II"), ("snlc", "class I")])
def test_morris_lecar_sets_have_their_excitability_class(key, kind):
    p = find_preset("MorrisLecarNeuron", key)
    fi = fi_curve(p.model, 150.0 if key == "hopf" else 100.0, i_min=0.0, n_points=16, duration_ms=1500.0,
                  transient_ms=300.0, params=p.params, refine=2)
    assert fi.excitability == kind, (fi.rheobase, fi.onset_rate_hz, fi.rates_hz)
    assert fi.rheobase == pytest.approx(89.0 if key == "hopf" else 40.0, rel=0.05)


def test_every_registered_model_has_equations():
    for name in model_names():
        lines = equations_latex(name)
        assert lines, f"{name} has no equations"
        for line in lines:
            assert line.count("{") == line.count("}"), (name, line)
            assert len(re.findall(r"\\left\b", line)) == len(re.findall(r"\\right\b", line)), (name, line)
    assert set(EQUATIONS) == set(model_names())


def test_lab_currents_span_the_firing_onset():
    # the default step of each spiking model with a phase plane makes it fire
    for name in ("FitzHughNagumoNeuron", "HodgkinHuxleyNeuron", "MorrisLecarNeuron", "Izhikevich2007Neuron",
                 "AdExNeuron", "LapicqueNeuron"):
        i_max, amp = lab_currents(name)
        cls = get_model(name)
        cur = np.full(int(300 / cls.default_dt), amp)
        assert simulate(name, cur)["spike_steps"].size >= 2, name
        assert amp < i_max
