"""Streaming benchmark of the app in a real (headless) browser.

Starts ``panel serve neurocore_gui/app.py`` on a free port, opens it in
Debian's Chromium (Playwright), loads a network of N Poisson-driven LIF
neurons (~21 Hz each, so N=1000 gives more than the issue's 20 000 spikes per simulated
second) through the page's "Load JSON" input, runs it at 1x real time and reports:

* page -> canvas: ms from navigation start to the first rendered canvas node
  (browser clock), cold (the first page the server makes after it starts)
  and warm (every later one);
* frames/s: raster updates per second seen by the browser (the raster image,
  progress line and live rates are pushed in one held update; the bench counts
  changes of the progress line's simulated time, polled every animation frame);
* spikes per simulated second actually produced;
* latency: ms from pressing Enter on a new Poisson rate (0 Hz) in the
  stimulus editor to the first frame whose displayed population rate is 0
  (browser clock), median of 3.

Page load is measured three ways: cold (the first page after the server
started, empty browser cache), warm (``--warm-loads`` more pages, median, in
the same browser profile: its HTTP cache holds the bundles, as a returning
user's does) and, per N, a reload of the page that has the N-neuron network
(the page restores it from the browser's copy; "page -> network N" is the
time until that network is on the canvas).  Each page is left only once it
has finished loading (its figures drawn, the server idle), as a returning
user's earlier page had.

Every line carries the machine's load average at that moment (the figures
mean little without it on a shared machine) and the CPU seconds the server
and the browser spent.  nengo-gui, the peer of the issue's table, runs when
its interpreter is given (``--nengo-python``) or ``nengo_gui`` is importable
here (or ``$NENGO_PYTHON`` is set): a 1 000-neuron ensemble with a raster of
all 1 000, a value plot and a slider, in the same headless Chromium; page
request -> network drawn (cold and warm), plot updates/s at 1x, and slider
drag -> visible change of the value plot.

Usage: ``python bench/app_stream.py [--sizes 100 1000 10000] [--seconds 5]
[--warm-loads 5] [--page-load-only] [--nengo-python PATH | --no-nengo]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.network import Network, PoissonInput, Population  # noqa: E402
from engine.network.io import network_to_dict  # noqa: E402
from tests.gui.conftest import ARTIFACTS, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

DEEP = """
window.__ncroots = {};
window.__ncq = (sel) => {
  // the element is re-created by every update, but its (shadow) root stays:
  // look there first, so the per-animation-frame poll does not walk the whole
  // page (which cost the browser, the bottleneck here, more than the app did)
  const root = window.__ncroots[sel];
  if (root && root.isConnected !== false) {
    const hit = root.querySelector(sel);
    if (hit) return hit;
  }
  const walk = (root) => {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = walk(el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  const hit = walk(document);
  if (hit) window.__ncroots[sel] = hit.getRootNode();
  return hit;
};
"""

COUNT_FRAMES = """
async (seconds) => {
  const t0 = performance.now();
  let last = null, frames = 0, firstT = null, lastT = null;
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise(r => requestAnimationFrame(r));
    const el = window.__ncq('.nc-t');
    const t = el ? el.getAttribute('data-t') : null;
    if (t !== last) {
      if (last !== null) { frames += 1; }
      if (firstT === null) firstT = parseFloat(t);
      lastT = parseFloat(t);
      last = t;
    }
  }
  return {frames, wall: (performance.now() - t0) / 1000, sim0: firstT, sim1: lastT};
}
"""

# the change starts when the user presses Enter: the keydown event's own time
# stamp, not the moment Playwright was asked to press (its round trip would
# count towards the app's latency)
MARK_ENTER = """
() => {
  window.__nc_enter = null;
  if (!window.__nc_enter_hook) {
    window.__nc_enter_hook = true;
    document.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__nc_enter = e.timeStamp; }, true);
  }
}
"""

WAIT_ZERO = """
async (pop) => {
  const start = performance.now();
  while (window.__nc_enter === null && performance.now() - start < 5000) {
    await new Promise(r => setTimeout(r, 1));
  }
  const t0 = window.__nc_enter;
  if (t0 === null) return null;
  while (performance.now() - t0 < 20000) {
    await new Promise(r => requestAnimationFrame(r));
    const el = window.__ncq(`.nc-rate[data-pop='${pop}']`);
    if (el && parseFloat(el.getAttribute('data-hz')) === 0) return performance.now() - t0;
  }
  return null;
}
"""


def make_network(n: int, path: Path) -> None:
    pop = Population("LapicqueNeuron", n, {"tau": 10.0, "refractory_period": 2}, label="L")
    stim = PoissonInput(n, 22.0, 15.0, dt=0.001, seed=1, target=pop, label="poisson")
    doc = network_to_dict(Network(pop, stim, seed=1), include_state=False, include_csr=False)
    doc["meta"] = {"run": {"dt": 0.001}}
    path.write_text(json.dumps(doc))


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (nan if unknown)."""
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def browser_cpu_seconds(browser) -> float:
    """CPU seconds all of Chromium's processes have used so far."""
    try:
        cdp = browser.new_browser_cdp_session()
        try:
            return sum(p["cpuTime"] for p in cdp.send("SystemInfo.getProcessInfo")["processInfo"])
        finally:
            cdp.detach()
    except Exception:  # noqa: BLE001 - an older Chromium without SystemInfo
        return float("nan")


