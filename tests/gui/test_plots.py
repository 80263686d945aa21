"""The streaming views of neurocore_gui.plots: what each frame sends through
its HoloViews stream, and what the rendered figures show."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backends.base import Chunk
from neurocore_gui.plots import PALETTE, RasterImage, RateView, TraceView

hv = pytest.importorskip("holoviews")
hv.extension("bokeh")

DT = 0.001


def _chunk(start, n, spikes=None, rates=None):
    return Chunk(start_step=start, n_steps=n, dt=DT, spikes=spikes or {}, rates=rates or {})


def _lone_spike_pixel(colour: str) -> list[int]:
    """A lone spike in a frame: the population colour at 1 - exp(-2) over white."""
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)
    a = 1.0 - np.exp(-2.0)
    return (255.0 * (1 - a) + a * rgb).astype(np.uint8).tolist()


def test_raster_frame_puts_each_spike_in_its_row_bin_and_colour():
    raster = RasterImage([("A", np.arange(10)), ("B", np.arange(5))], DT, window_s=0.1)
    assert raster.cols * raster.spb == 100  # the window is exactly 0.1 s
    raster.dmap  # builds the pipe
    raster.add(_chunk(0, 50, {"A": (np.array([7]), np.array([0])), "B": (np.array([20]), np.array([4]))}))
    raster.push()
    rgba, (t0, y0, t1, y1) = raster.pipe.data
    assert rgba.shape == (raster.rows, raster.cols, 4) and rgba.dtype == np.uint8
    assert (t0, t1) == pytest.approx((0.05 - 0.1, 0.05)) and (y0, y1) == (0, 15)
    assert raster.spikes_in_window == 2 and raster.total_spikes == 2
    # image rows run top to bottom: A's neuron 0 is the bottom row, B's last neuron the top one
    col_a = raster.cols - 1 - (49 // raster.spb - 7 // raster.spb)
    col_b = raster.cols - 1 - (49 // raster.spb - 20 // raster.spb)
    assert rgba[-1, col_a, :3].tolist() == _lone_spike_pixel(PALETTE[0])
    assert rgba[0, col_b, :3].tolist() == _lone_spike_pixel(PALETTE[1])
    marked = (rgba[..., :3] != 255).any(axis=-1)
    assert marked.sum() == 2  # nothing else drawn
    # a rendered frame places the image at the window's time span
    fig = hv.render(raster.dmap, backend="bokeh")
    assert (fig.x_range.start, fig.x_range.end) == pytest.approx((t0, t1))


def test_raster_window_rolls_and_forgets_old_spikes():
    raster = RasterImage([("A", np.arange(4))], DT, window_s=0.1)
    raster.add(_chunk(0, 10, {"A": (np.array([3]), np.array([1]))}))
    raster.add(_chunk(10, 200, {"A": (np.array([150, 205]), np.array([2, 3]))}))
    raster._image()
    assert raster.spikes_in_window == 2  # the spike at step 3 left the 0.1 s window
    assert raster.total_spikes == 3
    raster.clear()
    assert raster.spikes_in_window == 0 and raster.counts.sum() == 0


def test_rates_stream_only_new_bins_and_keep_a_bounded_history():
    rates = RateView(["A", "B"], DT, window_s=0.05, bin_s=0.01)  # 5 bins kept
    rates.dmap
    rates.add(_chunk(0, 30, rates={"A": np.full(30, 0.02), "B": np.zeros(30)}))
    rates.push()
    assert rates.buffer.data["t"].tolist() == pytest.approx([0.005, 0.015, 0.025])
    assert rates.buffer.data["y0"] == pytest.approx([20.0] * 3)  # 0.02 spikes/step/neuron = 20 Hz
    rates.add(_chunk(30, 45, rates={"A": np.full(45, 0.01), "B": np.full(45, 0.005)}))
    rates.push()
    assert len(rates.buffer.data["t"]) == 5 and len(rates.t) == 5  # the bounded window
    assert rates.buffer.data["t"][-1] == pytest.approx(0.065)  # 4 new full bins; 5 steps wait in the next
    assert rates.buffer.data["y1"][-1] == pytest.approx(5.0)
    rates.clear()
    assert len(rates.buffer.data["t"]) == 0 and len(rates.t) == 0


def test_traces_are_subsampled_to_the_point_budget():
    traces = TraceView(["A[0]", "A[1]"], DT, window_s=1.0, max_points=100)  # every 10th step
    traces.dmap
    v = np.stack([np.arange(25.0), -np.arange(25.0)], axis=1)
    traces.add(5, v)
    traces.push()
    assert traces.buffer.data["t"] == pytest.approx([0.01, 0.02])  # steps 10 and 20
    assert traces.buffer.data["y1"] == pytest.approx([-5.0, -15.0])
    fig = hv.render(traces.dmap, backend="bokeh")
    assert [item.label["value"] for item in fig.legend[0].items] == ["A[0]", "A[1]"]
    assert fig.legend[0].click_policy == "hide"


def test_svg_switch_keeps_the_data():
    rates = RateView(["A"], DT, window_s=0.1)
    rates.dmap
    rates.add(_chunk(0, 20, rates={"A": np.full(20, 0.01)}))
    rates.push()
    rates.set_svg(True)
    fig = hv.render(rates.dmap, backend="bokeh")
    assert fig.output_backend == "svg"
    assert len(rates.buffer.data["t"]) == 2
    from bokeh.models import SaveTool

    assert [t.filename for t in fig.toolbar.tools if isinstance(t, SaveTool)] == ["rates.svg"]
