"""Load and faults, in real browsers against the ``neurocore`` server (what
``make serve`` runs): several sessions running networks at once all keep
streaming; sessions closed mid-run give their thread and memory back; a
server that goes away mid-run is reported on the page.

Figures (frames/s per session, server memory per session, RSS over the
open/close cycles) are printed and written to tests/artifacts/load_faults.json."""

from __future__ import annotations

import json
import sys
import time

import pytest

from tests.gui.conftest import ARTIFACTS, ROOT, start_command, stop_server, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SESSIONS = 8
CYCLES = 20
BROWSER_WARMUP = 6  # browser sessions run before the memory baseline
WARMUP = CYCLES  # sessions before the memory baseline (see test_closed_sessions_give_back_memory)
FIGURES = ARTIFACTS / "load_faults.json"


def record(key: str, value) -> None:
    data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    data[key] = value
    FIGURES.write_text(json.dumps(data, indent=1))
    print(key, value)


def proc_status(pid: int) -> dict:
    """VmRSS (MiB) and thread count of a process."""
    out = {}
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            out["rss_mib"] = int(line.split()[1]) / 1024
        elif line.startswith("Threads:"):
            out["threads"] = int(line.split()[1])
    return out


@pytest.fixture()
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, base, log = start_command([sys.executable, "-m", "neurocore_gui", "--port", "0"], cwd=ROOT,
                                    name="load_serve", timeout=180)
    try:
        yield proc, base + "/app"
    finally:
        stop_server(proc, log)


def sim_state(page) -> tuple[float, str]:
    el = page.locator(".nc-t").first
    return float(el.get_attribute("data-t") or 0), el.get_attribute("data-state")


class Session:
    """A browser context on the app, counting the Bokeh messages the server
    sends it (a streamed frame is one PATCH-DOC message)."""

    def __init__(self, browser, url):
        self.ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.ctx.new_page()
        self.patches = 0  # Playwright delivers frame events while a call is waiting on it
        self.page.on("websocket", self._watch)
        self.page.goto(url, timeout=180_000)
        self.page.wait_for_selector(".react-flow__node", timeout=180_000)

    def _watch(self, ws) -> None:
        def on_frame(payload):
            if isinstance(payload, str) and payload.startswith("{") and '"PATCH-DOC"' in payload[:200]:
                self.patches += 1
        ws.on("framereceived", on_frame)

    def start(self) -> None:
        self.page.get_by_role("button", name="Start").click(timeout=120_000)

    def frames(self) -> int:
        self.page.evaluate("1")  # lets the events that arrived so far be delivered
        return self.patches

    def close(self) -> None:
        self.ctx.close()


def test_eight_sessions_keep_streaming(server, nc_browser):
    proc, url = server
    idle = proc_status(proc.pid)
    sessions = []
    try:
        for _ in range(SESSIONS):
            sessions.append(Session(nc_browser, url))
            if len(sessions) == 1:  # the first page also pays for the app's imports and caches
                first = proc_status(proc.pid)
        for s in sessions:
            s.start()
        for i, s in enumerate(sessions):
            wait_for(lambda s=s: sim_state(s.page)[1] == "running" and sim_state(s.page)[0] > 0,
                     timeout=180, what=f"session {i} running")
        window = 20.0
        t0 = time.monotonic()
        n0 = [s.frames() for s in sessions]
        t_sim0 = [sim_state(s.page)[0] for s in sessions]
        # the measurement window itself; waiting inside Playwright keeps the frame events coming
        sessions[0].page.wait_for_timeout(window * 1000)
        n1 = [s.frames() for s in sessions]
        t_sim1 = [sim_state(s.page)[0] for s in sessions]
        t1 = time.monotonic()
        running = proc_status(proc.pid)
        fps = [round((b - a) / (t1 - t0), 2) for a, b in zip(n0, n1)]
        sim_rate = [round((b - a) / (t1 - t0), 3) for a, b in zip(t_sim0, t_sim1)]
        per_session = (running["rss_mib"] - first["rss_mib"]) / (SESSIONS - 1)
        record("concurrent_sessions", {
            "sessions": SESSIONS, "window_s": round(t1 - t0, 1), "frames_per_s": fps,
            "simulated_s_per_s": sim_rate, "server_rss_idle_mib": round(idle["rss_mib"], 1),
            "server_rss_one_session_mib": round(first["rss_mib"], 1),
            "server_rss_running_mib": round(running["rss_mib"], 1),
            "server_mib_per_session": round(per_session, 1), "server_threads": running["threads"],
            "load_avg": open("/proc/loadavg").read().split()[:3]})
        # every session kept streaming: frames arrived and its simulation advanced
        for i, (f, r) in enumerate(zip(fps, sim_rate)):
            assert f >= 0.2 and r > 0, f"session {i} stalled: {f} frames/s, {r} simulated s/s"
    finally:
        for s in sessions:
            s.close()


