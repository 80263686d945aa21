"""Fixtures of the GUI tests: one ``panel serve`` per test module (free port,
killed at teardown) and Debian's Chromium driven by Playwright, with every
request and console message recorded so a test can fail on any non-local
request, failed request or console error."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app: str = "neurocore_gui/app.py", timeout: float = 60.0, request_timeout: float = 5.0):
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")  # default resources: what `make serve` gets
    log = open(ARTIFACTS / f"serve_{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", app, "--port", str(port), "--address", "127.0.0.1",
         "--allow-websocket-origin", f"127.0.0.1:{port}", "--allow-websocket-origin", f"localhost:{port}",
         "--num-procs", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/app"
    t0 = time.time()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"panel serve exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=1):
                break
        except Exception:  # noqa: BLE001 - not up yet
            try:
                with urllib.request.urlopen(url, timeout=request_timeout):
                    break
            except Exception:  # noqa: BLE001
                pass
        if time.time() - t0 > timeout:
            proc.kill()
            raise RuntimeError("panel serve did not come up")
        time.sleep(0.3)
    return proc, url, log


def stop_server(proc, log) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


@pytest.fixture(scope="module")
def app_url():
    require_tool("chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url, log = start_server()
    try:
        yield url
    finally:
        stop_server(proc, log)


@pytest.fixture(scope="module")
def nc_browser():
    path = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class PageLog:
    """Everything a page asked for and said."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def external(self) -> list[str]:
        ok = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "data:", "blob:")
        return [u for u in self.requests if not u.startswith(ok)]

    def assert_clean(self) -> None:
        assert self.external() == [], f"non-local requests: {self.external()}"
        assert self.failed == [], f"failed requests: {self.failed}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture
def open_page(nc_browser, app_url):
    """``open_page()`` -> (page, log) on a fresh context (a new session)."""
    contexts = []

    def _open(width=1500, height=1100):
        ctx = nc_browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        contexts.append(ctx)
        page = ctx.new_page()
        log = PageLog(page)
        t0 = time.perf_counter()
        page.goto(app_url)
        page.wait_for_selector(".react-flow__node", timeout=60_000)
        page.load_time = time.perf_counter() - t0
        return page, log

    yield _open
    for ctx in contexts:
        ctx.close()


# -- helpers shared by the browser tests ------------------------------------------

def node(page, label):
    """The canvas node of the population or stimulus ``label``."""
    return page.locator(".react-flow__node", has_text=re.compile(rf"^{re.escape(label)} ·"))


def wait_for(cond, timeout=60.0, what="condition"):
    t0 = time.time()
    while True:
        v = cond()
        if v:
            return v
        if time.time() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def settled_boxes(locators: dict, timeout: float = 20.0, quiet: float = 0.3) -> dict:
    """Bounding boxes of ``{name: locator}`` once the canvas has stopped moving
    (the same boxes in two reads ``quiet`` s apart): a freshly loaded network
    is laid out, fitted to the view and its labels measured over several
    renders, which take longer on a busy machine."""
    def read():
        return {k: loc.bounding_box() for k, loc in locators.items()}

    t0 = time.time()
    last = read()
    while True:
        time.sleep(quiet)
        now = read()
        if now == last and all(b is not None for b in now.values()):
            return now
        if time.time() - t0 > timeout:
            raise AssertionError(f"the canvas kept moving: {now}")
        last = now


def load_file(page, path, timeout: float = 60.0) -> None:
    """Load ``path`` through the toolbar's Load JSON and wait for the page's
    verdict ("Loaded <name>."): the message is shown above the canvas, so
    boxes measured before it appears are stale once it does."""
    path = Path(path)
    page.locator(".nc-load input[type=file]").set_input_files(str(path))
    page.get_by_text(f"Loaded {path.name}.").first.wait_for(timeout=timeout * 1000)


