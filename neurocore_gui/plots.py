"""Streaming figures fed by simulator chunks (``Chunk`` of docs/CONTRACTS.md).

Each view keeps a bounded window of numpy state and streams it to a HoloViews
``DynamicMap``:

* :class:`RasterImage` — spikes of the selected neurons in a rolling window,
  drawn as an ``hv.RGB`` image (time bin x neuron row, coloured by
  population) sent through a ``Pipe``.  Its cost per frame is fixed by the
  image size, not by the number of spikes, which is what keeps a busy network
  streaming in a software-rendered browser.
* :class:`TraceView` — membrane traces of the recorded neurons, new samples
  appended through a ``Buffer`` (bounded history).
* :class:`RateView` — population rates (Hz) in 10 ms bins, also a ``Buffer``.

``push()`` sends what changed since the last frame; the caller batches the
three pushes of a frame under ``pn.io.hold()``.  The views never touch the
engine.

HoloViews draws each figure once (styling, axes, tools, export); after that,
a frame goes straight into the Bokeh models of the figures shown in a page
(captured by a hook when HoloViews renders them): the raster's image and x
range are replaced, traces and rates are *streamed* (only the new rows,
Bokeh's rollover bounding the history).  Re-running the HoloViews pipeline
for every frame (DynamicMap callback, element clone, range computation,
plot update) cost 30-60 ms of server time per figure on the loaded
two-core machine, more than the rest of a frame; writing the models costs
~1 ms.  Without a page (``hv.render``, unit tests) the streams are used as
before, and ``pipe.data`` / ``buffer.data`` always hold the current frame.
"""

from __future__ import annotations

import io
import math
import weakref

import numpy as np

__all__ = ["PALETTE", "RasterImage", "TraceView", "RateView", "SpikeRecorder"]

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#7f7f7f", "#bcbd22"]


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float32)


