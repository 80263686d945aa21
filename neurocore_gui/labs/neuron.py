"""Neuron lab (teaching): one neuron of any registered model, every parameter
a live slider, its equations, textbook presets, a full phase plane and the
F-I curve.

All the science is in :mod:`engine.analysis`; this module lays out widgets
and Bokeh figures and keeps them in step with the engine's answers.  A change
of any input re-runs the neuron off the page's thread; changes that arrive
while a run is in flight are folded into one follow-up run (the latest
values win), so dragging a slider never queues a backlog.
"""

from __future__ import annotations

import asyncio
import threading
import time
from functools import partial

import numpy as np
import panel as pn
import panel_material_ui as pmui
import param
from bokeh.events import Tap
from bokeh.layouts import column as bokeh_column
from bokeh.models import ColumnDataSource, DataRange1d, Range1d, Span
from bokeh.plotting import figure

from engine.analysis import (PROTOCOLS, Cancelled, equations_latex, fi_curve, fixed_points, nullclines,
                             phase_box, phase_plane_note, plane_variables, protocol_current, simulate,
                             vector_field)
from engine.analysis.params import parameter_ranges
from engine.analysis.phase import plane_candidates
from engine.analysis.presets import describe_protocol, find_preset, lab_currents, preset_current, presets_for
from engine.models import get_model, model_names

__all__ = ["NeuronLab", "decimate"]

MAX_POINTS = 3000          # samples per drawn trace (min/max pairs keep every spike peak)
TRAJECTORY_MS = 1000.0     # length of a trajectory started by a click in the phase plane

FIELDS = {"duration_ms": "duration (ms)", "amplitude": "amplitude", "onset_ms": "onset (ms)",
          "offset_ms": "offset (ms)", "start": "ramp start", "end": "ramp end", "mean": "noise mean",
          "sd": "noise SD", "seed": "seed", "width_ms": "pulse width (ms)", "period_ms": "pulse period (ms)",
          "count": "pulse count", "i_max": "F-I: max current", "current": "nullclines at I"}

_FP_COLOURS = {"stable node": "#2ca02c", "stable focus": "#98df8a", "saddle": "#ff7f0e",
               "unstable node": "#d62728", "unstable focus": "#ff9896", "centre": "#9467bd",
               "degenerate": "#7f7f7f"}


