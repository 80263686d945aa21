"""One neuron of any registered model under an injected current.

The fast path steps the model's own kernel (:meth:`NeuronModel.step`) on a
population of one, with a :class:`~engine.models.base.ParameterView` and no
network around it: a network adds monitors, stimuli and bookkeeping to every
step, which for one neuron costs more than the model's arithmetic.  Where the
``"compiled"`` backend is available it is used instead (through the network,
the route it compiles).  Either way the equations are the model's.
"""

from __future__ import annotations

import numpy as np

from engine.analysis.protocols import AnalysisInputError
from engine.models import NeuronModel, get_model

__all__ = ["simulate", "detect_spikes", "is_graded", "spike_threshold", "rearm_level", "resolve_model",
           "make_model", "compiled_available"]


def resolve_model(model) -> type[NeuronModel]:
    try:
        return get_model(model)
    except (TypeError, ValueError) as exc:
        raise AnalysisInputError("model", str(exc)) from None


def make_model(model, params: dict | None = None) -> NeuronModel:
    """An instance of ``model`` with ``params``; a refused value raises a
    ``ValueError`` naming the parameter (from the model's declaration)."""
    cls = resolve_model(model)
    params = dict(params or {})
    unknown = sorted(set(params) - set(cls.parameter_names()))
    if unknown:
        raise AnalysisInputError("params", f"{cls.registry_name()} has no parameter(s) {', '.join(unknown)}")
    return cls(**params)


def spike_threshold(cls) -> str | None:
    """Name of the parameter a graded model's spikes are threshold crossings of."""
    names = cls.parameter_names()
    for cand in (f"{cls.voltage_variable}_spike", "v_spike"):
        if cand in names:
            return cand
    return None


def is_graded(model) -> bool:
    """True for models whose 'spike' is an upward threshold crossing of a
    smooth orbit (no reset: FitzHugh-Nagumo, Morris-Lecar, Hodgkin-Huxley...)."""
    cls = resolve_model(model)
    return cls.output == "spikes" and spike_threshold(cls) is not None


def rearm_level(model: NeuronModel) -> float:
    """Level a graded model's voltage must fall below before another
    crossing counts: half way from the initial (resting) voltage to the
    threshold.  Without it, a damped wobble around a depolarised fixed point
    (FitzHugh-Nagumo in depolarisation block) counts as a train of spikes."""
    cls = type(model)
    thr = float(getattr(model, spike_threshold(cls)))
    v0 = float(model.initial_state(1)[cls.voltage_variable][0])
    return thr - 0.5 * abs(thr - v0)


def detect_spikes(v: np.ndarray, threshold: float, rearm: float, candidates=None) -> np.ndarray:
    """Steps of spikes in the voltage trace ``v`` with hysteresis.

    A spike is an upward crossing of ``threshold`` (``v[k-1] < threshold <=
    v[k]``, or a step in ``candidates`` when given: the kernel's own crossings)
    that follows a visit below ``rearm`` since the previous spike; the trace
    starts armed.  Returns the sorted steps as ``int64``."""
    v = np.asarray(v, dtype=np.float64)
    if rearm >= threshold:
        raise AnalysisInputError("rearm", f"({rearm:g}) must be below the threshold ({threshold:g})")
    if candidates is None:
        k = np.arange(1, v.size)
        ups = k[(v[:-1] < threshold) & (v[1:] >= threshold)]
        if v.size and v[0] >= threshold:
            ups = np.concatenate(([0], ups))
    else:
        ups = np.asarray(candidates, dtype=np.int64)
    below = np.flatnonzero(v < rearm)
    out = []
    last = -1
    for u in ups:
        # armed if this is the first spike or v went below rearm since the last one
        if last < 0 or np.searchsorted(below, last, side="right") < np.searchsorted(below, u, side="left"):
            out.append(int(u))
            last = int(u)
    return np.asarray(out, dtype=np.int64)


_COMPILED: list = []


def compiled_available() -> bool:
    """Whether the ``"compiled"`` backend exists and says it can run (cached)."""
    if not _COMPILED:
        # compile a one-neuron network rather than list every backend:
        # available_backends() imports torch to probe its backend (seconds)
        try:
            from engine.backends import compile as compile_network, resolve_backend
            from engine.network import Network, Population

            resolve_backend("compiled")
            compile_network(Network(Population("LapicqueNeuron", 1, label="probe")), "compiled", 1e-3)
            ok = True
        except Exception:  # noqa: BLE001 - absent or broken optional backend: use the kernel
            ok = False
        _COMPILED.append(ok)
    return _COMPILED[0]


