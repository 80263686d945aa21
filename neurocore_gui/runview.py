"""Live run: backend choice, transport controls, streaming figures.

The network is compiled from the session store's document
(:class:`~neurocore_gui.store.SessionStore`); a
:class:`~neurocore_gui.runner.Runner` advances it in a worker thread; a
periodic callback drains the queue and pushes one update of every figure
under ``pn.io.hold()``.  The run view watches the store: a parameter change
goes to the running simulator at the next chunk through the engine's
``Network.set``; any other change (structure, or a change the running
simulator cannot take) rebuilds the simulator from the store and restarts
the run, and the page says so.  So what runs is always what the store holds,
which is what the canvas shows.
"""

from __future__ import annotations

import copy
import io
import time

import numpy as np
import panel as pn
import panel_material_ui as pmui
import param
from panel.custom import JSComponent

from neurocore_gui.builder import download_button, placed_when_shown
from neurocore_gui.plots import RasterImage, RateView, SpikeRecorder, TraceView
from neurocore_gui.runner import Runner

__all__ = ["RunView", "LiveSimulator", "build_live_network", "live_set", "FrameAck"]


class FrameAck(JSComponent):
    """Flow control for streaming: the server bumps the frame number with
    every frame; the browser echoes it in ``ack`` once it has processed that
    frame (the message arrives after the frame's patches on the same
    websocket).  The run view keeps at most ``RunView.frames_in_flight``
    frames unacknowledged, so a slow browser gets fewer frames instead of an
    ever-growing backlog (which would also delay every other reply, e.g.
    opening an editor)."""

    #: ``[frame number, progress line, live-rates line]``.  The lines travel
    #: with the frame's number as one property: every property a Panel
    #: component changes costs a failed attribute look-up on its Bokeh model
    #: (with a "did you mean" search) and each component change re-derives
    #: its theme, which together were most of a frame's server time.
    #: Trusted HTML made by the run view, never user input.
    frame = param.List(default=[0, "", ""])
    ack = param.Integer(default=0)
    #: the live figures ("raster", "traces", "rates") the browser reports as
    #: off screen (scrolled away, another tab): their frames are held back
    #: until they show again, since repainting a Bokeh figure (axes, labels,
    #: glyphs) is most of the browser's work per frame
    hidden = param.List(default=[])
    # Panel applies browser-side changes after a 50 ms debounce by default;
    # that delay alone capped streaming near 1 / (50 ms + period) frames/s
    _debounce = 0
    # an acknowledgement is not work the user waits for: without this, each
    # one toggles the session's busy state, and the page shell re-syncs on
    # every toggle (a walk of the whole document, ~20 ms per frame)
    _busy__ignore = ["ack", "hidden"]
    # the lines are updated in place (a new span only when its markup
    # changes); the ack waits for the next animation frame, i.e. until the
    # browser has handled what arrived with the frame.  window.__ncacks keeps
    # the last 256 (arrival, ack) times for profiling.
    _esm = """
export function render({ model, el }) {
  const progress = document.createElement('div')
  progress.className = 'nc-progress'
  const rates = document.createElement('div')
  rates.className = 'nc-live-rates'
  let seq = null, shownP = null, shownR = null
  const show = () => {
    const [n, p, r] = model.frame
    if (p !== shownP) { progress.innerHTML = p; shownP = p }
    if (r !== shownR) { rates.innerHTML = r; shownR = r }
    if (seq !== null && n !== seq) {
      const t0 = performance.now()
      requestAnimationFrame(() => {
        const log = (window.__ncacks = window.__ncacks || [])
        log.push([t0, performance.now()])
        if (log.length > 256) log.splice(0, log.length - 256)
        model.ack = n
      })
    }
    seq = n
  }
  show()
  model.on('frame', show)
  // which figures are on screen: each figure's element is found once
  // (through the shadow roots of Panel's layouts) and watched by an
  // IntersectionObserver; looked for again only while one is missing or
  // was replaced (a re-created figure)
  const figs = {raster: '.nc-raster', traces: '.nc-traces', rates: '.nc-rates'}
  const watched = {}, onScreen = {}
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) { onScreen[e.target.__ncfig] = e.isIntersecting }
    const hidden = Object.keys(figs).filter((k) => onScreen[k] === false)
    if (hidden.join() !== model.hidden.join()) { model.hidden = hidden }
  })
  const find = (root, sel) => {
    const hit = root.querySelector(sel)
    if (hit) return hit
    for (const e of root.querySelectorAll('*')) {
      if (e.shadowRoot) { const h = find(e.shadowRoot, sel); if (h) return h }
    }
    return null
  }
  const scan = () => {
    for (const [name, sel] of Object.entries(figs)) {
      const old = watched[name]
      if (old && old.isConnected) continue
      const e = find(document, sel)
      if (!e || e === old) continue
      if (old) io.unobserve(old)
      e.__ncfig = name
      watched[name] = e
      io.observe(e)
    }
  }
  const timer = setInterval(scan, 1000)
  model.on('remove', () => { clearInterval(timer); io.disconnect() })
  const box = document.createElement('div')
  box.append(progress, rates)
  return box
}
"""

    @property
    def seq(self) -> int:
        return self.frame[0]

    @property
    def progress_html(self) -> str:
        return self.frame[1]

    @property
    def rates_html(self) -> str:
        return self.frame[2]

    def send(self, progress: str, rates: str) -> None:
        """A new frame: its number and both lines in one change."""
        self.frame = [self.frame[0] + 1, progress, rates]

    def set_line(self, name: str, value: str) -> None:
        """One line outside a frame (reset, pause): no new frame number."""
        n, p, r = self.frame
        self.frame = [n, value, r] if name == "progress_html" else [n, p, value]


