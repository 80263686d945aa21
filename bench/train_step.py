"""Benchmark: one training step of a spiking MLP on CPU.

One step = forward over T time steps + cross-entropy on output spike counts +
backward + ``torch.optim.Adam.step``, for a 784-1000-10 LIF MLP
(``v = beta*v + W x; spike = H(v - 1); subtract reset``, beta = 0.9), T = 25,
batch 128, atan surrogate (alpha = 2), ``torch.set_num_threads(2)``.

Variants (median and minimum wall time in ms over ``--iters`` steps, after
warm-up, plus the median process CPU time, which is less disturbed by other
processes on a shared machine than wall time):

* ``plain``      -- the floor: a hand-written loop with a minimal inline
  ``torch.autograd.Function`` whose backward uses the same in-place
  arithmetic as the library (no library code at all);
* ``custom_op``  -- ``engine.training.LIFCell`` with ``atan_surrogate`` on the
  ``torch.library.custom_op`` path;
* ``legacy``     -- the same cell on the ``torch.autograd.Function`` path;
* each of the three again with the per-time-step function under
  ``torch.compile(fullgraph=True)`` (compilation time is reported separately
  and excluded from the median).

Run: ``.venv/bin/python bench/train_step.py`` (about 1-3 minutes on 2 idle
cores; ``--quick`` for a smaller smoke run, ``--no-compile`` to skip
compilation).  On a machine busy with other processes, two OpenMP threads
wait for each other's core and wall times inflate several-fold and erratically;
``--threads 1`` and the process-CPU column then give the comparable figures.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from engine.training import LIFCell  # noqa: E402
from engine.training.surrogate import atan_surrogate_custom_op, atan_surrogate_legacy  # noqa: E402

BETA, THRESHOLD, ALPHA = 0.9, 1.0, 2.0


class _PlainSpike(torch.autograd.Function):
    """Hand-written Heaviside / atan surrogate (Fang et al. 2021) -- the floor."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        # alpha / (2 * (1 + (pi*alpha*x/2)^2)), with in-place ops on one
        # temporary -- about 3x faster than the textbook one-liner
        # ``grad * (ALPHA/2) / (1 + (c*x)**2)``, so the floor is a real floor.
        (x,) = ctx.saved_tensors
        t = x * (math.pi * ALPHA / 2)
        return t.mul_(t).add_(1.0).reciprocal_().mul_(ALPHA / 2).mul_(grad)


class PlainMLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])

    def step(self, x, v1, v2):
        v1 = torch.add(self.fc1(x), v1, alpha=BETA)
        s1 = _PlainSpike.apply(v1 - THRESHOLD)
        v1 = torch.sub(v1, s1.detach(), alpha=THRESHOLD)
        v2 = torch.add(self.fc2(s1), v2, alpha=BETA)
        s2 = _PlainSpike.apply(v2 - THRESHOLD)
        v2 = torch.sub(v2, s2.detach(), alpha=THRESHOLD)
        return s2, v1, v2


class CellMLP(nn.Module):
    def __init__(self, sizes, surrogate_fn):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])
        self.lif1 = LIFCell(BETA, THRESHOLD, surrogate_fn)
        self.lif2 = LIFCell(BETA, THRESHOLD, surrogate_fn)

    def step(self, x, v1, v2):
        s1, v1 = self.lif1(self.fc1(x), v1)
        s2, v2 = self.lif2(self.fc2(s1), v2)
        return s2, v1, v2


class SnnTorchMLP(nn.Module):
    """The same network with snnTorch's ``Leaky`` neurons (subtract reset,
    atan surrogate) -- an optional peer, measured only when snnTorch is
    importable (it is not a dependency: ``pip install snntorch``)."""

    def __init__(self, sizes):
        super().__init__()
        import snntorch
        from snntorch import surrogate

        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])
        grad = surrogate.atan(alpha=ALPHA)
        self.lif1 = snntorch.Leaky(beta=BETA, threshold=THRESHOLD, spike_grad=grad, reset_mechanism="subtract")
        self.lif2 = snntorch.Leaky(beta=BETA, threshold=THRESHOLD, spike_grad=grad, reset_mechanism="subtract")

    def step(self, x, v1, v2):
        s1, v1 = self.lif1(self.fc1(x), v1)
        s2, v2 = self.lif2(self.fc2(s1), v2)
        return s2, v1, v2


