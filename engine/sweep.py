"""Parameter sweeps: one network over a grid or a random sample of parameter
values, on ``dask.distributed`` (a ``LocalCluster`` by default, or a running
scheduler), returning a tidy ``pandas.DataFrame``.

A parameter is named ``(kind, label, name)``: ``kind`` in ``population``,
``projection``, ``stimulus``; ``label`` the object's label; ``name`` a model
parameter of a population (``"tau"``), or a field of a projection
(``"weight"``, ``"probability"``, ``"delay"``, ``"tau_syn"``...) or a
stimulus (``"amplitude"``, ``"rate_hz"``...).  The string form
``"population:exc.tau"`` is accepted too.

Each point runs on a copy of the network's JSON document (``Network.to_dict``)
with its values set, so a point is plain data that any worker can rebuild.
Changing a projection's ``weight``, ``probability``, ``seed`` or topology
regenerates its synapses from the spec and the projection's own seed (the same
connectivity pattern at every point when only the weight changes); other
points keep the network's synapses as they are.

Seeds: point ``i`` of a sweep seeded ``seed`` runs with the network seed
``SeedSequence([seed, i])`` (population noise) and Poisson stimuli seeded
from it too, so a point's result depends only on ``(seed, i, values)``: a
serial run, a ``LocalCluster`` and a remote cluster give identical tables
(except the ``run_time_s`` column).

Measures (columns ``"{measure}[{population}]"``): ``rate`` (mean rate, Hz),
``count`` (spike count), ``cv_isi`` (mean over neurons with at least three
spikes of the ISI coefficient of variation; NaN when none has), and
``agreement`` (float vs fixed point, ``engine.hardware.report.
compare_float_fixed``: mean per-neuron fraction of steps with the same
output).  ``run_time_s`` is the point's wall time on its worker.

Dask: ``address`` (or the ``NEUROCORE_DASK_SCHEDULER`` environment
variable) names a running scheduler (``dask scheduler`` / ``dask worker``,
or ``dask-jobqueue``); otherwise a ``LocalCluster`` of processes is started
for the sweep and closed after it.  ``client=`` reuses a ``Client``.
``backend="serial"`` runs in this process without Dask (the reference the
distributed runs are tested against).
"""

from __future__ import annotations

import copy
import itertools
import math
import numbers
import os
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["SweepParameter", "parse_parameter", "grid_points", "random_points", "point_seed", "sweepable_parameters",
           "run_point", "sweep", "MEASURES", "ENV_SCHEDULER", "SweepCancelled"]

MEASURES = ("rate", "count", "cv_isi", "agreement")
ENV_SCHEDULER = "NEUROCORE_DASK_SCHEDULER"
_KINDS = {"population": "populations", "projection": "projections", "stimulus": "stimuli"}
#: projection fields after which the synapses are regenerated from the spec
_REGENERATE = {"weight", "probability", "seed", "topology", "weight_threshold", "allow_self_connections"}
#: how often a distributed sweep looks at its cancel event (s)
CANCEL_POLL_S = 0.05
#: refuse sweeps larger than this (a typo in a grid multiplies quickly)
MAX_POINTS = 100_000


class SweepCancelled(RuntimeError):
    """The sweep was cancelled; ``partial`` holds the table of finished points."""

    def __init__(self, partial):
        super().__init__(f"sweep cancelled after {len(partial)} points")
        self.partial = partial


@dataclass(frozen=True)
class SweepParameter:
    kind: str
    label: str
    name: str

    @property
    def column(self) -> str:
        return f"{self.label}.{self.name}"


def parse_parameter(spec) -> SweepParameter:
    """``(kind, label, name)``, a :class:`SweepParameter` or ``"kind:label.name"``."""
    if isinstance(spec, SweepParameter):
        return spec
    if isinstance(spec, str):
        kind, sep, rest = spec.partition(":")
        label, dot, name = rest.rpartition(".")
        if not sep or not dot:
            raise ValueError(f"parameter {spec!r} must look like 'population:label.name'")
        spec = (kind, label, name)
    if not isinstance(spec, tuple) or len(spec) != 3 or not all(isinstance(s, str) and s for s in spec):
        raise ValueError(f"parameter must be (kind, label, name) strings, got {spec!r}")
    if spec[0] not in _KINDS:
        raise ValueError(f"parameter kind must be one of {', '.join(_KINDS)}, got {spec[0]!r}")
    return SweepParameter(*spec)


