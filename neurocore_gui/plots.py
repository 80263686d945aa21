"""Streaming figures fed by simulator chunks (``Chunk`` of docs/CONTRACTS.md).

* :class:`RasterImage` — spikes of the selected neurons in a bounded rolling
  window drawn as an RGBA image (time bin x neuron row, coloured by
  population; a Bokeh ``image_rgba`` of packed uint32 pixels).  Its cost per
  frame is fixed by the image size, not by the number of spikes.
* :class:`TraceView` — membrane traces of the recorded neurons.
* :class:`RateView` — population rates (Hz) in 10 ms bins.

All three are plain Bokeh figures built once; a frame only replaces their
ColumnDataSource data (HoloViews DynamicMaps re-rendered the whole element
per update, which cost the server ~35 ms and the browser a re-layout).
They hold numpy state only and never touch the engine.
"""

from __future__ import annotations

import io
import math

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
        self.cols = min(max_cols, window_steps)
        self.spb = int(math.ceil(window_steps / self.cols))  # steps per column
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
        self._figure = None
        self.source = None

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
        self.total_spikes = 0
        self.push()

    def _image(self):
        """``(rgba, (t0, 0, t1, n_neurons))``: ``rgba`` is a (rows, cols)
        uint32 array of packed RGBA bytes, row 0 = first neuron (drawn at the
        bottom by Bokeh's ``image_rgba``)."""
        c = self.counts
        if self.latest_bin >= 0:
            # ring buffer -> time order (oldest column first)
            start = (self.latest_bin + 1) % self.cols
            c = np.roll(c, -start, axis=1)
        self.spikes_in_window = int(c.sum())
        # intensity relative to this frame's typical non-empty pixel, so both a
        # lone spike (sparse raster) and dense binned activity stay visible
        nz = c[c > 0]
        k = max(0.5, 0.5 * float(np.median(nz))) if nz.size else 1.0
        alpha = (1.0 - np.exp(-c / k))[..., None]
        rgb = 255.0 * (1 - alpha) + alpha * self._row_colour[:, None, :]
        rgba = np.empty((self.rows, self.cols, 4), dtype=np.uint8)
        rgba[..., :3] = rgb
        rgba[..., 3] = 255
        t1 = (self.latest_bin + 1) * self.spb * self.dt if self.latest_bin >= 0 else self.cols * self.spb * self.dt
        t0 = t1 - self.cols * self.spb * self.dt
        return rgba.view(np.uint32)[..., 0], (t0, 0, t1, self.n_neurons)

    def _data(self) -> dict:
        img, (t0, y0, t1, y1) = self._image()
        return {"image": [img], "x": [t0], "y": [y0], "dw": [t1 - t0], "dh": [y1 - y0]}

    @property
    def figure(self):
        """The Bokeh figure, built once.  Streaming only replaces its
        ColumnDataSource's data (one binary uint32 buffer of rows x cols) and
        the x range: with a HoloViews DynamicMap every frame re-rendered the
        element, which re-sent ranges, axes and glyph properties and made the
        browser re-layout the plot (the browser, not the server, limited the
        frame rate)."""
        if self._figure is None:
            from bokeh.models import ColumnDataSource, FixedTicker, Range1d
            from bokeh.plotting import figure

            data = self._data()
            self.source = ColumnDataSource(data)
            x0 = data["x"][0]
            fig = figure(height=self.height, sizing_mode="stretch_width",
                         x_range=Range1d(x0, x0 + data["dw"][0]), y_range=Range1d(0, self.n_neurons),
                         tools="save,pan,wheel_zoom,reset", toolbar_location="right",
                         title=f"Raster ({self.n_neurons} neurons shown)",
                         x_axis_label="time (s)", y_axis_label="neuron")
            fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self.source)
            if self.yticks:
                fig.yaxis.ticker = FixedTicker(ticks=[t for t, _ in self.yticks])
                fig.yaxis.major_label_overrides = {t: lab for t, lab in self.yticks}
            fig.grid.visible = False
            self._figure = fig
        return self._figure

    def push(self) -> None:
        if self._figure is None:
            return
        data = self._data()
        self.source.data = data
        xr = self._figure.x_range
        x0, x1 = data["x"][0], data["x"][0] + data["dw"][0]
        if (xr.start, xr.end) != (x0, x1):
            xr.update(start=x0, end=x1)


