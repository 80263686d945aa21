"""Frames of the live figures when they are shown in a page: after HoloViews
has drawn a figure once, each frame is written into its Bokeh models (raster
image replaced, traces and rates streamed), without re-running HoloViews."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backends.base import Chunk
from neurocore_gui.plots import RasterImage, RateView, TraceView

pn = pytest.importorskip("panel")
hv = pytest.importorskip("holoviews")
hv.extension("bokeh")

from bokeh.document import Document  # noqa: E402
from bokeh.document.events import (  # noqa: E402
    ColumnDataChangedEvent, ColumnsPatchedEvent, ColumnsStreamedEvent)

DT = 0.001


def _chunk(start, n, spikes=None, rates=None):
    return Chunk(start_step=start, n_steps=n, dt=DT, spikes=spikes or {}, rates=rates or {})


def _in_page(view):
    """Show the view's figure in a Bokeh document, as a served page does;
    returns the document and the list its change events go to."""
    doc = Document()
    root = pn.pane.HoloViews(view.dmap, linked_axes=False).get_root(doc)
    doc.add_root(root)
    events = []
    doc.callbacks.on_change(lambda event: events.append(event))
    return doc, events


def _count_callbacks(view):
    """Count the DynamicMap's callback runs (one per HoloViews re-render)."""
    calls = []
    original = view._element

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    view._element = counted
    return calls


def _shown(raster, plot):
    """The page's raster as the user sees it: the x range's time bins, oldest
    first, read from whichever of the two copies of the ring image covers
    each (see RasterImage._draw_ring)."""
    source = plot.handles["source"]
    ring = np.asarray(source.data["image"][0])
    lap = raster.cols * raster.spb * raster.dt
    xr = plot.handles["x_range"]
    first_bin = int(round(xr.start / (raster.spb * raster.dt)))
    cols = []
    for b in range(first_bin, first_bin + raster.cols):
        t_mid = (b + 0.5) * raster.spb * raster.dt
        # the copy at x (this lap) or at x - lap (the last one) that contains t_mid
        x = source.data["x"][0]
        assert x - lap <= t_mid < x + lap
        cols.append(ring[:, b % raster.cols])
    return np.stack(cols, axis=1)


def _expected(raster):
    """What HoloViews draws for the same frame (its own rendering)."""
    rgba, bounds = raster._image()
    fig = hv.render(hv.RGB(rgba, bounds=bounds), backend="bokeh")
    return fig.renderers[0].data_source.data["image"][0], bounds