def _values(values, name) -> list:
    arr = list(np.asarray(values, dtype=np.float64).ravel()) if not isinstance(values, (list, tuple)) \
        else list(values)
    if not arr:
        raise ValueError(f"values of {name} must not be empty")
    out = []
    for v in arr:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"values of {name} must be finite numbers, got {v!r}")
        out.append(int(v) if isinstance(v, numbers.Integral) else float(v))
    return out


def grid_points(params: dict) -> tuple[list[SweepParameter], list[tuple]]:
    """Every combination of ``{parameter: values}`` (the first varies slowest)."""
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict {parameter: values}")
    keys = [parse_parameter(k) for k in params]
    vals = [_values(v, k.column) for k, v in zip(keys, params.values())]
    n = math.prod(len(v) for v in vals)
    if n > MAX_POINTS:
        raise ValueError(f"params: the grid has {n} points, more than {MAX_POINTS}")
    return keys, list(itertools.product(*vals))


def random_points(params: dict, n: int, seed: int = 0) -> tuple[list[SweepParameter], list[tuple]]:
    """``n`` points drawn uniformly from ``{parameter: (low, high)}``."""
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict {parameter: (low, high)}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= MAX_POINTS:
        raise ValueError(f"n must be an integer in [1, {MAX_POINTS}], got {n!r}")
    keys = [parse_parameter(k) for k in params]
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EE9]))
    cols = []
    for k, rng_spec in zip(keys, params.values()):
        lo, hi = _values(rng_spec, k.column) if len(rng_spec) == 2 else (None, None)
        if lo is None or hi < lo:
            raise ValueError(f"range of {k.column} must be (low, high) with low <= high, got {rng_spec!r}")
        cols.append(rng.uniform(lo, hi, size=int(n)).tolist())
    return keys, list(zip(*cols))


