"""Sweep lab (issue 16): the session's network over one or two parameters.

Pick one or two parameters (any numeric parameter of a population,
projection or stimulus, listed by ``engine.sweep.sweepable_parameters``),
their ranges, a measure and a population; the curve (one parameter) or heat
map (two) fills in as Dask's futures complete.  The sweep itself is
``engine.sweep.sweep``, run in a worker thread: that thread only appends
finished rows to a list under a lock, and a periodic callback on the page's
thread draws what is new.  Cancel sets the sweep's cancel event (queued
points are cancelled on the cluster).

Where the points run: a ``LocalCluster`` started on the first sweep and kept
for this session (closed when the session ends), a scheduler address typed
in (or taken from ``NEUROCORE_DASK_SCHEDULER``), or serially in the server
process.  The Dask dashboard's address is shown while a cluster is used.
"""

from __future__ import annotations

import math
import os
import threading

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - registers the renderer that .opts() needs
import numpy as np
import panel as pn
import param

from engine.sweep import ENV_SCHEDULER, MEASURES, SweepCancelled, sweep, sweepable_parameters

__all__ = ["SweepPanel", "axis_values"]

POLL_MS = 250
NONE = "(none)"
WHERE = {"local cluster": "local", "scheduler": "address", "serial": "serial"}
MEASURE_LABELS = {"rate": "rate (Hz)", "count": "spike count", "cv_isi": "CV of ISI",
                  "agreement": "float vs fixed agreement"}


def axis_values(start: float, stop: float, n: int, whole: bool = False) -> list:
    """``n`` evenly spaced values from ``start`` to ``stop`` (integers, unique,
    when the parameter counts whole steps)."""
    for name, v in (("start", start), ("stop", stop)):
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if not isinstance(n, int) or not 1 <= n <= 200:
        raise ValueError(f"points must be an integer in [1, 200], got {n!r}")
    vals = np.linspace(float(start), float(stop), n)
    if whole:
        return sorted({int(round(v)) for v in vals})
    return [float(v) for v in vals]