class _Line:
    """``.object`` of one of :class:`FrameAck`'s HTML lines, so the run view
    sets the progress and live-rates lines as it would a pane's."""

    def __init__(self, owner, name: str):
        self.owner, self.name = owner, name

    @property
    def object(self) -> str:
        return getattr(self.owner, self.name)

    @object.setter
    def object(self, value: str) -> None:
        self.owner.set_line(self.name, value)


BACKEND_LABELS = {"numpy": "NumPy", "torch": "torch", "fixed_point": "fixed-point"}
SPEEDS = {"0.1x real time": 0.1, "0.25x": 0.25, "1x real time": 1.0, "4x": 4.0, "as fast as possible": None}
GUI_MON = "_gui_trace_"


class LiveSimulator:
    """A compiled simulator plus the network objects it runs; forgets the
    GUI's own monitor data after every chunk (the figures keep a bounded
    window, so a long run does not grow memory)."""

    def __init__(self, network, sim, gui_monitors):
        self.network, self.sim, self.gui_monitors = network, sim, gui_monitors
        self.dt = sim.dt

    def advance(self, n):
        chunk = self.sim.advance(n)
        for m in self.gui_monitors:
            m.reset()
        return chunk

    def reset(self):
        self.sim.reset()


def build_live_network(net_dict: dict, traces: dict[str, list[int]]):
    """Engine ``Network`` for a live run: the document's monitors are dropped
    (the live view reads chunks) and a StateMonitor records each population's
    trace neurons."""
    from engine.network import Network, StateMonitor

    d = copy.deepcopy(net_dict)
    d.pop("monitors", None)
    d["monitors"] = []
    network = Network.from_dict(d)
    mons = []
    for label, idx in traces.items():
        if not idx:
            continue
        pop = network.population(label)
        idx = [i for i in idx if 0 <= i < pop.n]
        if not idx:
            continue
        m = StateMonitor(pop, [pop.model.voltage_variable], record=idx, label=GUI_MON + label)
        network.add(m)
        mons.append(m)
    return network, mons


class NotLive(Exception):
    """The running simulator cannot take this change: rebuild it instead."""


def live_set(network, change: dict) -> None:
    """Set one parameter of a built network, as the store's ``last_change``
    describes it, through the engine's public ``Network.set`` (the simulator
    re-reads parameters at the start of every chunk).  Raises :class:`NotLive`
    when the engine offers no live path for it; the caller then rebuilds."""
    what, name, value = change["what"], change["name"], change["value"]
    label = change.get("label")
    setter = getattr(network, "set", None)
    if setter is not None and label is not None:
        try:
            setter(label, name, value, kind=what)
        except (KeyError, NotImplementedError) as exc:
            raise NotLive(str(exc)) from None
        return
    if what == "population" and label is not None:
        # until Network.set exists: a model parameter is a plain attribute of
        # the population's model, re-read by the backends every chunk
        model = network.population(label).model
        if name not in type(model).parameter_names():
            raise NotLive(f"{name} is not a parameter of {label}'s model")
        setattr(model, name, value)
        return
    raise NotLive(f"no live path for {what} {label if label is not None else change.get('index')!r}")


def _available_backends() -> dict[str, tuple[bool, str]]:
    try:
        from engine.backends import available_backends
    except Exception as exc:  # noqa: BLE001
        return {"numpy": (False, f"engine.backends not importable: {exc}")}
    try:
        return available_backends()
    except Exception as exc:  # noqa: BLE001
        return {"numpy": (False, f"available_backends() failed: {exc}")}


