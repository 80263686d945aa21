"""CUBA benchmark: Brian2's current-based network of Vogels & Abbott (2005).

4000 leaky integrate-and-fire neurons (3200 excitatory, 800 inhibitory),
random connectivity p = 0.02, exponential current synapses (tau_e = 5 ms,
tau_i = 10 ms), dt = 0.1 ms, 1 s of biological time (10 000 steps):

    dv/dt = (ge + gi - (v - El)) / tau_m         tau_m = 20 ms, El = -49 mV
    spike when v > Vt = -50 mV -> v = Vr = -60 mV, refractory 5 ms
    excitatory spike: ge += we = 60 * 0.27 / 10 mV; inhibitory: gi += wi = -20 * 4.5 / 10 mV

Each population is a ``LapicqueNeuron`` (exact exponential integration with
the synaptic current held over a step; ``R = 1`` so the current is in mV), each
projection an exponential synapse (``tau_syn``).

Usage: ``python bench/cuba.py [--repeats 3] [--duration 1.0] [--backends
numpy,torch,compiled]``.  Every backend runs in the same invocation; when
Brian2 is importable its ``cpp_standalone`` device (one thread) and its
Cython runtime target run the same network too.  Prints the machine, sizes,
the load average, and per backend ``wall_s`` / ``cpu_s`` (simulation only,
medians of the repeats; compilation is reported separately as
``compile_s``), neuron-steps per second, the spike count (equal on numpy,
torch and compiled: they give identical spikes) and the connectivity's memory
per synapse.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from engine.network import Network, Population, Projection, SpikeMonitor  # noqa: E402

TAU_M = 20.0          # ms
V_T, V_R, E_L = -50.0, -60.0, -49.0   # mV
TAU_E, TAU_I = 5.0, 10.0              # ms
W_E = 60 * 0.27 / 10                  # mV
W_I = -20 * 4.5 / 10                  # mV
DT = 1e-4                             # s
P_CONNECT = 0.02


def build_cuba(n_exc: int = 3200, n_inh: int = 800, seed: int = 1, monitor: bool = True) -> Network:
    """The CUBA network; initial potentials uniform in [Vr, Vt) from ``seed``."""
    params = dict(tau=TAU_M, resistance=1.0, v_rest=E_L, v_reset=V_R, v_threshold=V_T,
                  refractory_period=int(round(5.0 / (DT * 1e3))))
    exc = Population("LapicqueNeuron", n_exc, params, label="exc")
    inh = Population("LapicqueNeuron", n_inh, params, label="inh")
    rng = np.random.default_rng(seed)
    exc.set_voltages(V_R + rng.random(n_exc) * (V_T - V_R))
    inh.set_voltages(V_R + rng.random(n_inh) * (V_T - V_R))
    objs = [exc, inh]
    for k, (src, tgt, w, tau) in enumerate([(exc, exc, W_E, TAU_E), (exc, inh, W_E, TAU_E),
                                            (inh, exc, W_I, TAU_I), (inh, inh, W_I, TAU_I)]):
        objs.append(Projection(src, tgt, w, probability=P_CONNECT, seed=seed * 10 + k, tau_syn=tau))
    if monitor:
        objs += [SpikeMonitor(exc), SpikeMonitor(inh)]
    return Network(*objs, seed=seed)


def _bench_engine(backend, args):
    walls, cpus, spikes, compiles = [], [], [], []
    for _ in range(args.repeats):
        net = build_cuba()
        t0 = time.perf_counter()
        sim = net.simulator(backend, DT)  # compile outside the timed region
        compiles.append(getattr(sim, "compile_seconds", time.perf_counter() - t0))
        t0, c0 = time.perf_counter(), time.process_time()
        out = net.run(args.duration, dt=DT, backend=backend)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        spikes.append(sum(out["spike_counts"].values()))
    return net, walls, cpus, spikes, compiles


def _bench_brian2(device, args):
    """Brian2 on the same network (``bench/cuba_brian2.py``): in this process
    when Brian2 imports here, else with ``--brian2-python`` (an interpreter
    with Brian2, e.g. a venv whose NumPy Brian2 supports); None when neither."""
    here = os.path.dirname(os.path.abspath(__file__))
    if args.brian2_python:
        import json
        import subprocess

        cmd = [args.brian2_python, os.path.join(here, "cuba_brian2.py"), device, str(args.repeats), str(args.duration)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if res.returncode != 0:
            raise RuntimeError(res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "failed")
        out = json.loads(res.stdout.strip().splitlines()[-1])
        return out["walls"], out["spikes"]
    try:
        import brian2  # noqa: F401
    except ImportError:
        return None
    sys.path.insert(0, here)
    from cuba_brian2 import run_brian2

    return run_brian2(device, args.repeats, args.duration)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    ap.add_argument("--backends", default="numpy,torch,compiled", help="comma-separated engine backends")
    ap.add_argument("--backend", default=None, help="a single backend (overrides --backends)")
    ap.add_argument("--no-brian2", action="store_true", help="skip Brian2 even when it is importable")
    ap.add_argument("--brian2-python", default=None,
                    help="run the Brian2 peers with this interpreter (one that imports brian2)")
    args = ap.parse_args(argv)
    backends = [args.backend] if args.backend else [b for b in args.backends.split(",") if b]

    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"{os.cpu_count()} logical CPUs | python {platform.python_version()} | numpy {np.__version__}")
    print(f"sizes: 4000 neurons (3200 exc + 800 inh), p={P_CONNECT}, dt={DT * 1e3} ms, "
          f"{args.duration} s = {round(args.duration / DT)} steps; load average at start: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    n_steps = round(args.duration / DT)
    counts = {}
    for backend in backends:
        try:
            net, walls, cpus, spikes, compiles = _bench_engine(backend, args)
        except Exception as exc:  # a backend that cannot run here (e.g. no torch) is reported, not fatal
            print(f"{backend:>16}: not run ({type(exc).__name__}: {exc})")
            continue
        wall = statistics.median(walls)
        counts[backend] = spikes[-1]
        nnz = sum(p.nnz for p in net.projections)
        syn_bytes = sum(p.indices.nbytes + p.data.nbytes + p.indptr.nbytes for p in net.projections)
        print(f"{backend:>16}: wall_s={wall:.3f} cpu_s={statistics.median(cpus):.3f} "
              f"(medians of {args.repeats}; wall all: {', '.join(f'{w:.3f}' for w in walls)}) "
              f"compile_s={statistics.median(compiles):.2f} (first {compiles[0]:.2f}) "
              f"neuron_steps_per_s={4000 * n_steps / wall:.3e} spikes={spikes[-1]} "
              f"synapses={nnz} bytes_per_synapse={syn_bytes / nnz:.1f}")
    if not args.no_brian2:
        for device in ("cpp_standalone", "cython"):
            try:
                res = _bench_brian2(device, args)
            except Exception as exc:  # Brian2 present but its toolchain is not
                print(f"{'brian2 ' + device:>16}: not run ({type(exc).__name__}: {exc})")
                continue
            if res is None:
                print(f"{'brian2 ' + device:>16}: not run (brian2 is not importable; see --brian2-python)")
                break
            walls, spikes = res
            print(f"{'brian2 ' + device:>16}: wall_s={statistics.median(walls):.3f} (Brian2's run time, median of "
                  f"{args.repeats}) spikes={spikes[-1]} (its own random connectivity and initial state)")
    same = len(set(counts.values())) <= 1
    print(f"identical spike counts across engine backends: {same} {counts}")
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
