"""Sweep benchmark: points per second, serially and on a Dask LocalCluster.

The network: 400 excitatory noisy LIF neurons and 100 inhibitory Lapicque
neurons, p = 0.1 random connectivity both ways, Poisson drive; each point
simulates ``--duration`` s at dt = 1 ms and measures rates, counts and CV of
ISI.  The grid is excitatory tau_mem x the exc->inh weight.

The LocalCluster is timed twice: including its start-up (what one
``sweep()`` call without a client costs) and with a client made beforehand
(what the app's sweep lab pays after its first sweep).  Tables are checked
equal to the serial one.

Usage: ``python bench/sweep.py [--points 24] [--duration 0.5] [--workers 2] [--repeats 3]``.
Prints the machine, its load average, and the median of the repeats.
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
import pandas as pd  # noqa: E402

from engine.network import ConstantCurrent, Network, PoissonInput, Population, Projection  # noqa: E402
from engine.sweep import sweep  # noqa: E402


def network() -> Network:
    e = Population("StochasticLIFNeuron", 400, params={"noise_std": 0.1, "tau_mem": 15.0}, label="exc")
    i = Population("LapicqueNeuron", 100, params={"tau": 8.0}, label="inh")
    return Network(e, i, Projection(e, i, 0.3, probability=0.1, seed=1),
                   Projection(i, e, -0.2, probability=0.1, seed=2),
                   PoissonInput(400, 40.0, 1.2, target=e, label="poisson"),
                   ConstantCurrent(0.03, target=e, label="bias"), seed=3)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=24)
    ap.add_argument("--duration", type=float, default=0.5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    n_tau = max(1, args.points // 4)
    grid = {"population:exc.tau_mem": list(np.linspace(8.0, 30.0, n_tau)),
            "projection:exc->inh.weight": [0.1, 0.3, 0.6, 1.0]}
    points = n_tau * 4
    doc = network().to_dict()
    measures = ("rate", "count", "cv_isi")
    print(f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
          f"python={platform.python_version()} load_avg={os.getloadavg()}")
    print(f"points={points} duration={args.duration} s dt=1 ms (per point {int(args.duration * 1000)} steps, "
          f"500 neurons) workers={args.workers} repeats={args.repeats}")

    def timed(fn):
        t0 = time.perf_counter()
        df = fn()
        return time.perf_counter() - t0, df

    serial_t, ref = [], None
    for _ in range(args.repeats):
        t, ref = timed(lambda: sweep(doc, grid, duration=args.duration, measures=measures, backend="serial"))
        serial_t.append(t)
    cold_t = []
    for _ in range(args.repeats):
        t, df = timed(lambda: sweep(doc, grid, duration=args.duration, measures=measures,
                                    n_workers=args.workers))
        pd.testing.assert_frame_equal(df.drop(columns="run_time_s"), ref.drop(columns="run_time_s"))
        cold_t.append(t)
    from dask.distributed import Client, LocalCluster

    warm_t = []
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address="127.0.0.1:0", host="127.0.0.1") as cluster, Client(cluster) as client:
        sweep(doc, {"population:exc.tau_mem": [10.0]}, duration=0.01, client=client)  # workers import engine
        for _ in range(args.repeats):
            t, df = timed(lambda: sweep(doc, grid, duration=args.duration, measures=measures, client=client))
            pd.testing.assert_frame_equal(df.drop(columns="run_time_s"), ref.drop(columns="run_time_s"))
            warm_t.append(t)
    per_point = float(ref["run_time_s"].median())
    for name, ts in (("serial", serial_t), ("local_cluster_with_startup", cold_t),
                     ("local_cluster_warm_client", warm_t)):
        m = statistics.median(ts)
        print(f"{name:<28} wall_s={m:7.3f}  points_per_s={points / m:7.2f}")
    print(f"median point run_time_s={per_point:.4f} (on its worker); tables identical to serial: yes")
    print(f"load_avg_after={os.getloadavg()}")


if __name__ == "__main__":
    main()
