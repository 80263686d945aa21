"""Hardware lab (issue 13): take the session's network to a fixed-point format.

Controls: the Q-format (data width, fraction bits), the arithmetic options
(saturating sum, rounding of the shifted products) and, for one population
at a time, its hardware parameters -- leak_k, gain_k, threshold, reset, rest
and refractory period -- each shown with the float it stands for (tau,
resistance, volts) and editable from either side.  A code typed in is turned
into the float that maps exactly onto it (``engine.hardware.tuning``) and
written to the store with ``set_param``: the network stays the one source of
truth.

Views: float and fixed point on the same input (overlaid v(t) of chosen
neurons, both rasters, agreement, rate error and first divergence per
population), recomputed on the page thread after every change; warnings
naming the parameter or projection.  Long work -- the bit-width sweep, the
RTL co-simulation and the Yosys / nextpnr resources -- runs in a worker
thread; a periodic callback on the page's thread shows its progress and
result.  Export: a zip download of the Verilog header, memory files and README.
"""

from __future__ import annotations

import io
import math
import threading
import time

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - registers the renderer that .opts() needs
import numpy as np
import panel as pn
import param

from engine import fixedpoint as fx
from engine.hardware import tuning

__all__ = ["HardwareLab", "FLOAT_KINDS"]

POLL_MS = 200
FLOAT_KINDS = {"LapicqueNeuron": "lapicque", "StochasticLIFNeuron": "stochastic_lif"}
TAU_NAME = {"lapicque": "tau", "stochastic_lif": "tau_mem"}


MAX_SHOWN = 8   # neurons whose v(t) the figure can overlay (shown_neurons keeps the first 8)


def _v_figure():
    """The v(t) figure: a float (solid) and a fixed-point (dashed) line per shown neuron."""
    from bokeh.core.properties import value
    from bokeh.models import ColumnDataSource, Legend, LegendItem
    from bokeh.plotting import figure

    from neurocore_gui.plots import PALETTE

    fig = figure(height=260, sizing_mode="stretch_width", x_axis_label="t (ms)", y_axis_label="v",
                 title="v(t)", tools="pan,wheel_zoom,box_zoom,reset,save")
    lines, items = [], []
    for j in range(MAX_SHOWN):
        color = PALETTE[j % len(PALETTE)]
        lf = fig.line("t", "v", source=ColumnDataSource({"t": [], "v": []}), color=color, line_width=1.5,
                      visible=False)
        lx = fig.line("t", "v", source=ColumnDataSource({"t": [], "v": []}), color=color, line_width=1.5,
                      line_dash="dashed", visible=False)
        lines.append((lf, lx))
        items += [LegendItem(label=value(f"float #{j}"), renderers=[lf], visible=False),
                  LegendItem(label=value(f"fixed #{j}"), renderers=[lx], visible=False)]
    fig.add_layout(Legend(items=items, click_policy="hide"), "right")
    return fig, lines, items


def _raster_figure():
    """Both rasters in one figure (fixed point offset by 0.4 neuron)."""
    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    fig = figure(height=260, sizing_mode="stretch_width", x_axis_label="t (ms)", y_axis_label="neuron",
                 title="rasters", tools="pan,wheel_zoom,box_zoom,reset,save")
    src = (ColumnDataSource({"t": [], "neuron": []}), ColumnDataSource({"t": [], "neuron": []}))
    fig.scatter("t", "neuron", source=src[0], size=2, color="#1f77b4", legend_label="float")
    fig.scatter("t", "neuron", source=src[1], size=2, color="#d62728", legend_label="fixed")
    return fig, src


