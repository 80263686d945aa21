"""Real-browser check of the Training and conversion lab (served alone by
tests/gui/training_lab/app.py): the surrogate figure changes with the
surrogate, the two-pattern task trains (loss falls) and the weights written
back change the session's network, and a conversion draws its accuracy
curve with all six points.  Screenshots in tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.gui.conftest import ARTIFACTS, PageLog, require_tool, start_server, stop_server, wait_for

pytestmark = pytest.mark.browser

# the data of every Bokeh glyph renderer on the page: [glyph type, {column: length}]
_SOURCES_JS = """() => {
  const out = [];
  for (const doc of Bokeh.documents) {
    for (const m of doc.all_models) {
      if (m.glyph !== undefined && m.data_source !== undefined) {
        const cols = {};
        const d = m.data_source.data;
        for (const [k, v] of (d instanceof Map ? d.entries() : Object.entries(d))) cols[k] = v.length;
        out.push([m.glyph.type, cols]);
      }
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def lab_url():
    require_tool("chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # each page request builds a lab: on a loaded machine one takes longer than
    # the default 5 s, and retries would pile up sessions
    proc, url, log = start_server("tests/gui/training_lab/app.py", timeout=300, request_timeout=120)
    try:
        yield url
    finally:
        stop_server(proc, log)


@pytest.fixture
def page(nc_browser, lab_url):
    ctx = nc_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    log = PageLog(page)
    page.goto(lab_url)
    page.get_by_text("Surrogate gradients").first.wait_for(timeout=90_000)
    # the page's loading overlay takes clicks until the session is fully up
    wait_for(lambda: page.locator("canvas").count() >= 2, timeout=90, what="first figures drawn")
    wait_for(lambda: page.locator("#loader:visible").count() == 0, timeout=90, what="the loading overlay to go")
    yield page, log
    ctx.close()


def _figure_png(page, index=0):
    fig = page.locator(".bk-GridPlot, .bk-Figure").nth(index)
    fig.wait_for(timeout=60_000)
    return fig.screenshot()


def test_surrogate_choice_changes_the_figure(page):
    page, log = page
    wait_for(lambda: page.locator("canvas").count() >= 2, timeout=60, what="surrogate figures drawn")
    page.wait_for_timeout(500)  # noqa: PW - let Bokeh finish its first paint before the reference shot
    before = _figure_png(page, 1)  # the gradient figure (the forward step is the same for all six)
    page.get_by_role("combobox").filter(has_text="fast_sigmoid").first.click()
    page.locator("li", has_text="triangular").last.click()
    page.get_by_text(re.compile(r"triangular.*width = 1")).first.wait_for(timeout=30_000)
    page.get_by_text("width:").first.wait_for(timeout=30_000)  # the slider now shapes the triangle
    wait_for(lambda: _figure_png(page, 1) != before, timeout=30, what="the surrogate figure to change")
    info = page.get_by_text(re.compile("Max \\|custom_op")).first.inner_text()
    assert "legacy_autograd: 0." in info or re.search(r"gradient: 0\b", info), info
    n_figures = page.locator(".bk-Figure").count()
    page.get_by_label("overlay all six").check()
    wait_for(lambda: page.locator(".bk-Figure").count() > n_figures, timeout=30, what="the all-six figure")
    page.screenshot(path=str(ARTIFACTS / "training_lab_surrogates.png"), full_page=True)
    assert page.get_by_text("Traceback").count() == 0
    log.assert_clean()


def _weights_line(page):
    return page.get_by_text(re.compile(r"weights: .*in->hidden")).first.inner_text()


def test_train_two_pattern_and_write_back(page):
    page, log = page
    page.get_by_role("button", name="Propose a network for this task").click()
    page.get_by_text(re.compile(r"in \(20\), hidden \(20\), out \(2\)")).first.wait_for(timeout=30_000)
    first = _weights_line(page)
    page.get_by_role("button", name="Train", exact=True).click()
    status = page.get_by_text(re.compile(r"Done after \d+ epoch"))
    status.first.wait_for(timeout=120_000)
    text = status.first.inner_text()
    m = re.search(r"loss ([\d.]+) → ([\d.]+), test accuracy ([\d.]+) %", text)
    assert m, text
    loss0, loss1, acc = map(float, m.groups())
    assert loss1 < 0.5 * loss0 and acc >= 95.0, text
    page.get_by_role("button", name="Write weights back").click()
    page.get_by_text("weights written back to the network").first.wait_for(timeout=30_000)
    wait_for(lambda: _weights_line(page) != first, timeout=30, what="the network's weights to change")
    page.screenshot(path=str(ARTIFACTS / "training_lab_trained.png"), full_page=True)
    assert page.get_by_text("Traceback").count() == 0
    log.assert_clean()


def test_conversion_draws_the_accuracy_curve(page):
    page, log = page
    page.get_by_label("ANN epochs").fill("8")
    page.get_by_label("ANN epochs").press("Enter")
    page.get_by_role("button", name="Train & convert").click()
    page.get_by_text(re.compile(r"curve in [\d.]+ s")).first.wait_for(timeout=180_000)
    page.get_by_text("T=128").first.wait_for(timeout=30_000)

    def six_point_scatter():
        return any(kind == "Scatter" and cols.get("T") == 6 for kind, cols in page.evaluate(_SOURCES_JS))

    wait_for(six_point_scatter, timeout=60, what="the accuracy curve's six points")
    # the sample digits with their output spike counts per class (image + bars each)
    page.get_by_text("Digits of").first.wait_for(timeout=30_000)
    wait_for(lambda: any(kind == "VBar" and cols.get("class") == 10 for kind, cols in page.evaluate(_SOURCES_JS)),
             timeout=60, what="the digits' spike-count bars")
    row = page.locator("tr", has_text="MLP ReLU").first.inner_text()
    values = [float(v) for v in re.findall(r"\d+\.\d", row)]
    assert len(values) == 7 and all(0 <= v <= 100 for v in values), row  # ANN + six T
    page.screenshot(path=str(ARTIFACTS / "training_lab_conversion.png"), full_page=True)
    assert page.get_by_text("Traceback").count() == 0
    log.assert_clean()