def _run_kernel(model: NeuronModel, cur: np.ndarray, dt: float, state: dict, seed: int):
    view = model.view()
    step = type(model).step
    rng = np.random.default_rng(seed)
    names = list(state)
    rec = {k: np.empty(cur.size, dtype=np.float64) for k in names}
    out = np.empty(cur.size, dtype=np.float64)
    col = cur.reshape(-1, 1)  # row k is the (1,) current of step k, no copy
    pairs = [(rec[k], state[k]) for k in names]
    for k in range(cur.size):
        out[k] = step(view, state, col[k], dt, rng)[0]
        for r, s in pairs:
            r[k] = s[0]
    return rec, out


def _run_network(model: NeuronModel, cur: np.ndarray, dt: float, state: dict, backend: str):
    from engine.backends import compile as compile_network
    from engine.network import Network, Population, StateMonitor, TimedArray

    dt_s = dt * 1e-3
    pop = Population(type(model), 1, model.values(), label="neuron")
    for k, v in state.items():
        pop.state[k][...] = v
    mon = StateMonitor(pop, list(pop.state), record=[0], label="state")
    net = Network(pop, TimedArray(cur, dt=dt_s, target=pop), mon)
    chunk = compile_network(net, backend, dt_s).advance(cur.size)
    steps, _ = chunk.spikes.get("neuron", (np.zeros(0, np.int64), None))
    rec = {k: np.asarray(chunk.traces["state"][k][:, 0], dtype=np.float64) for k in pop.state}
    out = np.zeros(cur.size)
    out[np.asarray(steps, dtype=np.int64)] = 1.0
    return rec, out


def simulate(model, current, params: dict | None = None, *, dt_ms: float | None = None,
             initial: dict | None = None, seed: int = 0, backend: str = "auto") -> dict:
    """Run one neuron of ``model`` with ``current[k]`` injected during step ``k``.

    ``dt_ms`` defaults to the model's ``default_dt``; ``initial`` overrides
    state variables of the model's initial state; ``backend`` is ``"auto"``
    (compiled where available, else the kernel loop), ``"kernel"`` or any
    backend name.  Returns ``{"t_ms", "current", "states": {var: array},
    "output", "spike_steps", "spike_times_ms", "dt_ms", "engine"}``: every
    state variable after each step, at time ``(k + 1) * dt_ms``.  For graded
    models (:func:`is_graded`) spikes are the kernel's crossings filtered by
    :func:`detect_spikes`' hysteresis; for rate models there are none.
    """
    m = model if isinstance(model, NeuronModel) else make_model(model, params)
    cls = type(m)
    cur = np.asarray(current, dtype=np.float64)
    if cur.ndim != 1 or cur.size == 0:
        raise AnalysisInputError("current", f"must be a non-empty 1-D array, got shape {cur.shape}")
    if not np.all(np.isfinite(cur)):
        raise AnalysisInputError("current", "contains non-finite values")
    dt = cls.default_dt if dt_ms is None else float(dt_ms)
    if not dt > 0:
        raise AnalysisInputError("dt_ms", f"must be > 0, got {dt_ms!r}")
    state = m.initial_state(1)
    for k, v in (initial or {}).items():
        if k not in state:
            raise AnalysisInputError("initial", f"{cls.registry_name()} has no state variable {k!r}")
        state[k][...] = v
    engine = "kernel"
    if backend == "auto":
        backend = "compiled" if compiled_available() and not m.draws_random() else "kernel"
    if backend != "kernel":
        try:
            rec, out = _run_network(m, cur, dt, state, backend)
            engine = backend
        except Exception:  # noqa: BLE001 - a backend that cannot take this model: use the kernel
            if backend != "compiled":
                raise
            state = m.initial_state(1)
            for k, v in (initial or {}).items():
                state[k][...] = v
            rec, out = _run_kernel(m, cur, dt, state, seed)
    else:
        rec, out = _run_kernel(m, cur, dt, state, seed)
    if cls.output != "spikes":
        steps = np.zeros(0, dtype=np.int64)
    else:
        steps = np.flatnonzero(out).astype(np.int64)
        if is_graded(cls):
            thr = float(getattr(m, spike_threshold(cls)))
            steps = detect_spikes(rec[cls.voltage_variable], thr, rearm_level(m), candidates=steps)
    return {"t_ms": (np.arange(cur.size) + 1) * dt, "current": cur, "states": rec, "output": out,
            "spike_steps": steps, "spike_times_ms": (steps + 1) * dt, "dt_ms": dt, "engine": engine}