class SweepPanel(pn.viewable.Viewer):
    """A parameter sweep of the store's network, drawn as the points finish."""

    store = param.Parameter(doc="the session's SessionStore")

    def __init__(self, store, **params):
        super().__init__(store=store, **params)
        self._lock = threading.Lock()
        self._rows: list = []
        self._drawn = 0
        self._total = 0
        self._job: threading.Thread | None = None
        self._cancel: threading.Event | None = None
        self._error: str | None = None
        self._dashboard: str | None = None
        self._done = False
        self._client = None
        self._cluster = None
        self._periodic = None
        self._spec = None
        w = pn.widgets
        self.x_param = w.Select(name="Parameter", options=[])
        self.x_start = w.FloatInput(name="from", value=0.0, width=90)
        self.x_stop = w.FloatInput(name="to", value=1.0, width=90)
        self.x_n = w.IntInput(name="points", value=8, start=1, end=200, width=80)
        self.y_param = w.Select(name="Second parameter (heat map)", options=[NONE])
        self.y_start = w.FloatInput(name="from", value=0.0, width=90)
        self.y_stop = w.FloatInput(name="to", value=1.0, width=90)
        self.y_n = w.IntInput(name="points", value=5, start=1, end=50, width=80)
        self.measure = w.Select(name="Measure", options={v: k for k, v in MEASURE_LABELS.items()}, value="rate")
        self.population = w.Select(name="Population", options=[])
        self.duration = w.FloatInput(name="Duration per point (s)", value=0.2, start=0.001, end=100.0, step=0.05)
        self.where = w.RadioButtonGroup(name="Run on", options=list(WHERE), value="local cluster")
        self.address = w.TextInput(name="Scheduler address", placeholder="tcp://host:8786",
                                   value=os.environ.get(ENV_SCHEDULER, ""))
        self.seed = w.IntInput(name="Sweep seed", value=0, start=0)
        self.run_button = w.Button(name="Run sweep", button_type="primary")
        self.cancel_button = w.Button(name="Cancel", disabled=True)
        self.progress = pn.indicators.Progress(value=0, max=1, width=300, visible=False)
        self.status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.plot = pn.pane.HoloViews(self._figure(), sizing_mode="stretch_width", min_height=320)
        self.run_button.on_click(lambda e: self.start())
        self.cancel_button.on_click(lambda e: self.cancel())
        self.x_param.param.watch(lambda e: self._default_range(self.x_param, self.x_start, self.x_stop), "value")
        self.y_param.param.watch(lambda e: self._default_range(self.y_param, self.y_start, self.y_stop), "value")
        store.param.watch(lambda e: self._refresh_options(), "structure_revision")
        self._refresh_options()
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda ctx: self.close())

    # -- options from the store's network ----------------------------------------------------
    def _parameters(self) -> dict:
        doc = self.store.document or {}
        try:
            return dict(sweepable_parameters(doc))
        except ValueError:
            return {}

    def _refresh_options(self) -> None:
        params = self._parameters()
        names = list(params)
        keep_x = self.x_param.value if self.x_param.value in names else (names[0] if names else None)
        self.x_param.options = names
        self.x_param.value = keep_x
        keep_y = self.y_param.value if self.y_param.value in names else NONE
        self.y_param.options = [NONE, *names]
        self.y_param.value = keep_y
        labels = [p.get("label") for p in (self.store.document or {}).get("populations", [])]
        self.population.options = labels
        if self.population.value not in labels:
            self.population.value = labels[0] if labels else None
        self._default_range(self.x_param, self.x_start, self.x_stop)

    def _default_range(self, select, start, stop) -> None:
        v = self._parameters().get(select.value)
        if v is None:
            return
        if v == 0:
            start.value, stop.value = 0.0, 1.0
        else:
            lo, hi = sorted((0.5 * v, 2.0 * v))
            start.value, stop.value = float(lo), float(hi)

    # -- running ------------------------------------------------------------------------------
    def grid(self) -> dict:
        """The sweep's ``{parameter: values}`` from the widgets (ValueError naming a bad field)."""
        params = self._parameters()
        if self.x_param.value not in params:
            raise ValueError("Parameter: pick a parameter of the network to sweep")
        grid = {self.x_param.value: axis_values(self.x_start.value, self.x_stop.value, self.x_n.value,
                                                isinstance(params[self.x_param.value], int))}
        if self.y_param.value not in (None, NONE):
            if self.y_param.value == self.x_param.value:
                raise ValueError("Second parameter: choose a different parameter than the first")
            grid[self.y_param.value] = axis_values(self.y_start.value, self.y_stop.value, self.y_n.value,
                                                   isinstance(params[self.y_param.value], int))
        return grid

    def _client_for(self, where: str):
        if where == "serial":
            return None, "serial"
        from dask.distributed import Client, LocalCluster

        if where == "address":
            address = (self.address.value or "").strip()
            if not address:
                raise ValueError("Scheduler address: type the address of a running dask scheduler")
            if self._client is not None and getattr(self._client, "_neurocore_address", None) != address:
                self.close()
            if self._client is None:
                self._client = Client(address, timeout="10s")
                self._client._neurocore_address = address
            return self._client, "dask"
        if self._client is not None and getattr(self._client, "_neurocore_address", None) is not None:
            self.close()
        if self._client is None:
            self._cluster = LocalCluster(n_workers=min(4, os.cpu_count() or 1), threads_per_worker=1,
                                         processes=True, dashboard_address="127.0.0.1:0", host="127.0.0.1")
            self._client = Client(self._cluster)
        return self._client, "dask"

    def start(self) -> None:
        """Start a sweep in a worker thread (refused while one runs)."""
        if self._job is not None and self._job.is_alive():
            return
        try:
            grid = self.grid()
            duration = float(self.duration.value)
            if not math.isfinite(duration) or duration <= 0:
                raise ValueError("Duration per point must be > 0 s")
        except (TypeError, ValueError) as exc:
            self.status.object = f"**Refused:** {exc}"
            return
        doc = self.store.network_dict() if hasattr(self.store, "network_dict") else self.store.document
        where = WHERE[self.where.value]
        self._spec = {"x": self.x_param.value, "y": None if self.y_param.value == NONE else self.y_param.value,
                      "measure": self.measure.value, "population": self.population.value, "grid": grid}
        with self._lock:
            self._rows, self._drawn, self._error, self._dashboard, self._done = [], 0, None, None, False
        self._total = math.prod(len(v) for v in grid.values())
        self._cancel = threading.Event()
        self.progress.max, self.progress.value, self.progress.visible = self._total, 0, True
        self.run_button.disabled, self.cancel_button.disabled = True, False
        self.status.object = f"Running {self._total} points…"
        self.plot.object = self._figure()
        args = dict(seed=int(self.seed.value or 0), duration=duration, dt=float(self.store.run_dt),
                    measures=(self._spec["measure"],), cancel=self._cancel,
                    on_result=self._on_result, on_start=self._on_start)
        self._job = threading.Thread(target=self._main, args=(doc, grid, where, args),
                                     name="neurocore-sweep", daemon=True)
        self._job.start()
        self._ensure_polling()

    def _main(self, doc, grid, where, args) -> None:
        try:
            client, backend = self._client_for(where)
            sweep(doc, grid, backend=backend, client=client, **args)
        except SweepCancelled:
            with self._lock:
                self._error = "cancelled"
        except Exception as exc:  # noqa: BLE001 - shown to the user, the page keeps working
            with self._lock:
                self._error = f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._done = True

    def _on_result(self, row, done, total) -> None:
        with self._lock:
            self._rows.append(row)

    def _on_start(self, dashboard) -> None:
        with self._lock:
            self._dashboard = dashboard

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.status.object = "Cancelling…"

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until the running sweep ends (scripts and tests); True when it did."""
        if self._job is not None:
            self._job.join(timeout)
            return not self._job.is_alive()
        return True

    def close(self) -> None:
        """Stop the sweep and close this session's Dask client and cluster."""
        if self._cancel is not None:
            self._cancel.set()
        for obj in (self._client, self._cluster):
            if obj is not None:
                try:
                    obj.close()
                except Exception:  # noqa: BLE001 - closing on the way out
                    pass
        self._client = self._cluster = None

    # -- drawing (page thread) -------------------------------------------------------------------
    def _ensure_polling(self) -> None:
        doc = pn.state.curdoc
        if self._periodic is None and doc is not None and doc.session_context is not None:
            self._periodic = pn.state.add_periodic_callback(self.poll, period=POLL_MS)

    def poll(self) -> None:
        """Draw the points finished since the last call; stop polling when done."""
        with self._lock:
            rows, done, error, dash = list(self._rows), self._done, self._error, self._dashboard
        if len(rows) != self._drawn or done:
            self._drawn = len(rows)
            self.progress.value = min(len(rows), self.progress.max)
            self.plot.object = self._figure(rows)
        where = f" · Dask dashboard: [{dash}]({dash})" if dash else ""
        if done:
            self.run_button.disabled, self.cancel_button.disabled = False, True
            if error == "cancelled":
                self.status.object = f"Cancelled after {len(rows)} of {self._total} points{where}"
            elif error:
                self.status.object = f"**Sweep failed:** {error}"
            else:
                self.status.object = f"Done: {len(rows)} points{where}"
            if self._periodic is not None:
                self._periodic.stop()
                self._periodic = None
        else:
            self.status.object = f"{len(rows)} / {self._total} points{where}"

    def table(self):
        """The finished rows as a DataFrame (sorted by point)."""
        import pandas as pd

        with self._lock:
            rows = sorted(self._rows, key=lambda r: r["point"])
        return pd.DataFrame(rows)

    def _figure(self, rows=None):
        spec = self._spec
        if not spec or not rows:
            return hv.Curve([], "parameter", "measure").opts(responsive=True, height=320, title="no points yet")
        col = f"{spec['measure']}[{spec['population']}]"
        x, y = spec["x"], spec["y"]
        xc = x.split(":", 1)[1]
        label = f"{MEASURE_LABELS[spec['measure']]} of {spec['population']}"
        if y is None:
            pts = sorted((r[xc], r.get(col, np.nan)) for r in rows)
            curve = hv.Curve(pts, xc, label).opts(responsive=True, height=320)
            return (curve * hv.Scatter(pts, xc, label).opts(size=6)).opts(title=label)
        yc = y.split(":", 1)[1]
        xs, ys = spec["grid"][x], spec["grid"][y]
        z = np.full((len(ys), len(xs)), np.nan)
        xi = {v: i for i, v in enumerate(xs)}
        yi = {v: i for i, v in enumerate(ys)}
        for r in rows:
            z[yi[r[yc]], xi[r[xc]]] = r.get(col, np.nan)
        data = [(xs[i], ys[j], z[j, i]) for j in range(len(ys)) for i in range(len(xs))]
        return hv.HeatMap(data, [xc, yc], label).opts(responsive=True, height=320, colorbar=True,
                                                      tools=["hover"], title=label)

    def __panel__(self):
        left = pn.Column(
            "### Parameter sweep",
            self.x_param, pn.Row(self.x_start, self.x_stop, self.x_n),
            self.y_param, pn.Row(self.y_start, self.y_stop, self.y_n),
            self.measure, self.population, self.duration, self.seed,
            self.where, self.address,
            pn.Row(self.run_button, self.cancel_button), self.progress, self.status,
            width=340)
        return pn.Row(left, pn.Column(self.plot, sizing_mode="stretch_width"), sizing_mode="stretch_width")
