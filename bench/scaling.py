"""Scaling benchmark: CUBA-style random networks of 4 000, 40 000 and 400 000
neurons with 80 synapses per neuron (fixed in-degree on average:
``p = 80 / n``), 80 % excitatory / 20 % inhibitory, exponential current
synapses (5 / 10 ms), dt = 0.1 ms -- the Vogels & Abbott (2005) network of
``bench/cuba.py`` with its weights rescaled so the mean drive per neuron is
the same at every size (Brian2's benchmark suites scale CUBA the same way).

Usage: ``python bench/scaling.py [--sizes 4000,40000] [--duration 0.1]
[--backends numpy,compiled] [--repeats 3] [--large]``; ``--large`` adds the
400 000-neuron network (32 M synapses, ~0.5 GB of connectivity; minutes on
NumPy).  Prints the machine, the load average, and per size and backend the
median wall / CPU seconds per simulated second, compile time apart, spikes
and bytes per synapse.
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

from engine.network import Network, Population, Projection  # noqa: E402

TAU_M, V_T, V_R, E_L = 20.0, -50.0, -60.0, -49.0
TAU_E, TAU_I = 5.0, 10.0
DT = 1e-4
SYN_PER_NEURON = 80


def build(n: int, seed: int = 1) -> Network:
    n_exc = int(round(0.8 * n))
    n_inh = n - n_exc
    p = SYN_PER_NEURON / n
    # CUBA has 80 inputs per neuron at n = 4000 (p = 0.02): keep its weights
    w_e, w_i = 60 * 0.27 / 10, -20 * 4.5 / 10
    params = dict(tau=TAU_M, resistance=1.0, v_rest=E_L, v_reset=V_R, v_threshold=V_T,
                  refractory_period=int(round(5.0 / (DT * 1e3))))
    exc = Population("LapicqueNeuron", n_exc, params, label="exc")
    inh = Population("LapicqueNeuron", n_inh, params, label="inh")
    rng = np.random.default_rng(seed)
    exc.set_voltages(V_R + rng.random(n_exc) * (V_T - V_R))
    inh.set_voltages(V_R + rng.random(n_inh) * (V_T - V_R))
    objs = [exc, inh]
    for k, (src, tgt, w, tau) in enumerate([(exc, exc, w_e, TAU_E), (exc, inh, w_e, TAU_E),
                                            (inh, exc, w_i, TAU_I), (inh, inh, w_i, TAU_I)]):
        objs.append(Projection(src, tgt, w, probability=p, seed=seed * 10 + k, tau_syn=tau))
    return Network(*objs, seed=seed)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="4000,40000")
    ap.add_argument("--large", action="store_true", help="add the 400 000-neuron network")
    ap.add_argument("--duration", type=float, default=0.1, help="simulated seconds per run")
    ap.add_argument("--backends", default="numpy,compiled")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if "torch" in args.backends:
        import torch

        # one thread, as the other backends: torch's spinning worker threads
        # otherwise burn CPU time on a shared machine
        torch.set_num_threads(1)
    if args.large and 400_000 not in sizes:
        sizes.append(400_000)
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"{os.cpu_count()} logical CPUs | python {platform.python_version()} | numpy {np.__version__}")
    print(f"{SYN_PER_NEURON} synapses/neuron, dt={DT * 1e3} ms, {args.duration} s per run, "
          f"medians of {args.repeats}; load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'neurons':>8} {'backend':>9} {'build_s':>8} {'compile_s':>9} {'wall_s/sim_s':>12} "
          f"{'cpu_s/sim_s':>11} {'spikes':>9} {'synapses':>10} {'B/syn':>6}")
    for n in sizes:
        for backend in [b for b in args.backends.split(",") if b]:
            walls, cpus, spikes = [], [], []
            compile_s = build_s = 0.0
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                net = build(n)
                build_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                sim = net.simulator(backend, DT)
                compile_s = getattr(sim, "compile_seconds", time.perf_counter() - t0)
                t0, c0 = time.perf_counter(), time.process_time()
                out = net.run(args.duration, dt=DT, backend=backend)
                walls.append((time.perf_counter() - t0) / args.duration)
                cpus.append((time.process_time() - c0) / args.duration)
                spikes.append(sum(out["spike_counts"].values()))
            nnz = sum(p.nnz for p in net.projections)
            nbytes = sum(p.indices.nbytes + p.data.nbytes + p.indptr.nbytes for p in net.projections)
            print(f"{n:>8} {backend:>9} {build_s:>8.2f} {compile_s:>9.2f} {statistics.median(walls):>12.3f} "
                  f"{statistics.median(cpus):>11.3f} {spikes[-1]:>9} {nnz:>10} {nbytes / nnz:>6.1f}", flush=True)
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