def test_raster_frames_patch_only_new_columns_and_show_what_holoviews_would_draw():
    raster = RasterImage([("A", np.arange(30)), ("B", np.arange(20))], DT, window_s=0.2)
    calls = _count_callbacks(raster)
    doc, events = _in_page(raster)
    plot = raster._captured.live()[0]
    rng = np.random.default_rng(3)
    start = 0
    # frames of 33 steps run the ring (200 bins) round more than once
    for frame in range(12):
        n = 33
        k = 6
        raster.add(_chunk(start, n, {"A": (start + rng.integers(0, n, k), rng.integers(0, 30, k)),
                                     "B": (start + rng.integers(0, n, k // 2), rng.integers(0, 20, k // 2))}))
        start += n
        calls.clear()
        events.clear()
        raster.push()
        assert calls == []  # HoloViews' pipeline was not run for the frame
        expected, (t0, y0, t1, y1) = _expected(raster)
        xr = plot.handles["x_range"]
        assert (xr.start, xr.end) == pytest.approx((t0, t1))
        assert (t0, t1) == pytest.approx((start * DT - 0.2, start * DT))
        if frame == 0:
            continue  # the first frame draws the whole ring
        patched = [e for e in events if isinstance(e, ColumnsPatchedEvent)]
        assert len(patched) == 1 and not any(isinstance(e, ColumnDataChangedEvent) for e in events)
        columns = sum(s[2].stop - s[2].start for s, _ in patched[0].patches["image"])
        assert columns == n + 1  # this frame's 33 bins and the one drawn last frame
        # the intensity scale is set per frame, so compare which pixels are marked
        shown = _shown(raster, plot)
        white = np.uint32(0xFFFFFFFF)
        assert np.array_equal(shown != white, expected != white)
    # the spikes of the last window, each in its row
    assert int((expected != white).sum()) == np.count_nonzero(raster.counts)
    # the second copy of the ring, one lap to the left
    renderers = [r for r in plot.state.renderers if r.data_source is plot.handles["source"]]
    assert len(renderers) == 2


def test_raster_frame_size_does_not_grow_with_the_spike_count():
    sent = []
    for n_spikes in (1, 200_000):
        raster = RasterImage([("A", np.arange(1000))], DT, window_s=1.0)
        doc, events = _in_page(raster)
        rng = np.random.default_rng(1)
        raster.add(_chunk(0, 50, {"A": (rng.integers(0, 50, 1), rng.integers(0, 1000, 1))}))
        raster.push()
        events.clear()
        raster.add(_chunk(50, 33, {"A": (50 + rng.integers(0, 33, n_spikes), rng.integers(0, 1000, n_spikes))}))
        raster.push()
        patched = [e for e in events if isinstance(e, ColumnsPatchedEvent)]
        sent.append(sum(len(v) for _, v in patched[0].patches["image"]))
        assert raster.total_spikes == n_spikes + 1
    assert sent[0] == sent[1] == raster.rows * (33 // raster.spb + 1)


def test_rates_are_streamed_new_rows_only_with_a_bounded_history():
    rates = RateView(["A", "B"], DT, window_s=0.05, bin_s=0.01)  # 5 bins kept
    calls = _count_callbacks(rates)
    doc, events = _in_page(rates)
    calls.clear()
    rates.add(_chunk(0, 30, rates={"A": np.full(30, 0.02), "B": np.zeros(30)}))
    rates.push()
    streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
    assert len(streamed) == 2  # one per curve, three new bins each
    assert all(len(e.data["time (s)"]) == 3 for e in streamed)
    events.clear()
    rates.add(_chunk(30, 45, rates={"A": np.full(45, 0.01), "B": np.full(45, 0.005)}))
    rates.push()
    assert calls == []
    streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
    assert [len(e.data["time (s)"]) for e in streamed] == [4, 4] and all(e.rollover == 5 for e in streamed)
    curves = [c.live()[0] for c in rates._captured]
    a, b = (c.handles["source"].data for c in curves)
    assert len(a["time (s)"]) == 5  # Bokeh's rollover keeps the window
    assert list(a["time (s)"]) == pytest.approx([0.025, 0.035, 0.045, 0.055, 0.065])
    assert list(a["rate (Hz)"]) == pytest.approx([20.0, 10.0, 10.0, 10.0, 10.0])
    assert list(b["rate (Hz)"])[-1] == pytest.approx(5.0)
    # the stream still holds the window (CSV export and tests read it)
    assert rates.buffer.data["t"].tolist() == pytest.approx(list(a["time (s)"]))
    overlay = rates._overlay_captured.live()[0]
    xr, yr = overlay.handles["x_range"], overlay.handles["y_range"]
    assert (xr.start, xr.end) == pytest.approx((0.025, 0.065))
    assert yr.start < 0.0 and yr.end > 20.0  # every value inside, headroom above for the legend


def test_traces_streamed_into_the_page_follow_the_window():
    traces = TraceView(["A[0]", "A[1]"], DT, window_s=0.05, max_points=50)  # every step, 50 kept
    _in_page(traces)
    for start in range(0, 200, 20):
        steps = start + np.arange(20)
        traces.add(start, np.stack([np.sin(steps / 10.0), -60.0 + steps / 10.0], axis=1))
        traces.push()
    src = [c.live()[0].handles["source"].data for c in traces._captured]
    assert len(src[0]["time (s)"]) == 50
    assert list(src[1]["v"])[-1] == pytest.approx(-60.0 + 19.9)
    assert list(src[0]["time (s)"])[0] == pytest.approx(0.150)
    overlay = traces._overlay_captured.live()[0]
    assert (overlay.handles["x_range"].start, overlay.handles["x_range"].end) == pytest.approx((0.150, 0.199))
