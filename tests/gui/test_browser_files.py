"""Browser tests of the builder's NIR buttons and surrogate choice (issues
16, 14).  Debian Chromium via Playwright (fixtures in tests/gui/conftest.py)."""

from __future__ import annotations

import json
import re

import pytest

from tests.gui.conftest import load_file, node, wait_for

pytestmark = pytest.mark.browser


def population_texts(page) -> list[str]:
    return sorted(t for t in page.locator(".react-flow__node").all_inner_texts())


def choose(page, css_class, label):
    page.locator(f".{css_class} [role=combobox]").first.click()
    page.locator("li.MuiMenuItem-root", has_text=re.compile(rf"^{re.escape(label)}$")).click()
    box = page.locator(f".{css_class} [role=combobox]").first
    wait_for(lambda: box.inner_text().strip() == label, what=f"{css_class} = {label}")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _nir_network() -> dict:
    from engine.network import Network, Population, Projection

    a = Population("LapicqueNeuron", 4, params={"tau": 12.0}, label="A")
    b = Population("StochasticLIFNeuron", 3, label="B")
    return Network(a, b, Projection(a, b, 0.7, probability=0.5, seed=2)).to_dict()


def test_export_nir_import_it_back_and_refuse_a_bad_file(open_page, tmp_path):
    pytest.importorskip("nir")
    page, log = open_page()
    src = tmp_path / "nir_net.json"
    src.write_text(json.dumps(_nir_network()))
    load_file(page, src)
    wait_for(lambda: node(page, "A").count() == 1 and node(page, "B").count() == 1, what="A and B drawn")
    shown = population_texts(page)
    with page.expect_download(timeout=60_000) as dl:
        page.locator(".nc-nir-export").get_by_role("button").first.click()
    exported = tmp_path / "net.nir"
    dl.value.save_as(exported)
    assert exported.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    page.get_by_role("button", name="New").click()
    wait_for(lambda: page.locator(".react-flow__node").count() == 0, what="empty canvas")
    page.locator(".nc-nir-import input[type=file]").set_input_files(str(exported))
    page.get_by_text("Imported net.nir.").first.wait_for(timeout=60_000)
    wait_for(lambda: population_texts(page) == shown, what="the same populations back")
    assert page.locator(".react-flow__edge").count() == 1
    # a file that is not NIR: the reason is shown and the canvas kept
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b'{"schema_version": 1}')
    page.locator(".nc-nir-import input[type=file]").set_input_files(str(bad))
    page.get_by_text(re.compile(r"Could not import bad\.nir: not a NIR file.*unchanged")).first.wait_for(
        timeout=60_000)
    assert population_texts(page) == shown
    log.assert_clean()


def test_surrogate_override_in_the_editor_shows_in_python(open_page):
    page, log = open_page()
    wait_for(lambda: node(page, "E").count() == 1, what="example drawn")
    # the network's picker, in the sidebar (sent right after the first paint)
    page.get_by_text("Surrogate gradient").first.wait_for(state="visible", timeout=60_000)
    node(page, "E").click()
    page.locator(".nc-pop-surrogate [role=combobox]").first.wait_for(timeout=60_000)
    choose(page, "nc-pop-surrogate", "superspike")
    shape = page.locator(".nc-pop-surrogate-shape input").first
    shape.wait_for(timeout=60_000)
    wait_for(lambda: _number(shape.input_value()) == 10.0, what="superspike's default beta")
    page.get_by_role("button", name="Show as Python").click()
    page.get_by_text(re.compile(r"surrogate = \{'name': 'superspike', 'params': \{'beta': 10\.0\}\}")) \
        .first.wait_for(timeout=60_000)
    log.assert_clean()