class HardwareLab(pn.viewable.Viewer):
    """Float vs fixed point, tuning, co-simulation, resources and export of the store's network."""

    store = param.Parameter(doc="the session's SessionStore")

    def __init__(self, store, **params):
        super().__init__(store=store, **params)
        w = pn.widgets
        self._lock = threading.Lock()
        self._jobs: dict = {}          # name -> {"thread", "cancel", "progress", "result", "error", "done"}
        self._periodic = None
        self._syncing = False
        self.result = None             # the last tuning.LabComparison
        self.error = ""
        self.last_seconds = 0.0
        self.data_width = w.IntInput(name="Data width W (bits)", value=16, start=2, end=32, width=140)
        self.fraction = w.IntInput(name="Fraction bits F", value=8, start=0, end=31, width=140)
        self.saturate = w.Checkbox(name="Saturating sum (else wrap-around)", value=False)
        self.rounding = w.Select(name="Rounding of shifted products", options=list(fx.ROUNDINGS), value="floor",
                                 width=200)
        self.population = w.Select(name="Population", options=[], width=200)
        self.neurons = w.TextInput(name="Neurons shown (indices)", value="0, 1", width=200)
        self.n_steps = w.IntInput(name="Steps", value=1000, start=10, end=20000, width=120)
        # population hardware parameters: code <-> float pairs
        self.leak_k = w.IntInput(name="leak_k (code)", width=130)
        self.tau = w.FloatInput(name="tau (ms)", width=130)
        self.gain_k = w.IntInput(name="gain_k (code)", width=130)
        self.resistance = w.FloatInput(name="resistance", width=130)
        self.volt_codes = {k: w.IntInput(name=f"{k} (code)", width=130) for k in ("v_threshold", "v_reset", "v_rest")}
        self.volts = {k: w.FloatInput(name=f"{k} (float)", width=130) for k in ("v_threshold", "v_reset", "v_rest")}
        self.refractory = w.IntInput(name="refractory (steps)", start=0, width=130)
        self.weights = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.metrics = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.warnings_pane = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        # Bokeh figures built once; a change writes new columns into their data
        # sources (re-running the HoloViews pipeline for both figures took
        # ~100 ms of the 300 ms budget on the loaded machine, this takes a few)
        self._v_fig, self._v_lines, self._v_items = _v_figure()
        self._r_fig, self._r_src = _raster_figure()
        self.v_plot = pn.pane.Bokeh(self._v_fig, sizing_mode="stretch_width", height=260)
        self.raster_plot = pn.pane.Bokeh(self._r_fig, sizing_mode="stretch_width", height=260)
        self.timings: dict = {}        # seconds of the last refresh: float, fixed, metrics, controls, figures
        # sweep
        self.sweep_from = w.IntInput(name="from W", value=4, start=2, end=32, width=90)
        self.sweep_to = w.IntInput(name="to W", value=24, start=2, end=32, width=90)
        self.tolerance = w.FloatInput(name="rate error tolerance", value=0.05, start=0.0, width=140)
        self.sweep_button = w.Button(name="Run bit-width sweep", button_type="primary")
        self.sweep_cancel = w.Button(name="Cancel", disabled=True)
        self.sweep_progress = pn.indicators.Progress(value=0, max=1, width=260, visible=False)
        self.sweep_status = pn.pane.Markdown("", sizing_mode="stretch_width")
        # shown once a sweep has a result (an empty 0..1 x/y frame says nothing)
        self.sweep_plot = pn.pane.HoloViews(hv.Curve([]), sizing_mode="stretch_width", height=240, visible=False)
        # co-simulation, resources, export
        self.cosim_button = w.Button(name="Run RTL co-simulation", button_type="primary")
        self.cosim_status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.target = w.Select(name="FPGA", options=["ecp5", "ice40"], value="ecp5", width=120)
        self.resources_button = w.Button(name="Resources", button_type="primary")
        self.resources_status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.export = w.FileDownload(callback=self._export_file, filename="neurocore_hardware.zip",
                                     label="Export (zip)", button_type="success", embed=False)
        for wid in (self.data_width, self.fraction, self.saturate, self.rounding, self.neurons, self.n_steps):
            wid.param.watch(lambda e: self.refresh(), "value")
        self.population.param.watch(lambda e: self.refresh(), "value")
        self.leak_k.param.watch(lambda e: self._code_edit("leak_k", e.new), "value")
        self.gain_k.param.watch(lambda e: self._code_edit("gain_k", e.new), "value")
        self.tau.param.watch(lambda e: self._float_edit("tau", e.new), "value")
        self.resistance.param.watch(lambda e: self._float_edit("resistance", e.new), "value")
        for k in self.volt_codes:
            self.volt_codes[k].param.watch(lambda e, k=k: self._code_edit(k, e.new), "value")
            self.volts[k].param.watch(lambda e, k=k: self._float_edit(k, e.new), "value")
        self.refractory.param.watch(lambda e: self._float_edit("refractory_period", e.new), "value")
        self.sweep_button.on_click(lambda e: self.start_sweep())
        self.sweep_cancel.on_click(lambda e: self.cancel("sweep"))
        self.cosim_button.on_click(lambda e: self.start_cosim())
        self.resources_button.on_click(lambda e: self.start_resources())
        store.param.watch(lambda e: self._on_store(), "revision")
        self._refresh_populations()
        self.refresh()

    # -- the model of the page -------------------------------------------------------------------
    @property
    def qformat(self) -> fx.QFormat:
        return fx.QFormat(int(self.data_width.value), int(self.fraction.value))

    @property
    def options(self) -> dict:
        return {"saturate": bool(self.saturate.value), "rounding": self.rounding.value}

    def build(self):
        net = self.store.build()
        net.reset()
        return net

    @property
    def dt_ms(self) -> float:
        return float(self.store.run_dt) * 1e3

    def _entry(self):
        label = self.population.value
        if not label:
            return None
        try:
            return self.store.entry("population", label)
        except (KeyError, ValueError):
            return None

    def _kind(self):
        e = self._entry()
        if e is None:
            return None
        if e.get("model") == "FixedPointLIFNeuron":
            return "native"
        return FLOAT_KINDS.get(e.get("model"))

    def _refresh_populations(self) -> None:
        labels = [lab for lab in self.store.labels("population")]
        # default: the last population, usually the network's output (the first is often a pure input stage)
        keep = self.population.value if self.population.value in labels else (labels[-1] if labels else None)
        self.population.options = labels
        self.population.value = keep

    def _on_store(self) -> None:
        if not self._syncing:
            self._refresh_populations()
            self.refresh()

    def shown_neurons(self) -> list[int]:
        e = self._entry()
        n = int(e.get("n", 1)) if e else 1
        try:
            idx = [int(t) for t in str(self.neurons.value).replace(";", ",").split(",") if t.strip()]
        except ValueError:
            raise ValueError(f"neurons must be comma-separated indices, got {self.neurons.value!r}")
        bad = [i for i in idx if not 0 <= i < n]
        if bad or not idx:
            raise ValueError(f"neurons must be indices in [0, {n}), got {self.neurons.value!r}")
        return idx[:8]

    # -- parameter controls: code <-> float ------------------------------------------------------
    def mapping(self, net=None):
        """``tuning.ParameterMapping`` of the selected population in the current format."""
        net = self.build() if net is None else net
        return tuning.population_mapping(net.population(self.population.value), self.qformat, self.dt_ms,
                                         self.options)

    def _sync_controls(self, net=None) -> None:
        """Show the selected population's codes and floats (without writing back);
        ``net``: a network built from the store for this refresh, to reuse."""
        kind = self._kind()
        enabled = kind is not None
        self._syncing = True
        try:
            if not enabled:
                return
            if net is None:
                net = self.build()
            m = self.mapping(net)
            self.leak_k.value, self.gain_k.value = m.codes["leak_k"], m.codes["gain_k"]
            for k in self.volt_codes:
                self.volt_codes[k].value = int(m.codes[k])
            self.refractory.value = int(m.codes["refractory_period"])
            if kind == "native":
                for k in ("tau", "resistance"):
                    getattr(self, k).value = None
                for k in self.volts:
                    self.volts[k].value = m.floats[k]
            else:
                self.tau.value = round(m.model_floats["tau"], 6)
                self.resistance.value = round(m.model_floats["resistance"], 6)
                for k in self.volts:
                    self.volts[k].value = m.model_floats[k]
            self._show_weights(net)
        except (ValueError, NotImplementedError) as exc:
            self.status.object = f"**Cannot map {self.population.value!r}:** {exc}"
        finally:
            self._syncing = False
            for wid in (self.leak_k, self.gain_k, self.tau, self.resistance, self.refractory,
                        *self.volt_codes.values(), *self.volts.values()):
                wid.disabled = not enabled
            if kind == "native":
                self.tau.disabled = self.resistance.disabled = True

    def _show_weights(self, net=None) -> None:
        from engine.backends.fixed_point import map_population, quantise_weights

        net = self.build() if net is None else net
        # the backend's own mapping and weight rule, without building a simulator
        dt_ms = self.dt_ms
        maps = {}
        for pop in net.populations:
            own = pop.model.dt
            maps[id(pop)] = map_population(pop, self.qformat, dt_ms if own is None else float(own), self.options,
                                           warn=False)
        rows = ["| projection | weights (float) | codes | zero codes |", "|---|---|---|---|"]
        for proj in net.projections:
            codes = quantise_weights(proj, maps[id(proj.target)], warn=False)
            data = np.asarray(proj.data, dtype=float)
            lost = int(np.count_nonzero((data != 0) & (codes == 0)))
            label = proj.label or f"{proj.source.label}->{proj.target.label}"
            if data.size:
                rows.append(f"| {label} | {data.min():.4g} … {data.max():.4g} | {codes.min()} … {codes.max()} | "
                            f"{lost} of {data.size} |")
        self.weights.object = "**Weight quantisation** (float → code)\n\n" + "\n".join(rows) \
            if len(rows) > 2 else ""

    def set_code(self, name: str, code: int) -> None:
        """Write a code: as the float that maps onto it (float models) or as itself (FixedPointLIFNeuron)."""
        kind, label = self._kind(), self.population.value
        if kind is None:
            raise ValueError(f"population {label!r} has no fixed-point form")
        code = int(code)
        q = self.qformat
        fx.check_fits(code, q.data_width, name)
        if kind == "native":
            self.store.set_param("population", label, name, code)
            return
        e = self._entry()["params"]
        tau = float(e.get(TAU_NAME[kind], 20.0 if kind == "lapicque" else 10.0))
        if name == "leak_k":
            self.store.set_param("population", label, TAU_NAME[kind], tuning.leak_to_tau(code, self.dt_ms, q, kind))
        elif name == "gain_k":
            self.store.set_param("population", label, "resistance",
                                 tuning.gain_to_resistance(code, tau, self.dt_ms, q, kind))
        else:
            self.store.set_param("population", label, name, tuning.code_to_volts(code, q))

    def set_float(self, name: str, value) -> None:
        """Write a float parameter (``tau`` is the model's own time constant name)."""
        kind, label = self._kind(), self.population.value
        if kind is None or value is None:
            return
        if kind == "native":
            if name == "refractory_period":
                self.store.set_param("population", label, name, int(value))
            elif name in self.volts:
                self.store.set_param("population", label, name, self.qformat.quantize(float(value)))
            return
        if name == "tau":
            name = TAU_NAME[kind]
        v = int(value) if name == "refractory_period" else float(value)
        if name != "refractory_period" and not math.isfinite(v):
            raise ValueError(f"{name} must be finite, got {value!r}")
        self.store.set_param("population", label, name, v)

    def _guarded(self, fn, *args) -> None:
        if self._syncing:
            return
        try:
            fn(*args)
        except (ValueError, TypeError) as exc:
            self.status.object = f"**Refused:** {exc}"
            self._sync_controls()

    def _code_edit(self, name, value):
        if value is not None:
            self._guarded(self.set_code, name, value)

    def _float_edit(self, name, value):
        self._guarded(self.set_float, name, value)

    # -- float vs fixed --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute float vs fixed for the current network and settings (page thread)."""
        t0 = time.perf_counter()
        self.error = ""
        net = None
        try:
            if not self.population.value:
                raise ValueError("the network has no population")
            q = self.qformat
            n_steps = int(self.n_steps.value)
            if not 1 <= n_steps <= 20000:
                raise ValueError(f"Steps must be in [1, 20000], got {n_steps}")
            net = self.build()
            self.result = tuning.lab_compare(net, self.population.value, self.shown_neurons(), n_steps=n_steps,
                                             dt=float(self.store.run_dt), qformat=q, options=self.options)
        except (ValueError, NotImplementedError, KeyError) as exc:
            self.result = None
            self.error = str(exc)
        t1 = time.perf_counter()
        self._sync_controls(net)
        t2 = time.perf_counter()
        self._draw()
        t3 = time.perf_counter()
        self.last_seconds = t3 - t0
        rep = self.result.report.timings if self.result is not None else {}
        self.timings = {"float": rep.get("float_s", 0.0), "fixed": rep.get("fixed_s", 0.0),
                        "metrics": rep.get("metrics_s", 0.0), "compare": t1 - t0, "controls": t2 - t1,
                        "figures": t3 - t2, "total": t3 - t0}

    def agreement(self) -> dict:
        if self.result is None:
            return {}
        return {k: c.mean_agreement for k, c in self.result.report.populations.items()}

    def _draw(self) -> None:
        r = self.result
        if r is None:
            self.status.object = f"**Cannot compare:** {self.error}" if self.error else ""
            self.metrics.object = ""
            self.warnings_pane.visible = False
            return
        rep = r.report
        rows = ["| population | agreement | rate float (Hz) | rate fixed (Hz) | rate error | first divergence |",
                "|---|---|---|---|---|---|"]
        for c in rep.populations.values():
            div = "–" if c.first_divergence_step is None else f"step {c.first_divergence_step}"
            rows.append(f"| {c.label} | {c.mean_agreement:.4f} | {c.rate_float_hz.mean():.2f} | "
                        f"{c.rate_fixed_hz.mean():.2f} | {c.relative_rate_error:.3f} | {div} |")
        self.metrics.object = f"**Float vs {rep.qformat}** ({rep.n_steps} steps)\n\n" + "\n".join(rows)
        self.status.object = f"updated in {r.seconds * 1e3:.0f} ms"
        self.warnings_pane.object = "\n".join(f"- {w}" for w in r.warnings)
        self.warnings_pane.visible = bool(r.warnings)
        dt_ms = rep.dt * 1e3
        t = np.arange(r.v_float.shape[0]) * dt_ms
        from bokeh.core.properties import value

        shown = len(r.neurons)
        for j, (lf, lx) in enumerate(self._v_lines):
            on = j < shown
            lf.visible = lx.visible = on
            self._v_items[2 * j].visible = self._v_items[2 * j + 1].visible = on
            if on:
                i = r.neurons[j]
                lf.data_source.data = {"t": t, "v": r.v_float[:, j]}
                lx.data_source.data = {"t": t, "v": r.v_fixed[:, j]}
                # value(): a plain string label would be read as a column name
                self._v_items[2 * j].label = value(f"float #{i}")
                self._v_items[2 * j + 1].label = value(f"fixed #{i}")
        self._v_fig.title.text = f"v(t) of {r.population}: float vs {rep.qformat}"
        steps_f, ids_f = r.spikes_float.get(r.population, (np.zeros(0), np.zeros(0)))
        steps_x, ids_x = r.spikes_fixed.get(r.population, (np.zeros(0), np.zeros(0)))
        self._r_src[0].data = {"t": np.asarray(steps_f) * dt_ms, "neuron": np.asarray(ids_f, dtype=float)}
        self._r_src[1].data = {"t": np.asarray(steps_x) * dt_ms, "neuron": np.asarray(ids_x) + 0.4}
        self._r_fig.title.text = f"rasters of {r.population} (fixed offset by 0.4)"

    # -- long work off the page thread ------------------------------------------------------------
    def _start(self, name: str, target, *args) -> bool:
        job = self._jobs.get(name)
        if job is not None and job["thread"].is_alive():
            return False
        job = {"cancel": threading.Event(), "progress": (0, 1), "result": None, "error": None, "done": False}

        def run():
            try:
                res = target(job, *args)
                with self._lock:
                    job["result"] = res
            except tuning.Cancelled:
                with self._lock:
                    job["error"] = "cancelled"
            except Exception as exc:  # noqa: BLE001 - shown on the page, which keeps working
                with self._lock:
                    job["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                with self._lock:
                    job["done"] = True

        job["thread"] = threading.Thread(target=run, name=f"hardware-lab-{name}", daemon=True)
        self._jobs[name] = job
        job["thread"].start()
        doc = pn.state.curdoc
        if self._periodic is None and doc is not None and doc.session_context is not None:
            self._periodic = pn.state.add_periodic_callback(self.poll, period=POLL_MS)
        return True

    def wait(self, name: str, timeout: float = 300.0) -> bool:
        """Block until job ``name`` ends, then show its result (scripts and tests)."""
        job = self._jobs.get(name)
        if job is None:
            return True
        job["thread"].join(timeout)
        self.poll()
        return not job["thread"].is_alive()

    def cancel(self, name: str) -> None:
        job = self._jobs.get(name)
        if job is not None:
            job["cancel"].set()

    def poll(self) -> None:
        """Show progress and finished results of the worker threads (page thread)."""
        busy = False
        for name, job in list(self._jobs.items()):
            with self._lock:
                done, res, err, prog = job["done"], job["result"], job["error"], job["progress"]
            if name == "sweep":
                self.sweep_progress.max, self.sweep_progress.value = max(prog[1], 1), prog[0]
            if not done:
                busy = True
                continue
            if job.get("shown"):
                continue
            job["shown"] = True
            getattr(self, f"_show_{name}")(res, err)
        if not busy and self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    # sweep
    def start_sweep(self) -> bool:
        lo, hi = int(self.sweep_from.value), int(self.sweep_to.value)
        if not 2 <= lo <= hi <= 32:
            self.sweep_status.object = f"**Refused:** widths must satisfy 2 <= from <= to <= 32, got {lo}..{hi}"
            return False
        tol = float(self.tolerance.value)
        net, n_steps, dt, opts = self.build(), int(self.n_steps.value), float(self.store.run_dt), self.options

        def work(job):
            def progress(done, total):
                with self._lock:
                    job["progress"] = (done, total)
            return tuning.bitwidth_sweep(net, range(lo, hi + 1), n_steps=n_steps, dt=dt, tolerance=tol,
                                         options=opts, progress=progress, cancel=job["cancel"])

        started = self._start("sweep", work)
        if started:
            self._jobs["sweep"]["progress"] = (0, hi - lo + 1)
            self.sweep_progress.visible, self.sweep_progress.value, self.sweep_progress.max = True, 0, hi - lo + 1
            self.sweep_button.disabled, self.sweep_cancel.disabled = True, False
            self.sweep_status.object = f"Sweeping {hi - lo + 1} widths…"
        return started

    def _show_sweep(self, res, err) -> None:
        self.sweep_button.disabled, self.sweep_cancel.disabled = False, True
        if err:
            self.sweep_status.object = "Sweep cancelled" if err == "cancelled" else f"**Sweep failed:** {err}"
            return
        self.sweep_result = res
        rows = ["| format | agreement | rate error |", "|---|---|---|"]
        rows += [f"| {r.qformat} | {r.agreement:.4f} | {r.rate_error:.4f} |" for r in res.rows]
        s = res.smallest
        self.sweep_status.object = (f"**Smallest format within rate error {res.tolerance:g}: "
                                    f"{s.qformat if s else 'none'}** (fraction rule: integer bits hold the "
                                    f"largest potential, weight or stimulus plus one guard bit; the rest is "
                                    f"fraction)\n\n"
                                    + "\n".join(rows))
        w = [r.data_width for r in res.rows]
        agree = hv.Curve((w, [r.agreement for r in res.rows]), "total bits W", "value", label="agreement")
        err_c = hv.Curve((w, [min(r.rate_error, 2.0) for r in res.rows]), "total bits W", "value",
                         label="rate error (clipped at 2)")
        self.sweep_plot.object = (agree * hv.Scatter(agree) * err_c * hv.Scatter(err_c)).opts(
            title="agreement and rate error vs bit width", responsive=True, height=240, legend_position="right")
        self.sweep_plot.visible = True

    # co-simulation
    def start_cosim(self) -> bool:
        net, q, opts = self.build(), self.qformat, self.options
        n_steps, dt, label = min(int(self.n_steps.value), 2000), float(self.store.run_dt), self.population.value
        dt_ms = self.dt_ms

        def work(job):
            from engine.hardware import cosim
            from engine.hardware.export import two_layer_shape

            t0 = time.perf_counter()
            if two_layer_shape(net) is not None and sum(p.n for p in net.populations) <= 256:
                res = cosim.run_network_cosim(net, n_steps, dt=dt, qformat=q, options=opts)
                what = f"network {' → '.join(res.labels)}, {n_steps} cycles"
            else:
                # the selected population's neuron with its exact constants, on random vectors
                m = tuning.population_mapping(net.population(label), q, dt_ms, opts)
                cfg = {**{k: m.codes[k] for k in ("v_rest", "v_reset", "v_threshold", "refractory_period")},
                       "data_width": q.data_width, "fraction": q.fraction, **opts,
                       "refractory_hold": "v_reset" if m.kind == "lapicque" and m.codes["v_reset"] != m.codes["v_rest"]
                       else "v_rest"}
                vec = cosim.make_vectors(cfg, 5000, seed=0)
                res = cosim.run_neuron_cosim(cfg, vec)
                what = f"neuron of {label!r} (its constants, random vectors), {res.n_cycles} cycles"
            return res, what, time.perf_counter() - t0

        started = self._start("cosim", work)
        if started:
            self.cosim_button.disabled = True
            self.cosim_status.object = "Running Icarus Verilog…"
        return started

    def _show_cosim(self, res, err) -> None:
        self.cosim_button.disabled = False
        if err:
            self.cosim_status.object = f"**Co-simulation failed to run:** {err}"
            return
        r, what, seconds = res
        self.cosim_result = r
        verdict = "**PASS**" if r.ok else "**MISMATCH**"
        self.cosim_status.object = f"{verdict}: {what}; {seconds:.1f} s. {r.summary()}"

    # resources
    def start_resources(self) -> bool:
        q, opts, target = self.qformat, self.options, self.target.value
        refr = 2
        try:
            refr = int(self.mapping().codes["refractory_period"])
        except (ValueError, NotImplementedError, KeyError):
            pass

        def work(job):
            from engine.hardware import synth

            generic = synth.synth_neuron(q, refractory_period=refr)
            fpga = synth.fpga_resources(q, target, refractory_period=refr, options=opts)
            return generic, fpga

        started = self._start("resources", work)
        if started:
            self.resources_button.disabled = True
            self.resources_status.object = f"Synthesising and placing one neuron in {q} for {target}…"
        return started

    def _show_resources(self, res, err) -> None:
        self.resources_button.disabled = False
        if err:
            self.resources_status.object = f"**Resources failed:** {err}"
            return
        g, f = res
        self.resources_result = res
        self.resources_status.object = (
            f"**One neuron in {f.qformat}** — Yosys generic: {g.cells} cells, {g.flip_flops} flip-flops, "
            f"{g.multipliers} multipliers. **{f.target} ({f.device})**: {f.luts} LUTs, {f.flip_flops} FFs, "
            f"{f.dsps} DSPs, fmax {f.fmax_mhz:.1f} MHz ({f.seconds:.0f} s)")

    # export
    def export_bytes(self) -> bytes:
        return tuning.export_zip(self.build(), qformat=self.qformat, dt=float(self.store.run_dt), options=self.options)

    def _export_file(self):
        return io.BytesIO(self.export_bytes())

    # -- layout -----------------------------------------------------------------------------------
    def __panel__(self):
        params = pn.Column(
            "#### Population parameters (code ⇄ float)",
            pn.Row(self.leak_k, self.tau), pn.Row(self.gain_k, self.resistance),
            *[pn.Row(self.volt_codes[k], self.volts[k]) for k in self.volt_codes], self.refractory,
            self.weights)
        left = pn.Column(
            "### Hardware lab",
            pn.Row(self.data_width, self.fraction), self.saturate, self.rounding,
            self.population, self.neurons, self.n_steps, params, width=340)
        long_work = pn.Column(
            "#### Bit-width sweep", pn.Row(self.sweep_from, self.sweep_to, self.tolerance),
            pn.Row(self.sweep_button, self.sweep_cancel), self.sweep_progress, self.sweep_status, self.sweep_plot,
            "#### RTL", pn.Row(self.cosim_button, self.target, self.resources_button, self.export),
            self.cosim_status, self.resources_status, sizing_mode="stretch_width")
        right = pn.Column(self.status, self.warnings_pane, self.metrics, self.v_plot, self.raster_plot, long_work,
                          sizing_mode="stretch_width")
        return pn.Row(left, right, sizing_mode="stretch_width")