def _line_figure(names: list[str], colours: list[str | None], title: str, ylabel: str, height: int,
                 line_width: float):
    """A Bokeh figure drawing column ``y{i}`` against ``t`` of one
    ColumnDataSource per series name; streaming replaces only that source's
    data (ranges auto-fit in the browser), so no figure is rebuilt per frame."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    source = ColumnDataSource({"t": np.zeros(0), **{f"y{i}": np.zeros(0) for i in range(len(names))}})
    fig = figure(height=height, sizing_mode="stretch_width", title=title, x_axis_label="time (s)",
                 y_axis_label=ylabel, tools="save,pan,wheel_zoom,reset", toolbar_location="right")
    for i, name in enumerate(names):
        fig.line("t", f"y{i}", source=source, legend_label=name, name=name, line_width=line_width,
                 color=colours[i] or PALETTE[i % len(PALETTE)])
    if names:
        fig.add_tools(HoverTool(tooltips=[("", "$name"), ("t", "$x{0.000}"), ("value", "$y{0.00}")]))
        legend = fig.legend[0]
        fig.add_layout(legend, "right")
        legend.click_policy = "hide"
    return fig, source


def _columns(t: np.ndarray, y: np.ndarray, n: int) -> dict:
    return {"t": t, **{f"y{i}": (y[:, i] if len(t) else np.zeros(0)) for i in range(n)}}


class TraceView:
    """Membrane traces: ``series`` is a list of names (one per recorded neuron)."""

    def __init__(self, series: list[str], dt: float, window_s: float = 1.0, max_points: int = 1000,
                 unit: str = "", height: int = 220):
        self.series = list(series)
        self.dt = float(dt)
        window_steps = max(1, int(round(window_s / self.dt)))
        self.stride = max(1, int(math.ceil(window_steps / max_points)))
        self.length = int(math.ceil(window_steps / self.stride))
        self.t = np.zeros(0)
        self.y = np.zeros((0, len(self.series)))
        self.unit = unit
        self.height = height
        self.figure, self.source = _line_figure(
            self.series, [None] * len(self.series), "Membrane traces", f"v {unit}".strip(), height, 1.2)

    def add(self, start_step: int, values: np.ndarray) -> None:
        """``values`` (n_steps, n_series) starting at absolute ``start_step``."""
        if values.size == 0 or not self.series:
            return
        steps = start_step + np.arange(values.shape[0])
        keep = (steps % self.stride) == 0
        if not keep.any():
            return
        t = steps[keep] * self.dt
        y = np.asarray(values, dtype=np.float64)[keep][:, :len(self.series)]
        self.t = np.concatenate([self.t, t])[-self.length:]
        self.y = np.concatenate([self.y, y])[-self.length:]

    def clear(self) -> None:
        self.t = np.zeros(0)
        self.y = np.zeros((0, len(self.series)))
        self.push()

    def push(self) -> None:
        self.source.data = _columns(self.t, self.y, len(self.series))


class RateView:
    """Population rates in Hz, averaged over ``bin_s`` bins."""

    def __init__(self, labels: list[str], dt: float, window_s: float = 2.0, bin_s: float = 0.01,
                 height: int = 200):
        self.labels = list(labels)
        self.dt = float(dt)
        self.bin_steps = max(1, int(round(bin_s / self.dt)))
        self.length = max(2, int(round(window_s / (self.bin_steps * self.dt))))
        self.height = height
        self.t = np.zeros(0)
        self.r = np.zeros((0, len(self.labels)))
        self._acc = np.zeros(len(self.labels))
        self._acc_n = 0
        self._acc_start = 0
        self.figure, self.source = _line_figure(
            self.labels, [PALETTE[i % len(PALETTE)] for i in range(len(self.labels))],
            "Population rates (10 ms bins)", "rate (Hz)", height, 1.5)

    def add(self, chunk) -> None:
        if not self.labels:
            return
        n = chunk.n_steps
        mat = np.zeros((n, len(self.labels)))
        for i, label in enumerate(self.labels):
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
                self._acc = np.zeros(len(self.labels))
                self._acc_n = 0
                self._acc_start = step + i
        if t_out:
            self.t = np.concatenate([self.t, t_out])[-self.length:]
            self.r = np.concatenate([self.r, np.array(r_out)])[-self.length:]

    def clear(self) -> None:
        self.t = np.zeros(0)
        self.r = np.zeros((0, len(self.labels)))
        self._acc = np.zeros(len(self.labels))
        self._acc_n = 0
        self.push()

    def push(self) -> None:
        self.source.data = _columns(self.t, self.r, len(self.labels))


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
