"""Real-browser tests: Debian Chromium (Playwright) against ``panel serve
neurocore_gui/app.py`` started by the module fixture.  Screenshots go to
tests/artifacts/."""

from __future__ import annotations

import io
import json
import re
import time

import pytest

from tests.gui.conftest import ARTIFACTS, node, wait_for

pytestmark = pytest.mark.browser


def coloured_pixels(png: bytes) -> int:
    """Pixels with a clear hue (spike marks), ignoring white, greys and black."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("HSV")
    return sum(1 for h, s, v in img.get_flattened_data() if s > 90 and v > 60)


def element_png(locator, tries=10) -> bytes:
    """Screenshot of an element; retried while a re-render replaces it (the
    figures are (re)built right after page load and on start)."""
    from playwright.sync_api import Error

    for i in range(tries):
        try:
            return locator.screenshot()
        except Error:
            if i == tries - 1:
                raise
            time.sleep(0.5)


def live_rate(page, pop) -> float | None:
    el = page.locator(f".nc-rate[data-pop='{pop}']")
    if el.count() == 0:
        return None
    return float(el.first.get_attribute("data-hz"))


def sim_state(page) -> tuple[float, str]:
    el = page.locator(".nc-t").first
    return float(el.get_attribute("data-t")), el.get_attribute("data-state")


def set_field(page, name, value):
    inp = page.locator(f".nc-field-{name} input").first
    inp.click()
    inp.fill(str(value))
    inp.press("Enter")
    inp.press("Tab")


def test_page_loads_offline_without_errors(open_page):
    page, log = open_page()
    time.sleep(1.5)  # let late resources (fonts, icons) arrive
    assert node(page, "E").count() == 1 and node(page, "I").count() == 1
    assert page.locator(".react-flow__edge").count() == 6
    # the palette from the registry (it comes right after the first paint)
    page.get_by_text("LapicqueNeuron", exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "01_loaded.png"))
    log.assert_clean()
    assert len(log.requests) > 5
    assert page.load_time < 30


def test_build_two_populations_and_a_projection(open_page):
    page, log = open_page()
    page.get_by_role("button", name="New").click()
    wait_for(lambda: page.locator(".react-flow__node").count() == 0, what="empty canvas")
    item = page.get_by_text("LapicqueNeuron", exact=True).first
    item.click()
    wait_for(lambda: page.locator(".react-flow__node").count() == 1, what="first node")
    item.click()
    wait_for(lambda: page.locator(".react-flow__node").count() == 2, what="second node")
    a, b = page.locator(".react-flow__node").nth(0), page.locator(".react-flow__node").nth(1)
    src = a.locator(".react-flow__handle.source").bounding_box()
    tgt = b.locator(".react-flow__handle.target").bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
    page.mouse.down()
    page.mouse.move(tgt["x"] + tgt["width"] / 2, tgt["y"] + tgt["height"] / 2, steps=15)
    page.mouse.up()
    wait_for(lambda: page.locator(".react-flow__edge").count() == 1, what="projection edge")
    page.get_by_text("Projection LN → LN_1").first.wait_for(timeout=60_000)  # notification
    # select the projection and refuse a bad probability through its editor
    page.locator(".react-flow__edge").first.click(force=True)
    page.locator(".nc-field-probability input").first.wait_for(timeout=60_000)
    set_field(page, "probability", 1.5)
    page.get_by_text(re.compile("Refused: .*probability")).first.wait_for(timeout=60_000)
    set_field(page, "probability", 0.5)
    page.screenshot(path=str(ARTIFACTS / "02_built.png"))
    log.assert_clean()


def test_run_shows_spikes_and_live_parameter_change(open_page):
    page, log = open_page()
    raster = page.locator(".nc-raster")
    before = coloured_pixels(element_png(raster))
    page.get_by_role("button", name="Start").click()
    wait_for(lambda: (live_rate(page, "E") or 0) > 0, what="E firing")
    wait_for(lambda: sim_state(page)[0] >= 0.3, what="0.3 s simulated")
    after = coloured_pixels(element_png(raster))
    assert after > before + 50, (before, after)
    page.screenshot(path=str(ARTIFACTS / "03_running.png"))
    # change E's threshold while running: E falls silent within a chunk or two
    node(page, "E").click()
    page.locator(".nc-field-v_threshold input").first.wait_for(timeout=60_000)
    set_field(page, "v_threshold", 1000)
    wait_for(lambda: live_rate(page, "E") == 0.0, what="E silent after the change")
    # and it stays silent over the next frames while the simulation goes on
    t_then = sim_state(page)[0]
    seen = set()
    def quiet_frames():
        t, _ = sim_state(page)
        assert live_rate(page, "E") == 0.0, "E fired again after its threshold was raised"
        seen.add(t)
        return len(seen) >= 4 and t > t_then
    wait_for(quiet_frames, what="several quiet frames")
    page.screenshot(path=str(ARTIFACTS / "04_param_changed.png"))
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Reset").click()
    wait_for(lambda: sim_state(page) == (0.0, "idle"), what="reset")
    log.assert_clean()


def test_save_and_reload_gives_the_same_graph(open_page, tmp_path):
    page, log = open_page()
    with page.expect_download() as dl:
        page.locator(".nc-save").get_by_role("button").first.click()
    saved = tmp_path / "net.json"
    dl.value.save_as(saved)
    doc = json.loads(saved.read_text())
    assert [p["label"] for p in doc["populations"]] == ["E", "I"]
    labels_before = sorted(page.locator(".react-flow__node").all_inner_texts())
    page.get_by_role("button", name="New").click()
    wait_for(lambda: page.locator(".react-flow__node").count() == 0, what="empty canvas")
    # a broken file is refused with a message and the current network is kept
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "populations": [{"model": "NoSuchNeuron", "n": 3}]}')
    page.locator(".nc-load input[type=file]").set_input_files(str(bad))
    page.get_by_text(re.compile("Could not load bad.json.*NoSuchNeuron")).first.wait_for(timeout=60_000)
    page.locator(".nc-load input[type=file]").set_input_files(str(saved))
    wait_for(lambda: page.locator(".react-flow__node").count() == len(labels_before), what="reloaded")
    assert sorted(page.locator(".react-flow__node").all_inner_texts()) == labels_before
    assert page.locator(".react-flow__edge").count() == 6
    with page.expect_download() as dl2:
        page.locator(".nc-save").get_by_role("button").first.click()
    again = tmp_path / "again.json"
    dl2.value.save_as(again)
    assert json.loads(again.read_text()) == doc
    page.screenshot(path=str(ARTIFACTS / "05_reloaded.png"))
    log.assert_clean()


def test_two_sessions_are_isolated(open_page):
    p1, log1 = open_page()
    p2, log2 = open_page()
    p1.get_by_role("button", name="New").click()
    wait_for(lambda: p1.locator(".react-flow__node").count() == 0, what="session 1 cleared")
    p1.get_by_text("LapicqueNeuron", exact=True).first.click()
    wait_for(lambda: p1.locator(".react-flow__node").count() == 1, what="session 1 node")
    p1.get_by_role("button", name="Start").click()
    wait_for(lambda: sim_state(p1)[1] == "running" and sim_state(p1)[0] > 0, what="session 1 running")
    time.sleep(1.0)
    assert p2.locator(".react-flow__node").count() == 4  # the example, untouched
    assert sim_state(p2) == (0.0, "idle")
    p1.get_by_role("button", name="Pause").click()
    log1.assert_clean()
    log2.assert_clean()


def choose_backend(page, label):
    page.locator(".nc-backend [role=combobox]").first.click()
    page.locator("li.MuiMenuItem-root", has_text=re.compile(rf"^{re.escape(label)}$")).click()
    box = page.locator(".nc-backend [role=combobox]").first
    wait_for(lambda: box.inner_text().strip() == label, what=f"backend {label}")


def test_fixed_point_backend_runs_and_refuses_an_unmapped_model_with_a_message(open_page):
    """Both optional backends are selectable; the fixed-point backend runs the
    example and refuses the half-centre oscillator (adaptive-threshold IF has
    no fixed-point form) with the engine's message in the page, keeping the
    network."""
    from engine.backends import available_backends
    from neurocore_gui.runview import BACKEND_LABELS
    from tests.gui.conftest import ROOT

    # every backend the engine has, in its order (the server runs the same engine)
    expected = [BACKEND_LABELS.get(k, k) for k in available_backends()]
    assert {"NumPy", "torch", "fixed-point"} <= set(expected)
    page, log = open_page()
    page.locator(".nc-backend [role=combobox]").first.click()
    items = page.locator("li.MuiMenuItem-root")
    wait_for(lambda: items.count() == len(expected), what="the backend menu")
    assert items.all_inner_texts() == expected
    assert page.locator("li.MuiMenuItem-root.Mui-disabled").count() == 0
    page.keyboard.press("Escape")
    choose_backend(page, "fixed-point")
    page.get_by_role("button", name="Start").click()
    wait_for(lambda: (live_rate(page, "E") or 0) > 0, what="E firing on fixed-point")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Reset").click()
    wait_for(lambda: sim_state(page) == (0.0, "idle"), what="reset")
    path = ROOT / "assets" / "networks" / "half_centre_oscillator.json"
    n_nodes = len(json.loads(path.read_text())["populations"]) + len(json.loads(path.read_text())["stimuli"])
    page.locator(".nc-load input[type=file]").set_input_files(str(path))
    wait_for(lambda: page.locator(".react-flow__node").count() == n_nodes, what="the oscillator on the canvas")
    page.get_by_role("button", name="Start").click()
    page.get_by_text(re.compile(r"Cannot compile the network: NotImplementedError: .*has no "
                                r"fixed-point form")).first.wait_for(timeout=60_000)
    assert sim_state(page)[1] == "idle"
    assert page.locator(".react-flow__node").count() == n_nodes
    page.screenshot(path=str(ARTIFACTS / "06_fixed_point_refusal.png"))
    log.assert_clean()


def choose(page, css_class, label):
    page.locator(f".{css_class} [role=combobox]").first.click()
    page.locator("li.MuiMenuItem-root", has_text=re.compile(rf"^{re.escape(label)}$")).click()
    box = page.locator(f".{css_class} [role=combobox]").first
    wait_for(lambda: box.inner_text().strip() == label, what=f"{css_class} = {label}")


def download(page, click, timeout: float = 30_000) -> tuple[str, bytes]:
    with page.expect_download(timeout=timeout) as dl:
        click()
    return dl.value.suggested_filename, open(dl.value.path(), "rb").read()


def test_figures_and_data_export_for_a_lab_report(open_page):
    """The toolbar's save tool writes each figure as PNG, or SVG once chosen;
    the recorded spikes and rates download as CSV."""
    page, log = open_page()
    page.get_by_role("button", name="Step", exact=True).click()
    wait_for(lambda: sim_state(page)[0] > 0, what="one step of 10 ms")
    for _ in range(20):  # 0.2 s of activity for the files
        page.get_by_role("button", name="Step", exact=True).click()
    wait_for(lambda: sim_state(page)[0] >= 0.2 - 1e-9, what="0.2 s simulated")
    save = page.locator(".nc-raster .bk-tool-icon-save").first
    name, data = download(page, save.click)
    assert name == "raster.png" and data.startswith(b"\x89PNG")
    choose(page, "nc-figure-format", "SVG")
    for fig in ("raster", "traces", "rates"):
        # the figures are re-created for SVG: until the new one has replaced
        # the old in the page, its save tool still writes PNG
        save = page.locator(f".nc-{fig} .bk-tool-icon-save").first
        names = []
        def svg_saved():
            # a click that lands while the old figure is being swapped for
            # the new one saves nothing: click again, as a user would
            from playwright.sync_api import TimeoutError as PlaywrightTimeout
            try:
                names.append(download(page, save.click, timeout=8_000))
            except PlaywrightTimeout:
                return False
            return names[-1][0] == f"{fig}.svg"
        wait_for(svg_saved, timeout=30, what=f"{fig}.svg from the save tool")
        name, data = names[-1]
        text = data.decode()
        assert text.lstrip().startswith("<svg") and text.rstrip().endswith("</svg>")
        if fig == "raster":
            assert "<image" in text  # the spike image is embedded
        else:
            assert "<path" in text  # the curves
    name, data = download(page, page.get_by_role("button", name="Spikes CSV").click)
    rows = data.decode().splitlines()
    assert name == "spikes.csv" and rows[0] == "population,neuron,step,time_s" and len(rows) > 10
    assert {r.split(",")[0] for r in rows[1:]} <= {"E", "I"}
    name, data = download(page, page.get_by_role("button", name="Rates CSV").click)
    rows = data.decode().splitlines()
    assert name == "rates.csv" and rows[0] == "time_s,E,I" and len(rows) >= 20
    log.assert_clean()
