"""Textbook parameter sets with the input protocol that shows their behaviour.

Each :class:`Preset` names its model (registry name), the parameters it
changes, the current protocol (a :func:`~engine.analysis.protocols.protocol_current`
call or a list of rectangular ``segments``), the initial state where the
source gives one, a paragraph for the student, and the behaviour it claims
(``expect``), which ``tests/engine/test_analysis_presets.py`` checks.

Sources: Izhikevich (2004), IEEE Trans. Neural Netw. 15:1063-1070, Fig. 1
(parameters and protocols of the paper's figure); Naud, Marcille, Clopath &
Gerstner (2008), Biol. Cybern. 99:335-347, Table 1; Hodgkin & Huxley (1952);
Rinzel & Ermentrout (1998); FitzHugh (1961).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from engine.analysis.protocols import n_steps, protocol_current
from engine.models import get_model

__all__ = ["Preset", "PRESETS", "describe_protocol", "presets_for", "preset_current", "lab_currents", "find_preset"]

IZH_2004 = "E. M. Izhikevich (2004), Which model to use for cortical spiking neurons? IEEE TNN 15:1063, Fig. 1"
NAUD_2008 = "R. Naud, N. Marcille, C. Clopath & W. Gerstner (2008), Biol. Cybern. 99:335-347, Table 1"


@dataclass(frozen=True)
class Preset:
    model: str
    key: str
    title: str
    text: str
    params: dict
    duration_ms: float
    protocol: dict = field(default_factory=dict)   # protocol_current kwargs incl. "protocol"
    segments: tuple = ()                            # ((t_on, t_off, amplitude), ...) on "baseline"
    ramps: tuple = ()                               # ((t_on, t_off, i_on, i_off), ...): linear pieces
    baseline: float = 0.0
    initial: dict = field(default_factory=dict)
    dt_ms: float | None = None
    expect: str = ""
    reference: str = ""


def preset_current(p: Preset, dt_ms: float | None = None) -> np.ndarray:
    """The preset's injected current, one value per step of ``dt_ms``."""
    dt = p.dt_ms or get_model(p.model).default_dt if dt_ms is None else dt_ms
    if p.protocol:
        kw = dict(p.protocol)
        return protocol_current(kw.pop("protocol"), p.duration_ms, dt, **kw)
    n = n_steps(p.duration_ms, dt)
    out = np.full(n, float(p.baseline))
    for t0, t1, amp in p.segments:
        out[int(round(t0 / dt)):int(round(t1 / dt))] = amp
    for t0, t1, i0, i1 in p.ramps:
        k = np.arange(int(round(t0 / dt)), min(n, int(round(t1 / dt))))
        out[k] = i0 + (i1 - i0) * (k * dt - t0) / (t1 - t0)
    return out


def describe_protocol(p: Preset) -> str:
    """The preset's input in words (for the lab's paragraph), e.g.
    ``"I = 14 from 10 ms"``; times in ms, the current in the model's unit."""
    def g(x):
        return f"{x:g}"

    if p.protocol:
        kw = p.protocol
        kind = kw["protocol"]
        on, off = kw.get("onset_ms", 0.0), kw.get("offset_ms")
        span = f"from {g(on)} ms" + (f" to {g(off)} ms" if off is not None else "")
        if kind == "step":
            parts = [f"step I = {g(kw.get('amplitude', 1.0))} {span}"]
        elif kind == "ramp":
            parts = [f"ramp I = {g(kw.get('start', 0.0))} \u2192 {g(kw.get('end', 1.0))} {span}"]
        else:
            parts = [f"{kind} {span}"]
        base = kw.get("baseline", 0.0)
    else:
        parts = []
        for t0, t1, amp in p.segments:
            end = "the end" if t1 >= p.duration_ms else f"{g(t1)} ms"
            parts.append(f"I = {g(amp)} from {g(t0)} ms to {end}")
        for t0, t1, i0, i1 in p.ramps:
            parts.append(f"ramp I = {g(i0)} \u2192 {g(i1)} from {g(t0)} to {g(t1)} ms")
        base = p.baseline
    text = "; ".join(parts) if parts else "no input"
    if base:
        text += f"; I = {g(base)} otherwise"
    dt = f", Euler step {g(p.dt_ms)} ms" if p.dt_ms else ""
    return f"Protocol: {text}; {g(p.duration_ms)} ms{dt}."