def _snntorch_available() -> bool:
    try:
        import snntorch  # noqa: F401
    except Exception:  # not installed, or broken beside this torch
        return False
    return True


def make_step(model, compiled):
    step = torch.compile(model.step, fullgraph=True) if compiled else model.step
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def train_step(inputs, labels):
        T, B = inputs.shape[:2]
        v1 = inputs.new_zeros(B, model.fc1.out_features)
        v2 = inputs.new_zeros(B, model.fc2.out_features)
        counts = 0
        for t in range(T):
            s2, v1, v2 = step(inputs[t], v1, v2)
            counts = counts + s2
        loss = loss_fn(counts, labels)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        return loss.item()

    return train_step


def measure(steps, args_, warmup, iters):
    """Warm up (and compile) each variant, then time them round-robin -- one
    step of each variant per round -- so that load from other processes on a
    shared machine hits every variant alike.  Returns {label: (median, min,
    warm-up seconds)}."""
    warm = {}
    for label, fn in steps.items():
        t0 = time.perf_counter()
        for _ in range(warmup):
            fn(*args_)
        warm[label] = time.perf_counter() - t0
    times = {label: [] for label in steps}
    cpu = {label: [] for label in steps}
    for _ in range(iters):
        for label, fn in steps.items():
            c = time.process_time()
            t = time.perf_counter()
            fn(*args_)
            times[label].append((time.perf_counter() - t) * 1e3)
            cpu[label].append((time.process_time() - c) * 1e3)
    return {label: (statistics.median(ts), min(ts), warm[label], statistics.median(cpu[label]))
            for label, ts in times.items()}


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _load():
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="T=5, batch 32: a smoke run")
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args(argv)
    if args.iters < 1 or args.warmup < 1:
        ap.error("--iters and --warmup must be >= 1")

    torch.set_num_threads(args.threads)
    sizes, T, batch = (784, 1000, 10), 25, 128
    if args.quick:
        T, batch = 5, 32
    print(f"machine: {platform.node()} {platform.machine()} {_cpu_model()} cpus={os.cpu_count()} "
          f"load={_load()} torch={torch.__version__} threads={torch.get_num_threads()}")
    print(f"sizes: {sizes[0]}-{sizes[1]}-{sizes[2]} LIF MLP, T={T}, batch={batch}, float32, "
          f"atan surrogate (alpha={ALPHA}), Adam; median of {args.iters} steps after {args.warmup} warm-up")

    gen = torch.Generator().manual_seed(0)
    inputs = torch.rand(T, batch, sizes[0], generator=gen) * 0.1
    labels = torch.randint(0, sizes[2], (batch,), generator=gen)

    variants = [
        ("plain", lambda: PlainMLP(sizes)),
        ("custom_op", lambda: CellMLP(sizes, atan_surrogate_custom_op)),
        ("legacy", lambda: CellMLP(sizes, atan_surrogate_legacy)),
    ]
    steps = {}
    for compiled in ([False] if args.no_compile else [False, True]):
        for name, build in variants:
            torch.manual_seed(0)
            steps[name + (" +compile" if compiled else "")] = make_step(build(), compiled)
    if _snntorch_available():
        import snntorch

        print(f"peer: snntorch {snntorch.__version__} (Leaky, same sizes and surrogate; eager)")
        torch.manual_seed(0)
        steps["snntorch"] = make_step(SnnTorchMLP(sizes), False)
    else:
        print("peer: snntorch not installed (pip install snntorch) -- skipped")
    measured = measure(steps, (inputs, labels), args.warmup, args.iters)
    results, cpu_results = {}, {}
    for label, (med, best, warm, cpu) in measured.items():
        results[label] = med
        cpu_results[label] = cpu
        extra = f"  (warm-up incl. compile {warm:6.1f} s)" if "compile" in label else ""
        print(f"{label:20s} median {med:8.1f} ms   min {best:8.1f} ms   process CPU median {cpu:8.1f} ms"
              f"{extra}", flush=True)
    print()
    for compiled in ("", " +compile"):
        base = results.get("plain" + compiled)
        if base is None:
            continue
        for name in ("custom_op", "legacy", "snntorch"):
            if name + compiled not in results:
                continue
            r = results[name + compiled]
            c = cpu_results[name + compiled] / cpu_results["plain" + compiled]
            print(f"{name + compiled:20s} / plain{compiled}: wall {r / base:6.3f}x   process CPU {c:6.3f}x")


if __name__ == "__main__":
    main()
