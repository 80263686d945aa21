"""Neuron lab response times (issue 15): from a parameter-slider change to
updated figures, per model family, on the kernel loop and on the compiled
backend where it exists; and one F-I curve per model.

Targets: <= 100 ms for 1 s of simulated time of the simple models (LIF
family, Izhikevich, FitzHugh-Nagumo, AdEx), <= 1 s for Hodgkin-Huxley over
300 ms.  The lab's synchronous path is timed (run + phase-plane analysis +
figure update, as the status line reports); a served page adds the event
loop's queueing on top.  Prints the machine load, since the numbers scale
with it.

    .venv/bin/python bench/neuron_lab.py [--repeats 5] [--models A,B] [--no-fi]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

CASES = [  # model, simulated ms, slider to move, target ms
    ("LapicqueNeuron", 1000.0, "tau", 100.0),
    ("QIFNeuron", 1000.0, "tau_m", 100.0),
    ("ExpIFNeuron", 1000.0, "tau_m", 100.0),
    ("Izhikevich2007Neuron", 1000.0, "d", 100.0),
    ("SCIzhikevichNeuron", 1000.0, "d", 100.0),
    ("Izhikevich2004Neuron", 1000.0, "d", 100.0),
    ("FitzHughNagumoNeuron", 1000.0, "tau", 100.0),
    ("AdExNeuron", 1000.0, "b", 100.0),
    ("HodgkinHuxleyNeuron", 300.0, "g_k", 1000.0),
]


def measure(lab, model, duration, slider, repeats):
    lab.set_model(model)
    lab.duration.value = duration
    w = lab.sliders[slider]
    base = w.value
    out = []
    for k in range(repeats + 1):          # the first change warms caches / compiles: not counted
        w.value = base + (k % 2 + 1) * w.step
        if k:
            out.append(dict(lab.last_timing))
    w.value = base
    return out, lab.last_result["engine"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", default="")
    ap.add_argument("--no-fi", action="store_true")
    args = ap.parse_args()
    import engine.analysis.single as single
    from engine.analysis import fi_curve
    from engine.analysis.presets import lab_currents
    from neurocore_gui.labs.neuron import NeuronLab

    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    cases = [c for c in CASES if not args.models or c[0] in args.models.split(",")]
    lab = NeuronLab()
    engines = [("kernel", False)] + ([("compiled", True)] if single.compiled_available() else [])
    print(f"{'model':24s} {'sim':>6s} {'engine':>9s} {'median':>8s} {'run':>6s} {'phase':>6s} {'draw':>5s} "
          f"{'target':>7s}")
    for model, duration, slider, target in cases:
        for label, flag in engines:
            single._COMPILED[:] = [flag]
            timings, used = measure(lab, model, duration, slider, args.repeats)
            med = statistics.median(t["total_ms"] for t in timings)
            run = statistics.median(t["simulate_ms"] for t in timings)
            ph = statistics.median(t["analysis_ms"] for t in timings)
            dr = statistics.median(t["draw_ms"] for t in timings)
            ok = "ok" if med <= target else "MISSED"
            print(f"{model:24s} {duration:5.0f}ms {used:>9s} {med:7.0f}ms {run:5.0f}ms {ph:5.0f}ms {dr:4.0f}ms "
                  f"{target:5.0f}ms {ok}", flush=True)
    if not args.no_fi:
        print("\nF-I curves (21 currents, 1 s each; HH 300 ms; rheobase refined twice):")
        for model, *_ in cases:
            for label, flag in engines:
                single._COMPILED[:] = [flag]
                i_max = lab_currents(model)[0]
                dur = 300.0 if model == "HodgkinHuxleyNeuron" else 1000.0
                fi_curve(model, i_max, n_points=21, duration_ms=dur)       # warm-up (compiles)
                t0 = time.perf_counter()
                fi = fi_curve(model, i_max, n_points=21, duration_ms=dur)
                ms = (time.perf_counter() - t0) * 1e3
                print(f"  {model:24s} {label:>9s} {ms:7.0f} ms  rheobase {fi.rheobase}  {fi.excitability}",
                      flush=True)
    single._COMPILED[:] = []
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