def _izh(key, title, text, a, b, c, d, v0, duration, expect, protocol=None, segments=(), baseline=0.0, dt=0.25):
    # the panels this 2003-form model shares with Izhikevich2004Neuron take
    # that model's paragraph (text=None, filled in below _FIG1): one text each
    return Preset("SCIzhikevichNeuron", key, title, text, dict(a=a, b=b, c=c, d=d), duration,
                  protocol=protocol or {}, segments=tuple(segments), baseline=baseline,
                  initial={"v": v0, "u": b * v0}, dt_ms=dt, expect=expect, reference=IZH_2004)


def _step(amp, onset):
    return {"protocol": "step", "amplitude": amp, "onset_ms": onset}


_IZH = [
    _izh("tonic_spiking", "(A) tonic spiking",
         None,
         0.02, 0.2, -65, 6, -70, 200, "tonic", _step(14, 10)),
    _izh("phasic_spiking", "(B) phasic spiking",
         None,
         0.02, 0.25, -65, 6, -64, 200, "phasic", _step(0.5, 20)),
    _izh("tonic_bursting", "(C) tonic bursting",
         None,
         0.02, 0.2, -50, 2, -70, 220, "bursting", _step(15, 22)),
    _izh("phasic_bursting", "(D) phasic bursting",
         None,
         0.02, 0.25, -55, 0.05, -64, 200, "phasic_burst", _step(0.6, 20), dt=0.2),
    _izh("mixed_mode", "(E) mixed mode",
         None,
         0.02, 0.2, -55, 4, -70, 160, "initial_burst", _step(10, 16)),
    _izh("spike_frequency_adaptation", "(F) spike-frequency adaptation",
         None,
         0.01, 0.2, -65, 8, -70, 85, "adapting", _step(30, 8.5)),
    _izh("class2_excitability", "(H) class 2 excitability",
         None,
         0.2, 0.26, -65, 0, -64, 300, "class2",
         {"protocol": "ramp", "start": -0.5, "end": -0.5 + 0.015 * 270, "onset_ms": 30, "offset_ms": 300,
          "baseline": -0.5}),
    _izh("spike_latency", "(I) spike latency",
         None,
         0.02, 0.2, -65, 6, -70, 100, "latency", segments=[(10, 13, 7.04)], dt=0.2),
    _izh("subthreshold_oscillations", "(J) subthreshold oscillations",
         None,
         0.05, 0.26, -60, 0, -62, 200, "subthreshold_oscillation", segments=[(20, 25, 2.0)]),
    _izh("resonator", "(K) resonator",
         None,
         0.1, 0.26, -60, -1, -62, 400, "resonator",
         segments=[(40, 44, 0.65), (60, 64, 0.65), (280, 284, 0.65), (320, 324, 0.65)]),
    _izh("rebound_spike", "(M) rebound spike",
         None,
         0.03, 0.25, -60, 4, -64, 200, "rebound", segments=[(20, 25, -15.0)], dt=0.2),
    _izh("rebound_burst", "(N) rebound burst",
         None,
         0.03, 0.25, -52, 0, -64, 200, "rebound_burst", segments=[(20, 25, -15.0)], dt=0.2),
    _izh("threshold_variability", "(O) threshold variability",
         None,
         0.03, 0.25, -60, 4, -64, 100, "threshold_variability",
         segments=[(10, 15, 1.0), (70, 75, -6.0), (80, 85, 1.0)]),
    _izh("bistability", "(P) bistability",
         "On a constant background the neuron has two stable states, rest and tonic firing: one "
         "pulse switches firing on, a second, well-timed pulse switches it off. (The second pulse comes at "
         "207 ms rather than the paper's 216: the phase that works depends on the integrator.)",
         0.1, 0.26, -60, 0, -61, 300, "bistable", segments=[(37.5, 42.5, 1.24), (207, 212, 1.24)],
         baseline=0.24),
    _izh("dap", "(Q) depolarising after-potential",
         "After a spike evoked by a short pulse the voltage does not return straight to rest but "
         "stays depolarised for a while (d < 0 lowers u after the spike), leaving a window of raised "
         "excitability. (A pulse of 16 rather than the paper's 20: with this kernel's scheme 20 gives "
         "three spikes.)",
         1.0, 0.2, -60, -21, -70, 50, "dap", segments=[(9, 11, 16.0)], dt=0.1),
]


