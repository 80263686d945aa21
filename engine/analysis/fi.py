"""F-I curves, rheobase and Hodgkin's excitability class, from one population.

Every current of the curve is one neuron of a population stepped by the
model's own kernel, so an F-I curve of N points costs about one single-neuron
run (numpy steps all N at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.analysis.protocols import AnalysisInputError, n_steps, number
from engine.analysis.single import (compiled_available, detect_spikes, is_graded, make_model, rearm_level,
                                    spike_threshold)

__all__ = ["FICurve", "Cancelled", "fi_curve", "rheobase", "population_rates", "CLASS_RATIO"]

#: onset rate / rate 20 % of the span above rheobase below which the onset is
#: called continuous (class I); HH gives ~0.8, LIF and a SNIC neuron < 0.15
CLASS_RATIO = 0.3


class Cancelled(Exception):
    """Raised inside :func:`fi_curve` when its ``cancel`` callback says so."""


@dataclass
class FICurve:
    currents: np.ndarray
    rates_hz: np.ndarray
    rheobase: float | None          # lowest current found to fire repetitively (None: none fired)
    onset_rate_hz: float            # steady rate at the rheobase
    excitability: str               # "class I", "class II" or "" (undetermined)
    note: str = ""
    extra: dict = field(default_factory=dict)


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if callable(is_set) else cancel())


def population_rates(model, currents, duration_ms: float, *, params: dict | None = None,
                     transient_ms: float | None = None, progress=None, cancel=None,
                     progress_span=(0.0, 1.0)) -> np.ndarray:
    """Steady firing rate (Hz) of one neuron per constant current.

    Rate = (number of spikes after ``transient_ms`` - 1) / (time from the
    first to the last of them), i.e. the inverse mean inter-spike interval
    once onset effects are over; 0 with fewer than two such spikes.
    ``transient_ms`` defaults to half the run.  ``progress(fraction)`` is
    called as the run goes; ``cancel`` (a callable or a ``threading.Event``)
    stops it with :class:`Cancelled`."""
    m = make_model(model, params)
    cls = type(m)
    cur = np.asarray(currents, dtype=np.float64).ravel()
    if cur.size == 0 or not np.all(np.isfinite(cur)):
        raise AnalysisInputError("currents", "must be a non-empty list of finite numbers")
    dt = cls.default_dt
    n = n_steps(duration_ms, dt)
    skip = int(round((0.5 * n * dt if transient_ms is None else number(transient_ms, "transient_ms", minimum=0))
                     / dt))
    if compiled_available() and not m.draws_random():
        try:
            return _rates_compiled(m, cur, n, skip, progress, cancel, progress_span)
        except Cancelled:
            raise
        except Exception:  # noqa: BLE001 - a model the compiled backend cannot take: the kernel loop
            pass
    state = m.initial_state(cur.size)
    view, step = m.view(), type(m).step
    rng = np.random.default_rng(0)
    graded = is_graded(cls)
    if graded:
        thr_rearm = rearm_level(m)
        vv = state[cls.voltage_variable]
        armed = np.ones(cur.size, dtype=bool)
    count = np.zeros(cur.size, dtype=np.int64)
    first = np.full(cur.size, -1, dtype=np.int64)
    last = np.full(cur.size, -1, dtype=np.int64)
    every = max(1, n // 50)
    p0, p1 = progress_span
    for k in range(n):
        fired = np.asarray(step(view, state, cur, dt, rng)) != 0
        if graded:
            fired &= armed
            armed = (armed & ~fired) | (vv < thr_rearm)
        if k >= skip and fired.any():
            count += fired
            first[(first < 0) & fired] = k
            last[fired] = k
        if k % every == 0:
            if _is_cancelled(cancel):
                raise Cancelled()
            if progress is not None:
                progress(p0 + (p1 - p0) * k / n)
    rates = np.zeros(cur.size)
    ok = (count >= 2) & (last > first)
    rates[ok] = (count[ok] - 1) / ((last[ok] - first[ok]) * dt * 1e-3)
    return rates


def _rate_from_steps(steps_per_neuron, skip: int, dt: float) -> np.ndarray:
    rates = np.zeros(len(steps_per_neuron))
    for j, st in enumerate(steps_per_neuron):
        st = st[st >= skip]
        if st.size >= 2 and st[-1] > st[0]:
            rates[j] = (st.size - 1) / ((st[-1] - st[0]) * dt * 1e-3)
    return rates


def _rates_compiled(m, cur, n, skip, progress, cancel, span):
    """:func:`population_rates` on the ``"compiled"`` backend, in chunks (for
    progress and cancel); graded models record v to apply the same
    hysteresis as :func:`~engine.analysis.single.detect_spikes`."""
    from engine.backends import compile as compile_network
    from engine.network import Network, Population, StateMonitor, TimedArray

    cls = type(m)
    dt = cls.default_dt
    pop = Population(cls, cur.size, m.values(), label="fi")
    objs = [pop, TimedArray(cur[None, :], dt=dt * 1e-3, target=pop)]
    graded = is_graded(cls)
    if graded:
        objs.append(StateMonitor(pop, [cls.voltage_variable], label="v"))
    sim = compile_network(Network(*objs), "compiled", dt * 1e-3)
    chunk = max(1, n // 20)
    steps, ids, vs = [], [], []
    done = 0
    while done < n:
        if _is_cancelled(cancel):
            raise Cancelled()
        k = min(chunk, n - done)
        ch = sim.advance(k)
        s, i = ch.spikes.get("fi", (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        steps.append(np.asarray(s, dtype=np.int64))
        ids.append(np.asarray(i, dtype=np.int64))
        if graded:
            vs.append(np.asarray(ch.traces["v"][cls.voltage_variable], dtype=np.float64))
        done += k
        if progress is not None:
            progress(span[0] + (span[1] - span[0]) * done / n)
    steps, ids = np.concatenate(steps), np.concatenate(ids)
    per = [np.sort(steps[ids == j]) for j in range(cur.size)]
    if graded:
        v = np.concatenate(vs)
        thr = float(getattr(m, spike_threshold(cls)))
        per = [detect_spikes(v[:, j], thr, rearm_level(m), candidates=per[j]) for j in range(cur.size)]
    return _rate_from_steps(per, skip, dt)


def _classify(rh: float, onset: float, currents, rates) -> str:
    hi = currents[-1]
    probe = rh + 0.2 * (hi - rh)
    above = rates[(currents >= probe) & (rates > 0)]
    if onset <= 0 or above.size == 0 or hi <= rh:
        return ""
    return "class I" if onset / above[0] < CLASS_RATIO else "class II"


def fi_curve(model, i_max=None, *, i_min: float = 0.0, n_points: int = 25, duration_ms: float = 1000.0,
             params: dict | None = None, transient_ms: float | None = None, refine: int = 2,
             progress=None, cancel=None) -> FICurve:
    """F-I curve over ``n_points`` currents from ``i_min`` to ``i_max``
    (default: the model's ``current_range``), with the rheobase refined by
    ``refine`` rounds of an 8-neuron bisection between the last silent and
    the first firing current, and the excitability class named from the
    curve (Hodgkin 1948): class I when firing starts at a rate well below the
    rate a little further up (:data:`CLASS_RATIO`), class II when it starts
    at a finite rate.  Resolution: rates below ~2 / (duration - transient)
    read as silence."""
    m = make_model(model, params)
    cls = type(m)
    lo = number(i_min, "i_min")
    hi = number(cls.current_range[1] if i_max is None else i_max, "i_max")
    if hi <= lo:
        raise AnalysisInputError("i_max", f"({hi:g}) must be above i_min ({lo:g})")
    if not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise AnalysisInputError("n_points", f"must be an integer >= 2, got {n_points!r}")
    currents = np.linspace(lo, hi, int(n_points))
    share = 1.0 if not refine else 0.7
    kw = dict(params=m.values(), transient_ms=transient_ms, cancel=cancel, progress=progress)
    rates = population_rates(cls, currents, duration_ms, progress_span=(0.0, share), **kw)
    firing = np.flatnonzero(rates > 0)
    extra = {}
    if firing.size == 0:
        rh, onset, note = None, 0.0, f"no repetitive firing up to {hi:g} {cls.current_unit}"
    else:
        j = int(firing[0])
        rh, onset, note = float(currents[j]), float(rates[j]), ""
        if j == 0:
            note = f"already firing at {lo:g} {cls.current_unit}: the rheobase is at or below it"
        elif refine:
            a, b = float(currents[j - 1]), float(currents[j])
            for r in range(int(refine)):
                probe = np.linspace(a, b, 10)[1:-1]
                span = (share + (1 - share) * r / refine, share + (1 - share) * (r + 1) / refine)
                pr = population_rates(cls, probe, duration_ms, progress_span=span, **kw)
                fire = np.flatnonzero(pr > 0)
                if fire.size:
                    k = int(fire[0])
                    b, onset = float(probe[k]), float(pr[k])
                    a = float(probe[k - 1]) if k > 0 else a
                else:
                    a = float(probe[-1])
            rh = b
            extra["bracket"] = (a, b)
    if progress is not None:
        progress(1.0)
    kind = "" if rh is None else _classify(rh, onset, currents, rates)
    return FICurve(currents, rates, rh, onset, kind, note, extra)


def rheobase(model, i_max=None, **kw) -> float | None:
    """The rheobase (lowest constant current with repetitive firing) by :func:`fi_curve`."""
    return fi_curve(model, i_max, **kw).rheobase
