"""Per-model throughput: steps per second of every registered model, so a
slow kernel shows.

Each model runs as one population of ``--n`` neurons (default 1000) under a
step current at the top of its ``current_range`` with a recurrent random
projection (80 synapses per neuron at n = 1000; exponential synapse for float
models), at its own ``default_dt``, for ``--steps`` steps (default 2000), on
each of ``--backends`` (default numpy, torch, compiled).  Compilation of the
compiled backend is reported apart.  Prints the machine, the load, and per
model and backend the median steps per wall second and per CPU second
(process time) of ``--repeats`` runs (default 3).

Usage: ``python bench/models.py [--n 1000] [--steps 2000] [--backends
numpy,compiled] [--models LapicqueNeuron,HodgkinHuxleyNeuron]``.
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

from engine.models import registry  # noqa: E402
from engine.network import Network, Population, Projection, StepCurrent  # noqa: E402


def build(name: str, n: int) -> Network:
    cls = registry[name]
    lo, hi = cls.current_range
    pop = Population(name, n, label="P")
    objs = [pop]
    if cls.integer:
        objs.append(Projection(pop, pop, max(1, int(round(0.05 * (hi - lo)))), probability=min(1.0, 80 / n), seed=1))
        objs.append(StepCurrent(0, 10 ** 9, max(1, int(round(hi))), target=pop))
    else:
        w = 0.05 * (hi - lo)
        objs.append(Projection(pop, pop, {"dist": "uniform", "low": -w, "high": w}, probability=min(1.0, 80 / n),
                               tau_syn=2.0, seed=1))
        objs.append(StepCurrent(0, 10 ** 9, hi, target=pop))
    return Network(*objs, seed=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--backends", default="numpy,torch,compiled")
    ap.add_argument("--models", default="", help="comma-separated registry names (default: all)")
    args = ap.parse_args(argv)
    names = [m for m in args.models.split(",") if m] or sorted(registry)
    backends = [b for b in args.backends.split(",") if b]
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"{os.cpu_count()} logical CPUs | python {platform.python_version()} | numpy {np.__version__}")
    print(f"n={args.n} neurons per model, {args.steps} steps at the model's default_dt, medians of {args.repeats}; "
          f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'model':>28} " + " ".join(f"{b + ' steps/s wall / CPU':>20}" for b in backends) + f" {'compile_s':>9}")
    for name in names:
        cells, compile_s = [], ""
        for backend in backends:
            try:
                rates, cpu_rates = [], []
                for _ in range(args.repeats):
                    net = build(name, args.n)
                    dt = registry[name].default_dt * 1e-3
                    t0 = time.perf_counter()
                    sim = net.simulator(backend, dt)
                    if backend == "compiled":
                        compile_s = f"{getattr(sim, 'compile_seconds', time.perf_counter() - t0):.2f}"
                    t0, c0 = time.perf_counter(), time.process_time()
                    sim.advance(args.steps)
                    rates.append(args.steps / (time.perf_counter() - t0))
                    cpu_rates.append(args.steps / max(time.process_time() - c0, 1e-9))
                # steps per wall second / per CPU second (the latter is what a
                # shared, loaded machine still measures fairly)
                cells.append(f"{statistics.median(rates):>9.0f} / {statistics.median(cpu_rates):<9.0f}")
            except Exception as exc:  # e.g. the RTL model on torch: shown, not fatal
                cells.append(f"{'n/a (' + type(exc).__name__ + ')':>20}")
        print(f"{name:>28} " + " ".join(cells) + f" {compile_s:>9}", flush=True)
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