# -- Izhikevich (2004) Fig. 1 A-T on the general form (Izhikevich2004Neuron) ---------------------
# Parameters, initial states, protocols and Euler steps of the paper's figure code; inputs
# are written as segments and ramps so the lab runs each panel with its own step and start.
QUAD_G = dict(k1=4.1, k0=108.0)   # the modified quadratic of panels (G) and (L)


def _fig(key, title, text, a, b, c, d, v0, duration, expect, u0=None, segments=(), ramps=(), baseline=0.0,
         dt=0.25, **extra):
    params = dict(a=a, b=b, c=c, d=d, **extra)
    u0 = b * (v0 - extra.get("v_u", 0.0)) if u0 is None else u0
    return Preset("Izhikevich2004Neuron", key, title, text, params, duration, segments=tuple(segments),
                  ramps=tuple(ramps), baseline=baseline, initial={"v": v0, "u": u0}, dt_ms=dt, expect=expect,
                  reference=IZH_2004)


def _on(onset, amp, duration):
    return [(onset, duration, amp)]


_FIG1 = [
    _fig("tonic_spiking", "(A) tonic spiking",
         "A step of current makes the neuron fire a regular train for as long as the input lasts, "
         "like cortical regular-spiking cells under a sustained depolarisation. The reset (c = -65 mV) "
         "is low and the after-spike jump of u (d = 6) is modest, so every cycle starts from the same "
         "state and the inter-spike intervals settle to one value.",
         0.02, 0.2, -65, 6, -70, 200, "tonic", segments=_on(10, 14, 200)),
    _fig("phasic_spiking", "(B) phasic spiking",
         "The neuron answers the onset of a weak step with a single spike and then stays silent: "
         "with b = 0.25 the recovery variable follows v closely and catches up with the input, so "
         "it reports a change rather than a level.",
         0.02, 0.25, -65, 6, -64, 200, "phasic", segments=_on(20, 0.5, 200)),
    _fig("tonic_bursting", "(C) tonic bursting",
         "A high reset (c = -50 mV) and a small jump d = 2 make u build up over several fast spikes "
         "until it ends the burst; u then decays and the next burst starts: periodic bursts, as in "
         "chattering neurons of cat neocortex.",
         0.02, 0.2, -50, 2, -70, 220, "bursting", segments=_on(22, 15, 220)),
    _fig("phasic_bursting", "(D) phasic bursting",
         "Like phasic spiking, but the onset response is a burst of spikes (c = -55 mV, tiny d): the "
         "neuron signals the start of the input with a burst and then stays quiet.",
         0.02, 0.25, -55, 0.05, -64, 200, "phasic_burst", segments=_on(20, 0.6, 200), dt=0.2),
    _fig("mixed_mode", "(E) mixed mode",
         "An initial burst followed by tonic single spikes: the first spikes come before u has grown, "
         "later ones are spaced by the accumulated recovery, as in intrinsically bursting cortical cells.",
         0.02, 0.2, -55, 4, -70, 160, "initial_burst", segments=_on(16, 10, 160)),
    _fig("spike_frequency_adaptation", "(F) spike-frequency adaptation",
         "The inter-spike intervals lengthen during a constant step: each spike adds d = 8 to the slow "
         "recovery variable (a = 0.01), which builds up and slows the firing.",
         0.01, 0.2, -65, 8, -70, 85, "adapting", segments=_on(8.5, 30, 85)),
    _fig("class1_excitability", "(G) class 1 excitability",
         "Under a slowly rising ramp the neuron starts firing at an arbitrarily low rate, and the rate "
         "grows smoothly with the input, so the frequency encodes the input's strength. The paper uses "
         "a shallower quadratic here (0.04 v^2 + 4.1 v + 108) and b = -0.1: the rest state disappears "
         "in a saddle-node bifurcation on the invariant circle, where the period is infinite.",
         0.02, -0.1, -55, 6, -60, 300, "class1_ramp", ramps=[(30, 300, 0.0, 0.075 * 270)], **QUAD_G),
    _fig("class2_excitability", "(H) class 2 excitability",
         "Under a slowly rising ramp the neuron starts firing at a clearly non-zero rate: the rest "
         "state loses stability through an Andronov-Hopf bifurcation (a = 0.2, b = 0.26), so the "
         "frequency does not grow from zero as it does for class 1 neurons.",
         0.2, 0.26, -65, 0, -64, 300, "class2", ramps=[(30, 300, -0.5, -0.5 + 0.015 * 270)], baseline=-0.5),
    _fig("spike_latency", "(I) spike latency",
         "A brief pulse just above threshold is answered with a spike after a long delay: the state "
         "passes slowly near the ghost of the rest point, so the latency encodes how far above "
         "threshold the input was.",
         0.02, 0.2, -65, 6, -70, 100, "latency", segments=[(10, 13, 7.04)], dt=0.2),
    _fig("subthreshold_oscillations", "(J) subthreshold oscillations",
         "After a short pulse the voltage rings: damped oscillations around rest (the rest point is a "
         "stable focus), with a spike on the first, largest swing.",
         0.05, 0.26, -60, 0, -62, 200, "subthreshold_oscillation", segments=[(20, 25, 2.0)]),
    _fig("resonator", "(K) resonator",
         "The neuron prefers inputs at its resonant frequency: of two pulse pairs of the same strength "
         "only the pair whose spacing matches the damped subthreshold oscillation adds up to a spike.",
         0.1, 0.26, -60, -1, -62, 400, "resonator",
         segments=[(40, 44, 0.65), (60, 64, 0.65), (280, 284, 0.65), (320, 324, 0.65)]),
    _fig("integrator", "(L) integrator",
         "The class 1 neuron of (G) adds up its inputs: two brief pulses 5 ms apart sum to a spike, "
         "while the same two pulses 10 ms apart do not, because the first one's depolarisation has "
         "decayed (there is no subthreshold oscillation to time). The higher the input frequency, "
         "the more likely the neuron fires: a coincidence detector.",
         0.02, -0.1, -55, 6, -60, 100, "integrator",
         segments=[(100 / 11, 100 / 11 + 2, 9.0), (100 / 11 + 5, 100 / 11 + 7, 9.0), (70, 72, 9.0), (80, 82, 9.0)],
         **QUAD_G),
    _fig("rebound_spike", "(M) rebound spike",
         "Released from a brief hyperpolarising pulse, the neuron fires a spike: during the pulse u "
         "falls (b = 0.25), and at release the lowered recovery lets v overshoot threshold.",
         0.03, 0.25, -60, 4, -64, 200, "rebound", segments=[(20, 25, -15.0)], dt=0.2),
    _fig("rebound_burst", "(N) rebound burst",
         "The same post-inhibitory rebound with a high reset and no after-spike jump (c = -52, d = 0) "
         "gives a burst instead of a single spike, as thalamo-cortical cells do.",
         0.03, 0.25, -52, 0, -64, 200, "rebound_burst", segments=[(20, 25, -15.0)], dt=0.2),
    _fig("threshold_variability", "(O) threshold variability",
         "The threshold depends on the recent past: a weak excitatory pulse alone does nothing, but "
         "the same pulse right after a brief inhibition fires the cell, because the inhibition lowered "
         "the recovery variable.",
         0.03, 0.25, -60, 4, -64, 100, "threshold_variability",
         segments=[(10, 15, 1.0), (70, 75, -6.0), (80, 85, 1.0)]),
    _fig("bistability", "(P) bistability",
         "On a constant background the neuron has two stable states, rest and tonic firing: one "
         "pulse switches firing on, a second pulse, timed at the right phase of the spike cycle, "
         "switches it off.",
         0.1, 0.26, -60, 0, -61, 300, "bistable", segments=[(37.5, 42.5, 1.24), (216, 221, 1.24)],
         baseline=0.24),
    _fig("dap", "(Q) depolarising after-potential",
         "After a spike evoked by a short pulse the voltage does not return straight to rest but "
         "stays depolarised for a while (d < 0 lowers u after the spike), leaving a window of raised "
         "excitability.",
         1.0, 0.2, -60, -21, -70, 50, "dap", segments=[(9, 11, 20.0)], dt=0.1),
    _fig("accommodation", "(R) accommodation",
         "The neuron fires for a quick rise of input but not for a slow one, even a slow one that ends "
         "twice as high: while the input creeps up, u keeps pace (here u' = a b (v + 65), with no "
         "decay of u) and moves the threshold away, so a slow ramp never catches it; a fast ramp gets "
         "there before u can follow.",
         0.02, 1.0, -55, 4, -65, 400, "accommodation", u0=-16.0, v_u=-65.0, u_decay=0.0,
         ramps=[(0, 200, 0.0, 8.0), (300, 312.5, 0.0, 4.0)], dt=0.5),
    _fig("inhibition_induced_spiking", "(S) inhibition-induced spiking",
         "Quiet at rest on a steady drive, the neuron fires a tonic train while it is hyperpolarised "
         "(the drive drops from 80 to 75) and stops when the drive returns. The negative a and b "
         "(a = -0.02, b = -1) invert the role of u: lowering v lowers the recovery variable, which "
         "then depolarises the cell instead of holding it back.",
         -0.02, -1.0, -60, 8, -63.8, 350, "inhibition_spiking", segments=[(50, 250, 75.0)], baseline=80.0,
         dt=0.5),
    _fig("inhibition_induced_bursting", "(T) inhibition-induced bursting",
         "The same inverted recovery with a high reset (c = -45) and a negative after-spike jump "
         "(d = -2): during the hyperpolarising step the neuron fires bursts instead of single spikes, "
         "and at rest it is again quiet.",
         -0.026, -1.0, -45, -2, -63.8, 350, "inhibition_bursting", segments=[(50, 250, 75.0)], baseline=80.0,
         dt=0.5),
]


