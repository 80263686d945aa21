"""Every preset shows the behaviour its paragraph claims (ISI criteria on a
run of its own protocol); every registered model has equations."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.analysis import EQUATIONS, PRESETS, equations_latex, fi_curve, simulate
from engine.analysis.presets import find_preset, lab_currents, preset_current, presets_for
from engine.models import get_model, model_names


def _run(p, **over):
    r = simulate(p.model, preset_current(p), dict(p.params, **over), dt_ms=p.dt_ms, initial=p.initial)
    return r, r["spike_times_ms"]


def _onset(p):
    if p.protocol:
        return p.protocol.get("onset_ms", 0.0)
    return min(s[0] for s in p.segments)


def _groups(st):
    """Bursts: spikes split where an ISI is longer than the geometric mean of the shortest and longest."""
    isi = np.diff(st)
    cut = np.sqrt(isi.min() * isi.max())
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
        if p.protocol.get("protocol") == "ramp":      # firing starts at a finite rate on a slow ramp
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
        k = int((st[0] + 8.0) / r["dt_ms"])
        assert v[k] > p.initial["v"] + 5.0 and abs(v[-1] - p.initial["v"]) < 1.0
    elif e == "delayed":
        assert st[0] - onset > 20.0 and isi[-1] < isi[0]
    elif e == "transient":
        assert 1 <= st.size <= 4 and st[-1] < onset + 100.0
    elif e == "irregular":
        late = isi[3:]
        assert late.size >= 10 and late.std() / late.mean() > 0.3
    elif e == "single_spike":
        assert st.size == 1 and st[0] > p.segments[0][0]
    else:
        raise AssertionError(f"no criterion for {e!r}")


@pytest.mark.parametrize("p", PRESETS, ids=[f"{p.model}:{p.key}" for p in PRESETS])
def test_preset_shows_its_behaviour(p):
    assert len(p.text) > 80 and p.reference
    r, st = _run(p)
    _check(p, r, st)


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