def test_closed_sessions_give_back_threads_and_memory(server, nc_browser):
    """Browser sessions closed mid-run: every worker thread ends, and the
    server's RSS after 20 of them is within 10 % of what it was before.

    The baseline follows a few warm-up sessions (imports, caches, the first
    compile and Python's high-water mark of sessions waiting to be discarded
    are not per session).  Before issue 19's fix a HoloViews hook held every
    closed session whole, +9 MiB each (384 -> 563 MiB over 20)."""
    proc, url = server

    def cycle():
        s = Session(nc_browser, url)
        s.start()
        wait_for(lambda: sim_state(s.page)[0] > 0, timeout=120, what="running")
        s.close()  # mid-run

    for _ in range(BROWSER_WARMUP):
        cycle()
    wait_for(lambda: settled(proc.pid), timeout=120, what="server idle after the warm-up sessions")
    baseline = discarded(proc.pid)
    rss = []
    for _ in range(CYCLES):
        cycle()
        rss.append(round(proc_status(proc.pid)["rss_mib"], 1))
    threads = wait_for(lambda: settled(proc.pid, baseline["threads"]), timeout=120,
                       what=f"threads back to {baseline['threads']}")
    after = discarded(proc.pid)
    record("open_close_cycles", {"cycles": CYCLES, "warmup_sessions": BROWSER_WARMUP, "baseline": baseline,
                                 "after": after, "rss_during_mib": rss})
    # every closed session's worker thread has ended, and its memory is back
    assert threads["threads"] <= baseline["threads"]
    assert after["rss_mib"] <= 1.10 * baseline["rss_mib"], (
        f"RSS {after['rss_mib']:.0f} MiB after {CYCLES} sessions closed mid-run, {baseline['rss_mib']:.0f} before")


def test_closed_sessions_give_back_memory(server):
    """Sessions opened and closed over Bokeh's WebSocket protocol (no browser,
    so only the server's side is measured): once Bokeh has discarded them the
    server's RSS is back within 10 % of what it was after the first ones.

    The baseline follows a first round of the same CYCLES sessions, not one
    session.  Bokeh keeps a closed session 15-32 s, so back-to-back cycles
    hold up to all 20 at once, and Python keeps their freed memory for reuse
    instead of returning it to the system: after one round RSS is at that
    high-water mark (+10-14 % over the first session, depending on how fast
    the cycles run), whether or not anything leaks.  A second round reuses
    that memory if closed sessions are freed (+0.1-0.4 MiB a session
    measured), and adds ~2.5 MiB a session (+12 %) if they are not.  tests/gui/test_session_memory.py counts the
    objects themselves."""
    import asyncio
    import concurrent.futures

    from tests.gui.conftest import BokehWS

    proc, url = server
    ws_url = url.replace("http", "ws") + "/ws"

    async def cycle():
        ws = await BokehWS.connect(ws_url)
        await asyncio.wait_for(ws.pull_document(), 120)
        ws.close()

    def run(coro):
        # the browser tests' sync Playwright keeps an event loop running in
        # this thread, where asyncio.run refuses to start another
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coro).result()

    run(cycle())
    after_first = proc_status(proc.pid)["rss_mib"]
    for _ in range(WARMUP - 1):
        run(cycle())
    baseline = discarded(proc.pid)["rss_mib"]
    for _ in range(CYCLES):
        run(cycle())
    peak = proc_status(proc.pid)["rss_mib"]
    after = discarded(proc.pid)["rss_mib"]
    record("open_close_memory", {"cycles": CYCLES, "warmup_sessions": WARMUP,
                                 "after_first_session_mib": round(after_first, 1), "baseline_mib": round(baseline, 1),
                                 "peak_mib": round(peak, 1), "after_mib": round(after, 1)})
    assert after <= 1.10 * baseline, f"RSS {after:.0f} MiB after {CYCLES} sessions, {baseline:.0f} before"


def discarded(pid: int) -> dict:
    """The server's status once Bokeh has discarded the closed sessions and
    its RSS has stopped falling.  Bokeh discards a session unused for 15 s,
    looking every 17 s, so the last one goes up to 32 s after its WebSocket
    closed; RSS does not move in between, so a steady RSS alone is no proof."""
    time.sleep(35)
    samples = []

    def steady():
        samples.append(proc_status(pid))
        last = [s["rss_mib"] for s in samples[-5:]]
        return len(samples) >= 5 and max(last) - min(last) < 1.0 and samples[-1]

    return wait_for(lambda: steady() or (time.sleep(2) and False), timeout=180, what="RSS steady")


def settled(pid: int, threads: int | None = None):
    """The server's status once Bokeh has discarded closed sessions (it does so
    some seconds after their WebSocket closes) and, if given, its thread count
    is down to ``threads``."""
    a = proc_status(pid)
    time.sleep(1.0)
    b = proc_status(pid)
    if a["threads"] != b["threads"] or (threads is not None and b["threads"] > threads):
        return None
    return b


def test_server_gone_mid_run_is_reported_on_the_page(server, nc_browser):
    proc, url = server
    s = Session(nc_browser, url)
    try:
        s.start()
        wait_for(lambda: sim_state(s.page)[0] > 0, timeout=120, what="running")
        proc.kill()
        proc.wait(timeout=30)
        wait_for(lambda: "connection to the neurocore server lost" in s.page.inner_text("body").lower(),
                 timeout=60, what="the page saying the connection was lost")
        # the network is still drawn (the page is not blanked)
        assert s.page.locator(".react-flow__node").count() > 0
    finally:
        s.close()


def test_exception_in_the_simulation_thread_shows_and_the_network_stays(nc_browser):
    from tests.gui.conftest import node, start_server

    proc, url, log = start_server("tests/gui/fault_app/app.py")
    s = None
    try:
        s = Session(nc_browser, url)
        labels = sorted(s.page.locator(".react-flow__node").all_inner_texts())
        s.start()
        shown = s.page.get_by_text("injected fault in the simulation thread", exact=False)
        wait_for(lambda: shown.count() > 0, timeout=120, what="the worker's exception on the page")
        assert "RuntimeError" in shown.first.inner_text()
        assert sim_state(s.page)[0] > 0  # it had run some chunks first
        # the network is still there and still editable
        assert sorted(s.page.locator(".react-flow__node").all_inner_texts()) == labels
        node(s.page, "E").click()
        s.page.locator(".nc-field-tau input").first.wait_for(timeout=60_000)
    finally:
        if s is not None:
            s.close()
        stop_server(proc, log)