def _naud(key, title, text, C, gL, EL, VT, a, tauw, b, Vr, I, expect, duration=600.0):
    return Preset("AdExNeuron", key, title, text,
                  dict(C=C, g_L=gL, E_L=EL, V_T=VT, delta_T=2.0, a=a, tau_w=tauw, b=b, V_reset=Vr),
                  duration, protocol={"protocol": "step", "amplitude": I, "onset_ms": 50.0},
                  initial={"v": EL, "w": 0.0}, expect=expect, reference=NAUD_2008)


_ADEX = [
    _naud("tonic", "tonic spiking",
          "No spike-triggered adaptation (b = 0) and a fast w: after the first interval the train is "
          "regular from the start.",
          200, 10, -70, -50, 2, 30, 0, -58, 500, "tonic"),
    _naud("adapting", "adapting",
          "A slow adaptation current (tau_w = 300 ms) grows by b = 60 pA with every spike, so the "
          "intervals lengthen before settling.",
          200, 12, -70, -50, 2, 300, 60, -58, 500, "adapting"),
    _naud("initial_burst", "initial burst",
          "A reset close to threshold and a strong spike-triggered jump b give a quick burst at "
          "onset, after which adaptation spaces the spikes out.",
          130, 18, -58, -50, 4, 150, 120, -50, 400, "initial_burst"),
    _naud("bursting", "regular bursting",
          "The reset lies above the voltage where the trajectory would return to the slow manifold, "
          "so spikes come in groups separated by long adaptation-paced pauses.",
          200, 10, -58, -50, 2, 120, 100, -46, 210, "bursting"),
    _naud("delayed", "delayed accelerating",
          "Negative subthreshold coupling (a = -10 nS) makes the first spike come late and the rate "
          "rise as the step goes on.",
          200, 12, -70, -50, -10, 300, 0, -58, 300, "delayed"),
    _naud("transient", "transient spiking",
          "Strong subthreshold adaptation (a = 10 nS) lets only a few spikes through at the onset of "
          "the step; then w holds the neuron below threshold. (250 pA rather than the table's 350: "
          "with this forward-Euler kernel 350 pA settles into slow tonic firing.)",
          100, 10, -65, -50, 10, 90, 100, -47, 250, "transient"),
    _naud("irregular", "irregular spiking",
          "With a = -11 nS and a reset near threshold the deterministic model fires with unequal, "
          "non-repeating intervals.",
          100, 12, -60, -50, -11, 130, 30, -48, 160, "irregular", duration=1000.0),
]

