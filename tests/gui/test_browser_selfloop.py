"""Real-browser checks of self-projections (source = target) on the canvas:
drawn as a loop beside the node with a readable label, selectable to edit.
Screenshot: tests/artifacts/selfloop.png."""

from __future__ import annotations

import pytest

from tests.gui.conftest import ARTIFACTS, ROOT, node, overlap, settled_boxes, wait_for

pytestmark = pytest.mark.browser


def test_self_loops_are_drawn_labelled_and_editable(open_page):
    page, log = open_page()
    page.get_by_role("button", name="New").click()
    wait_for(lambda: page.locator(".react-flow__node").count() == 0, what="empty canvas")
    page.get_by_text("LapicqueNeuron", exact=True).first.click()
    wait_for(lambda: page.locator(".react-flow__node").count() == 1, what="a node")
    a = page.locator(".react-flow__node").first
    src = a.locator(".react-flow__handle.source").bounding_box()  # one handle per side until it loops
    tgt = a.locator(".react-flow__handle.target").bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
    page.mouse.down()
    page.mouse.move(tgt["x"] + tgt["width"] / 2, tgt["y"] + tgt["height"] / 2, steps=15)
    page.mouse.up()
    loops = page.locator(".react-flow__edge.nc-selfloop")
    wait_for(lambda: loops.count() == 1, what="self-loop edge")
    wait_for(lambda: (loops.locator("path.react-flow__edge-interaction").bounding_box() or {"x": 1e9})["x"]
             < a.bounding_box()["x"] - 20, what="loop drawn beside the node")

    # CUBA: exc -> exc and inh -> inh
    page.locator(".nc-load input[type=file]").set_input_files(str(ROOT / "assets" / "networks" / "cuba.json"))
    wait_for(lambda: node(page, "exc").count() == 1 and loops.count() == 2, what="CUBA with its two loops")
    boxes = settled_boxes({
        "exc": node(page, "exc"),
        "loop": page.locator("[data-testid='rf__edge-e1'] path.react-flow__edge-interaction"),
        "label": page.locator("[data-testid='rf__edge-e1'] .react-flow__edge-textwrapper")})
    box, loop, label = boxes["exc"], boxes["loop"], boxes["label"]
    # the loop reaches out left of the node, within its height (not a flat line through it)
    assert loop["x"] < box["x"] - 20 and loop["height"] > 0.4 * box["height"]
    assert box["y"] <= loop["y"] and loop["y"] + loop["height"] <= box["y"] + box["height"]
    # its label is on the canvas, clear of the node
    assert page.locator("[data-testid='rf__edge-e1'] .react-flow__edge-text").text_content() == "w=1.62, p=0.02"
    assert label["width"] > 20 and not overlap(label, box)
    page.locator(".react-flow").first.screenshot(path=str(ARTIFACTS / "selfloop.png"))
    # a click on the loop's visible, outer side selects it and opens its editor
    page.mouse.click(loop["x"] + 2, loop["y"] + 8)
    page.locator(".nc-field-probability input").first.wait_for(timeout=30_000)
    assert page.get_by_text("exc → exc").count() >= 1
    log.assert_clean()