def open_page(ctx, url: str, selector: str, server_pid: int | None, timeout_ms: int = 120_000):
    """Open ``url`` in a new page of ``ctx`` and wait for ``selector``:
    (page, {"ms": browser-clock ms from navigation start, "server_cpu": s,
    "browser_cpu": s of all Chromium processes, "browser_task": s of the
    page's main-thread tasks, wall (on a loaded machine it includes waiting
    for a CPU)})."""
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Performance.enable")
    cpu0, bcpu0 = cpu_seconds(server_pid), browser_cpu_seconds(ctx.browser)
    page.goto(url)
    page.wait_for_selector(selector, timeout=timeout_ms, state="attached")
    ms = page.evaluate("() => performance.now()")
    cpu1, bcpu1 = cpu_seconds(server_pid), browser_cpu_seconds(ctx.browser)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    cdp.detach()
    return page, {"ms": ms, "server_cpu": cpu1 - cpu0, "browser_cpu": bcpu1 - bcpu0,
                  "browser_task": metrics.get("TaskDuration", float("nan"))}


def summary(loads: list[dict]) -> str:
    ms = [x["ms"] for x in loads]
    return (f"median {statistics.median(ms):.0f} ms (all: {', '.join(f'{x:.0f}' for x in ms)}; "
            f"CPU per page: server {statistics.median(x['server_cpu'] for x in loads):.2f} s, "
            f"browser {statistics.median(x['browser_cpu'] for x in loads):.2f} s)")


#: what our page draws last (the figures, after the page's onload and its
#: answer about a kept copy)
SETTLED = ".nc-raster canvas"


def wait_server_quiet(pid: int | None, window_s: float = 0.5, cpu_s: float = 0.05,
                      timeout_s: float = 30.0) -> None:
    """Wait until the server used less than ``cpu_s`` CPU seconds in a
    ``window_s`` window (or ``timeout_s`` passed)."""
    t_end = time.time() + timeout_s
    while time.time() < t_end:
        c0 = cpu_seconds(pid)
        time.sleep(window_s)
        if not cpu_seconds(pid) - c0 >= cpu_s:  # nan (pid unknown) counts as quiet
            return