def decimate(t: np.ndarray, y: np.ndarray, n: int = MAX_POINTS):
    """At most ~``n`` points of ``(t, y)``: per bucket its minimum and maximum
    in time order, so spikes keep their peaks (plain striding drops them)."""
    if t.size <= n:
        return t, y
    b = -(-t.size // (n // 2))
    m = (t.size // b) * b
    tb, yb = t[:m].reshape(-1, b), y[:m].reshape(-1, b)
    i0, i1 = yb.argmin(axis=1), yb.argmax(axis=1)
    lo, hi = np.minimum(i0, i1), np.maximum(i0, i1)
    rows = np.arange(tb.shape[0])
    tt = np.stack([tb[rows, lo], tb[rows, hi]], axis=1).ravel()
    yy = np.stack([yb[rows, lo], yb[rows, hi]], axis=1).ravel()
    return np.concatenate([tt, t[m:]]), np.concatenate([yy, y[m:]])


def _joined(segments):
    if not segments:
        return np.zeros(0), np.zeros(0)
    nan = np.full((1, 2), np.nan)
    xy = np.concatenate([p for seg in segments for p in (seg, nan)][:-1])
    return xy[:, 0], xy[:, 1]


def _broken_at_jumps(x, y, n: int = MAX_POINTS):
    """Trajectory for drawing: strided to ~``n`` points, with a NaN break
    where a reset jumps (over a fifth of the x range in one step), so a reset
    is not drawn as a line across the plane."""
    s = max(1, -(-x.size // n))
    jump = np.flatnonzero(np.abs(np.diff(x)) > 0.2 * (float(np.ptp(x)) or 1.0)) + 1
    xs, ys = x[::s].astype(float), y[::s].astype(float)
    cut = np.unique(-(-jump // s))
    cut = cut[(cut > 0) & (cut < xs.size)]
    return np.insert(xs, cut, np.nan), np.insert(ys, cut, np.nan)


def compute_run(req: dict) -> dict:
    """Everything one update shows (pure; runs in a worker thread)."""
    t0 = time.perf_counter()
    name, params = req["model"], req["params"]
    res_start = t0
    cls = get_model(name)
    dt = cls.default_dt
    if req.get("preset"):
        p = find_preset(name, req["preset"])
        dt = p.dt_ms or dt
        cur = preset_current(p, dt)
        initial = dict(p.initial)
    else:
        cur = protocol_current(req["protocol"], req["duration_ms"], dt, **req["protocol_kw"])
        initial = {}
    res = simulate(name, cur, params, dt_ms=dt, initial=initial)
    res["t_sim"] = time.perf_counter() - t0
    res["phase"] = None
    res["phase_note"] = phase_plane_note(name, params)
    pair = req.get("pair") or plane_variables(name)
    if not res["phase_note"] and pair:
        xv, yv = pair
        k = min(res["t_ms"].size - 1, max(0, int(round(req.get("freeze_ms", 0.0) / dt)) - 1))
        frozen = {v: float(res["states"][v][k]) for v in plane_candidates(name) if v not in pair} or None
        i = req["current"]
        x, y = res["states"][xv], res["states"][yv]
        model = cls(**params)
        try:
            box = phase_box(model, i, x, y, pair=pair, frozen=frozen)
            res["phase"] = {
                "pair": pair, "box": box, "current": i, "frozen": frozen,
                "null": nullclines(model, i, *box, n=81, pair=pair, frozen=frozen),
                "field": vector_field(model, i, *box, n=15, pair=pair, frozen=frozen),
                "fixed": fixed_points(model, i, *box, pair=pair, frozen=frozen, n=41),
            }
        except ValueError as exc:  # e.g. the kernel fires over the whole box
            res["phase_note"] = str(exc)
    res["t_total"] = time.perf_counter() - t0
    res["t_start"] = res_start
    return res


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


class NeuronLab(pn.viewable.Viewer):
    """One neuron of any model: live parameters, equations, presets, phase plane, F-I curve."""

    model = param.Selector(default="FitzHughNagumoNeuron", objects=[])

    def __init__(self, store=None, **params):
        names = model_names()
        self.param.model.objects = names
        super().__init__(**params)
        self.store = store
        self._version = 0          # bumped by every input change
        self._shown = -1           # version on screen
        self._busy = False
        self._hold = True          # no runs while widgets are being rebuilt
        self._t_change = time.perf_counter()
        self._fi_stop = threading.Event()
        self._fi_frac = 0.0
        self.last_timing: dict = {}
        self.last_result: dict | None = None
        self.clicked: list = []
        f = FIELDS
        self.model_select = pmui.Select(label="Model", options=names, value=self.model, width=270)
        self.preset_select = pmui.Select(label="Preset", options={"(none)": ""}, value="", width=270)
        self.preset_text = pn.pane.Markdown("", sizing_mode="stretch_width", visible=False)
        # a preset with its own current (pulses, ramps) is not one of the
        # protocols below: say so, so the fields are not read as what runs
        self.protocol_note = pn.pane.Markdown(
            "<small>The preset's own current is running (its protocol is described above). "
            "Changing a field below replaces it with that protocol.</small>",
            sizing_mode="stretch_width", visible=False, css_classes=["nc-preset-current"])
        self.protocol = pmui.RadioButtonGroup(label="Protocol", options=list(PROTOCOLS), value="step")
        self.duration = pmui.FloatInput(label=f["duration_ms"], value=300.0, width=120)
        self.amp = pmui.FloatSlider(label=f["amplitude"], start=0.0, end=1.0, step=0.01, value=0.5, width=270)
        self.onset = pmui.FloatInput(label=f["onset_ms"], value=50.0, width=110)
        self.offset = pmui.FloatInput(label=f["offset_ms"], value=250.0, width=110)
        self.ramp_start = pmui.FloatInput(label=f["start"], value=0.0, width=110)
        self.ramp_end = pmui.FloatInput(label=f["end"], value=1.0, width=110)
        self.noise_mean = pmui.FloatInput(label=f["mean"], value=0.5, width=110)
        self.noise_sd = pmui.FloatInput(label=f["sd"], value=0.2, width=110)
        self.seed = pmui.IntInput(label=f["seed"], value=0, width=90)
        self.width = pmui.FloatInput(label=f["width_ms"], value=5.0, width=120)
        self.period = pmui.FloatInput(label=f["period_ms"], value=50.0, width=120)
        self.count = pmui.IntInput(label=f["count"], value=5, width=100)
        self.nc_current = pmui.FloatInput(label=f["current"], value=0.5, width=130)
        self.plane_x = pmui.Select(label="plane x", options=[], width=110)
        self.plane_y = pmui.Select(label="plane y", options=[], width=110)
        self.freeze = pmui.FloatInput(label="others frozen at t (ms)", value=0.0, width=170)
        self.imax = pmui.FloatInput(label=f["i_max"], value=1.0, width=140)
        self.fi_btn = pmui.Button(label="F-I curve", icon="show_chart")
        self.fi_cancel = pmui.Button(label="Cancel", icon="close", disabled=True)
        self.fi_progress = pmui.LinearProgress(value=0, visible=False, width=270)
        self.fi_text = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.clear_btn = pmui.Button(label="Clear clicked trajectories", variant="text")
        self.pop_select = pmui.Select(label="Population of the network", options=[], width=200)
        self.open_btn = pmui.Button(label="Open", icon="file_open", variant="outlined")
        self.send_btn = pmui.Button(label="Send to canvas", icon="add_box", variant="outlined")
        self.msg = pmui.Alert(object="", severity="error", visible=False, sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["nl-status"])
        self.eq_pane = pn.pane.LaTeX("", sizing_mode="stretch_width", styles={"font-size": "15px"})
        self.table = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.sliders: dict = {}
        self.param_box = pn.Column(sizing_mode="stretch_width", max_height=520, scroll="y")
        self._protocol_widgets = {
            "step": [self.amp, self.onset, self.offset],
            "ramp": [self.ramp_start, self.ramp_end, self.onset, self.offset],
            "noise": [self.noise_mean, self.noise_sd, self.seed, self.onset, self.offset],
            "pulses": [self.amp, self.width, self.period, self.count, self.onset],
        }
        self.trace_box = pn.Column(sizing_mode="stretch_width")
        self.phase_box = pn.Column(width=470)
        self.fi_box = pn.Column(sizing_mode="stretch_width")
        self._build_fi_figure()

        inputs = [self.duration, self.amp, self.onset, self.offset, self.ramp_start, self.ramp_end,
                  self.noise_mean, self.noise_sd, self.seed, self.width, self.period, self.count,
                  self.nc_current, self.plane_x, self.plane_y, self.freeze]
        for w in inputs:
            w.param.watch(self._changed, "value")
        self.protocol.param.watch(self._protocol_changed, "value")
        self.model_select.param.watch(lambda e: self.set_model(e.new), "value")
        self.preset_select.param.watch(lambda e: self.apply_preset(e.new), "value")
        self.fi_btn.on_click(self._fi_clicked)
        self.fi_cancel.on_click(lambda e: self._fi_stop.set())
        self.clear_btn.on_click(self._clear_clicked)
        self.open_btn.on_click(lambda e: self.open_population(self.pop_select.value))
        self.send_btn.on_click(lambda e: self.send_to_canvas())
        if store is not None:
            store.param.watch(self._store_changed, "structure_revision")
            self._store_changed()
        self._hold = True
        self._protocol_changed()
        self.set_model(self.model)

    # -- model, parameters, presets ----------------------------------------------------------
    def set_model(self, name: str, values: dict | None = None) -> None:
        """Show ``name`` with fresh sliders (at ``values`` or the defaults)."""
        cls = get_model(name)
        self._hold = True
        try:
            self.model = cls.registry_name()
            if self.model_select.value != self.model:
                self.model_select.value = self.model
            ranges = parameter_ranges(cls)
            self.sliders = {}
            for pname, spec in ranges.items():
                label = f"{pname} ({spec['unit']})" if spec["unit"] else pname
                if spec["kind"] == "select":
                    w = pmui.Select(label=label, options=spec["options"], value=spec["value"], width=250)
                else:
                    widget = pmui.IntSlider if spec["kind"] == "int" else pmui.FloatSlider
                    w = widget(label=label, start=spec["start"], end=spec["end"], step=spec["step"],
                               value=spec["value"], width=250, description=spec["doc"] or None)
                w.param.watch(self._changed, "value")
                self.sliders[pname] = w
            if values:
                self._set_values(values)
            self.param_box.objects = list(self.sliders.values())
            i_max, amp = lab_currents(cls)
            lo = min(0.0, -0.5 * i_max)
            self.amp.start, self.amp.end, self.amp.step = lo, i_max, (i_max - lo) / 400
            self.amp.value = amp
            self.amp.label = f"amplitude ({cls.current_unit})"
            self.nc_current.value = amp
            self.nc_current.label = f"nullclines at I ({cls.current_unit})"
            self.imax.value = i_max
            self.ramp_start.value, self.ramp_end.value = 0.0, i_max
            self.noise_mean.value, self.noise_sd.value = amp, round(0.25 * i_max, 6)
            cands = plane_candidates(cls)
            pair = plane_variables(cls)
            self.plane_x.options, self.plane_y.options = cands, cands
            if pair:
                self.plane_x.value, self.plane_y.value = pair
            self.freeze.visible = len(cands) > 2
            self.plane_x.visible = self.plane_y.visible = len(cands) > 2
            presets = presets_for(cls)
            self.preset_select.options = {"(none)": "", **{p.title: p.key for p in presets}}
            self.preset_select.value = ""
            self.preset_select.visible = bool(presets)
            self.preset_text.visible = self.protocol_note.visible = False
            lines = r" \\ ".join(equations_latex(cls))
            self.eq_pane.object = rf"$$\begin{{gathered}} {lines} \end{{gathered}}$$"
            self.clicked = []
            self._build_figures(cls)
            self._update_table()
        finally:
            self._hold = False
        self._changed()

    def _set_values(self, values: dict) -> None:
        for k, v in values.items():
            w = self.sliders.get(k)
            if w is None:
                continue
            if hasattr(w, "start") and isinstance(v, (int, float)):
                # a preset may go beyond the generated range: widen it rather than clip
                w.start, w.end = min(w.start, v), max(w.end, v)
            w.value = v

    def params(self) -> dict:
        return {k: w.value for k, w in self.sliders.items()}

    def _update_table(self) -> None:
        cls = get_model(self.model)
        vals = self.params()
        rows = ["| parameter | value | unit | meaning |", "|---|---|---|---|"]
        for k, w in self.sliders.items():
            p = cls.param[k]
            rows.append(f"| `{k}` | {_fmt(vals[k])} | {getattr(p, 'unit', '') or ''} | {p.doc or ''} |")
        self.table.object = "\n".join(rows) + f"\n\n<small>{cls.reference}</small>"

    def apply_preset(self, key: str) -> None:
        """Set the preset's parameters and protocol and re-run (``""``: none)."""
        if not key:
            self.preset_text.visible = self.protocol_note.visible = False
            self._changed()
            return
        p = find_preset(self.model, key)
        self._hold = True
        try:
            if self.preset_select.value != key:
                self.preset_select.value = key
            defaults = {k: v["value"] for k, v in parameter_ranges(self.model).items()}
            self._set_values({**defaults, **p.params})
            self.duration.value = p.duration_ms
            if p.protocol:
                kw = dict(p.protocol)
                self.protocol.value = kw.pop("protocol")
                for k, w in (("amplitude", self.amp), ("onset_ms", self.onset), ("offset_ms", self.offset),
                             ("start", self.ramp_start), ("end", self.ramp_end)):
                    if k in kw:
                        if w is self.amp:
                            w.start, w.end = min(w.start, kw[k]), max(w.end, kw[k])
                        w.value = kw[k]
            amp = p.protocol.get("amplitude", p.protocol.get("end")) if p.protocol else p.baseline
            self.nc_current.value = float(amp)
            self.preset_text.object = (f"**{p.title}** — {p.text}\n\n*{describe_protocol(p)}*\n\n"
                                       f"<small>{p.reference}</small>")
            self.preset_text.visible = True
            self.protocol_note.visible = not p.protocol
        finally:
            self._hold = False
        self._changed(preset=True)

    # -- the network (store) ---------------------------------------------------------------
    def _store_changed(self, *_):
        labels = [e.get("label") for e in self.store.document.get("populations", [])]
        self.pop_select.options = labels
        if labels and self.pop_select.value not in labels:
            self.pop_select.value = labels[0]

    def open_population(self, label: str) -> None:
        """Load the model and parameters of the network's population ``label``."""
        if self.store is None or not label:
            return
        entry = self.store.entry("population", label)
        self.set_model(entry["model"], values=entry.get("params") or {})
        self._opened = label
        self.status.object = f"Opened population **{label}** of the network."

    def send_to_canvas(self) -> str | None:
        """Add one neuron with the lab's model and parameters to the network
        (a new population ``lab_<model>``, numbered if taken); returns its label."""
        if self.store is None:
            return None
        doc = self.store.network_dict()
        taken = {e.get("label") for e in doc.get("populations", [])}
        base = "lab_" + self.model.replace("Neuron", "").lower()
        label, k = base, 2
        while label in taken:
            label, k = f"{base}_{k}", k + 1
        doc.setdefault("populations", []).append({"label": label, "model": self.model, "n": 1,
                                                  "params": self.params()})
        try:
            self.store.replace(doc, dirty=True)
        except ValueError as exc:
            self._fail(exc)
            return None
        self.status.object = f"Added population **{label}** (1 neuron) to the network."
        return label

    # -- runs ---------------------------------------------------------------------------------
    def _protocol_changed(self, event=None) -> None:
        shown = self._protocol_widgets[self.protocol.value]
        for ws in self._protocol_widgets.values():
            for w in ws:
                w.visible = w in shown
        self._changed()

    def request(self) -> dict:
        kw = {"amplitude": self.amp.value, "onset_ms": self.onset.value, "offset_ms": self.offset.value,
              "start": self.ramp_start.value, "end": self.ramp_end.value, "mean": self.noise_mean.value,
              "sd": self.noise_sd.value, "seed": self.seed.value, "width_ms": self.width.value,
              "period_ms": self.period.value, "count": self.count.value}
        if self.protocol.value != "pulses" and self.offset.value is not None and self.duration.value is not None:
            kw["offset_ms"] = min(self.offset.value, self.duration.value)
        pair = (self.plane_x.value, self.plane_y.value)
        return {"model": self.model, "params": self.params(), "protocol": self.protocol.value,
                "duration_ms": self.duration.value, "protocol_kw": kw, "current": self.nc_current.value,
                "pair": pair if pair[0] and pair[1] and pair[0] != pair[1] else None,
                "freeze_ms": self.freeze.value or 0.0, "preset": self._preset_active()}

    def _preset_active(self) -> str:
        # a preset's own current (segments) applies until the protocol is edited
        key = self.preset_select.value
        if key and not find_preset(self.model, key).protocol:
            return key
        return ""

    def _changed(self, *events, preset: bool = False) -> None:
        if self._hold:
            return
        for e in events:
            if getattr(e, "obj", None) is self.amp:
                self._hold = True
                self.nc_current.value = e.new   # the plane follows the step unless set apart
                self._hold = False
        if events and not preset and self.preset_select.value and any(
                getattr(e, "obj", None) in self._all_protocol_inputs() for e in events):
            self.preset_select.value = ""  # the protocol was edited: the preset no longer applies
        self._version += 1
        self._t_change = time.perf_counter()
        if events and any(getattr(e, "obj", None) in self.sliders.values() for e in events):
            self._update_table()
        if self._in_server():
            self._doc = pn.state.curdoc
            pn.state.execute(self._drain)
        else:
            self.run()

    async def _on_doc(self, fn, *args) -> None:
        """Run ``fn(*args)`` as a callback of the session's document (its lock
        held, its models current) and wait for it: results computed in a
        worker thread reach the figures this way."""
        doc = getattr(self, "_doc", None) or pn.state.curdoc
        if doc is None or doc.session_context is None:
            fn(*args)
            return
        done = asyncio.get_running_loop().create_future()

        def cb():
            try:
                fn(*args)
            finally:
                if not done.done():
                    done.set_result(None)

        doc.add_next_tick_callback(cb)
        await done

    def _all_protocol_inputs(self):
        return [self.protocol, self.duration, self.onset, self.offset, self.ramp_start, self.ramp_end,
                self.noise_mean, self.noise_sd, self.seed, self.width, self.period, self.count]

    @staticmethod
    def _in_server() -> bool:
        return pn.state.curdoc is not None and pn.state.curdoc.session_context is not None

    async def _drain(self) -> None:
        if self._busy:
            return  # the running loop below picks the latest values up when it is done
        self._busy = True
        try:
            while self._shown < self._version:
                version, t_change = self._version, self._t_change
                try:
                    req = self.request()
                    res = await asyncio.to_thread(compute_run, req)
                except Exception as exc:  # noqa: BLE001 - shown in the page
                    await self._on_doc(self._fail, exc)
                    self._shown = version
                    continue
                if version == self._version:  # skip drawing a result that is already stale
                    await self._on_doc(self._show, res, t_change)
                self._shown = version
        finally:
            self._busy = False

    def run(self) -> None:
        """Synchronous run of the current inputs (scripts, tests, bench)."""
        t_change = time.perf_counter()
        try:
            res = compute_run(self.request())
        except Exception as exc:  # noqa: BLE001 - shown in the page
            self._fail(exc)
            return
        self._show(res, t_change)
        self._shown = self._version

    def _fail(self, exc: Exception) -> None:
        field = getattr(exc, "field", None)
        label = FIELDS.get(field, field)
        text = str(exc)
        if label and field and text.startswith(f"{field}:"):
            text = f"{label}:{text[len(field) + 1:]}"
        self.msg.object, self.msg.visible = text, True

    # -- figures ------------------------------------------------------------------------------
    def _build_figures(self, cls) -> None:
        vv = cls.voltage_variable
        # step counters (refractory...) are bookkeeping, not dynamics: not drawn
        names = [vv] + [k for k in plane_candidates(cls) if k != vv]
        self.trace_src = {k: ColumnDataSource({"t": [], "y": []}) for k in names}
        self.spike_src = ColumnDataSource({"t": [], "y": []})
        self.cur_src = ColumnDataSource({"t": [], "y": []})
        figs = []
        x_range = DataRange1d()  # shared: zooming one trace zooms all
        for k in names:
            unit = cls.state_units.get(k, "")
            fig = figure(height=230 if k == vv else 120, sizing_mode="stretch_width", x_range=x_range,
                         tools="xpan,xwheel_zoom,box_zoom,reset,hover", toolbar_location="right",
                         y_axis_label=f"{k} ({unit})" if unit else k)
            x_range = fig.x_range
            fig.line("t", "y", source=self.trace_src[k], line_width=1.4, color="#1f77b4", line_join="round")
            if k == vv:
                fig.scatter("t", "y", source=self.spike_src, marker="inverted_triangle", size=8, color="#d62728")
                self.v_fig = fig
            figs.append(fig)
        cur = figure(height=110, sizing_mode="stretch_width", x_range=x_range, tools="xpan,xwheel_zoom,reset",
                     y_axis_label=f"I ({cls.current_unit})", x_axis_label="time (ms)")
        cur.step("t", "y", source=self.cur_src, color="#2ca02c", mode="after")
        figs.append(cur)
        self.trace_figs = figs
        # one Bokeh layout in one pane: separate panes beside the phase plane
        # trip Bokeh's layout pass when the tab is first shown
        self.trace_box.objects = [pn.pane.Bokeh(bokeh_column(*figs, sizing_mode="stretch_width"),
                                                sizing_mode="stretch_width")]
        # phase plane
        self.vf_src = ColumnDataSource({"x0": [], "y0": [], "x1": [], "y1": []})
        self.xn_src = ColumnDataSource({"x": [], "y": []})
        self.yn_src = ColumnDataSource({"x": [], "y": []})
        self.traj_src = ColumnDataSource({"x": [], "y": []})
        self.start_src = ColumnDataSource({"x": [], "y": []})
        self.click_src = ColumnDataSource({"xs": [], "ys": []})
        self.fp_src = ColumnDataSource({"x": [], "y": [], "kind": [], "color": [], "eig": []})
        ph = figure(width=460, height=520, tools="pan,wheel_zoom,reset,tap,hover", toolbar_location="right",
                    x_range=Range1d(0, 1), y_range=Range1d(0, 1), title="Phase plane — click to start a trajectory")
        ph.segment("x0", "y0", "x1", "y1", source=self.vf_src, color="#bbbbbb", line_width=1)
        ph.scatter("x1", "y1", source=self.vf_src, size=2.5, color="#999999")
        ph.line("x", "y", source=self.xn_src, color="#ff7f0e", line_width=2.5, line_dash="dashed",
                legend_label="x-nullcline")
        ph.line("x", "y", source=self.yn_src, color="#2ca02c", line_width=2.5, line_dash="dashed",
                legend_label="y-nullcline")
        ph.multi_line("xs", "ys", source=self.click_src, color="#9467bd", line_width=1.5, legend_label="clicked")
        ph.line("x", "y", source=self.traj_src, color="#1f77b4", line_width=1.6, legend_label="trajectory")
        ph.scatter("x", "y", source=self.start_src, size=7, color="black")
        ph.scatter("x", "y", source=self.fp_src, size=12, color="color", line_color="black",
                   legend_field="kind")
        legend = ph.legend[0]
        legend.orientation = "horizontal"
        legend.label_text_font_size = "8pt"
        legend.spacing = 2
        ph.add_layout(legend, "below")  # inside, it hides the plane a student clicks in
        ph.on_event(Tap, self._tap)
        self.phase_fig = ph
        self.phase_note = pn.pane.Markdown("", width=440)
        self._phase_panes = [pn.pane.Bokeh(ph), self.clear_btn]
        self.phase_box.objects = self._phase_panes

    def _build_fi_figure(self) -> None:
        self.fi_src = ColumnDataSource({"i": [], "r": []})
        self.rh_span = Span(location=0, dimension="height", line_color="#d62728", line_dash="dashed",
                            line_width=2, visible=False)
        fig = figure(height=260, sizing_mode="stretch_width", x_axis_label="current", y_axis_label="rate (Hz)",
                     tools="pan,wheel_zoom,reset,hover", title="F-I curve")
        fig.line("i", "r", source=self.fi_src, line_width=2)
        fig.scatter("i", "r", source=self.fi_src, size=6)
        fig.add_layout(self.rh_span)
        self.fi_fig = fig
        # the figure joins the page with its first curve: a hidden Bokeh plot
        # has no layout, and the browser's resize pass then fails on it
        self.fi_box.objects = []

    def _show(self, res: dict, t_change: float) -> None:
        t_draw = time.perf_counter()
        self.msg.visible = False
        self.last_result = res
        cls = get_model(self.model)
        t = res["t_ms"]
        for k, src in self.trace_src.items():
            if k in res["states"]:
                tt, yy = decimate(t, res["states"][k])
                src.data = {"t": tt, "y": yy}
        vv = res["states"][cls.voltage_variable]
        st = res["spike_times_ms"]
        top = float(np.max(vv)) if vv.size else 0.0
        self.spike_src.data = {"t": st, "y": np.full(st.size, top)}
        tc, yc = decimate(t, res["current"])
        self.cur_src.data = {"t": tc, "y": yc}
        n = st.size
        rate = f", {1000.0 * (n - 1) / (st[-1] - st[0]):.1f} Hz" if n >= 3 else ""
        self.v_fig.title.text = f"{self.model}: {n} spike{'s' if n != 1 else ''}{rate}"
        self._show_phase(res)
        t_end = time.perf_counter()
        self.last_timing = {"simulate_ms": 1e3 * res["t_sim"], "analysis_ms": 1e3 * (res["t_total"] - res["t_sim"]),
                            "draw_ms": 1e3 * (t_end - t_draw), "total_ms": 1e3 * (t_end - t_change),
                            "queued_ms": 1e3 * max(0.0, res["t_start"] - t_change),
                            "handover_ms": 1e3 * max(0.0, t_draw - res["t_start"] - res["t_total"])}
        lt = self.last_timing
        self.status.object = (f"**{n} spike{'s' if n != 1 else ''}**{rate} · "
                              f"updated in **{lt['total_ms']:.0f} ms** (neuron {lt['simulate_ms']:.0f} ms, "
                              f"phase plane {lt['analysis_ms']:.0f} ms, figures {lt['draw_ms']:.0f} ms, "
                              f"waiting {lt['queued_ms'] + lt['handover_ms']:.0f} ms; "
                              f"engine: {res['engine']})")

    def _show_phase(self, res: dict) -> None:
        ph = res["phase"]
        if ph is None:
            self.phase_note.object = f"**Phase plane** — {res['phase_note']}"
            if self.phase_box.objects != [self.phase_note]:
                self.phase_box.objects = [self.phase_note]  # swapped, not hidden (see _build_fi_figure)
            return
        if self.phase_box.objects != self._phase_panes:
            self.phase_box.objects = self._phase_panes
        xv, yv = ph["pair"]
        cls = get_model(self.model)
        (x0, x1), (y0, y1) = ph["box"]
        self.phase_fig.x_range.update(start=x0, end=x1)
        self.phase_fig.y_range.update(start=y0, end=y1)
        ux, uy = cls.state_units.get(xv, ""), cls.state_units.get(yv, "")
        self.phase_fig.xaxis.axis_label = f"{xv} ({ux})" if ux else xv
        self.phase_fig.yaxis.axis_label = f"{yv} ({uy})" if uy else yv
        frozen = ph["frozen"]
        extra = (", " + ", ".join(f"{k} = {v:.3g}" for k, v in frozen.items())) if frozen else ""
        self.phase_fig.title.text = f"I = {ph['current']:g}{extra} — click to start a trajectory"
        vf = ph["field"]
        # arrows scaled so the longest spans ~1/12 of the box, direction kept per axis scale
        sx, sy = (x1 - x0), (y1 - y0)
        un, vn = vf["u"] / sx, vf["v"] / sy
        mag = np.hypot(un, vn)
        scale = 1.0 / 14.0 / np.where(mag > 0, mag, 1.0)
        ok = vf["valid"] & (mag > 0)
        self.vf_src.data = {"x0": vf["x"][ok], "y0": vf["y"][ok], "x1": (vf["x"] + un * scale * sx)[ok],
                            "y1": (vf["y"] + vn * scale * sy)[ok]}
        for src, key in ((self.xn_src, "x"), (self.yn_src, "y")):
            a, b = _joined(ph["null"][key])
            src.data = {"x": a, "y": b}
        self.phase_fig.legend.items[0].label = {"value": f"d{xv}/dt = 0"}
        self.phase_fig.legend.items[1].label = {"value": f"d{yv}/dt = 0"}
        x, y = res["states"][xv], res["states"][yv]
        tx, ty = _broken_at_jumps(x, y)
        self.traj_src.data = {"x": tx, "y": ty}
        self.start_src.data = {"x": [float(x[0])], "y": [float(y[0])]}
        fps = ph["fixed"]
        self.fp_src.data = {"x": [f.x for f in fps], "y": [f.y for f in fps], "kind": [f.kind for f in fps],
                            "color": [_FP_COLOURS.get(f.kind, "#7f7f7f") for f in fps],
                            "eig": [", ".join(f"{e:.3g}" for e in f.eigenvalues) for f in fps]}
        self.click_src.data = {"xs": [c[0] for c in self.clicked], "ys": [c[1] for c in self.clicked]}

    # -- phase-plane clicks -----------------------------------------------------------------------
    def _tap(self, event) -> None:
        if event.x is None or event.y is None:
            return
        if self._in_server():
            self._doc = pn.state.curdoc
            pn.state.execute(partial(self._click_async, event.x, event.y))
        else:
            self.click(event.x, event.y)

    def trajectory_from(self, x: float, y: float):
        """Trajectory from the point ``(x, y)`` of the plane under the plane's
        constant current, the other variables starting where they are frozen."""
        res = self.last_result
        if not res or not res.get("phase"):
            raise ValueError("point: this model has no phase plane to click in")
        ph = res["phase"]
        xv, yv = ph["pair"]
        cls = get_model(self.model)
        dt = cls.default_dt
        initial = {xv: float(x), yv: float(y), **(ph["frozen"] or {})}
        cur = np.full(int(round(TRAJECTORY_MS / dt)), float(ph["current"]))
        r = simulate(self.model, cur, self.params(), dt_ms=dt, initial=initial)
        tx, ty = _broken_at_jumps(np.concatenate([[x], r["states"][xv]]), np.concatenate([[y], r["states"][yv]]))
        return tx, ty

    def click(self, x: float, y: float) -> None:
        """Start a trajectory at ``(x, y)`` (what a click in the plane does)."""
        try:
            tx, ty = self.trajectory_from(x, y)
        except ValueError as exc:
            self._fail(exc)
            return
        self._add_clicked(tx, ty)

    async def _click_async(self, x, y) -> None:
        try:
            tx, ty = await asyncio.to_thread(self.trajectory_from, x, y)
        except ValueError as exc:
            await self._on_doc(self._fail, exc)
            return
        await self._on_doc(self._add_clicked, tx, ty)

    def _add_clicked(self, tx, ty) -> None:
        self.clicked = (self.clicked + [(tx.tolist(), ty.tolist())])[-8:]
        self.click_src.data = {"xs": [c[0] for c in self.clicked], "ys": [c[1] for c in self.clicked]}
        self.clear_btn.label = f"Clear clicked trajectories ({len(self.clicked)})"

    def _clear_clicked(self, *_):
        self.clicked = []
        self.click_src.data = {"xs": [], "ys": []}
        self.clear_btn.label = "Clear clicked trajectories"

    # -- F-I curve ----------------------------------------------------------------------------------
    def fi_request(self) -> dict:
        return {"model": self.model, "i_max": self.imax.value, "params": self.params()}

    def _fi_progress(self, frac: float) -> None:
        self._fi_frac = frac

    def compute_fi(self, req: dict | None = None):
        req = req or self.fi_request()
        dur = 300.0 if get_model(req["model"]).default_dt < 0.05 else 1000.0  # HH-like kernels are slow
        return fi_curve(req["model"], req["i_max"], params=req["params"], n_points=21, duration_ms=dur,
                        progress=self._fi_progress, cancel=self._fi_stop)

    async def _fi_clicked(self, event=None) -> None:
        if self._in_server():
            self._doc = pn.state.curdoc
        self._fi_stop.clear()
        self._fi_frac = 0.0

        def start():
            self.fi_btn.disabled, self.fi_cancel.disabled = True, False
            self.fi_progress.visible, self.fi_progress.value = True, 0
            self.fi_text.object = "Computing the F-I curve…"

        def progress():
            self.fi_progress.value = int(100 * self._fi_frac)

        def finish(text=None):
            self.fi_btn.disabled, self.fi_cancel.disabled = False, True
            self.fi_progress.visible = False
            if text is not None:
                self.fi_text.object = text

        # every widget change goes through the session's document (see _on_doc)
        await self._on_doc(start)
        fut = asyncio.ensure_future(asyncio.to_thread(self.compute_fi, self.fi_request()))
        while not fut.done():
            await self._on_doc(progress)
            await asyncio.sleep(0.15)
        try:
            fi = fut.result()
        except Cancelled:
            await self._on_doc(finish, "F-I curve cancelled.")
            return
        except Exception as exc:  # noqa: BLE001 - shown in the page
            await self._on_doc(self._fail, exc)
            await self._on_doc(finish, "")
            return
        await self._on_doc(self._show_fi, fi)
        await self._on_doc(finish)

    def run_fi(self) -> None:
        """Synchronous F-I curve (scripts, tests)."""
        self._fi_stop.clear()
        try:
            self._show_fi(self.compute_fi())
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)

    def _show_fi(self, fi) -> None:
        cls = get_model(self.model)
        if not self.fi_box.objects:
            self.fi_box.objects = [pn.pane.Bokeh(self.fi_fig, sizing_mode="stretch_width")]
        self.fi_src.data = {"i": fi.currents, "r": fi.rates_hz}
        self.fi_fig.xaxis.axis_label = f"current ({cls.current_unit})"
        self.fi_fig.title.text = f"F-I curve of {self.model}"
        if fi.rheobase is None:
            self.rh_span.visible = False
            self.fi_text.object = f"No repetitive firing: {fi.note}."
            return
        self.rh_span.location, self.rh_span.visible = fi.rheobase, True
        kind = {"class I": "**class I** (firing starts at an arbitrarily low rate)",
                "class II": "**class II** (firing starts at a non-zero rate)"}.get(fi.excitability,
                                                                                  "class undetermined")
        self.fi_text.object = (f"Rheobase **{fi.rheobase:.4g} {cls.current_unit}** (red line), onset rate "
                               f"{fi.onset_rate_hz:.1f} Hz: {kind}. {fi.note}")

    def close(self) -> None:
        self._fi_stop.set()

    # -- layout ---------------------------------------------------------------------------------------
    def __panel__(self):
        protocol_widgets = []
        for ws in self._protocol_widgets.values():
            protocol_widgets += [w for w in ws if w not in protocol_widgets]
        controls = pn.Column(
            self.model_select, self.preset_select, self.preset_text,
            pn.pane.Markdown("**Input current**"), self.protocol_note, self.protocol, pn.FlexBox(self.duration, *protocol_widgets),
            pn.pane.Markdown("**Parameters**"), self.param_box,
            pn.pane.Markdown("**Phase plane**"), pn.FlexBox(self.nc_current, self.plane_x, self.plane_y, self.freeze),
            pn.pane.Markdown("**F-I curve**"), pn.Row(self.imax), pn.Row(self.fi_btn, self.fi_cancel),
            self.fi_progress,
            *([pn.pane.Markdown("**Network**"), self.pop_select, pn.Row(self.open_btn, self.send_btn)]
              if self.store is not None else []),
            width=300)
        figures = pn.Column(
            self.msg, self.status, self.eq_pane,
            pn.Row(pn.Column(self.trace_box, sizing_mode="stretch_width"), self.phase_box,
                   sizing_mode="stretch_width"),
            self.fi_text, self.fi_box,
            pn.Card(self.table, title="Parameters, units and reference", collapsed=True,
                    sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
        return pn.Row(controls, figures, sizing_mode="stretch_width")