def point_seed(seed: int, index: int) -> int:
    """The network seed of point ``index`` of a sweep seeded ``seed``."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, dtype=np.uint32)[0])


def _apply(doc: dict, key: SweepParameter, value) -> None:
    entries = doc.get(_KINDS[key.kind], [])
    for e in entries:
        if e.get("label") == key.label:
            break
    else:
        have = ", ".join(str(e.get("label")) for e in entries) or "none"
        raise ValueError(f"parameter {key.kind}:{key.column}: no {key.kind} labelled {key.label!r} (have {have})")
    if key.kind == "population":
        if key.name in ("n", "model", "label"):
            raise ValueError(f"parameter {key.column}: sweep a model parameter, not {key.name!r}")
        e.setdefault("params", {})[key.name] = value
    else:
        if key.name in ("label", "type", "source", "target", "population"):
            raise ValueError(f"parameter {key.column}: {key.name!r} cannot be swept")
        e[key.name] = value
        if key.kind == "projection" and key.name in _REGENERATE:
            e.pop("csr", None)


def _cv_isi(steps, ids, n) -> float:
    if steps.size == 0:
        return float("nan")
    order = np.lexsort((steps, ids))
    s, i = steps[order], ids[order]
    cvs = []
    bounds = np.searchsorted(i, np.arange(n + 1))
    for j in range(n):
        t = s[bounds[j]:bounds[j + 1]]
        if t.size >= 3:
            isi = np.diff(t).astype(np.float64)
            m = isi.mean()
            cvs.append(isi.std() / m if m > 0 else 0.0)
    return float(np.mean(cvs)) if cvs else float("nan")


def run_point(doc: dict, keys, values, index: int, seed: int, duration: float, dt: float,
              measures=("rate", "count"), backend: str = "numpy", qformat=None) -> dict:
    """Run one point (a pure function of its arguments; what a worker runs)."""
    from engine.network import Network

    t0 = time.perf_counter()
    doc = copy.deepcopy(doc)
    for key, value in zip(keys, values):
        _apply(doc, key, value)
    s = point_seed(seed, index)
    doc["seed"] = s
    doc["monitors"] = []  # measures come from the simulator's chunk; traces would only cost memory
    for j, st in enumerate(doc.get("stimuli", [])):
        if st.get("type") == "PoissonInput":
            st["seed"] = point_seed(s, j)
    net = Network.from_dict(doc)
    n_steps = int(round(duration / dt))
    row = {"point": index, "seed": s}
    row.update({k.column: v for k, v in zip(keys, values)})
    spiking = {"rate", "count", "cv_isi"} & set(measures)
    if spiking:
        chunk = net.simulator(backend, dt).advance(n_steps)
        for p in net.populations:
            steps, ids = chunk.spikes[p.label]
            if "count" in measures:
                row[f"count[{p.label}]"] = int(steps.size)
            if "rate" in measures:
                row[f"rate[{p.label}]"] = steps.size / (p.n * n_steps * dt)
            if "cv_isi" in measures:
                row[f"cv_isi[{p.label}]"] = _cv_isi(steps, ids, p.n)
    if "agreement" in measures:
        import warnings

        from engine.hardware.report import compare_float_fixed

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the report keeps the quantisation notes
            rep = compare_float_fixed(net, n_steps=n_steps, dt=dt, qformat=qformat)
        for c in rep.populations.values():
            row[f"agreement[{c.label}]"] = c.mean_agreement
    row["run_time_s"] = time.perf_counter() - t0
    return row


def _check(network, duration, dt, measures):
    from engine.network import Network

    if isinstance(network, Network):
        doc = network.to_dict()
    elif isinstance(network, dict):
        doc = copy.deepcopy(network)
        Network.from_dict(doc)  # validate once here, not on every worker
    else:
        raise TypeError(f"network must be a Network or its JSON document, got {type(network).__name__}")
    for name, v in (("duration", duration), ("dt", dt)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive finite number of seconds, got {v!r}")
    if int(round(duration / dt)) < 1:
        raise ValueError(f"duration={duration} s is shorter than one step of dt={dt} s")
    measures = tuple(measures)
    bad = [m for m in measures if m not in MEASURES]
    if bad or not measures:
        raise ValueError(f"measures must be a non-empty subset of {', '.join(MEASURES)}, got {measures!r}")
    return doc, measures


def _progress_bar(done, total, width=30):
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} points")
    sys.stderr.flush()


def sweep(network, params: dict, *, n_samples: int | None = None, seed: int = 0, duration: float = 0.2,
          dt: float = 0.001, measures=("rate", "count"), backend: str = "dask", address: str | None = None,
          client=None, n_workers: int | None = None, sim_backend: str = "numpy", qformat=None,
          progress: bool = False, on_result=None, on_start=None, cancel: threading.Event | None = None):
    """Run ``network`` at every point and return a ``pandas.DataFrame``.

    ``params``: ``{parameter: values}`` (a grid over all combinations) or, with
    ``n_samples``, ``{parameter: (low, high)}`` sampled uniformly.
    ``backend``: ``"dask"`` (default) or ``"serial"``.  ``on_result(row, done,
    total)`` is called as each point finishes (in completion order);
    setting ``cancel`` stops the sweep (queued points are cancelled) and
    raises :class:`SweepCancelled` carrying the finished rows.
    ``on_start(dashboard)`` is called once the points are submitted, with the
    Dask dashboard address (None for a serial sweep).  Rows are sorted by
    point index."""
    import pandas as pd

    doc, measures = _check(network, duration, dt, measures)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if n_samples is None:
        keys, points = grid_points(params)
    else:
        keys, points = random_points(params, n_samples, seed)
    for key, value in zip(keys, points[0]):  # a misnamed parameter fails here, not on a worker
        _apply(copy.deepcopy(doc), key, value)
    if "agreement" in measures:  # refuse here what the fixed-point backend cannot run
        from engine.backends.fixed_point import FixedPointSimulator
        from engine.network import Network

        try:
            FixedPointSimulator(Network.from_dict(doc), float(dt), qformat=qformat)
        except NotImplementedError as exc:
            raise ValueError(f"measures: 'agreement' needs a fixed-point form: {exc}") from None
    if backend not in ("dask", "serial"):
        raise ValueError(f"backend must be 'dask' or 'serial', got {backend!r}")
    args = dict(duration=float(duration), dt=float(dt), measures=measures, backend=sim_backend,
                qformat=qformat)
    rows, total = [], len(points)

    def finished(row):
        rows.append(row)
        if progress:
            _progress_bar(len(rows), total)
        if on_result is not None:
            on_result(row, len(rows), total)

    def table():
        df = pd.DataFrame(sorted(rows, key=lambda r: r["point"]))
        return df.reset_index(drop=True)

    if backend == "serial":
        if on_start is not None:
            on_start(None)
        for i, values in enumerate(points):
            if cancel is not None and cancel.is_set():
                raise SweepCancelled(table())
            finished(run_point(doc, keys, values, i, int(seed), **args))
    else:
        own_client, cluster = None, None
        try:
            from dask.distributed import Client, LocalCluster, as_completed

            if client is None:
                address = address or os.environ.get(ENV_SCHEDULER) or None
                if address:
                    client = own_client = Client(address, timeout="20s")
                else:
                    cluster = LocalCluster(n_workers=n_workers or min(4, os.cpu_count() or 1),
                                           threads_per_worker=1, processes=True,
                                           dashboard_address="127.0.0.1:0", host="127.0.0.1")
                    client = own_client = Client(cluster)
            # the document travels inside each task rather than as scattered
            # data: scattered data held only by a worker that dies is lost, and
            # every point depending on it is cancelled ("lost dependencies")
            # instead of being rescheduled on the workers that remain
            futures = [client.submit(run_point, doc, keys, values, i, int(seed), **args,
                                     key=f"sweep-point-{i}-{time.time_ns()}", pure=False)
                       for i, values in enumerate(points)]
            if on_start is not None:
                on_start(dashboard_link(client))
            try:
                # poll rather than block on the next future, so cancel is
                # honoured within CANCEL_POLL_S even while a long point runs
                done = as_completed(futures)
                while not done.is_empty():
                    if cancel is not None and cancel.is_set():
                        client.cancel(futures)
                        raise SweepCancelled(table())
                    batch = done.next_batch(block=False)
                    if not batch:
                        if cancel is not None:
                            cancel.wait(CANCEL_POLL_S)
                        else:
                            time.sleep(CANCEL_POLL_S)
                        continue
                    for fut in batch:
                        finished(fut.result())
            finally:
                if cancel is not None and cancel.is_set():
                    client.cancel(futures)
        finally:
            if own_client is not None:
                own_client.close()
            if cluster is not None:
                cluster.close()
    if progress:
        sys.stderr.write("\n")
    return table()


def dashboard_link(client) -> str | None:
    """The Dask dashboard address of a client (None when it has none)."""
    try:
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - a client without a dashboard
        return None


#: stimulus and projection fields that are not swept (identity, time base, seeds, arrays)
_NOT_SWEPT = {"type", "label", "target", "source", "population", "dt", "seed", "values", "topology",
              "plasticity", "csr", "allow_self_connections", "n"}


def sweepable_parameters(document: dict) -> list[tuple[str, float]]:
    """``("kind:label.name", current value)`` for every numeric parameter of the
    document's populations, projections and stimuli (what a sweep can vary);
    the value is an ``int`` where the parameter counts whole steps."""
    from engine.models import get_model
    from engine.models.base import Count

    out = []
    for p in document.get("populations", []):
        cls = get_model(p["model"])
        values = {**{k: cls.param[k].default for k in cls.parameter_names()}, **p.get("params", {})}
        for name, v in values.items():
            if isinstance(v, numbers.Real) and not isinstance(v, bool):
                whole = isinstance(cls.param[name], Count) if name in cls.param else False
                out.append((f"population:{p['label']}.{name}", int(v) if whole else float(v)))
    for kind, key in (("projection", "projections"), ("stimulus", "stimuli")):
        for e in document.get(key, []):
            if not e.get("label"):
                continue
            for name, v in e.items():
                if name in _NOT_SWEPT or isinstance(v, bool) or not isinstance(v, numbers.Real):
                    continue
                whole = name in ("delay", "onset", "offset")  # whole steps
                out.append((f"{kind}:{e['label']}.{name}", int(v) if whole else float(v)))
    return out