def settle(page, selector: str | None, server_pid: int | None) -> None:
    """Let a page finish loading before it is left: a returning user's
    earlier page had finished, and a page left while its deferred work
    (palette, selection, figures) still runs on the server charges that
    work to the next page's load (it waits behind it on the event loop)."""
    if selector:
        page.wait_for_selector(selector, timeout=120_000, state="attached")
    wait_server_quiet(server_pid)


def warm_loads(ctx, url: str, selector: str, k: int, server_pid: int | None,
               settled: str | None = None) -> list[dict]:
    out = []
    for _ in range(k):
        page, r = open_page(ctx, url, selector, server_pid)
        settle(page, settled, server_pid)
        page.close()
        out.append(r)
    return out


def run_size(browser, url: str, n: int, seconds: float, tmp: Path, warm: int = 5,
             server_pid: int | None = None, stream: bool = True) -> dict:
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    page, first = open_page(ctx, url, ".react-flow__node", server_pid)
    to_canvas = first["ms"]
    page.evaluate(DEEP)
    net = tmp / f"net_{n}.json"
    make_network(n, net)
    page.locator(".nc-load input[type=file]").set_input_files(str(net))
    t_load = time.time()
    while page.locator(".react-flow__node").count() != 2:
        if time.time() - t_load > 60:
            raise RuntimeError("the uploaded network did not appear on the canvas")
        time.sleep(0.1)
    if not stream:
        return _reloads(ctx, page, url, n, warm, server_pid,
                        {"n": n, "page_to_canvas_ms": to_canvas, "frames_per_s": float("nan"),
                         "sim_speed": float("nan"), "spikes_per_sim_s": float("nan"),
                         "latency_ms": float("nan"), "latencies": []})
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("() => { const e = window.__ncq('.nc-t'); return e && parseFloat(e.getAttribute('data-t')) > 0.5 }",
                           timeout=60_000)
    fr = page.evaluate(COUNT_FRAMES, seconds)
    page.screenshot(path=str(ARTIFACTS / f"bench_{n}.png"))
    # spikes per simulated second, from the progress line's total
    text = page.evaluate("() => window.__ncq('.nc-t').textContent")
    m = re.search(r"(\d+) spikes", text)
    sim_t = float(page.evaluate("() => window.__ncq('.nc-t').getAttribute('data-t')"))
    spikes_per_s = int(m.group(1)) / sim_t if m and sim_t > 0 else float("nan")
    # latency: rate 22 Hz -> 0 Hz through the stimulus editor, three times
    page.locator(".react-flow__node", has_text=re.compile(r"^poisson ·")).click()
    page.locator(".nc-field-rate_hz input").first.wait_for(timeout=60_000)
    lat = []
    for value in ("0", "22", "0", "22", "0"):
        inp = page.locator(".nc-field-rate_hz input").first
        inp.click()
        inp.fill(value)
        if value == "0":
            page.evaluate(MARK_ENTER)
            inp.press("Enter")
            ms = page.evaluate(WAIT_ZERO, "L")
            inp.press("Tab")  # leave the field (panel-material-ui inputs ignore typing after Enter)
            lat.append(ms)
        else:
            inp.press("Enter")
            inp.press("Tab")
            if os.environ.get("NC_BENCH_DEBUG"):
                for _ in range(10):
                    time.sleep(0.5)
                    print("  rate", page.evaluate("() => window.__ncq(`.nc-rate[data-pop='L']`).getAttribute('data-hz')"),
                          "field", inp.input_value(), file=sys.stderr)
            page.wait_for_function(
                "() => { const e = window.__ncq(`.nc-rate[data-pop='L']`); return e && parseFloat(e.getAttribute('data-hz')) > 5 }",
                timeout=30_000)
    page.get_by_role("button", name="Pause").click()
    good = [x for x in lat if x is not None]
    return _reloads(ctx, page, url, n, warm, server_pid, {
        "n": n, "page_to_canvas_ms": to_canvas, "frames_per_s": fr["frames"] / fr["wall"],
        "sim_speed": (fr["sim1"] - fr["sim0"]) / fr["wall"] if fr["sim0"] is not None else float("nan"),
        "spikes_per_sim_s": spikes_per_s,
        "latency_ms": statistics.median(good) if good else float("nan"), "latencies": lat})