class RasterImage:
    """Rolling raster as an image.

    ``groups`` is a list of ``(label, neuron_ids)`` (the neurons shown, in row
    order); ``dt`` in seconds; ``window_s`` the time span shown.
    """

    def __init__(self, groups: list[tuple[str, np.ndarray]], dt: float, window_s: float = 1.0,
                 max_rows: int = 200, max_cols: int = 300, height: int = 300):
        self.dt = float(dt)
        self.groups = [(label, np.asarray(ids, dtype=np.int64)) for label, ids in groups]
        self.n_neurons = int(sum(len(ids) for _, ids in self.groups)) or 1
        self.rows = min(self.n_neurons, max_rows)
        window_steps = max(1, int(round(window_s / self.dt)))
        self.spb = int(math.ceil(window_steps / max_cols))  # steps per column
        self.cols = int(math.ceil(window_steps / self.spb))  # so that cols * spb ~ the window
        self.height = height
        # row lookup per population: neuron id -> image row (-1: not shown)
        self._row_of: dict[str, np.ndarray] = {}
        self._row_colour = np.zeros((self.rows, 3), dtype=np.float32)
        self.yticks = []
        offset = 0
        for gi, (label, ids) in enumerate(self.groups):
            if len(ids) == 0:
                continue
            size = int(ids.max()) + 1
            lut = np.full(size, -1, dtype=np.int64)
            global_rows = offset + np.arange(len(ids))
            lut[ids] = global_rows * self.rows // self.n_neurons
            self._row_of[label] = lut
            colour = _rgb(PALETTE[gi % len(PALETTE)])
            rows = np.unique(lut[ids])
            self._row_colour[rows] = colour
            self.yticks.append((offset + len(ids) / 2.0, label))
            offset += len(ids)
        self.neurons_per_row = self.n_neurons / self.rows
        self.counts = np.zeros((self.rows, self.cols), dtype=np.float32)
        self.latest_bin = -1
        self.spikes_in_window = 0
        self.total_spikes = 0
        self.svg = False
        self.pipe = None
        self._dmap = None
        self._captured = _Captured()

    # -- data -----------------------------------------------------------------
    def add(self, chunk) -> None:
        last_step = chunk.start_step + chunk.n_steps - 1
        new_latest = last_step // self.spb
        if new_latest > self.latest_bin:
            gap = new_latest - self.latest_bin
            if gap >= self.cols:
                self.counts[:] = 0
            else:
                cols = (np.arange(self.latest_bin + 1, new_latest + 1)) % self.cols
                self.counts[:, cols] = 0
            self.latest_bin = new_latest
        first_bin = self.latest_bin - self.cols + 1
        for label, (steps, ids) in chunk.spikes.items():
            if len(steps) == 0:
                continue
            self.total_spikes += len(steps)
            lut = self._row_of.get(label)
            if lut is None:
                continue
            ids = np.asarray(ids, dtype=np.int64)
            ok = ids < len(lut)
            rows = np.full(len(ids), -1, dtype=np.int64)
            rows[ok] = lut[ids[ok]]
            bins = np.asarray(steps, dtype=np.int64) // self.spb
            keep = (rows >= 0) & (bins >= first_bin)
            if keep.any():
                np.add.at(self.counts, (rows[keep], bins[keep] % self.cols), 1.0)

    def clear(self) -> None:
        self.counts[:] = 0
        self.latest_bin = -1
        self.total_spikes = self.spikes_in_window = 0
        self.push()

    def _image(self):
        """``(rgba, (t0, 0, t1, n_neurons))``: ``rgba`` is a (rows, cols, 4)
        uint8 array, first row on top (image order), so the first neuron is
        drawn at the bottom."""
        c = self.counts
        if self.latest_bin >= 0:
            # ring buffer -> time order (oldest column first)
            start = (self.latest_bin + 1) % self.cols
            c = np.roll(c, -start, axis=1)
        self.spikes_in_window = int(c.sum())
        rgba = self._colour(c, self._scale(c))[::-1]
        t1 = (self.latest_bin + 1) * self.spb * self.dt if self.latest_bin >= 0 else self.cols * self.spb * self.dt
        t0 = t1 - self.cols * self.spb * self.dt
        return rgba, (t0, 0, t1, self.n_neurons)

    @staticmethod
    def _scale(c: np.ndarray) -> float:
        """Intensity scale: relative to the typical non-empty pixel, so both a
        lone spike (sparse raster) and dense binned activity stay visible."""
        nz = c[c > 0]
        return max(0.5, 0.5 * float(np.median(nz))) if nz.size else 1.0

    def _colour(self, c: np.ndarray, k: float, rows=slice(None)) -> np.ndarray:
        """(len(rows), n, 4) uint8 RGBA of the counts ``c`` (rows in counts order)."""
        alpha = (1.0 - np.exp(-c / k))[..., None]
        rgba = np.empty(c.shape + (4,), dtype=np.uint8)
        rgba[..., :3] = 255.0 * (1 - alpha) + alpha * self._row_colour[rows, None, :]
        rgba[..., 3] = 255
        return rgba

    def _element(self, data):
        rgba, bounds = data
        # a clone of the styled template keeps its options (same id): styling
        # the DynamicMap instead would re-apply them to every frame
        return self._template.clone(rgba, bounds=bounds)

    @property
    def dmap(self):
        """The ``DynamicMap`` drawing the image sent through :attr:`pipe`
        (built on first use and again by :meth:`set_svg`)."""
        if self._dmap is None:
            import holoviews as hv
            from holoviews.streams import Pipe

            if self.pipe is None:
                self.pipe = Pipe(data=self._image())
            else:  # frames drawn straight into a page's figure left the stream behind
                self.pipe.update(data=self._image())
            opts = dict(responsive=True, height=self.height, framewise=True, toolbar="right",
                        title=f"Raster ({self.n_neurons} neurons shown)",
                        default_tools=["save", "pan", "wheel_zoom", "reset"],
                        backend_opts=_backend_opts(self.svg),
                        hooks=[_save_as("raster", self.svg), _weak_hook(self._captured.hook)])
            if self.yticks:
                # one ticker model for the figure's life, labelled by a hook: a
                # list of (position, label) builds a new ticker every frame
                from bokeh.models import FixedTicker

                opts["yticks"] = FixedTicker(ticks=[t for t, _ in self.yticks])
                opts["hooks"].append(_weak_hook(self._label_populations))
            rgba, bounds = self.pipe.data
            self._template = hv.RGB(rgba, bounds=bounds, kdims=["time (s)", "neuron"]).opts(**opts)
            self._dmap = hv.DynamicMap(self._element, streams=[self.pipe])
        return self._dmap

    def _label_populations(self, plot, element) -> None:
        labels = {t: lab for t, lab in self.yticks}
        axis = plot.state.yaxis[0]
        if axis.major_label_overrides != labels:
            axis.major_label_overrides = labels

    def set_svg(self, svg: bool) -> None:
        """Draw with Bokeh's SVG backend (the save tool then writes SVG)."""
        if svg != self.svg:
            self.svg = svg
            self._dmap = None
            self._captured = _Captured()

    def push(self) -> None:
        if self.pipe is None:
            return
        plots = self._captured.live()
        if not plots:
            self.pipe.send(self._image())
            return
        self.spikes_in_window = int(self.counts.sum())
        for plot in plots:
            self._draw_ring(plot)

    # -- frames straight into a page's figure --------------------------------------
    # The page's image holds the ring buffer itself (column j = every time bin
    # b with b % cols == j), drawn twice: at the start of the ring's current
    # lap and one lap (P = cols bins) earlier.  The x range shows the last P:
    # the first copy supplies the bins of this lap, the second those of the
    # last lap not yet overwritten, and the stale halves of both fall outside
    # the range.  So a frame sends only the columns that changed (Bokeh's
    # patch: ~10 columns at 30 frames/s of a 1 s window instead of the whole
    # image) plus the range, whatever the number of spikes.

    def _draw_ring(self, plot) -> None:
        from bokeh.models import ImageRGBA
        from bokeh.transform import dodge

        source, fig = plot.handles["source"], plot.state
        lap = self.cols * self.spb * self.dt
        latest = max(self.latest_bin, 0)
        x = (latest // self.cols) * lap
        k = self._scale(self.counts)
        state = getattr(plot, "_nc_ring", None)
        if state is None or state["source"] is not source or latest - state["drawn"] >= self.cols \
                or self.latest_bin < state["drawn"]:
            # first frame in this figure (or a jump of a whole lap, or a clear): the whole ring
            image = self._colour(self.counts, k).view(np.uint32)[..., 0]
            source.data = {"image": [image], "x": [x], "y": [0], "dw": [lap], "dh": [self.n_neurons]}
            if state is None or state["source"] is not source:
                glyph = plot.handles["glyph"]
                # the earlier lap: the same image and source, one lap to the left
                fig.add_glyph(source, ImageRGBA(image="image", x=dodge("x", -lap), y="y", dw="dw", dh="dh",
                                                dilate=glyph.dilate), level=plot.handles["glyph_renderer"].level)
            plot._nc_ring = {"source": source, "drawn": self.latest_bin, "x": x}
        else:
            # the last drawn bin may have filled up since: redraw it with the new ones
            first, last = state["drawn"], self.latest_bin
            patches = []
            bins = np.arange(first, last + 1)
            cols = bins % self.cols
            # contiguous runs of ring columns (a frame may wrap past the last column)
            for run in np.split(cols, np.flatnonzero(np.diff(cols) != 1) + 1):
                c0, c1 = int(run[0]), int(run[-1]) + 1
                pixels = self._colour(self.counts[:, c0:c1], k).view(np.uint32)[..., 0]
                patches.append(((0, slice(None), slice(c0, c1)), pixels.ravel()))
            update = {"image": patches}
            if x != state["x"]:
                update["x"] = [(0, x)]
            source.patch(update)
            state.update(drawn=self.latest_bin, x=x)
        t1 = (latest + 1) * self.spb * self.dt if self.latest_bin >= 0 else lap
        xr = plot.handles["x_range"]
        if (xr.start, xr.end) != (t1 - lap, t1):
            xr.update(start=t1 - lap, end=t1)


def _weak_hook(method):
    """A HoloViews hook calling ``method`` (a bound method) without holding
    its object.  HoloViews keeps an element's options, hooks included, in a
    process-wide tree until the element is collected, and the element lives
    as long as its plot: a bound method there holds a view, its plots and
    the page's document, so no closed session was ever freed (issue 19)."""
    ref = weakref.WeakMethod(method)

    def hook(plot, element) -> None:
        target = ref()
        if target is not None:
            target(plot, element)

    return hook


class _Captured:
    """The Bokeh plots HoloViews made of a view's figure, kept by a hook.
    Only those inside a document (a page) are written to directly."""

    def __init__(self):
        self.plots: list = []

    def hook(self, plot, element) -> None:
        if not any(p is plot for p in self.plots):
            self.plots.append(plot)

    def live(self) -> list:
        # a figure re-rendered (new format, another page) leaves old plots behind
        self.plots = [p for p in self.plots if p.state.document is not None or p is self.plots[-1]]
        return [p for p in self.plots if p.state.document is not None]


def _backend_opts(svg: bool) -> dict:
    # the toolbar's save tool writes what the figure renders with: PNG from
    # the canvas backend, SVG from the SVG backend
    return {"plot.output_backend": "svg" if svg else "canvas"}


def _save_as(name: str, svg: bool):
    """Hook naming the file the toolbar's save tool writes (without a name
    Bokeh asks for one in a dialog)."""
    filename = f"{name}.{'svg' if svg else 'png'}"

    def hook(plot, element) -> None:
        from bokeh.models import SaveTool

        for tool in plot.state.toolbar.tools:
            if isinstance(tool, SaveTool) and tool.filename != filename:
                tool.filename = filename

    return hook


def _style_legend(plot, element) -> None:
    """Click an entry to hide its curve; see-through over the curves.  Set
    here, once: HoloViews' ``legend_opts`` re-sends them on every update."""
    for legend in plot.state.legend:
        if legend.click_policy != "hide":
            legend.click_policy = "hide"
        if legend.background_fill_alpha != 0.6:
            legend.background_fill_alpha = 0.6


class _SeriesView:
    """Bounded time series of several named columns streamed through a
    HoloViews ``Buffer``: ``self.t`` (n,) and ``self.y`` (n, n_series) hold
    the window (for the CSV export and tests); rows added since the last
    :meth:`push` are sent to the buffer, which drops the oldest beyond
    ``length``."""

    title = ""
    filename = "series"
    ylabel = ""
    line_width = 1.2

    def __init__(self, series: list[str], colours: list[str], length: int, height: int):
        self.series = list(series)
        self.colours = list(colours)
        self.length = int(length)
        self.height = height
        self.svg = False
        self.t = np.zeros(0)
        self.y = np.zeros((0, len(self.series)))
        self._new_t: list[np.ndarray] = []
        self._new_y: list[np.ndarray] = []
        self.buffer = None
        self._dmap = None
        self._captured: list[_Captured] = []  # one per curve
        self._overlay_captured = _Captured()

    def _columns(self, t: np.ndarray, y: np.ndarray) -> dict:
        return {"t": t, **{f"y{i}": y[:, i] for i in range(len(self.series))}}

    def _append(self, t: np.ndarray, y: np.ndarray) -> None:
        self.t = np.concatenate([self.t, t])[-self.length:]
        self.y = np.concatenate([self.y, y])[-self.length:]
        self._new_t.append(t)
        self._new_y.append(y)
        if len(self._new_t) > 64:
            # not pushed for a while (the figure is off screen): only the
            # last window can ever be sent, so keep no more than that
            self._new_t = [np.concatenate(self._new_t)[-self.length:]]
            self._new_y = [np.concatenate(self._new_y)[-self.length:]]

    def _element(self, data):
        if not self.series:
            return self._overlay
        t = np.asarray(data["t"])
        # clones of the styled templates keep their options (see RasterImage)
        return self._overlay.clone([c.clone((t, np.asarray(data[f"y{i}"])))
                                    for i, c in enumerate(self._curves)])

    @property
    def dmap(self):
        if self._dmap is None:
            import holoviews as hv
            from holoviews.streams import Buffer

            if self.buffer is None:
                self.buffer = Buffer(self._columns(self.t, self.y), length=self.length, index=False)
            empty = (np.zeros(0), np.zeros(0))
            self._captured = [_Captured() for _ in self.series]
            self._overlay_captured = _Captured()
            self._curves = [
                hv.Curve(empty, "time (s)", self.ylabel, label=name).opts(
                    color=self.colours[i], line_width=self.line_width, tools=["hover"],
                    default_tools=["save", "pan", "wheel_zoom", "reset"], hooks=[_weak_hook(self._captured[i].hook)])
                for i, name in enumerate(self.series)] or [hv.Curve(empty, "time (s)", self.ylabel)]
            self._overlay = hv.Overlay(self._curves).opts(
                responsive=True, height=self.height, framewise=True, title=self.title,
                # inside the plot: a legend on the side is re-attached to the
                # figure on every update, which re-lays it out in the browser
                # entries side by side (up to 6 a row) so the legend covers little
                legend_position="top_left", legend_cols=max(1, min(6, len(self.series))),
                padding=(0, (0.05, 0.3)),  # headroom above the curves for that legend
                toolbar="right",
                hooks=[_style_legend, _save_as(self.filename, self.svg), _weak_hook(self._overlay_captured.hook)],
                backend_opts=_backend_opts(self.svg))
            self._dmap = hv.DynamicMap(self._element, streams=[self.buffer])
        return self._dmap

    def set_svg(self, svg: bool) -> None:
        if svg != self.svg:
            self.svg = svg
            self._dmap = None

    def push(self) -> None:
        if self.buffer is None or not self._new_t:
            return
        t = np.concatenate(self._new_t)[-self.length:]
        y = np.concatenate(self._new_y)[-self.length:]
        self._new_t.clear()
        self._new_y.clear()
        overlays = self._overlay_captured.live()
        curves = [c.live() for c in self._captured]
        if not overlays or not all(curves):
            self.buffer.send(self._columns(t, y))
            return
        self.buffer.update(data=self._columns(t, y))  # kept without re-running HoloViews
        from holoviews.core.util import dimension_sanitizer

        x_names = {"time (s)", dimension_sanitizer("time (s)")}
        for i, plots in enumerate(curves):
            for plot in plots:
                source = plot.handles["source"]
                # every column of the source, each the same length (HoloViews
                # keeps a sanitized twin of each dimension's column)
                new = {k: (t if k in x_names else y[:, i]) for k in source.data}
                source.stream(new, rollover=self.length)
        x0, x1 = float(self.t[0]), float(self.t[-1])
        if x1 <= x0:
            x1 = x0 + 1e-3
        finite = self.y[np.isfinite(self.y)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        span = (hi - lo) or max(1.0, abs(hi))
        # the padding the figure was drawn with: 5 % below, 30 % above (legend)
        y0, y1 = lo - 0.05 * span, hi + 0.3 * span
        for plot in overlays:
            xr, yr = plot.handles["x_range"], plot.handles["y_range"]
            if (xr.start, xr.end) != (x0, x1):
                xr.update(start=x0, end=x1)
            if (yr.start, yr.end) != (y0, y1):
                yr.update(start=y0, end=y1)

    def clear(self) -> None:
        self.t = np.zeros(0)
        self.y = np.zeros((0, len(self.series)))
        self._new_t.clear()
        self._new_y.clear()
        if self.buffer is not None:
            self.buffer.clear()


class TraceView(_SeriesView):
    """Membrane traces: ``series`` is a list of names (one per recorded neuron)."""

    title = "Membrane traces"
    filename = "traces"

    def __init__(self, series: list[str], dt: float, window_s: float = 1.0, max_points: int = 1000,
                 unit: str = "", height: int = 220):
        self.dt = float(dt)
        window_steps = max(1, int(round(window_s / self.dt)))
        self.stride = max(1, int(math.ceil(window_steps / max_points)))
        self.unit = unit
        self.ylabel = f"v {unit}".strip()
        super().__init__(series, [PALETTE[i % len(PALETTE)] for i in range(len(series))],
                         int(math.ceil(window_steps / self.stride)), height)

    def add(self, start_step: int, values: np.ndarray) -> None:
        """``values`` (n_steps, n_series) starting at absolute ``start_step``."""
        if values.size == 0 or not self.series:
            return
        steps = start_step + np.arange(values.shape[0])
        keep = (steps % self.stride) == 0
        if not keep.any():
            return
        self._append(steps[keep] * self.dt,
                     np.asarray(values, dtype=np.float64)[keep][:, :len(self.series)])


class RateView(_SeriesView):
    """Population rates in Hz, averaged over ``bin_s`` bins."""

    title = "Population rates (10 ms bins)"
    filename = "rates"
    ylabel = "rate (Hz)"
    line_width = 1.5

    def __init__(self, labels: list[str], dt: float, window_s: float = 2.0, bin_s: float = 0.01,
                 height: int = 200):
        self.dt = float(dt)
        self.bin_steps = max(1, int(round(bin_s / self.dt)))
        super().__init__(labels, [PALETTE[i % len(PALETTE)] for i in range(len(labels))],
                         max(2, int(round(window_s / (self.bin_steps * self.dt)))), height)
        self._acc = np.zeros(len(self.series))
        self._acc_n = 0
        self._acc_start = 0

    @property
    def labels(self) -> list[str]:
        return self.series

    @property
    def r(self) -> np.ndarray:
        return self.y

    def add(self, chunk) -> None:
        if not self.series:
            return
        n = chunk.n_steps
        mat = np.zeros((n, len(self.series)))
        for i, label in enumerate(self.series):
            r = chunk.rates.get(label)
            if r is not None and len(r) == n:
                mat[:, i] = r
        step = chunk.start_step
        t_out, r_out = [], []
        i = 0
        if self._acc_n == 0:
            self._acc_start = step
        while i < n:
            take = min(n - i, self.bin_steps - self._acc_n)
            self._acc += mat[i:i + take].sum(axis=0)
            self._acc_n += take
            i += take
            if self._acc_n == self.bin_steps:
                t_out.append((self._acc_start + self.bin_steps / 2) * self.dt)
                r_out.append(self._acc / (self.bin_steps * self.dt))
                self._acc = np.zeros(len(self.series))
                self._acc_n = 0
                self._acc_start = step + i
        if t_out:
            self._append(np.asarray(t_out), np.array(r_out))

    def clear(self) -> None:
        super().clear()
        self._acc = np.zeros(len(self.series))
        self._acc_n = 0


class SpikeRecorder:
    """Keeps every spike (up to ``cap``) for the CSV export."""

    def __init__(self, dt: float, cap: int = 2_000_000):
        self.dt = float(dt)
        self.cap = cap
        self.parts: list[tuple[str, np.ndarray, np.ndarray]] = []
        self.count = 0
        self.truncated = False

    def add(self, chunk) -> None:
        for label, (steps, ids) in chunk.spikes.items():
            if len(steps) == 0:
                continue
            room = self.cap - self.count
            if room <= 0:
                self.truncated = True
                return
            steps, ids = np.asarray(steps)[:room], np.asarray(ids)[:room]
            self.parts.append((label, steps, ids))
            self.count += len(steps)

    def clear(self) -> None:
        self.parts.clear()
        self.count = 0
        self.truncated = False

    def to_csv(self) -> io.StringIO:
        buf = io.StringIO()
        buf.write("population,neuron,step,time_s\n")
        for label, steps, ids in self.parts:
            for s, i in zip(steps.tolist(), ids.tolist()):
                buf.write(f"{label},{i},{s},{s * self.dt:.6g}\n")
        buf.seek(0)
        return buf
