"""Fixed-point LIF throughput: scalar loop vs naive NumPy vs the optimised kernel.

Steps N bit-true ``sc_lif_neuron`` models (Q8.8, leak_k=20, gain_k=64,
refractory 2, random input codes so a few percent fire each step) with

* ``scalar``  -- a Python loop over ``FixedPointLIFNeuron`` objects (N <= 1e4);
* ``naive``   -- straightforward int64 NumPy with temporaries and ``np.where``;
* ``optimised`` -- ``FixedPointLIFArray``: in-place ufuncs on the narrowest
  exact dtype (int32 for Q8.8), processed in cache-sized blocks.

Before timing, the three are checked bit for bit against each other.  Prints
the machine and, per N, the median neuron-steps/s of each.

Usage: ``python bench/fixed_point.py [--repeats 7] [--sizes 1000,100000,1000000]``;
``--network``: the ``fixed_point`` backend's Python vs compiled loop on two example networks.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from engine.models.fixed_point_lif import FixedPointLIFArray, FixedPointLIFNeuron, _naive_step  # noqa: E402

CFG = dict(data_width=16, fraction=8, v_rest=0, v_reset=0, v_threshold=256, refractory_period=2)
LEAK, GAIN = 20, 64
SCALAR_MAX_N = 10_000


def machine() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        model = platform.processor()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.system()} {platform.machine()}, {model}, {os.cpu_count()} logical CPUs, "
            f"load avg {load:.2f}, Python {platform.python_version()}, NumPy {np.__version__}")


def time_steps(step, n_steps: int, repeats: int) -> float:
    """Median seconds per step over ``repeats`` runs of ``n_steps`` steps."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n_steps):
            step()
        times.append((time.perf_counter() - t0) / n_steps)
    return statistics.median(times)


def check_bit_exact(n: int = 2000, steps: int = 50) -> None:
    rng = np.random.default_rng(1)
    scal = [FixedPointLIFNeuron(**CFG) for _ in range(n)]
    arr = FixedPointLIFArray(n, **CFG)
    v, c = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for _ in range(steps):
        cur = rng.integers(-200, 1400, n)
        want = [s.step(LEAK, GAIN, int(x)) for s, x in zip(scal, cur.tolist())]
        spk, v, c = _naive_step(v, c, LEAK, GAIN, cur, 0, **CFG)
        got = arr.step(LEAK, GAIN, cur.astype(np.int32))
        assert [w[0] for w in want] == spk.astype(int).tolist() == got.astype(int).tolist()
        assert [w[1] for w in want] == v.tolist() == arr.v.tolist()


def network_loops(repeats: int) -> None:
    """The fixed_point backend on whole networks: the Python step loop against
    the compiled chunk loop (same codes), 1000 steps, wall and CPU medians."""
    import json
    import warnings

    from engine.backends.fixed_point import FixedPointSimulator
    from engine.network import Network

    assets = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assets", "networks")
    warnings.simplefilter("ignore")
    for name in ("cuba", "poisson_feedforward"):
        with open(os.path.join(assets, f"{name}.json")) as fh:
            doc = json.load(fh)
        for kernel in ("python", "compiled"):
            net = Network.from_dict(doc)
            sim = FixedPointSimulator(net, 0.001, qformat="Q8.8", kernel=kernel)
            sim.advance(1)  # compile or load the kernel
            wall, cpu = [], []
            for _ in range(repeats):
                sim.reset()
                c0, t0 = time.process_time(), time.perf_counter()
                sim.advance(1000)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            n = sum(p.n for p in net.populations)
            print(f"{name} ({n} neurons) x 1000 steps, {kernel:>8} loop: wall {statistics.median(wall) * 1e3:7.1f} ms,"
                  f" CPU {statistics.median(cpu) * 1e3:7.1f} ms (median of {repeats}, load {os.getloadavg()[0]:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--network", action="store_true",
                    help="only the backend's Python vs compiled loop on CUBA and poisson_feedforward")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {machine()}")
    if args.network:
        network_loops(args.repeats)
        return
    check_bit_exact()
    print("bit-exact check (scalar == naive == optimised, 2000 neurons x 50 steps): ok")
    print(f"{'N':>9} {'variant':>10} {'dtype':>6} {'neuron-steps/s (median)':>24}")
    for n in sizes:
        rng = np.random.default_rng(0)
        cur64 = rng.integers(-200, 1400, n)
        steps = max(3, min(200, 2_000_000 // n))
        if n <= SCALAR_MAX_N:
            neurons = [FixedPointLIFNeuron(**CFG) for _ in range(n)]
            cur_list = cur64.tolist()

            def scalar_step():
                for nrn, x in zip(neurons, cur_list):
                    nrn.step(LEAK, GAIN, x)

            sec = time_steps(scalar_step, max(1, steps // 20), args.repeats)
            print(f"{n:>9} {'scalar':>10} {'int':>6} {n / sec:>24,.0f}")
        state = {"v": np.zeros(n, np.int64), "c": np.zeros(n, np.int64)}

        def naive_step():
            _, state["v"], state["c"] = _naive_step(state["v"], state["c"], LEAK, GAIN, cur64, 0, **CFG)

        sec = time_steps(naive_step, steps, args.repeats)
        print(f"{n:>9} {'naive':>10} {'int64':>6} {n / sec:>24,.0f}")
        arr = FixedPointLIFArray(n, **CFG)
        cur = cur64.astype(arr.dtype)
        fired = [0]

        def opt_step():
            fired[0] += int(np.count_nonzero(arr.step(LEAK, GAIN, cur)))

        sec = time_steps(lambda: arr.step(LEAK, GAIN, cur), steps, args.repeats)
        print(f"{n:>9} {'optimised':>10} {np.dtype(arr.dtype).name:>6} {n / sec:>24,.0f}")
        for _ in range(10):
            opt_step()
        print(f"{'':>9} (fraction of neurons firing per step: {fired[0] / (10 * n):.3f})")


if __name__ == "__main__":
    main()