def _reloads(ctx, page, url: str, n: int, warm: int, server_pid, result: dict) -> dict:
    """``warm`` reloads of the page holding the N-neuron network: the page
    restores it from the browser's copy; timed to the first canvas node and
    to the network's population ("L") on the canvas."""
    # the copy is written once the page is idle after the load: wait for it
    settle(page, SETTLED, server_pid)
    page.wait_for_function("(n) => { const t = localStorage.getItem('neurocore.network.v1');"
                           " return !!t && new RegExp('\"n\":\\\\s*' + n + '[,}]').test(t) }", arg=n, timeout=60_000)
    page.close()
    canvas, network = [], []
    for _ in range(warm):
        cpu0, bcpu0 = cpu_seconds(server_pid), browser_cpu_seconds(ctx.browser)
        pg, r = open_page(ctx, url, ".react-flow__node", server_pid)
        t0 = time.time()
        while pg.locator(".react-flow__node", has_text=re.compile(r"^L ·")).count() == 0:
            if time.time() - t0 > 60:
                raise RuntimeError("the reloaded page did not restore the network")
            time.sleep(0.02)
        network.append(dict(r, ms=pg.evaluate("() => performance.now()"), server_cpu=cpu_seconds(server_pid) - cpu0,
                            browser_cpu=browser_cpu_seconds(ctx.browser) - bcpu0))
        canvas.append(r)
        settle(pg, SETTLED, server_pid)
        pg.close()
    ctx.close()
    return dict(result, reload_canvas=canvas, reload_network=network)

# -- the nengo-gui peer ---------------------------------------------------------

NENGO_MODEL = """\
import nengo
model = nengo.Network(seed=1)
with model:
    stim = nengo.Node([0])
    a = nengo.Ensemble({n}, dimensions=1)
    nengo.Connection(stim, a)
"""

# the raster shows every neuron (n_neurons = N), the value plot the decoded
# value, the slider drives the input
NENGO_CFG = """\
_viz_0 = nengo_gui.components.Raster(a)
_viz_config[_viz_0].n_neurons = {n}
_viz_config[_viz_0].x = 0.6
_viz_config[_viz_0].y = 0.5
_viz_config[_viz_0].width = 0.3
_viz_config[_viz_0].height = 0.4
_viz_config[_viz_0].label_visible = True
_viz_1 = nengo_gui.components.Value(a)
_viz_config[_viz_1].max_value = 1
_viz_config[_viz_1].min_value = -1
_viz_config[_viz_1].show_legend = False
_viz_config[_viz_1].legend_labels = ['label_0']
_viz_config[_viz_1].synapse = 0.01
_viz_config[_viz_1].x = 0.6
_viz_config[_viz_1].y = 0.8
_viz_config[_viz_1].width = 0.3
_viz_config[_viz_1].height = 0.3
_viz_config[_viz_1].label_visible = True
_viz_2 = nengo_gui.components.Slider(stim)
_viz_config[_viz_2].max_value = 1
_viz_config[_viz_2].min_value = -1
_viz_config[_viz_2].x = 0.1
_viz_config[_viz_2].y = 0.8
_viz_config[_viz_2].width = 0.08
_viz_config[_viz_2].height = 0.3
_viz_config[_viz_2].label_visible = True
_viz_net_graph = nengo_gui.components.NetGraph()
_viz_progress = nengo_gui.components.Progress()
_viz_config[_viz_progress].x = 0
_viz_config[_viz_progress].y = 0
_viz_config[_viz_progress].width = 100
_viz_config[_viz_progress].height = 100
_viz_config[_viz_progress].label_visible = True
_viz_sim_control = nengo_gui.components.SimControl()
_viz_config[_viz_sim_control].shown_time = 0.5
_viz_config[_viz_sim_control].kept_time = 4.0
_viz_config[a].pos=(0.4, 0.3)
_viz_config[a].size=(0.15, 0.3)
_viz_config[model].pos=(0.0, 0.0)
_viz_config[model].size=(1.0, 1.0)
_viz_config[model].expanded=True
_viz_config[model].has_layout=True
_viz_config[stim].pos=(0.2, 0.3)
_viz_config[stim].size=(0.08, 0.08)
"""