# Each animation frame, the canvas's top on the page and the labels of its
# nodes (the canvas sits in shadow roots, so the lookup walks them).
_RECORD_CANVAS_JS = """() => {
  const deep = (root, sel, acc) => {
    root.querySelectorAll(sel).forEach((e) => acc.push(e));
    root.querySelectorAll('*').forEach((e) => { if (e.shadowRoot) deep(e.shadowRoot, sel, acc); });
    return acc;
  };
  const samples = window.__ncCanvasSamples = [];
  const tick = () => {
    const canvas = deep(document, '.react-flow', [])[0];
    if (canvas) {
      samples.push({t: performance.now(), y: canvas.getBoundingClientRect().y,
                    nodes: deep(canvas, '.react-flow__node', []).map((n) => n.textContent.split(' ')[0]).sort().join(',')});
    }
    if (samples.length < 20000) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def record_canvas(page) -> None:
    """Start recording, frame by frame, where the canvas is on the page and
    what it shows (read back with :func:`canvas_samples`)."""
    page.evaluate(_RECORD_CANVAS_JS)


def canvas_samples(page) -> list[dict]:
    return page.evaluate("() => window.__ncCanvasSamples || []")


# -- a Bokeh WebSocket client at the protocol level ----------------------------------
# (bokeh.client would rebuild every model of the page, the app's own included;
# these tests only need the messages)

class BokehWS:
    """One app session over Bokeh's WebSocket protocol: ``await
    BokehWS.connect(ws_url)``, then ``read()`` / ``send()`` messages."""

    def __init__(self, conn):
        self.conn = conn
        self._n = 0

    @classmethod
    async def connect(cls, ws_url: str, headers: dict | None = None, timeout: float = 60.0):
        from bokeh.util.token import generate_jwt_token, generate_session_id
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        token = generate_jwt_token(generate_session_id())  # a new session, as a fresh page gets
        conn = await websocket_connect(HTTPRequest(ws_url, headers=headers or {}, request_timeout=timeout),
                                       subprotocols=["bokeh", token], max_message_size=256 * 2**20)
        ws = cls(conn)
        header, *_ = await ws.read()
        assert header["msgtype"] == "ACK", header
        return ws

    async def read(self):
        """(header, metadata, content JSON text, [(buffer header, payload)])."""
        import json

        first = await self.conn.read_message()
        if first is None:
            raise ConnectionError("the server closed the WebSocket")
        header = json.loads(first)
        metadata = json.loads(await self.conn.read_message())
        content = await self.conn.read_message()
        buffers = [(await self.conn.read_message(), await self.conn.read_message())
                   for _ in range(header.get("num_buffers", 0))]
        return header, metadata, content, buffers

    async def send(self, msgtype: str, content: dict | None = None) -> None:
        import json

        self._n += 1
        await self.conn.write_message(json.dumps({"msgid": f"t{self._n}", "msgtype": msgtype}))
        await self.conn.write_message("{}")
        await self.conn.write_message(json.dumps(content or {}))

    async def pull_document(self) -> dict:
        import json

        await self.send("PULL-DOC-REQ")
        while True:
            header, _meta, content, _bufs = await self.read()
            if header["msgtype"] == "PULL-DOC-REPLY":
                return json.loads(content)

    def close(self) -> None:
        self.conn.close()


def find_dicts(obj, pred) -> list[dict]:
    """Every dict inside ``obj`` (a decoded JSON document) for which ``pred`` holds."""
    found, stack = [], [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            if pred(o):
                found.append(o)
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return found


def examples_menu(doc: dict) -> list[str]:
    """The options of the page's Examples menu in a pulled document."""
    menus = find_dicts(doc, lambda d: d.get("label") == "Examples" and "options" in d)
    assert len(menus) == 1, f"{len(menus)} Examples menus in the document"
    return [o for o in menus[0]["options"] if o]


def start_command(cmd: list[str], cwd, env=None, timeout: float = 90.0, name: str = "neurocore"):
    """Start a ``neurocore`` server command; (proc, base URL, log) once it
    answers on /liveness.  The command prints the URL it serves."""
    log_path = ARTIFACTS / f"{name}_{os.getpid()}_{time.time_ns()}.log"
    log = open(log_path, "w+")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env or dict(os.environ, PYTHONUNBUFFERED="1"),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.time()
    base = None
    while True:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}: {log.read()[-3000:]}")
        if base is None:
            log.seek(0)
            m = re.search(r"NeuroCore at (http://[\d.]+:\d+)/app", log.read())
            base = m.group(1) if m else None
        if base is not None:
            try:
                with urllib.request.urlopen(f"{base}/liveness", timeout=2):
                    return proc, base, log
            except Exception:  # noqa: BLE001 - not up yet
                pass
        if time.time() - t0 > timeout:
            stop_server(proc, log)
            raise RuntimeError(f"{cmd} did not come up in {timeout} s")
        time.sleep(0.2)
