"""Browser tests of "one network per app session" (issue 11): the defects
that lived in the page.  Debian Chromium via Playwright, as the other
browser tests (fixtures in tests/gui/conftest.py)."""

from __future__ import annotations

import json
import re

import pytest

from neurocore_gui.browser_copy import STORAGE_KEY
from tests.gui.conftest import ROOT, node, wait_for

pytestmark = pytest.mark.browser


def nodes(page):
    return page.locator(".react-flow__node")


def rates_shown(page) -> set[str]:
    return {el.get_attribute("data-pop") for el in page.locator(".nc-rate").all()}


def choose(page, css_class, label):
    page.locator(f".{css_class} [role=combobox]").first.click()
    page.locator("li.MuiMenuItem-root", has_text=re.compile(rf"^{re.escape(label)}$")).click()
    box = page.locator(f".{css_class} [role=combobox]").first
    wait_for(lambda: box.inner_text().strip() == label, what=f"{css_class} = {label}")


def test_palette_click_adds_one_node_and_reload_keeps_the_network(open_page):
    page, log = open_page()
    page.get_by_role("button", name="New").click()
    wait_for(lambda: nodes(page).count() == 0, what="empty canvas")
    item = page.get_by_text("LapicqueNeuron", exact=True).first
    for k in range(1, 5):
        item.click()
        wait_for(lambda: nodes(page).count() >= k, what=f"node {k}")
        # the count stays at k: no second node arrives late from the same click
        page.wait_for_timeout(400)
        assert nodes(page).count() == k
    page.get_by_text(re.compile(r"On the canvas: 4 population\(s\)")).first.wait_for(timeout=60_000)
    # the browser's copy has caught up with the canvas
    def copied():
        text = page.evaluate(f"window.localStorage.getItem({STORAGE_KEY!r})")
        return text is not None and len(json.loads(text)["populations"]) == 4
    wait_for(copied, what="the network copied to localStorage")
    # a reload starts a new session: the network comes back from the browser's copy
    page.reload()
    page.wait_for_selector(".react-flow__node", timeout=60_000)
    wait_for(lambda: nodes(page).count() == 4 and node(page, "LN_3").count() == 1,
             what="the restored network")
    page.get_by_text(re.compile("Restored the network you were building")).first.wait_for(timeout=60_000)
    assert node(page, "E").count() == 0
    log.assert_clean()


def test_one_verdict_on_an_upload(open_page, tmp_path):
    page, log = open_page()
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "populations": [], "meta": NaN}')
    page.locator(".nc-load input[type=file]").set_input_files(str(bad))
    page.get_by_text(re.compile("Could not load bad.json.*unchanged")).first.wait_for(timeout=60_000)
    assert page.get_by_text(re.compile("Uploaded bad.json")).count() == 0
    assert nodes(page).count() == 4  # the example is still there
    page.locator(".nc-load input[type=file]").set_input_files(str(ROOT / "assets" / "networks" / "cuba.json"))
    wait_for(lambda: nodes(page).count() == 2, what="CUBA on the canvas")
    page.get_by_text("Loaded cuba.json.").first.wait_for(timeout=60_000)
    assert page.get_by_text(re.compile("Could not load")).count() == 0
    log.assert_clean()


def test_example_loaded_while_paused_is_what_runs(open_page):
    page, log = open_page()
    page.get_by_role("button", name="Start").click()
    wait_for(lambda: "E" in rates_shown(page), what="E's rate")
    page.get_by_role("button", name="Pause").click()
    choose(page, "nc-examples", "poisson_feedforward")
    wait_for(lambda: node(page, "E").count() == 0 and nodes(page).count() > 0, what="the new example")
    page.get_by_role("button", name="Start").click()
    labels = {"input", "layer"}
    wait_for(lambda: rates_shown(page) == labels, what="the new network's rates")
    page.get_by_role("button", name="Pause").click()
    log.assert_clean()


def test_neuron_lab_then_back_then_load_has_no_page_error(open_page):
    page, log = open_page()
    page.get_by_role("tab", name="Neuron lab").click()
    page.wait_for_timeout(300)
    wait_for(lambda: page.locator(".bk-Canvas, canvas").count() > 0, what="the lab's figures")
    page.get_by_role("tab", name="Build & run").click()
    choose(page, "nc-examples", "cuba")
    wait_for(lambda: nodes(page).count() == 2, what="CUBA on the canvas")
    step = page.get_by_role("button", name="Step", exact=True)
    wait_for(lambda: step.is_enabled(), what="the Step button")
    step.click()
    # the first step compiles CUBA's 4 000 neurons and 320 000 synapses: on a
    # loaded machine that alone has taken most of a minute
    wait_for(lambda: float(page.locator(".nc-t").first.get_attribute("data-t")) > 0, timeout=150,
             what="a step")
    log.assert_clean()