# runs in nengo-gui's interpreter: its server without a browser or an
# automatic shutdown, printing the page's address with the access token
NENGO_SERVER = """\
import sys
import nengo_gui.gui, nengo_gui.page
from nengo_gui.guibackend import GuiServerSettings, ModelContext
s = nengo_gui.gui.InteractiveGUI(ModelContext(filename=sys.argv[1]),
                                 GuiServerSettings(("localhost", int(sys.argv[2])), 0),
                                 page_settings=nengo_gui.page.PageSettings(backend="nengo"))
s.server.auto_shutdown = 0
print("URL http://localhost:%d/?token=%s" % (s.server.server_port, s.server.auth_token), flush=True)
s.start()
"""

# per plot, the number of animation frames in which its drawn path changed
# (a MutationObserver: reading the raster's multi-megabyte path every frame
# would itself slow the page down)
NENGO_COUNT = """
async (seconds) => {
  const paths = [...document.querySelectorAll('div.graph')].map(g => g.querySelector('path.line')).filter(p => p);
  let frame = 0;
  const lastFrame = paths.map(() => -1), counts = paths.map(() => 0);
  const obs = new MutationObserver((records) => {
    for (const r of records) {
      const i = paths.indexOf(r.target);
      if (i >= 0 && lastFrame[i] !== frame) { lastFrame[i] = frame; counts[i] += 1 }
    }
  });
  paths.forEach(p => obs.observe(p, {attributes: true, attributeFilter: ['d']}));
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise(r => requestAnimationFrame(r));
    frame += 1;
  }
  obs.disconnect();
  const txt = document.body.innerText.match(/Time\\s+([0-9.]+)/);
  return {counts, wall: (performance.now() - t0) / 1000, sim: txt ? parseFloat(txt[1]) : null};
}
"""

# the value plot's last drawn y (px); a drag of the slider is timed from the
# page's own pointermove event to the first frame whose value line has moved
NENGO_LAST_Y = """
() => {
  const g = [...document.querySelectorAll('div.graph')].filter(g => g.querySelector('path.line'));
  const p = g[g.length - 1].querySelector('path.line');
  const m = (p.getAttribute('d') || '').match(/(-?[0-9.]+),(-?[0-9.]+)$/);
  return m ? parseFloat(m[2]) : null;
}
"""

NENGO_MARK_MOVE = """
() => {
  window.__ng_move = null;
  if (!window.__ng_hook) {
    window.__ng_hook = true;
    document.addEventListener('pointermove', (e) => { if (e.buttons && window.__ng_move === null) window.__ng_move = e.timeStamp; }, true);
  }
}
"""

NENGO_WAIT_MOVE = """
async ([y0, px]) => {
  const start = performance.now();
  while (window.__ng_move === null && performance.now() - start < 5000) await new Promise(r => setTimeout(r, 1));
  const t0 = window.__ng_move;
  if (t0 === null) return null;
  const lastY = """ + NENGO_LAST_Y.strip() + """;
  while (performance.now() - t0 < 10000) {
    await new Promise(r => requestAnimationFrame(r));
    const y = lastY();
    if (y !== null && Math.abs(y - y0) > px) return performance.now() - t0;
  }
  return null;
}
"""


