"""Float vs fixed-point: how much does quantising a network change what it does?

:func:`compare_float_fixed` runs the same network twice from step 0 -- once on
the float NumPy backend, once on the ``fixed_point`` backend in a given
Q-format -- and reports, per population:

* per-neuron spike-train agreement: the fraction of steps on which both runs
  agree (spike/no spike), and the spike-count ratio;
* firing rates of both runs and the rate error (Hz, and relative to the float rate);
* the first divergence step (earliest step whose spike differs) per neuron and
  per population;
* how often the fixed-point input ``I_t`` saturated and the membrane sum wrapped;

plus every quantisation warning (a leak, gain or weight that rounded to zero
or saturated, with the smallest Q-format that avoids it).  The network is
reset before and after, so its own monitors end empty at step 0.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["PopulationComparison", "ComparisonReport", "compare_float_fixed"]


@dataclass
class PopulationComparison:
    label: str
    n: int
    agreement: np.ndarray          # per neuron, fraction of steps with the same output
    rate_float_hz: np.ndarray      # per neuron
    rate_fixed_hz: np.ndarray
    first_divergence: np.ndarray   # per neuron, step index or -1 when never
    input_saturated: int = 0
    v_wrapped: int = 0

    @property
    def mean_agreement(self) -> float:
        return float(self.agreement.mean())

    @property
    def identical_neurons(self) -> int:
        return int(np.count_nonzero(self.first_divergence < 0))

    @property
    def rate_error_hz(self) -> float:
        """Mean absolute per-neuron rate difference."""
        return float(np.abs(self.rate_fixed_hz - self.rate_float_hz).mean())

    @property
    def relative_rate_error(self) -> float:
        """|total fixed rate - total float rate| / total float rate (inf if float is silent and fixed is not)."""
        f, x = float(self.rate_float_hz.sum()), float(self.rate_fixed_hz.sum())
        if f == 0.0:
            return 0.0 if x == 0.0 else float("inf")
        return abs(x - f) / f

    @property
    def first_divergence_step(self) -> int | None:
        d = self.first_divergence[self.first_divergence >= 0]
        return int(d.min()) if d.size else None


@dataclass
class ComparisonReport:
    qformat: str
    n_steps: int
    dt: float
    populations: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    # seconds spent: float run, fixed run (simulator set-up included), metrics
    timings: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"float vs fixed point ({self.qformat}), {self.n_steps} steps of {self.dt * 1e3:g} ms"]
        head = (f"{'population':<12} {'n':>5} {'agree':>7} {'same':>6} {'rate_f':>8} {'rate_x':>8} "
                f"{'rate_err':>9} {'rel_err':>8} {'1st_div':>8} {'I_sat':>7} {'v_wrap':>7}")
        lines.append(head)
        for c in self.populations.values():
            div = "-" if c.first_divergence_step is None else str(c.first_divergence_step)
            lines.append(f"{c.label:<12} {c.n:>5} {c.mean_agreement:>7.4f} {c.identical_neurons:>6} "
                         f"{c.rate_float_hz.mean():>8.2f} {c.rate_fixed_hz.mean():>8.2f} {c.rate_error_hz:>9.3f} "
                         f"{c.relative_rate_error:>8.3f} {div:>8} {c.input_saturated:>7} {c.v_wrapped:>7}")
        lines.append("(agree: mean fraction of steps with equal output; same: neurons with identical trains; "
                     "rates in Hz)")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)

    __str__ = summary  # print(report) shows the table, repr() keeps the arrays

    def as_dict(self) -> dict:
        return {"qformat": self.qformat, "n_steps": self.n_steps, "dt": self.dt, "warnings": list(self.warnings),
                "populations": {k: {"n": c.n, "mean_agreement": c.mean_agreement,
                                    "identical_neurons": c.identical_neurons,
                                    "rate_float_hz": float(c.rate_float_hz.mean()),
                                    "rate_fixed_hz": float(c.rate_fixed_hz.mean()),
                                    "rate_error_hz": c.rate_error_hz,
                                    "relative_rate_error": c.relative_rate_error,
                                    "first_divergence_step": c.first_divergence_step,
                                    "input_saturated": c.input_saturated, "v_wrapped": c.v_wrapped}
                                for k, c in self.populations.items()}}


def _raster(chunk, pops, n_steps):
    out = {}
    for p in pops:
        r = np.zeros((n_steps, p.n), dtype=bool)
        steps, ids = chunk.spikes[p.label]
        r[steps - chunk.start_step, ids] = True
        out[p.label] = r
    return out


def compare_float_fixed(network, duration=None, dt: float = 0.001, qformat=None, *, n_steps=None,
                        float_backend: str = "numpy", options: dict | None = None,
                        return_chunks: bool = False):
    """Run ``network`` in float and in fixed point and compare (see module docstring).

    Give ``duration`` (s) or ``n_steps``.  Quantisation warnings are collected
    into the report (and still emitted).  With ``return_chunks`` the result is
    ``(report, float_chunk, fixed_chunk)`` (spikes and monitor traces of both runs)."""
    from engine.backends import compile as compile_network
    from engine.backends.fixed_point import FixedPointSimulator, QuantisationWarning, _warn_user

    if n_steps is None:
        if duration is None:
            raise ValueError("give duration (s) or n_steps")
        n_steps = int(round(float(duration) / float(dt)))
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    n_steps = int(n_steps)
    network.reset()
    t0 = time.perf_counter()
    try:
        sim_f = compile_network(network, float_backend, dt)
        chunk_f = sim_f.advance(n_steps)
        sim_f.reset()
        t1 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", QuantisationWarning)
            sim_x = FixedPointSimulator(network, dt, qformat=qformat, options=options)
            chunk_x = sim_x.advance(n_steps)
        notes = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, QuantisationWarning)))
        for n in notes:
            _warn_user(n)  # at the caller's line, like the backend's own warnings
        stats = {k: dict(v) for k, v in sim_x.stats.items()}
        sim_x.reset()
    finally:
        network.reset()
    t2 = time.perf_counter()
    pops = network.populations
    rf, rx = _raster(chunk_f, pops, n_steps), _raster(chunk_x, pops, n_steps)
    seconds = n_steps * dt
    report = ComparisonReport(str(sim_x.qformat), n_steps, dt, warnings=notes)
    for p in pops:
        a, b = rf[p.label], rx[p.label]
        diff = a != b
        first = np.where(diff.any(axis=0), diff.argmax(axis=0), -1)
        report.populations[p.label] = PopulationComparison(
            p.label, p.n, agreement=1.0 - diff.mean(axis=0), rate_float_hz=a.sum(axis=0) / seconds,
            rate_fixed_hz=b.sum(axis=0) / seconds, first_divergence=first.astype(np.int64),
            input_saturated=stats[p.label]["input_saturated"], v_wrapped=stats[p.label]["v_wrapped"])
    report.timings = {"float_s": t1 - t0, "fixed_s": t2 - t1, "metrics_s": time.perf_counter() - t2}
    if return_chunks:
        return report, chunk_f, chunk_x
    return report
