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

Usage: ``python bench/cuba.py [--repeats 3] [--duration 1.0]``.  Prints the
machine, sizes, ``wall_s=`` (simulation only, median of the repeats),
neuron-steps per second and the total spike count.
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    ap.add_argument("--backend", default="numpy")
    args = ap.parse_args(argv)

    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"{os.cpu_count()} logical CPUs | python {platform.python_version()} | numpy {np.__version__}")
    print(f"sizes: 4000 neurons (3200 exc + 800 inh), p={P_CONNECT}, dt={DT * 1e3} ms, "
          f"{args.duration} s = {round(args.duration / DT)} steps, backend={args.backend}")
    walls, cpus, spikes = [], [], []
    for _ in range(args.repeats):
        net = build_cuba()
        net.simulator(args.backend, DT)  # compile outside the timed region
        t0, c0 = time.perf_counter(), time.process_time()
        out = net.run(args.duration, dt=DT, backend=args.backend)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        spikes.append(sum(out["spike_counts"].values()))
    wall = statistics.median(walls)
    n_steps = round(args.duration / DT)
    print(f"synapses: {sum(p.nnz for p in net.projections)}")
    print(f"wall_s={wall:.3f} (median of {args.repeats}; all: {', '.join(f'{w:.3f}' for w in walls)})")
    # CPU time of this process is less sensitive than wall time to other load
    print(f"cpu_s={statistics.median(cpus):.3f} (median); load average at end: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"neuron_steps_per_s={4000 * n_steps / wall:.3e}")
    print(f"total_spikes={spikes[-1]} (per run: {spikes}) mean_rate_hz={spikes[-1] / 4000 / args.duration:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