def nengo_python(arg: str | None) -> str | None:
    """The interpreter that has nengo-gui: ``--nengo-python``, else
    ``$NENGO_PYTHON``, else this one if ``nengo_gui`` is importable here."""
    for cand in (arg, os.environ.get("NENGO_PYTHON")):
        if cand:
            return cand
    return sys.executable if importlib.util.find_spec("nengo_gui") is not None else None


def run_nengo(browser, python: str, n: int, seconds: float, warm: int, tmp: Path) -> dict:
    tmp = tmp / f"nengo_{n}"
    tmp.mkdir()
    (tmp / "model.py").write_text(NENGO_MODEL.format(n=n))
    (tmp / "model.py.cfg").write_text(NENGO_CFG.format(n=n))
    (tmp / "serve.py").write_text(NENGO_SERVER)
    from tests.gui.conftest import free_port

    port = free_port()
    log = open(tmp / "serve.log", "w+")
    proc = subprocess.Popen([python, str(tmp / "serve.py"), str(tmp / "model.py"), str(port)], cwd=tmp,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = time.time()
        url = None
        while url is None:
            if proc.poll() is not None or time.time() - t0 > 60:
                log.seek(0)
                raise RuntimeError(f"nengo-gui did not start: {log.read()[-2000:]}")
            log.seek(0)
            m = re.search(r"^URL (\S+)", log.read(), re.M)
            url = m.group(1) if m else None
            time.sleep(0.1)
        drawn = "svg.netgraph g.ens"
        ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
        page, cold = open_page(ctx, url, drawn, proc.pid)
        settle(page, None, proc.pid)
        page.close()
        loads = warm_loads(ctx, url, drawn, warm, proc.pid)
        page, _ = open_page(ctx, url, drawn, proc.pid)
        page.wait_for_selector("div.graph path.line", state="attached", timeout=60_000)
        page.click(".play-pause-button")
        page.wait_for_function("() => { const m = document.body.innerText.match(/Time\\s+([0-9.]+)/);"
                               " return m && parseFloat(m[1]) > 0.5 }", timeout=120_000)
        sim0 = page.evaluate("() => parseFloat(document.body.innerText.match(/Time\\s+([0-9.]+)/)[1])")
        fr = page.evaluate(NENGO_COUNT, seconds)
        # slider: drag its handle up and back down, timing each drag
        handle = page.locator("[data-object-type=slider_handle]").first
        box = handle.bounding_box()
        lat = []
        for dy in (-60, 60, -60):
            y0 = page.evaluate(NENGO_LAST_Y)
            page.evaluate(NENGO_MARK_MOVE)
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + dy, steps=2)
            page.mouse.up()
            lat.append(page.evaluate(NENGO_WAIT_MOVE, [y0, 5]))
            box = handle.bounding_box()
            page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"bench_nengo_{n}.png"))
        ctx.close()
        counts = fr["counts"] or [0]
        good = [x for x in lat if x is not None]
        return {"cold": cold, "warm": loads, "updates_per_s": [c / fr["wall"] for c in counts],
                "sim_speed": (fr["sim"] - sim0) / fr["wall"] if fr["sim"] is not None else float("nan"),
                "latency_ms": statistics.median(good) if good else float("nan"),
                "latencies": lat}
    finally:
        try:
            os.killpg(proc.pid, 15)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        log.close()


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) + f" (1/5/15 min, {os.cpu_count()} CPUs)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warm-loads", type=int, default=5,
                    help="warm page loads (and reloads per N) to take the median of (default 5)")
    ap.add_argument("--page-load-only", action="store_true",
                    help="measure page loads only (no streaming, no edit latency)")
    ap.add_argument("--nengo-python", default=None, metavar="PATH",
                    help="Python interpreter with nengo and nengo-gui installed (default: $NENGO_PYTHON, "
                         "or this one if nengo_gui is importable)")
    ap.add_argument("--no-nengo", action="store_true", help="do not run the nengo-gui peer")
    args = ap.parse_args(argv)
    if args.warm_loads < 1:
        raise ValueError(f"--warm-loads must be at least 1, not {args.warm_loads}")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.platform()} | {os.cpu_count()} logical CPUs | load {_load()}")
    ng_python = None if args.no_nengo else nengo_python(args.nengo_python)
    if ng_python is not None and not (shutil.which(ng_python) or Path(ng_python).is_file()):
        raise ValueError(f"--nengo-python {ng_python!r}: no such interpreter")
    if args.no_nengo:
        print("nengo-gui: not run (--no-nengo)")
    elif ng_python is None:
        print("nengo-gui: not installed (give --nengo-python), its side of the comparison is not run")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        if ng_python is not None:
            ver = subprocess.run([ng_python, "-c", "import nengo, nengo_gui; print(nengo.__version__, "
                                  "nengo_gui.__version__)"], capture_output=True, text=True)
            print(f"nengo-gui: {ng_python} (nengo / nengo-gui {ver.stdout.strip() or ver.stderr.strip()[-200:]})")
            for n in (1000,):
                r = run_nengo(browser, ng_python, n, args.seconds, args.warm_loads, Path(tmp))
                ups = ", ".join(f"{u:.1f}" for u in r["updates_per_s"])
                print(f"nengo-gui N={n}: page_to_network_ms cold={r['cold']['ms']:.0f} "
                      f"(CPU: server {r['cold']['server_cpu']:.2f} s, browser {r['cold']['browser_cpu']:.2f} s) "
                      f"warm {summary(r['warm'])} "
                      f"| updates_per_s per plot (raster, value) [{ups}] sim_speed={r['sim_speed']:.2f}x "
                      f"slider_latency_ms={r['latency_ms']:.0f} (all: "
                      f"{', '.join('timeout' if x is None else f'{x:.0f}' for x in r['latencies'])}) "
                      f"| load {_load()}")
        t0 = time.perf_counter()
        proc, url, log = start_server()
        print(f"server up in {time.perf_counter() - t0:.1f} s at {url}")
        try:
            # cold: the first page the server makes, in an empty browser profile;
            # warm: more pages in that profile (its HTTP cache holds the bundles)
            ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
            page, cold = open_page(ctx, url, ".react-flow__node", proc.pid)
            settle(page, SETTLED, proc.pid)
            page.close()
            print(f"page_to_canvas_ms cold={cold['ms']:.0f} (first page after the server started; "
                  f"CPU: server {cold['server_cpu']:.2f} s, browser {cold['browser_cpu']:.2f} s) "
                  f"| load {_load()}")
            loads = warm_loads(ctx, url, ".react-flow__node", args.warm_loads, proc.pid, settled=SETTLED)
            ctx.close()
            print(f"page_to_canvas_ms warm {summary(loads)} | load {_load()}")
            for n in args.sizes:
                r = run_size(browser, url, n, args.seconds, Path(tmp), warm=args.warm_loads,
                             server_pid=proc.pid, stream=not args.page_load_only)
                line = f"N={r['n']:>6}: page_to_canvas_ms={r['page_to_canvas_ms']:.0f} (empty profile) "
                if not args.page_load_only:
                    line += (f"frames_per_s={r['frames_per_s']:.1f} sim_speed={r['sim_speed']:.2f}x "
                             f"spikes_per_sim_s={r['spikes_per_sim_s']:.0f} "
                             f"param_latency_ms={r['latency_ms']:.0f} (all: "
                             f"{', '.join('timeout' if x is None else f'{x:.0f}' for x in r['latencies'])}) ")
                print(line + f"| load {_load()}")
                print(f"N={r['n']:>6}: reload page_to_canvas_ms {summary(r['reload_canvas'])}; "
                      f"page_to_network_ms {summary(r['reload_network'])} | load {_load()}")
        finally:
            browser.close()
            stop_server(proc, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