class RunView(pn.viewable.Viewer):
    """Controls and figures of the live run for one session."""

    backend = param.String(default="numpy")
    dt_ms = param.Number(default=1.0, bounds=(1e-4, 10.0), doc="simulation step in ms")

    def __init__(self, store, defer_figures: bool = False, **params):
        super().__init__(**params)
        self.store = store
        self.runner: Runner | None = None
        self.live = None
        self._live_failed: str | None = None  # set by the worker when a live change failed
        self._live_applied = None  # (step, name) of the last live change the worker made
        self._compiled_version = None
        self._stale = False
        self._cb = None
        self._frames = 0
        self._last_push = 0.0
        self.frame_times: list[float] = []
        avail = _available_backends()
        self.backend_reasons = {k: r for k, (ok, r) in avail.items() if not ok}
        opts = {f"{BACKEND_LABELS.get(k, k)}": k for k in avail}
        disabled = [k for k, (ok, _) in avail.items() if not ok]
        self.backend_select = pmui.Select(
            label="Backend", options=opts, value="numpy", disabled_options=disabled,
            sizing_mode="stretch_width", css_classes=["nc-backend"])
        self.backend_select.param.watch(lambda e: self._backend_changed(e.new), "value")
        reasons = "\n".join(f"- **{BACKEND_LABELS.get(k, k)}** unavailable: {r}"
                            for k, r in self.backend_reasons.items())
        self.backend_note = pn.pane.Markdown(f"<small>{reasons}</small>" if reasons else "",
                                             sizing_mode="stretch_width", margin=(0, 5))
        self.dt_input = pmui.FloatInput(label="dt (ms)", value=store.run_dt * 1e3, sizing_mode="stretch_width",
                                        helper_text="applies at the next reset", css_classes=["nc-dt"])
        self.dt_input.param.watch(self._dt_changed, "value")
        self.speed = pmui.Select(label="Speed", options=list(SPEEDS), value="1x real time",
                                 sizing_mode="stretch_width", css_classes=["nc-speed"])
        self.speed.param.watch(lambda e: self._apply_speed(), "value")
        b = dict(size="small", margin=(2, 2))
        self.start_btn = pmui.Button(label="Start", icon="play_arrow", color="success",
                                     css_classes=["nc-start"], **b)
        self.pause_btn = pmui.Button(label="Pause", icon="pause", disabled=True, css_classes=["nc-pause"], **b)
        self.step_btn = pmui.Button(label="Step", icon="skip_next", css_classes=["nc-step"], **b)
        self.reset_btn = pmui.Button(label="Reset", icon="restart_alt", color="warning",
                                     css_classes=["nc-reset"], **b)
        self.start_btn.on_click(lambda e: self.start())
        self.pause_btn.on_click(lambda e: self.pause())
        self.step_btn.on_click(lambda e: self.step())
        self.reset_btn.on_click(lambda e: self.reset())
        self.frame_ack = FrameAck(frame=[0, self._progress_html(0.0, 0, "idle"), ""],
                                  sizing_mode="stretch_width", margin=(0, 5))
        self.progress = _Line(self.frame_ack, "progress_html")
        self.live_rates = _Line(self.frame_ack, "rates_html")
        self.progress_bar = pmui.LinearProgress(value=0, variant="determinate", sizing_mode="stretch_width")
        self.message = pmui.Alert(object="", severity="error", visible=False, closeable=True,
                                  sizing_mode="stretch_width", css_classes=["nc-run-message"])
        # which neurons the figures show
        self.raster_pops = pmui.MultiChoice(label="Raster populations", options=[], value=[],
                                            sizing_mode="stretch_width")
        self.raster_mode = pmui.Select(label="Neurons", options=["all", "index range", "random sample"],
                                       value="all", sizing_mode="stretch_width")
        self.raster_start = pmui.IntInput(label="from", value=0, width=90)
        self.raster_stop = pmui.IntInput(label="to (excl.)", value=100, width=90)
        self.raster_k = pmui.IntInput(label="sample size", value=50, width=110)
        self.trace_spec = pmui.TextInput(label="Traces (population: indices)", value="",
                                         sizing_mode="stretch_width",
                                         helper_text="e.g. E: 0, 1, 2; I: 0 — applies at the next reset",
                                         css_classes=["nc-trace-spec"])
        self.window = pmui.Select(label="Window", options={"0.5 s": 0.5, "1 s": 1.0, "2 s": 2.0, "5 s": 5.0},
                                  value=1.0, width=110)
        for w in (self.raster_pops, self.raster_mode, self.raster_start, self.raster_stop, self.raster_k,
                  self.window):
            w.param.watch(lambda e: self._rebuild_figures(keep=True), "value")
        # the toolbar's save tool writes what the figure renders with: canvas
        # gives PNG, Bokeh's SVG backend gives SVG (slower to draw, so only
        # while the user wants SVG files)
        self.figure_format = pmui.Select(label="Figure export", options=["PNG", "SVG"], value="PNG", width=110,
                                         css_classes=["nc-figure-format"])
        self.figure_format.param.watch(lambda e: self._apply_figure_format(), "value")
        self.csv_spikes = download_button(self._spikes_csv, "spikes.csv", "Spikes CSV", width=120,
                                          margin=(2, 2))
        self.csv_rates = download_button(self._rates_csv, "rates.csv", "Rates CSV", width=120, margin=(2, 2))
        self.info = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 5), css_classes=["nc-run-info"])
        self._pop_sizes = []
        self._recent: list = []
        #: window of the "Now:" population rates (simulated seconds)
        self.live_window_s = 0.02
        self._ticks = 0
        #: only wait for the browser's acknowledgement once it has sent one
        #: (no browser in unit tests; a stale ack times out after 2 s)
        self._ack_seen = False
        self._sent_at = 0.0
        self._dirty = False
        self._next_push_at = 0.0
        self._doc = None  # the session's document (for one-shot timeouts)
        self._push_scheduled = False
        self.idle_factor = 1.0
        #: the most frames a second (at 1x, chunks of 20 ms arrive 50 times a
        #: second; more frames than the eye needs only take CPU from the
        #: browser and the simulation on a small machine)
        self.max_fps = 40.0
        self._wake_pending = False  # a tick is scheduled by the worker's last chunk
        self._urgent_until = 0.0  # after a live edit: frames without pacing, one more in flight
        self._bar_at = 0.0  # last progress bar update (perf_counter)
        self.push_costs: list[float] = []
        self.frame_ack.param.watch(self._on_ack, "ack")
        #: frames sent but not yet acknowledged by the browser: with two, the
        #: server draws the next frame while the browser renders the last one
        self.frames_in_flight = 2
        #: traces and rates are redrawn every ``slow_every``-th frame
        self.slow_every = 3
        #: period of the drain/redraw callback in ms
        self.period_ms = 80
        self.raster = self.traces = self.rates = None
        self.recorder = SpikeRecorder(self.dt_input.value * 1e-3)
        # HoloViews panes over the views' DynamicMaps (a frame sends new data
        # through their Pipe/Buffer streams; the figures are not rebuilt)
        # linked_axes off: the three share the "time (s)" dimension but not
        # their windows (rates keep at least 2 s, traces and raster the chosen one)
        pane = dict(sizing_mode="stretch_width", linked_axes=False)
        self.raster_pane = pn.pane.HoloViews(None, css_classes=["nc-raster"], min_height=300, **pane)
        self.trace_pane = pn.pane.HoloViews(None, css_classes=["nc-traces"], min_height=220, **pane)
        self.rate_pane = pn.pane.HoloViews(None, css_classes=["nc-rates"], min_height=200, **pane)
        #: figures wait for :meth:`show_figures` (called once the page has loaded)
        self._figures_deferred = defer_figures
        store.param.watch(self._on_store, "revision")
        store.param.watch(self._on_store_dt, "run_dt")
        store.backend = self.backend_select.value
        self._sync_population_choices()
        if not defer_figures:
            self._rebuild_figures()
        else:  # drawn right after the page has loaded, so the canvas shows sooner
            self.raster = RasterImage(self._groups(), self.dt)
            self.traces = TraceView([], self.dt)
            self.rates = RateView([], self.dt)

    # -- helpers -------------------------------------------------------------------
    @property
    def dt(self) -> float:
        return float(self.dt_input.value) * 1e-3

    def _populations(self) -> list[tuple[str, int, str]]:
        pops = self.store.document.get("populations") or []
        return [(p.get("label", p.get("model")), int(p["n"]), p.get("model", "")) for p in pops]

    def _sync_population_choices(self) -> None:
        labels = [p[0] for p in self._populations()]
        old = set(self.raster_pops.options)
        keep = [v for v in self.raster_pops.value if v in labels]
        new = [lab for lab in labels if lab not in old]
        self.raster_pops.options = labels
        self.raster_pops.value = keep + new if (keep or new) else labels
        if not self.trace_spec.value.strip() or not self._trace_labels_valid(labels):
            spec = "; ".join(f"{lab}: 0, 1, 2" for lab in labels[:2])
            self.trace_spec.value = spec

    def _trace_labels_valid(self, labels) -> bool:
        try:
            return all(k in labels for k in self._parse_traces())
        except ValueError:
            return False

    def _parse_traces(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for part in self.trace_spec.value.split(";"):
            if not part.strip():
                continue
            if ":" not in part:
                raise ValueError(f"trace spec {part.strip()!r}: expected 'population: i, j, ...'")
            label, idx = part.split(":", 1)
            out[label.strip()] = [int(x) for x in idx.replace(" ", "").split(",") if x]
        return out

    def _groups(self) -> list[tuple[str, np.ndarray]]:
        groups = []
        mode = self.raster_mode.value
        for label, n, _ in self._populations():
            if label not in self.raster_pops.value:
                continue
            if mode == "index range":
                lo, hi = max(0, self.raster_start.value or 0), min(n, self.raster_stop.value or n)
                ids = np.arange(lo, max(lo, hi))
            elif mode == "random sample":
                k = min(n, max(1, self.raster_k.value or 1))
                ids = np.sort(np.random.default_rng(0).choice(n, size=k, replace=False))
            else:
                ids = np.arange(n)
            groups.append((label, ids))
        return groups

    # -- figures -------------------------------------------------------------------
    def show_figures(self) -> None:
        """Build the deferred figures (once the page has loaded and said
        whether it kept a copy of the network); later calls do nothing."""
        if not self._figures_deferred:
            return
        self._figures_deferred = False
        if self.live is None:
            self._rebuild_figures()

    def _rebuild_figures(self, keep: bool = False) -> None:
        if self._figures_deferred:
            # loading the example and syncing the selection widgets during the
            # session's creation would each build all three figures (~0.1 s
            # apiece) before the first page is even sent; show_figures builds
            # them once, after the canvas is on screen
            return
        dt = self.dt if self.live is None else self.live.dt
        window = float(self.window.value)
        groups = self._groups()
        self.raster = RasterImage(groups, dt, window_s=window)
        try:
            traces = self._parse_traces()
        except ValueError:
            traces = {}
        series = [f"{lab}[{i}]" for lab, idx in traces.items() for i in idx]
        if self.live is not None:
            series = [f"{m.population.label}[{i}]" for m in self.live.gui_monitors
                      for i in m.record_indices.tolist()]
        self.traces = TraceView(series, dt, window_s=window)
        self.rates = RateView([p[0] for p in self._populations()], dt, window_s=max(2.0, window))
        self._apply_figure_format()

    def _apply_figure_format(self) -> None:
        """Draw the figures with the chosen export format (the data they hold
        is kept: only their DynamicMaps are re-created)."""
        svg = self.figure_format.value == "SVG"
        for view, pane in ((self.raster, self.raster_pane), (self.traces, self.trace_pane),
                           (self.rates, self.rate_pane)):
            if view is not None and not self._figures_deferred:
                view.set_svg(svg)
                if pane.object is not view.dmap:
                    pane.object = view.dmap

    def _on_store(self, event) -> None:
        """The store changed: bring the run in line with it."""
        change = self.store.last_change
        kind = change.get("kind")
        if kind in ("layout", "run"):
            return  # positions only; a new dt applies at the next reset (its field says so)
        if kind == "param" and self.live is not None:
            live = self.live
            if self._can_set_live(live.network, change, live.sim):
                self.runner.apply(lambda sim: self._apply_live(live, change))
                self._param_changed_at = time.perf_counter()
                # the frames that show the change go out as soon as their
                # chunk is ready: no pacing delay, one more frame in flight
                self._urgent_until = self._param_changed_at + 0.5
                self._next_push_at = 0.0
                return
            self._restart(f"{change.get('name')} of {change.get('label') or change.get('what')} "
                          "cannot change in a running simulation")
            return
        if kind == "structure":
            self._sync_population_choices()
            if self.live is not None:
                self._restart("the network's structure changed")
            else:
                self._clear_results()
                self._rebuild_figures()

    @staticmethod
    def _can_set_live(network, change: dict, sim=None) -> bool:
        if hasattr(network, "set"):
            if change.get("label") is None:
                return False
            try:
                if sim is not None:
                    # the page compiles its own simulator (not network.simulator()),
                    # so ask that one what it cannot take: e.g. a fixed-point Q-format
                    check = getattr(sim, "live_change_blocker", None)
                    obj = network.find(change["label"], change.get("what"))
                    return check is None or check(obj, change["name"]) is None
                blocker = getattr(network, "live_change_blocker", None)
                return blocker is None or blocker(change["label"], change["name"],
                                                  kind=change.get("what")) is None
            except ValueError:  # the running network has no such object: rebuild
                return False
        if change.get("what") != "population":
            return False
        model = network.population(change["label"]).model
        # a fixed-point format is compiled into the integer kernels: only a
        # rebuild takes a new one (see engine.fixed_point)
        return change["name"] in type(model).parameter_names() and \
            change["name"] not in getattr(model, "compiled_parameters", ("data_width", "fraction"))

    def _apply_live(self, live, change: dict) -> None:
        """In the worker, between two chunks.  A change the engine refuses at
        this point is reported; the next frame's tick rebuilds from the store."""
        try:
            live_set(live.network, change)
        except Exception as exc:  # noqa: BLE001 - shown in the page
            self._live_failed = f"{change.get('name')}: {exc}"
            return
        # if the very next chunk fails, it was this change: rebuild with it
        self._live_applied = (self.runner.steps_done, change.get("name"))

    def _restart(self, why: str) -> None:
        """Rebuild the simulator from the store; keep running if it ran."""
        was = self.runner.state if self.runner is not None else "idle"
        self.reset()
        if was == "running":
            self.start()
            self.info.object = (f"**The run restarted from t = 0** with the network as shown: {why}.")
        else:
            self.info.object = (f"**The run was reset** to the network as shown: {why}.")

    def _clear_results(self) -> None:
        """Results belong to the network they came from: forget them (and any
        message about it) when another network takes its place."""
        self.recorder.clear()
        self._recent = []
        self.message.visible = False
        self.info.object = ""
        if self.rates is not None:
            self.rates = RateView([p[0] for p in self._populations()], self.dt,
                                  window_s=max(2.0, float(self.window.value)))

    def _on_store_dt(self, event) -> None:
        v = event.new * 1e3
        if abs((self.dt_input.value or 0) - v) > 1e-12:
            self.dt_input.value = v

    # -- commands ------------------------------------------------------------------
    def _make_simulator(self):
        from engine.backends import compile as compile_network

        net_dict = self.store.network_dict()
        if not net_dict.get("populations"):
            raise ValueError("the network has no population: add one from the palette")
        traces = self._parse_traces()
        network, mons = build_live_network(net_dict, traces)
        sim = compile_network(network, self.backend_select.value, self.dt)
        self.live = LiveSimulator(network, sim, mons)
        return self.live

    def _ensure_runner(self) -> bool:
        if self.runner is not None and self.runner.sim is not None:
            return True
        if self.runner is None:
            # Queue depth: at a set speed the worker is throttled to real time,
            # so the queue only holds what arrived since the last drain (a
            # parameter change is not delayed by it), but it must cover one
            # drain interval (~100 ms under load) of 20 ms chunks or the worker
            # blocks and the run falls behind real time (2 chunks gave 0.75x).
            # Flat out, 6 chunks of ~30 ms bound the queued-ahead work.
            self.runner = Runner(self._make_simulator, self.dt, speed=SPEEDS[self.speed.value],
                                 max_queue=6, on_chunk=self._wake)
            self._apply_speed()
        self.runner.dt = self.dt
        ok = self.runner._ensure_sim()
        if not ok:
            self.show_error(f"Cannot compile the network: {self.runner.error}")
            self.runner.state = "idle"
            return False
        self._stale = False
        self.info.object = ""
        self._pop_sizes = [(p.label, p.n, p.model_name) for p in self.live.network.populations]
        self.recorder = SpikeRecorder(self.dt)
        self._rebuild_figures()
        return True

    def start(self) -> None:
        self.message.visible = False
        if not self._ensure_runner():
            return
        # the page's tick first: the worker's first chunk may be done before
        # the next line runs, and only a page with a tick is woken by it
        self._ensure_callback()
        self.runner.start()
        self._update_buttons()

    def pause(self) -> None:
        if self.runner is not None:
            self.runner.pause()
        self._update_buttons()

    def step(self, n: int | None = None) -> None:
        self.message.visible = False
        if not self._ensure_runner():
            return
        self._ensure_callback()  # before the worker runs (see start)
        self.runner.step(n or max(1, int(round(0.01 / self.dt))))
        self._update_buttons()

    def reset(self) -> None:
        if self.runner is not None:
            self.runner.reset()
        self.live = None
        self._live_applied = None
        self.store.run_state = "idle"
        self._stale = False
        self._dirty = False
        self._recent = []
        self.info.object = ""
        self.message.visible = False
        self.recorder.clear()
        self._rebuild_figures()
        self.progress.object = self._progress_html(0.0, 0, "idle")
        self.live_rates.object = ""
        self.progress_bar.value = 0
        self._update_buttons()

    def close(self) -> None:
        """Stop this session's worker thread and periodic callback."""
        if self.runner is not None:
            self.runner.stop()
        if self._cb is not None:
            self._cb.stop()
            self._cb = None

    def show_error(self, text: str) -> None:
        self.message.severity = "error"
        self.message.object = text
        self.message.visible = True

    def _apply_speed(self) -> None:
        if self.runner is not None:
            self.runner.set_speed(SPEEDS[self.speed.value])

    def _backend_changed(self, name: str) -> None:
        self.store.backend = name
        if self.live is not None:
            self.info.object = "Backend changed: press **Reset** then **Start** to recompile."

    def _dt_changed(self, event) -> None:
        v = event.new
        if v is None or not (1e-4 <= v <= 10):
            self.dt_input.error_state = True
            self.dt_input.helper_text = "Refused: dt must be between 0.0001 and 10 ms"
            return
        self.dt_input.error_state = False
        self.dt_input.helper_text = "applies at the next reset"
        if abs(self.store.run_dt - v * 1e-3) > 1e-15:
            self.store.set_run_dt(v * 1e-3)
        if self.live is None:
            self._rebuild_figures()

    def _update_buttons(self) -> None:
        state = self.runner.state if self.runner else "idle"
        self.store.run_state = state if state in ("idle", "running", "paused") else "idle"
        self.start_btn.disabled = state == "running"
        self.pause_btn.disabled = state != "running"

    # -- periodic drain --------------------------------------------------------------
    def _ensure_callback(self) -> None:
        if self._cb is None:
            from panel.io.callbacks import PeriodicCallback

            # background: no busy-indicator patch to the browser before and after
            # every tick (two extra messages and a page re-render per tick);
            # log=False: no log line per tick
            self._doc = pn.state.curdoc if pn.state.curdoc and pn.state.curdoc.session_context else None
            self._cb = PeriodicCallback(callback=self.tick, period=self.period_ms, background=True,
                                        log=False)
            self._cb.start()

    def tick(self) -> None:
        r = self.runner
        if r is None:
            return
        if self._live_failed:
            why, self._live_failed = self._live_failed, None
            self._restart(f"the running simulation refused {why}")
            return
        # one reading of the worker's state for this tick: it may fail while
        # this tick drains, and a failure caused by a live change must take
        # the restart path below, not the "stopped" message at the end
        state = r.state
        if state == "error" and self._live_applied is not None \
                and self._live_applied[0] == r.steps_done:
            name, self._live_applied = self._live_applied[1], None
            r.state = "running"  # what _restart resumes
            self._restart(f"the running simulation could not take the new {name} ({r.error})")
            return
        chunks = r.drain()
        if chunks:
            for c in chunks:
                self.raster.add(c)
                self.rates.add(c)
                self.recorder.add(c)
                if self.live is not None and self.traces.series:
                    parts = [c.traces[m.label][m.variables[0]] for m in self.live.gui_monitors
                             if m.label in c.traces]
                    if parts:
                        self.traces.add(c.start_step, np.concatenate(parts, axis=1))
            last = chunks[-1]
            t = last.t_end
            self._last_t, self._last_steps = t, last.start_step + last.n_steps
            # live rate per population over the last ``live_window_s`` of simulated time
            for c in chunks:
                self._recent.append((c.n_steps, {lab: len(c.spikes.get(lab, ((), ()))[0])
                                                 for lab, _, _ in self._pop_sizes}))
            keep, steps = [], 0
            for item in reversed(self._recent):
                keep.append(item)
                steps += item[0]
                if steps * last.dt >= self.live_window_s:
                    break
            self._recent = keep[::-1]
            rates = []
            for lab, n, _ in self._pop_sizes:
                k = sum(counts.get(lab, 0) for _, counts in self._recent)
                hz = k / (steps * last.dt * n)
                rates.append(f"<span class='nc-rate' data-pop='{lab}' data-hz='{hz:.6g}'>{lab}: {hz:.1f} Hz</span>")
            self._live_rates_html = "Now: " + " · ".join(rates)
            self._dirty = True
        wait = self._next_push_at - time.perf_counter()
        if time.perf_counter() < self._urgent_until:
            wait = 0.0
        if self._dirty and self._browser_ready() and wait > 0:
            self._push_later(wait)
        elif self._dirty and self._browser_ready():
            t_push = time.perf_counter()
            self._push_frame()
            now = time.perf_counter()
            # pace frames so that drawing takes at most half of the server's time:
            # the rest stays free for the user's clicks and edits
            self.push_costs.append(now - t_push)
            del self.push_costs[:-50]
            self._next_push_at = max(now + self.idle_factor * (now - t_push),
                                     t_push + 1.0 / self.max_fps)
            self.frame_times.append(now)
            del self.frame_times[:-200]
        if state == "error":
            self.show_error(f"The simulation stopped: {r.error}. The network is unchanged; "
                            "fix it (or choose another backend) and press Reset.")
            r.state = "idle"
            self._update_buttons()
        elif not chunks and not self._dirty and state != "running" and r.state == state and r.queue.empty() \
                and r._step_request == 0:
            if self._cb is not None:
                self._cb.stop()
                self._cb = None
                with pn.io.hold():  # final state of the figures skipped by the frame pacing
                    self.traces.push()
                    self.rates.push()
            self._update_buttons()
            if r.state == "paused":
                self.progress.object = self._progress_html(r.t, r.steps_done, "paused")

    def _push_later(self, wait_s: float) -> None:
        """Draw the pending frame once the pacing delay is over rather than at
        the next periodic tick (up to a whole period later)."""
        doc = self._doc
        if doc is None or self._push_scheduled:
            return
        self._push_scheduled = True

        def push():
            self._push_scheduled = False
            if self._cb is not None:
                self.tick()

        doc.add_timeout_callback(push, max(1, int(wait_s * 1e3)))

    def _wake(self) -> None:
        """In the worker thread, after each chunk: have the page's event loop
        drain and draw it now.  Without this a chunk waited for the next
        periodic tick (80 ms) or the browser's next acknowledgement, which
        capped the frame rate near 12-15 frames/s whatever the browser could
        do, and added that wait to every edit's latency.  Bokeh's
        ``add_next_tick_callback`` is the document method that is safe to
        call from another thread; at most one such tick is pending."""
        doc = self._doc
        if doc is None or self._wake_pending or self._cb is None:
            return
        self._wake_pending = True
        try:
            doc.add_next_tick_callback(self._woken)
        except Exception:  # noqa: BLE001 - the session is closing: the periodic tick is gone too
            self._wake_pending = False

    def _woken(self) -> None:
        self._wake_pending = False
        if self._cb is not None and self.runner is not None:
            self.tick()

    def _on_ack(self, event) -> None:
        """The browser finished the last frame: send the next one now rather
        than at the next periodic tick (which would add up to a whole period,
        often two under load, between frames)."""
        self._ack_seen = True
        if self._cb is not None and self.runner is not None:
            self.tick()

    def _browser_ready(self) -> bool:
        fa = self.frame_ack
        limit = self.frames_in_flight + (time.perf_counter() < self._urgent_until)
        if not self._ack_seen or fa.seq - fa.ack < limit:
            return True
        return time.perf_counter() - self._sent_at > 2.0  # lost ack: do not stall forever

    def _push_frame(self) -> None:
        r = self.runner
        self._ticks += 1
        self._dirty = False
        # the raster every frame; traces and rates in turn (they change less per frame)
        slow = self._ticks % self.slow_every
        state = r.state
        # no freeze: the figures' frames are written into their Bokeh models
        # (neurocore_gui.plots) and reference no new model, so Bokeh has no
        # model graph to recompute; a freeze would force that walk of the
        # whole page (~10 % of the server's time while streaming) every frame
        hidden = self.frame_ack.hidden
        with pn.io.hold():
            # a figure off screen keeps its data; its next frame on screen
            # sends what it missed (bounded by its window)
            if "raster" not in hidden:
                self.raster.push()
            # traces and rates on different frames (both every frame when slow_every == 1)
            if slow == 1 % self.slow_every and "traces" not in hidden:
                self.traces.push()
            if slow == 0 and "rates" not in hidden:
                self.rates.push()
            progress = self._progress_html(
                self._last_t, self._last_steps, state,
                f" · chunk {r.chunk_steps} steps · {self.raster.total_spikes} spikes")
            now = time.perf_counter()
            if now - self._bar_at > 0.25:  # a Material UI re-render: a few times a second
                self._bar_at = now
                self.progress_bar.value = int(100 * ((self._last_t % 1.0) / 1.0))
            self.frame_ack.send(progress, self._live_rates_html)
        self._sent_at = time.perf_counter()

    @staticmethod
    def _progress_html(t: float, steps: int, state: str, extra: str = "") -> str:
        return (f"<span class='nc-t' data-t='{t:.6g}' data-state='{state}'>"
                f"t = {t:.3f} s · {steps} steps · {state}{extra}</span>")

    # -- exports -----------------------------------------------------------------------
    def _spikes_csv(self):
        return self.recorder.to_csv()

    def _rates_csv(self):
        buf = io.StringIO()
        buf.write("time_s," + ",".join(self.rates.labels) + "\n")
        for t, row in zip(self.rates.t, self.rates.r):
            buf.write(f"{t:.6g}," + ",".join(f"{x:.6g}" for x in row) + "\n")
        buf.seek(0)
        return buf

    # -- layout ------------------------------------------------------------------------
    def controls(self):
        return pn.Column(
            pn.pane.Markdown("#### Run"), self.backend_select, self.backend_note,
            pn.Row(self.dt_input, self.speed, sizing_mode="stretch_width"),
            pn.FlexBox(self.start_btn, self.pause_btn, self.step_btn, self.reset_btn),
            self.progress_bar, self.frame_ack,
            sizing_mode="stretch_width")

    def selection_controls(self):
        return pn.Column(
            pn.pane.Markdown("#### Shown neurons"), self.raster_pops, self.raster_mode,
            pn.Row(self.raster_start, self.raster_stop, self.raster_k), self.trace_spec,
            self.window, pn.Row(self.csv_spikes, self.csv_rates), self.figure_format,
            pn.pane.Markdown("<small>Figures: the toolbar's save tool writes PNG, or SVG when "
                             "\"Figure export\" is SVG.</small>"),
            sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Column(placed_when_shown(self.message), self.info, self.raster_pane, self.trace_pane, self.rate_pane,
                         sizing_mode="stretch_width")
