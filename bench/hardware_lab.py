"""Hardware lab response time and the figures of the closing note.

* ``response``: a ``HardwareLab`` over a 100-neuron CUBA (80 exc + 20 inh, the
  CUBA neurons and wiring) and over ``poisson_feedforward`` (300 neurons),
  1000 steps; the time from a control change (data width, a code typed in)
  until float vs fixed, rasters, traces and metrics are recomputed.  Median
  of ``--repeats`` changes.
* ``sweep``: the bit-width sweep table (4..24 bits, the stated fraction rule)
  for CUBA (full size) and ``poisson_feedforward``.
* ``resources``: Yosys generic cells and FPGA place-and-route (ECP5 LFE5U-25F
  and iCE40HX8K) per Q-format, with fmax.
* ``cuba``: CUBA's float-vs-fixed report in Q8.8.

Prints the machine load first: on a shared machine the figures scale with it.

Usage: ``python bench/hardware_lab.py [--parts response,sweep,resources,cuba] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assets", "networks")


def load(name):
    with open(os.path.join(ASSETS, f"{name}.json")) as f:
        return json.load(f)


def small_cuba_doc():
    doc = load("cuba")
    for p, n in zip(doc["populations"], (80, 20)):
        p["n"] = n
        p.pop("state", None)
    return doc


def response(repeats):
    """Wall and CPU time per control change (median of ``repeats``), with the
    lab's own breakdown: float run, fixed run, metrics, controls, figures."""
    from neurocore_gui.labs.hardware import HardwareLab
    from neurocore_gui.store import SessionStore

    med = lambda xs: statistics.median(xs) * 1e3  # noqa: E731
    for name, doc, pop in (("CUBA 100 neurons", small_cuba_doc(), "exc"),
                           ("poisson_feedforward 300 neurons", load("poisson_feedforward"), "layer")):
        lab = HardwareLab(store=SessionStore(document=doc))
        lab.population.value = pop  # the first refresh compiles (or loads) the kernels
        for kind in ("format change", "code edit -> store -> redraw"):
            wall, cpu, parts, loads = [], [], [], []
            for i in range(repeats):
                loads.append(os.getloadavg()[0])
                c0, t0 = time.process_time(), time.perf_counter()
                if kind == "format change":
                    lab.data_width.value = 12 if i % 2 == 0 else 16
                else:
                    lab.volt_codes["v_threshold"].value = lab.volt_codes["v_threshold"].value + (1 if i % 2 == 0
                                                                                                 else -1)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
                parts.append(dict(lab.timings))
            br = ", ".join(f"{k} {med([p[k] for p in parts]):.0f}" for k in
                           ("float", "fixed", "metrics", "controls", "figures"))
            print(f"{name}, 1000 steps, {kind}: median wall {med(wall):.0f} ms, CPU {med(cpu):.0f} ms "
                  f"(n={repeats}, load {min(loads):.1f}-{max(loads):.1f}); parts (ms): {br}")


def sweep():
    from engine.hardware import tuning
    from engine.network import Network

    for name in ("cuba", "poisson_feedforward"):
        net = Network.from_dict(load(name))
        t0 = time.perf_counter()
        res = tuning.bitwidth_sweep(net, range(4, 25, 2), n_steps=1000, tolerance=0.05)
        print(f"\n{name}: bit-width sweep, 1000 steps, magnitude {tuning.network_magnitude(net):g} "
              f"({time.perf_counter() - t0:.1f} s)")
        print(res.table())


def resources():
    from engine.hardware import synth

    print("\nresources of one sc_lif_neuron (refractory counter 2 bits)")
    print(f"{'format':>7} {'target':>6} {'LUTs':>6} {'FFs':>4} {'DSPs':>4} {'fmax MHz':>9} {'s':>5}   yosys generic")
    for q in ("Q4.4", "Q8.8", "Q16.16"):
        g = synth.synth_neuron(q)
        for target in ("ecp5", "ice40"):
            if target == "ice40" and q == "Q16.16":
                continue  # LUT multipliers at 32 bits take minutes here
            r = synth.fpga_resources(q, target)
            print(f"{q:>7} {target:>6} {r.luts:>6} {r.flip_flops:>4} {r.dsps:>4} {r.fmax_mhz:>9.1f} {r.seconds:>5.1f}"
                  f"   {g.cells} cells, {g.flip_flops} FFs, {g.multipliers} mul")


def cuba():
    from engine.hardware.report import compare_float_fixed
    from engine.network import Network

    net = Network.from_dict(load("cuba"))
    t0 = time.perf_counter()
    rep = compare_float_fixed(net, n_steps=1000, qformat="Q8.8")
    print(f"\nCUBA float vs fixed ({time.perf_counter() - t0:.2f} s)")
    print(rep.summary())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="response,sweep,resources,cuba")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    parts = args.parts.split(",")
    if "response" in parts:
        response(args.repeats)
    if "cuba" in parts:
        cuba()
    if "sweep" in parts:
        sweep()
    if "resources" in parts:
        resources()


if __name__ == "__main__":
    main()
