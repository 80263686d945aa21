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

Every line carries the machine's load average at that moment (the figures
mean little without it on a shared machine).  nengo-gui, the peer of the
issue's table, runs only where it is installed; otherwise the bench says so.

Usage: ``python bench/app_stream.py [--sizes 100 1000 10000] [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import statistics
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


def run_size(browser, url: str, n: int, seconds: float, tmp: Path) -> dict:
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector(".react-flow__node", timeout=120_000)
    to_canvas = page.evaluate("() => performance.now()")
    page.evaluate(DEEP)
    net = tmp / f"net_{n}.json"
    make_network(n, net)
    page.locator(".nc-load input[type=file]").set_input_files(str(net))
    t_load = time.time()
    while page.locator(".react-flow__node").count() != 2:
        if time.time() - t_load > 60:
            raise RuntimeError("the uploaded network did not appear on the canvas")
        time.sleep(0.1)
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
    ctx.close()
    good = [x for x in lat if x is not None]
    return {"n": n, "page_to_canvas_ms": to_canvas, "frames_per_s": fr["frames"] / fr["wall"],
            "sim_speed": (fr["sim1"] - fr["sim0"]) / fr["wall"] if fr["sim0"] is not None else float("nan"),
            "spikes_per_sim_s": spikes_per_s,
            "latency_ms": statistics.median(good) if good else float("nan"), "latencies": lat}


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) + f" (1/5/15 min, {os.cpu_count()} CPUs)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.platform()} | {os.cpu_count()} logical CPUs | load {_load()}")
    if importlib.util.find_spec("nengo_gui") is None:
        print("nengo-gui: not installed, its side of the comparison is not run")
    else:
        print("nengo-gui: installed, but this bench has no driver for it yet (see docs/app-performance.md)")
    t0 = time.perf_counter()
    proc, url, log = start_server()
    print(f"server up in {time.perf_counter() - t0:.1f} s at {url}")
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            # warm-up load (first request compiles/caches the bundles)
            ctx = browser.new_context()
            pg = ctx.new_page()
            pg.goto(url)
            pg.wait_for_selector(".react-flow__node", timeout=120_000)
            cold = pg.evaluate("() => performance.now()")
            ctx.close()
            print(f"page_to_canvas_ms cold={cold:.0f} (first page after the server started) | load {_load()}")
            for n in args.sizes:
                r = run_size(browser, url, n, args.seconds, Path(tmp))
                print(f"N={r['n']:>6}: page_to_canvas_ms={r['page_to_canvas_ms']:.0f} "
                      f"frames_per_s={r['frames_per_s']:.1f} sim_speed={r['sim_speed']:.2f}x "
                      f"spikes_per_sim_s={r['spikes_per_sim_s']:.0f} "
                      f"param_latency_ms={r['latency_ms']:.0f} (all: "
                      f"{', '.join('timeout' if x is None else f'{x:.0f}' for x in r['latencies'])}) "
                      f"| load {_load()}")
            browser.close()
    finally:
        stop_server(proc, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
