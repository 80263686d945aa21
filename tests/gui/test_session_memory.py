"""Closed sessions give their memory back: after sessions of the app are
opened and closed (some mid-run), no ``App``, no Bokeh ``Document`` and no
entry of theirs in Panel's process-wide tables survives, and the server's RSS
is back within 10 % of what it was after the first session.

The server is the app's Panel server (``neurocore_gui/app.py``) run in a
child process, with sessions opened over Bokeh's WebSocket protocol (no
browser: only the server's side is measured) and discarded 0.5 s after their
WebSocket closes instead of Bokeh's 15-30 s, so 20 cycles take seconds.  The
child is this file run as a script; it prints its figures as one JSON line.

Three holders kept closed sessions alive before (docs/server.md, "Memory
of closed sessions"): a watcher on ``pn.state.param.busy`` (the page's
``busy`` reference), ``pn.state._views`` (the page's notification area) and,
for every session whose figures were drawn, HoloViews' options tree holding
a hook's bound method.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 20
RUN_EVERY = 4  # every 4th session is closed mid-run (a run costs seconds on the loaded machine)

pytestmark = pytest.mark.slow


def test_closed_sessions_free_their_app_document_and_memory():
    out = subprocess.run([sys.executable, __file__, str(CYCLES), str(RUN_EVERY)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    assert out.returncode == 0 and lines, f"probe failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-6000:]}"
    r = json.loads(lines[-1][len("RESULT "):])
    print(r)
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "session_memory.json").write_text(json.dumps(r, indent=1))
    assert r["sessions"] == CYCLES + 1 and r["runs"] == 1 + CYCLES // RUN_EVERY
    assert all(t > 0 for t in r["run_t"]), f"a session meant to close mid-run did not run: {r['run_t']}"
    # the closed sessions' objects are gone, not just unreferenced by the app
    assert r["sessions_open_after"] == 0, r
    idle_apps = r["apps_alive"] - r["apps_alive_of_runs"]
    idle_docs = r["documents_alive"] - r["documents_alive_of_runs"]
    assert idle_apps == 0, f"{idle_apps} App objects of sessions without a run survive"
    assert idle_docs == 0, f"{idle_docs} Documents of sessions without a run survive"
    # sessions closed mid-run too: before the fix of plots._weak_hook every
    # session whose figures had been drawn stayed alive, held by HoloViews'
    # process-wide options tree through a hook's bound method
    assert r["apps_alive_of_runs"] == 0 and r["documents_alive_of_runs"] == 0, (
        f"{r['apps_alive_of_runs']} Apps / {r['documents_alive_of_runs']} Documents of the "
        f"{r['runs']} sessions closed mid-run survive")
    assert r["views_left"] == 0, f"pn.state._views still holds {r['views_left']} entries"
    # nothing of theirs is left watching pn.state / pn.config (the page's `busy` was)
    assert r["shared_watchers_after"] <= r["shared_watchers_baseline"], r
    assert r["threads_after"] <= r["threads_baseline"], r
    assert r["rss_after_mib"] <= 1.10 * r["rss_baseline_mib"], (
        f"RSS {r['rss_after_mib']:.0f} MiB after {CYCLES} sessions, {r['rss_baseline_mib']:.0f} MiB before")


# -- the child process ---------------------------------------------------------------------------

def _probe(cycles: int, run_every: int) -> dict:
    import asyncio
    import gc
    import socket
    import threading
    import time
    import weakref

    import panel as pn
    from panel.io.server import get_server

    import neurocore_gui.session as session
    from tests.gui.conftest import BokehWS

    # what session.py does on a served process's first session: freeze the
    # import heap (imported here first, so it did not)
    gc.freeze()

    made: list[tuple[weakref.ref, weakref.ref]] = []  # (App, Document) of every session
    create_app = session.create_app

    def recording_create_app(*args, **kwargs):
        app = create_app(*args, **kwargs)
        made.append((weakref.ref(app), weakref.ref(pn.state.curdoc)))
        return app

    session.create_app = recording_create_app  # app.py imports it from here per session

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = get_server({"app": str(ROOT / "neurocore_gui" / "app.py")}, port=port, address="127.0.0.1",
                        show=False, start=False, num_procs=1, websocket_origin=[f"127.0.0.1:{port}"],
                        check_unused_sessions_milliseconds=250, unused_session_lifetime_milliseconds=500)
    server.start()
    threading.Thread(target=server.io_loop.start, daemon=True).start()
    url = f"ws://127.0.0.1:{port}/app/ws"
    run_t: list[float] = []

    def sim_t() -> float:
        app = made[-1][0]()
        runner = app.run.runner if app is not None else None
        return runner.t if runner is not None else 0.0

    async def cycle(run: bool) -> None:
        ws = await BokehWS.connect(url)
        await asyncio.wait_for(ws.pull_document(), 180)
        if run:  # as the Start button does, in the session's document
            ran.add(len(made) - 1)
            made[-1][1]().add_next_tick_callback(made[-1][0]().run.start)
            deadline = time.monotonic() + 180
            while sim_t() <= 0 and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(ws.read(), 0.2)
                except asyncio.TimeoutError:
                    pass
            run_t.append(sim_t())
        ws.close()
        # until the server's close frame: a client socket left half-closed
        # when this loop ends stays open until a collection finds it, and its
        # session with it (the server counts it as connected)
        try:
            while await asyncio.wait_for(ws.conn.read_message(), 10) is not None:
                pass
        except asyncio.TimeoutError:
            pass

    def open_sessions() -> int:
        return sum(len(list(ctx.sessions)) for ctx in server._tornado._applications.values())

    ran: set[int] = set()  # indices in ``made`` of the sessions closed mid-run

    def alive(which=None) -> tuple[int, int]:
        pairs = [m for i, m in enumerate(made) if which is None or (i in ran) == which]
        return (sum(a() is not None for a, _ in pairs), sum(d() is not None for _, d in pairs))

    def settle() -> None:
        """Until Bokeh has discarded every session and their objects are
        gone (a worker thread or a queued callback may hold one briefly), or 30 s."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.25)
            gc.collect()
            if open_sessions() == 0 and alive() == (0, 0):
                break
        time.sleep(0.5)
        gc.collect()

    def rss() -> float:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    def shared_watchers() -> int:
        """Watchers on the process-wide pn.state and pn.config, all parameters."""
        return sum(len(ws) for obj in (pn.state, pn.config)
                   for kinds in obj._param__private.watchers.values() for ws in kinds.values())

    t0 = time.monotonic()
    asyncio.run(cycle(run=True))  # imports, caches and the first compile are not per session
    settle()
    baseline = {"rss": rss(), "threads": threading.active_count(), "watchers": shared_watchers()}
    rss_during = []
    for i in range(cycles):
        asyncio.run(cycle(run=(i + 1) % run_every == 0))
        rss_during.append(round(rss(), 1))
    peak = rss()
    settle()
    apps, docs = alive()
    apps_ran, docs_ran = alive(which=True)
    return {
        "apps_alive_of_runs": apps_ran, "documents_alive_of_runs": docs_ran,
        "sessions": len(made), "runs": len(run_t), "run_t": run_t,
        "rss_baseline_mib": round(baseline["rss"], 1), "rss_peak_mib": round(peak, 1),
        "rss_after_mib": round(rss(), 1), "rss_during_mib": rss_during,
        "apps_alive": apps, "documents_alive": docs,
        "views_left": len(pn.state._views), "sessions_open_after": open_sessions(),
        "shared_watchers_baseline": baseline["watchers"], "shared_watchers_after": shared_watchers(),
        "threads_baseline": baseline["threads"], "threads_after": threading.active_count(),
        "wall_s": round(time.monotonic() - t0, 1),
        "load_avg": open("/proc/loadavg").read().split()[:3],
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    result = _probe(int(sys.argv[1]), int(sys.argv[2]))
    print("RESULT " + json.dumps(result), flush=True)
    os._exit(0)  # the server's loop thread and the app's pools need no orderly shutdown here