_OTHER = [
    Preset("HodgkinHuxleyNeuron", "below_rheobase", "below rheobase (5 µA/cm²)",
           "Below the rheobase of ~6.3 µA/cm² a step gives a transient spike and damped "
           "oscillations back to rest: the squid axon needs a minimum current to fire repetitively.",
           {}, 150.0, protocol={"protocol": "step", "amplitude": 5.0, "onset_ms": 10.0},
           expect="transient", reference="A. L. Hodgkin & A. F. Huxley (1952)"),
    Preset("HodgkinHuxleyNeuron", "type2_onset", "repetitive firing, type II onset (7 µA/cm²)",
           "Just above the rheobase the axon fires repetitively at once at ~50 Hz, not slowly: "
           "the onset of firing is a (subcritical) Hopf bifurcation, Hodgkin's class II. Compute "
           "the F-I curve to see the jump.",
           {}, 150.0, protocol={"protocol": "step", "amplitude": 7.0, "onset_ms": 10.0},
           expect="class2", reference="A. L. Hodgkin & A. F. Huxley (1952)"),
    Preset("MorrisLecarNeuron", "hopf", "Hopf set (class II)",
           "Rinzel & Ermentrout's Hopf parameters: rest loses stability in a subcritical Hopf "
           "bifurcation near 94 µA/cm², and a large limit cycle coexists from ~89 µA/cm², so firing "
           "starts at a finite frequency.",
           {"g_ca": 4.4, "v3": 2.0, "v4": 30.0, "phi": 0.04}, 1000.0,
           protocol={"protocol": "step", "amplitude": 100.0, "onset_ms": 50.0},
           expect="repetitive", reference="J. Rinzel & G. B. Ermentrout (1998)"),
    Preset("MorrisLecarNeuron", "snlc", "SNLC set (class I)",
           "Rinzel & Ermentrout's saddle-node parameters: at ~40 µA/cm² a saddle and a node merge on "
           "the invariant circle, so the firing rate rises continuously from zero.",
           {"g_ca": 4.0, "v3": 12.0, "v4": 17.4, "phi": 1.0 / 15.0}, 1000.0,
           protocol={"protocol": "step", "amplitude": 45.0, "onset_ms": 50.0},
           expect="class1", reference="J. Rinzel & G. B. Ermentrout (1998)"),
    Preset("FitzHughNagumoNeuron", "excitable", "excitable (I = 0)",
           "At I = 0 the only fixed point, on the left branch of the cubic v-nullcline, is stable: a "
           "small kick decays, a pulse past the middle branch gives one full excursion (a spike) and "
           "the system returns to rest.",
           {}, 200.0, segments=((20.0, 25.0, 1.0),), expect="single_spike",
           reference="R. FitzHugh (1961)"),
    Preset("FitzHughNagumoNeuron", "oscillatory", "oscillatory (I = 0.5)",
           "For 0.33 < I < 1.42 the fixed point sits on the middle branch and is unstable: the "
           "trajectory runs round a relaxation limit cycle and the neuron fires periodically.",
           {}, 300.0, protocol={"protocol": "step", "amplitude": 0.5, "onset_ms": 0.0},
           expect="tonic", reference="R. FitzHugh (1961)"),
]

