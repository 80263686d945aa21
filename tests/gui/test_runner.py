"""Live runner and run view without a browser: chunking, queue draining,
parameter changes at the next chunk, reset, errors, session isolation."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from engine.backends import compile as compile_network
from engine.network import ConstantCurrent, Network, Population
from neurocore_gui.runner import Runner

DT = 0.001


def _lif_network(amplitude=1.5):
    pop = Population("LapicqueNeuron", 5, {"tau": 10.0}, label="A")
    stim = ConstantCurrent(amplitude, target=pop, label="drive")
    return Network(pop, stim)


class _Made:
    def __init__(self):
        self.count = 0
        self.net = None

    def __call__(self):
        self.count += 1
        self.net = _lif_network()
        return compile_network(self.net, "numpy", DT)


def _collect(runner, n_steps, timeout=10.0):
    chunks, t0 = [], time.time()
    while sum(c.n_steps for c in chunks) < n_steps:
        chunks += runner.drain()
        if time.time() - t0 > timeout:
            raise AssertionError(f"only {sum(c.n_steps for c in chunks)} of {n_steps} steps arrived")
        time.sleep(0.005)
    return chunks


def test_step_is_chunked_contiguously():
    made = _Made()
    r = Runner(made, DT, max_chunk=40, adaptive=False)
    try:
        assert r.step(250)
        chunks = _collect(r, 250)
        assert [c.n_steps for c in chunks] == [40] * 6 + [10]
        assert [c.start_step for c in chunks] == list(range(0, 250, 40))
        time.sleep(0.05)
        assert r.drain() == [] and r.steps_done == 250 and r.state == "paused"
    finally:
        r.stop()


def test_start_pause_and_bounded_queue():
    r = Runner(_Made(), DT, chunk_steps=20, adaptive=False, max_queue=3)
    try:
        r.start()
        time.sleep(0.3)
        # nobody drains: the worker blocks on the full queue instead of running away
        assert r.queue.qsize() == 3
        assert r.steps_done <= 20 * 4
        r.pause()
        got = _collect(r, 1)
        before = r.steps_done
        time.sleep(0.2)
        r.drain()
        time.sleep(0.1)
        assert r.steps_done - before <= 20  # at most the chunk that was in flight
        assert all(c.n_steps == 20 for c in got)
    finally:
        r.stop()


def test_parameter_change_takes_effect_at_next_chunk():
    made = _Made()
    r = Runner(made, DT, max_chunk=50, adaptive=False)
    try:
        r.step(50)
        first = _collect(r, 50)
        assert len(first[0].spikes["A"][0]) > 0
        stim = made.net.stimuli[0]

        def silence(sim):
            stim.amplitude = 0.0
        r.apply(silence)
        r.step(100)
        after = _collect(r, 100)
        assert after[0].start_step == 50
        # the change applies before step 50: no neuron reaches threshold again
        assert all(len(c.spikes["A"][0]) == 0 for c in after)
    finally:
        r.stop()


def test_a_change_wakes_a_worker_waiting_for_real_time():
    """At 0.05x real time a 10-step chunk of 1 ms steps is due every 200 ms;
    a queued change must not wait for the rest of that pause."""
    r = Runner(_Made(), DT, chunk_steps=10, adaptive=False, speed=0.05)
    r.max_chunk = 10
    try:
        r.start()
        _collect(r, 20)  # two chunks: the worker is now pacing itself
        applied = []
        time.sleep(0.05)  # well inside a 200 ms pause
        t0 = time.perf_counter()
        r.apply(lambda sim: applied.append(time.perf_counter() - t0))
        deadline = time.time() + 2
        while not applied and time.time() < deadline:
            time.sleep(0.002)
        assert applied and applied[0] < 0.05, applied
    finally:
        r.stop()


def test_parameter_change_while_running_reaches_the_worker():
    made = _Made()
    r = Runner(made, DT, chunk_steps=20, adaptive=False)
    try:
        r.start()
        _collect(r, 60)
        pop_model = made.net.population("A").model
        r.apply(lambda sim: setattr(pop_model, "v_threshold", 100.0))
        time.sleep(0.05)
        r.drain()
        later = _collect(r, 120)
        assert pop_model.v_threshold == 100.0
        spiking = [len(c.spikes["A"][0]) > 0 for c in later]
        # at most the one chunk the worker held (computed before the change) still spikes
        assert sum(spiking) <= 1 and not any(spiking[1:])
    finally:
        r.stop()


def test_reset_recompiles_and_restarts_at_zero():
    made = _Made()
    r = Runner(made, DT, max_chunk=30, adaptive=False)
    try:
        r.step(90)
        _collect(r, 90)
        r.reset()
        assert r.sim is None and r.steps_done == 0 and r.state == "idle" and r.queue.empty()
        r.step(30)
        again = _collect(r, 30)
        assert made.count == 2
        assert again[0].start_step == 0
    finally:
        r.stop()


def test_stale_chunks_are_dropped_after_reset():
    made = _Made()
    r = Runner(made, DT, chunk_steps=10, adaptive=False)
    try:
        r.start()
        old = _collect(r, 10)
        old_gen = r.generation
        r.reset()
        # a chunk the old worker finished after the reset emptied the queue
        # (start_step 999 cannot come from the new run)
        stale = dataclasses.replace(old[0], start_step=999)
        r.queue.put((old_gen, stale))
        r.step(10)
        chunks = _collect(r, 10)
        assert [(c.start_step, c.n_steps) for c in chunks] == [(0, 10)]
        assert r.generation == old_gen + 1 and made.count == 2  # recompiled from the network
        # the new chunk is the fresh network's first 10 steps, spike for spike
        fresh = compile_network(_lif_network(), "numpy", DT).advance(10)
        assert {k: [a.tolist() for a in v] for k, v in chunks[0].spikes.items()} == \
            {k: [a.tolist() for a in v] for k, v in fresh.spikes.items()}
        assert r.drain() == []
    finally:
        r.stop()


def test_compile_error_is_reported_not_raised():
    def bad():
        raise ValueError("unknown neuron model 'Nope'")
    r = Runner(bad, DT)
    assert r.start() is False
    assert r.state == "error" and "Nope" in r.error


def test_error_during_run_is_reported():
    class Broken:
        dt = DT

        def advance(self, n):
            raise RuntimeError("backend exploded")
    r = Runner(lambda: Broken(), DT)
    try:
        r.start()
        t0 = time.time()
        while r.state != "error" and time.time() - t0 < 5:
            time.sleep(0.01)
        assert r.state == "error" and "exploded" in r.error
    finally:
        r.stop()


def test_adaptive_chunk_targets_wall_time():
    r = Runner(_Made(), DT, chunk_steps=1, target_chunk_s=0.02)
    try:
        r.start()
        _collect(r, 2000)
        assert r.chunk_steps > 50  # a tiny network: many steps per 20 ms
    finally:
        r.stop()


# -- the run view (no browser) ------------------------------------------------------------
@pytest.fixture
def app():
    import holoviews as hv

    hv.extension("bokeh")
    from neurocore_gui.session import create_app

    a = create_app(example="two_population_ei")
    yield a
    a.close()


def _tick_until(rv, cond, timeout=10.0):
    t0 = time.time()
    while not cond():
        rv.tick()
        if time.time() - t0 > timeout:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_run_view_streams_into_figures_and_reset_clears(app):
    rv = app.run
    rv.speed.value = "as fast as possible"
    rv.start()
    _tick_until(rv, lambda: rv.raster.total_spikes > 50 and len(rv.rates.t) > 5)
    assert rv.raster.counts.sum() > 0
    assert rv.traces.y.shape[1] == 6 and len(rv.traces.t) > 0
    assert rv.recorder.count >= rv.raster.spikes_in_window > 0
    csv = rv._spikes_csv().getvalue().splitlines()
    assert csv[0] == "population,neuron,step,time_s" and len(csv) > 50
    rv.reset()
    assert rv.raster.total_spikes == 0 and rv.raster.counts.sum() == 0
    assert len(rv.traces.t) == 0 and len(rv.rates.t) == 0 and rv.recorder.count == 0
    assert rv.live is None


def test_running_frames_update_every_figure(app):
    """While running, frames push the raster, traces and rates (traces and
    rates on alternate frames), not only the final state after a pause."""
    rv = app.run
    rv.speed.value = "as fast as possible"
    rv.show_figures()
    rv.start()
    _tick_until(rv, lambda: len(rv.rates.buffer.data["t"]) > 0 and len(rv.traces.buffer.data["t"]) > 0
                and rv.raster.spikes_in_window > 0)
    assert rv.runner.state == "running"
    img, (t0, y0, t1, y1) = rv.raster.pipe.data
    assert img.dtype == np.uint8 and img.shape == (rv.raster.rows, rv.raster.cols, 4)
    assert (img[..., :3] != 255).any()  # some non-white pixels: spikes drawn
    assert t1 > t0 and (y0, y1) == (0, rv.raster.n_neurons)
    assert set(rv.rates.buffer.data) == {"t", "y0", "y1"}
    # the buffers hold a bounded history
    assert len(rv.traces.buffer.data["t"]) <= rv.traces.length


def test_run_view_param_change_applies_to_running_network(app):
    rv = app.run
    rv.speed.value = "as fast as possible"
    rv.start()
    _tick_until(rv, lambda: rv.raster.total_spikes > 0)
    b = app.builder
    node = next(n for n in b.nodes if n["data"]["label"] == "E")
    b.flow.selection = {"nodes": [node["id"]], "edges": []}
    b.field_editor.widgets["v_threshold"].value = 50.0  # through the generated editor
    _tick_until(rv, lambda: rv.live.network.population("E").model.v_threshold == 50.0)
    assert b.network_dict()["populations"][0]["params"]["v_threshold"] == 50.0


def test_invalid_value_is_refused_with_a_message(app):
    b = app.builder
    node = next(n for n in b.nodes if n["data"]["label"] == "E")
    b.flow.selection = {"nodes": [node["id"]], "edges": []}
    w = b.field_editor.widgets["tau"]
    w.value = -5.0
    assert w.error_state and "tau" in w.helper_text
    assert b.network_dict()["populations"][0]["params"]["tau"] == 20.0


def test_compile_error_shows_message_and_keeps_network(app):
    rv = app.run
    b = app.builder
    before = b.network_dict()
    rv.trace_spec.value = "nonsense without colon"
    rv.start()
    assert rv.message.visible and "trace" in rv.message.object
    assert b.network_dict() == before


def test_sessions_are_isolated():
    import holoviews as hv

    hv.extension("bokeh")
    from neurocore_gui.session import create_app

    a, b = create_app(example="single_lif_step"), create_app(example="single_lif_step")
    try:
        a.builder.add_population("LapicqueNeuron", 7)
        assert len(a.builder.nodes) == len(b.builder.nodes) + 1
        assert a.builder.flow is not b.builder.flow and a.run.raster is not b.run.raster
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("backend", ["fixed_point", "torch"])
def test_run_view_runs_an_example_on_other_backends(app, backend):
    """The backend selector offers every available backend and a run on it
    produces spikes in the figures."""
    rv = app.run
    opts = rv.backend_select.options
    assert backend in opts.values() and backend not in (rv.backend_select.disabled_options or [])
    rv.backend_select.value = backend
    rv.speed.value = "as fast as possible"
    rv.start()
    assert not rv.message.visible, rv.message.object
    _tick_until(rv, lambda: rv.raster.total_spikes > 20, timeout=30)
    assert type(rv.live.sim).__module__ == {"fixed_point": "engine.backends.fixed_point",
                                            "torch": "engine.backends.torch_backend"}[backend]
    assert rv.recorder.count > 20 and rv.runner.error is None


def test_unsupported_model_on_fixed_point_shows_a_clear_message(app):
    rv = app.run
    app.builder.load_example("half_centre_oscillator")  # adaptive-threshold IF: no fixed-point form
    rv.backend_select.value = "fixed_point"
    rv.start()
    assert rv.message.visible and rv.message.severity == "error"
    assert "NotImplementedError" in rv.message.object and "fixed-point" in rv.message.object
    assert rv.runner.state == "idle" and rv.live is None
    # the same network runs once another backend is chosen
    rv.backend_select.value = "numpy"
    rv.start()
    assert not rv.message.visible
    _tick_until(rv, lambda: rv.raster.total_spikes > 0, timeout=30)


def test_figure_export_format_switches_every_live_figure_to_svg_and_back(app):
    rv = app.run
    import holoviews as hv

    def backends():
        return {hv.render(v.dmap, backend="bokeh").output_backend for v in (rv.raster, rv.traces, rv.rates)}

    rv.show_figures()
    assert backends() == {"canvas"}
    rv.figure_format.value = "SVG"
    assert backends() == {"svg"}
    assert rv.raster_pane.object is rv.raster.dmap  # the page shows the re-created figure
    rv.window.value = 2.0  # rebuilt figures keep the chosen format
    assert backends() == {"svg"}
    rv.figure_format.value = "PNG"
    assert backends() == {"canvas"}


# -- frames driven by the worker's chunks ---------------------------------------------------
def test_on_chunk_runs_in_the_worker_once_the_chunk_can_be_drained():
    import threading

    seen = []
    r = Runner(_Made(), DT, max_chunk=10, adaptive=False)

    def on_chunk():
        # the chunk is already in the queue when the page is told about it
        seen.append((threading.current_thread().name, [c.start_step for c in r.drain()]))
    r.on_chunk = on_chunk
    try:
        r.step(30)
        deadline = time.time() + 10
        while len(seen) < 3 and time.time() < deadline:
            time.sleep(0.005)
        assert seen == [("neurocore-runner", [0]), ("neurocore-runner", [10]), ("neurocore-runner", [20])]
    finally:
        r.stop()


class _FakeDoc:
    """The served document's next-tick queue (thread-safe, as Bokeh's is),
    run by hand."""

    def __init__(self):
        import threading

        self.callbacks = []
        self.later = []
        self._lock = threading.Lock()

    def add_next_tick_callback(self, cb):
        with self._lock:
            self.callbacks.append(cb)

    def add_timeout_callback(self, cb, ms):
        self.later.append((ms, cb))  # not run: these tests are over long before

    def run(self):
        with self._lock:
            cbs, self.callbacks = self.callbacks, []
        for cb in cbs:
            cb()
        return len(cbs)


def _served(rv):
    doc = _FakeDoc()
    rv._doc = doc
    rv._ensure_callback = lambda: setattr(rv, "_cb", rv._cb or _Stoppable())
    return doc


class _Stoppable:
    def stop(self):
        pass


def test_a_chunk_is_drawn_at_once_not_at_the_next_periodic_tick(app):
    """Each queued chunk schedules one tick on the page's event loop (at most
    one pending); that tick draws the frame, with no periodic tick at all."""
    rv = app.run
    rv.show_figures()
    doc = _served(rv)
    rv.speed.value = "1x real time"
    woken = []  # steps done at each chunk's wake: it runs after the chunk is queued
    wake = rv._wake
    rv._wake = lambda: (woken.append(rv.runner.steps_done), wake())
    rv.step(60)  # three chunks of 20 steps at 1x
    deadline = time.time() + 10
    while 60 not in woken and time.time() < deadline:
        time.sleep(0.005)
    assert rv.runner.steps_done == 60 and woken[-1] == 60
    assert 1 <= len(doc.callbacks) <= 3  # coalesced while none has run yet
    seq0 = rv.frame_ack.seq
    assert doc.run() >= 1
    assert rv.frame_ack.seq == seq0 + 1  # one frame, with every chunk drained
    assert rv.raster.latest_bin * rv.raster.spb + rv.raster.spb > 59
    assert "t = 0.060 s" in rv.frame_ack.progress_html
    assert doc.callbacks == []


def test_frames_in_flight_are_bounded_and_an_edit_gets_one_more(app):
    rv = app.run
    rv._ack_seen = True
    rv._sent_at = time.perf_counter()
    fa = rv.frame_ack
    fa.send("p", "r")
    fa.send("p", "r")
    assert fa.seq - fa.ack == 2 and not rv._browser_ready()
    rv._urgent_until = time.perf_counter() + 1.0  # right after a live edit
    assert rv._browser_ready()
    fa.send("p", "r")
    assert not rv._browser_ready()  # still bounded: three at most
    fa.ack = fa.seq
    rv._urgent_until = 0.0
    assert rv._browser_ready()


def test_frame_ack_sends_the_lines_with_the_frame_number_in_one_change(app):
    fa = app.run.frame_ack
    changes = []
    fa.param.watch(lambda e: changes.append(e.name), list(fa.param))
    n = fa.seq
    fa.send("<span class='nc-t'>t</span>", "Now: A")
    assert changes == ["frame"] and fa.seq == n + 1
    assert (fa.progress_html, fa.rates_html) == ("<span class='nc-t'>t</span>", "Now: A")
    app.run.progress.object = "paused"  # a line outside a frame keeps the number
    assert fa.seq == n + 1 and fa.progress_html == "paused" and fa.rates_html == "Now: A"


def test_a_live_edit_is_drawn_without_the_frame_pacing_delay(app):
    rv = app.run
    rv.show_figures()
    doc = _served(rv)
    rv.speed.value = "as fast as possible"
    rv.start()
    _tick_until(rv, lambda: rv.raster.total_spikes > 0)
    rv._next_push_at = time.perf_counter() + 60.0  # as if the last frame had been very slow
    b = app.builder
    node = next(n for n in b.nodes if n["data"]["label"] == "E")
    b.flow.selection = {"nodes": [node["id"]], "edges": []}
    b.field_editor.widgets["v_threshold"].value = 1000.0
    deadline = time.time() + 10

    def drawn_steps():
        # the steps of the last frame sent to the browser, from its progress line
        import re
        return int(re.search(r"(\d+) steps", rv.frame_ack.progress_html).group(1))

    # the page keeps draining (flat out, a full queue would hold the worker back)
    while rv._live_applied is None and time.time() < deadline:
        doc.run()
        time.sleep(0.002)
    applied_at = rv._live_applied[0]  # steps done when the worker made the change
    assert rv.live.network.population("E").model.v_threshold == 1000.0
    # a frame with the chunks after the change is sent now, not a minute later
    while drawn_steps() <= applied_at and time.time() < deadline:
        doc.run()
        time.sleep(0.002)
    assert drawn_steps() > applied_at


def test_figures_off_screen_are_not_drawn_until_they_show_again(app):
    rv = app.run
    rv.show_figures()
    rv.slow_every = 1  # every figure on every frame
    rv.speed.value = "as fast as possible"
    rv.frame_ack.hidden = ["traces", "rates"]  # as the browser reports a scrolled page
    rv.start()
    _tick_until(rv, lambda: len(rv.rates.t) > 5 and len(rv.traces.t) > 5 and rv.raster.spikes_in_window > 0)
    rv.pause()
    assert len(rv.rates.buffer.data["t"]) == 0 and len(rv.traces.buffer.data["t"]) == 0
    assert rv.raster.pipe.data[0].shape == (rv.raster.rows, rv.raster.cols, 4)
    assert (rv.raster.pipe.data[0][..., :3] != 255).any()  # the raster on screen was drawn
    rv.frame_ack.hidden = []
    rv._dirty = True
    rv._next_push_at = 0.0
    rv.tick()
    # the frame after they show again carries the window they missed
    assert rv.rates.buffer.data["t"].tolist() == pytest.approx(rv.rates.t.tolist())
    assert rv.traces.buffer.data["t"].tolist() == pytest.approx(rv.traces.t.tolist())


def test_a_series_not_drawn_for_long_keeps_only_its_window_pending():
    from neurocore_gui.plots import RateView

    rates = RateView(["A"], DT, window_s=0.05, bin_s=0.01)  # 5 bins
    for start in range(0, 10_000, 10):  # 1 000 bins, never pushed
        rates.add(dataclasses.replace(_chunk_like(start, 10), rates={"A": np.full(10, 0.001)}))
    pending = np.concatenate(rates._new_t)
    assert len(rates._new_t) <= 65 and len(pending) <= 64 + rates.length
    assert pending[-rates.length:].tolist() == pytest.approx(rates.t.tolist())


def _chunk_like(start, n):
    from engine.backends.base import Chunk

    return Chunk(start_step=start, n_steps=n, dt=DT, spikes={}, rates={})
