"""Real-browser checks of the Hardware lab's main path: change the Q-format
and see the metrics and both figures change, run a bit-width sweep, run the
RTL co-simulation and see it pass, download the export and check its files.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.gui.conftest import ARTIFACTS, PageLog, require_tool, start_server, stop_server, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab_url():
    require_tool("chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url, log = start_server("tests/gui/hardware_lab/app.py")
    try:
        yield url
    finally:
        stop_server(proc, log)


@pytest.fixture
def page(nc_browser, lab_url):
    ctx = nc_browser.new_context(viewport={"width": 1500, "height": 1300}, accept_downloads=True)
    page = ctx.new_page()
    log = PageLog(page)
    page.goto(lab_url)
    page.get_by_text(re.compile(r"updated in \d+ ms")).first.wait_for(timeout=120_000)
    wait_for(lambda: page.locator(".bk-Figure").count() >= 2, timeout=120, what="the first figures")
    wait_for(lambda: page.locator("#loader:visible").count() == 0, timeout=90, what="the loading overlay to go")
    yield page, log
    ctx.close()


def number_input(page, label):
    return page.locator(".bk-input-group", has_text=label).locator("input").first


def set_number(page, label, value):
    box = number_input(page, label)
    box.fill(str(value))
    box.press("Enter")


def figure_png(page, index):
    """PNG of the index-th figure, or None while Bokeh is replacing it."""
    from playwright.sync_api import Error

    try:
        return page.locator(".bk-Figure").nth(index).screenshot(timeout=10_000)
    except Error:
        return None


def test_format_change_redraws_sweep_cosim_and_export(page, tmp_path):
    page, log = page
    page.wait_for_timeout(500)  # noqa: PW - let Bokeh finish its first paint before the reference shots
    page.screenshot(path=str(ARTIFACTS / "hardware_lab_q8_8.png"), full_page=True)
    assert page.get_by_text("Float vs Q8.8").count() >= 1
    v_before, raster_before = figure_png(page, 0), figure_png(page, 1)
    assert v_before is not None and raster_before is not None
    set_number(page, "Fraction bits F", 2)
    page.get_by_text("Float vs Q14.2").first.wait_for(timeout=60_000)
    set_number(page, "Data width W (bits)", 6)
    page.get_by_text("Float vs Q4.2").first.wait_for(timeout=60_000)
    wait_for(lambda: (png := figure_png(page, 0)) is not None and png != v_before, timeout=60,
             what="the v(t) figure to change")
    wait_for(lambda: (png := figure_png(page, 1)) is not None and png != raster_before, timeout=60,
             what="the rasters to change")
    page.screenshot(path=str(ARTIFACTS / "hardware_lab_q4_2.png"), full_page=True)
    # the metrics table lists both populations
    assert page.locator("td", has_text=re.compile(r"^layer$")).count() >= 1
    assert page.locator("td", has_text=re.compile(r"^input$")).count() >= 1

    # bit-width sweep on demand, with progress, off the page thread
    set_number(page, "from W", 4)
    set_number(page, "to W", 10)
    page.get_by_role("button", name="Run bit-width sweep").click()
    page.get_by_text(re.compile("Smallest format within rate error")).first.wait_for(timeout=300_000)
    sweep = page.locator("p", has_text=re.compile("Smallest format within rate error")).first.inner_text()
    assert re.search(r"Q\d+\.\d+|none", sweep)

    # RTL co-simulation of the exported network under Icarus
    require_tool("iverilog")
    page.get_by_role("button", name="Run RTL co-simulation").click()
    page.get_by_text(re.compile(r"PASS|MISMATCH|failed to run")).first.wait_for(timeout=300_000)
    result = page.locator("p", has_text=re.compile(r"PASS|MISMATCH|failed to run")).first.inner_text()
    assert "PASS" in result and "cycles" in result, result
    page.screenshot(path=str(ARTIFACTS / "hardware_lab_sweep_cosim.png"), full_page=True)

    # export download
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name=re.compile("Export")).click()
        # FileDownload without embed: the first click prepares the file, the second saves it
        page.wait_for_timeout(1500)  # noqa: PW - the callback builds the zip on the server
        if page.get_by_role("button", name=re.compile("neurocore_hardware.zip")).count():
            page.get_by_role("button", name=re.compile("neurocore_hardware.zip")).click()
    path = tmp_path / "export.zip"
    dl.value.save_as(path)
    z = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    assert {"network_params.vh", "constants.mem", "README.md", "weights.mem"} <= set(z.namelist())
    assert "DATA_WIDTH = 6;" in z.read("network_params.vh").decode()
    assert page.get_by_text("Traceback").count() == 0
    log.assert_clean()


def test_resources_button_shows_cells_flip_flops_luts_and_fmax(page):
    """"Resources" synthesises one neuron of the current format with Yosys and
    places and routes it for the ECP5 (yowasp-nextpnr): the page shows the
    generic cell, flip-flop and multiplier counts and the LUTs, DSPs and fmax.
    Q4.4: the format whose place and route takes seconds, not minutes."""
    page, log = page
    set_number(page, "Fraction bits F", 4)
    page.get_by_text("Float vs Q12.4").first.wait_for(timeout=60_000)
    set_number(page, "Data width W (bits)", 8)
    page.get_by_text("Float vs Q4.4").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Resources").click()
    page.get_by_text(re.compile(r"Synthesising and placing|One neuron in|Resources failed")).first.wait_for(
        timeout=60_000)
    page.get_by_text(re.compile(r"fmax [\d.]+ MHz|Resources failed")).first.wait_for(timeout=600_000)
    text = page.locator("p", has_text=re.compile(r"One neuron in|Resources failed")).first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "hardware_lab_resources.png"), full_page=True)
    assert "Resources failed" not in text, text
    assert "One neuron in Q4.4" in text and "ecp5" in text, text
    nums = {key: float(re.search(pattern, text).group(1)) for key, pattern in {
        "cells": r"(\d+) cells", "flip_flops": r"(\d+) flip-flops", "luts": r"(\d+) LUTs",
        "ffs": r"(\d+) FFs", "fmax": r"fmax ([\d.]+) MHz"}.items()}
    # one Q4.4 neuron: an 8-bit membrane, the spike and the refractory counter
    refr = int(number_input(page, "refractory (steps)").input_value())
    expected = 8 + 1 + max(1, refr.bit_length())
    assert nums["flip_flops"] == expected and nums["ffs"] >= expected, (nums, refr)
    assert nums["cells"] > nums["flip_flops"] and nums["luts"] > 10, nums
    assert 1.0 < nums["fmax"] < 1000.0, nums
    assert page.get_by_text("Traceback").count() == 0
    log.assert_clean()