_FIG1_TEXT = {p.key: p.text for p in _FIG1}
_IZH = [replace(p, text=_FIG1_TEXT[p.key]) if p.text is None else p for p in _IZH]

PRESETS: list[Preset] = _FIG1 + _IZH + _ADEX + _OTHER


def presets_for(model) -> list[Preset]:
    name = get_model(model).registry_name()
    return [p for p in PRESETS if p.model == name]


def find_preset(model, key: str) -> Preset:
    for p in presets_for(model):
        if p.key == key:
            return p
    raise ValueError(f"preset: no preset {key!r} for {get_model(model).registry_name()}")


#: (F-I current range top, default step amplitude) where the model's declared
#: current_range does not span rest to brisk firing
_LAB_CURRENTS = {
    "HodgkinHuxleyNeuron": (20.0, 10.0),
    "WangBuzsakiNeuron": (5.0, 1.0),
    "MorrisLecarNeuron": (200.0, 100.0),
    "FitzHughNagumoNeuron": (1.6, 0.5),    # 0.5: oscillatory (Hopf points ~0.33 and ~1.42)
    "HindmarshRoseNeuron": (4.0, 2.0),
    "ResonateAndFireNeuron": (1.0, 0.5),
}


def lab_currents(model) -> tuple[float, float]:
    """``(i_max, amplitude)``: the F-I range top and a default step for the lab."""
    cls = get_model(model)
    if cls.registry_name() in _LAB_CURRENTS:
        return _LAB_CURRENTS[cls.registry_name()]
    hi = float(cls.current_range[1])
    return hi, round(0.5 * hi, 6)
