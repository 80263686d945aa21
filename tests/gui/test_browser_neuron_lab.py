"""Real-browser check of the Neuron lab: FitzHugh-Nagumo under a pulse train
shows its traces and the phase plane with nullclines, with a clean console."""

from __future__ import annotations

import pytest

from tests.gui.conftest import wait_for

pytestmark = pytest.mark.browser


def test_neuron_lab_runs_and_draws_the_phase_plane(open_page):
    page, log = open_page()
    page.get_by_role("tab", name="Neuron lab").click()
    page.get_by_role("combobox").filter(has_text="LapicqueNeuron").last.click()
    page.locator("li", has_text="FitzHughNagumoNeuron").last.click()
    page.get_by_role("button", name="pulses", exact=True).click()
    page.get_by_label("pulse count").fill("3")
    page.get_by_role("button", name="Run", exact=True).click()
    # Bokeh draws titles and legends on canvas: wait for the figures' canvases
    wait_for(lambda: page.locator(".bk-Figure, .bk-GridPlot").count() >= 2, timeout=30,
             what="trace and phase-plane figures")
    canvases = page.locator("canvas")
    wait_for(lambda: canvases.count() >= 4, timeout=30, what="figures drawn")
    # the trace figures are short and wide; the phase plane is the one square ~460 px figure
    boxes = [page.locator(".bk-Figure").nth(i).bounding_box() for i in range(page.locator(".bk-Figure").count())]
    assert any(b and 400 < b["width"] < 520 and 400 < b["height"] < 520 for b in boxes), boxes
    assert page.get_by_text("Traceback").count() == 0
    log.assert_clean()
