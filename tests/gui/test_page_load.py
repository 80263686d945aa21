"""The first document of a page (issue 17, page load): the palette and the
neuron selection are sent after the first paint, in the session's onload;
outside a served page they are there at once."""

from __future__ import annotations

import weakref
from pathlib import Path

import panel as pn
import pytest
from bokeh.document import Document
from panel.io.state import set_curdoc

from neurocore_gui.builder import Builder, after_first_paint
from neurocore_gui.store import SessionStore


class _Request:
    arguments: dict = {}
    cookies: dict = {}
    headers: dict = {}


class _Ctx:
    """Stands in for the server's session context of a served page."""
    server_context = None
    request = _Request()
    id = "test-session"


@pytest.fixture
def served_doc():
    doc = Document()
    ctx = _Ctx()
    doc._session_context = weakref.ref(ctx)
    with set_curdoc(doc):
        yield doc
    pn.state._onload.pop(doc, None)
    pn.state._loaded.pop(doc, None)


def test_outside_a_page_the_column_is_filled_at_once():
    made = []
    col = after_first_paint(lambda: made.append(1) or [pn.pane.Markdown("a"), pn.pane.Markdown("b")])
    assert made == [1]
    assert [o.object for o in col.objects] == ["a", "b"]


def test_in_a_served_page_the_column_is_filled_at_onload(served_doc):
    made = []
    col = after_first_paint(lambda: made.append(1) or pn.pane.Markdown("late"))
    assert made == [] and col.objects == []
    pn.state._on_load(served_doc)
    assert made == [1]
    assert [o.object for o in col.objects] == ["late"]


def test_builder_sidebar_sends_the_palette_after_the_examples_menu(served_doc):
    b = Builder(store=SessionStore())
    side = b.sidebar()
    # first document: the examples menu only; the palette slot is empty
    assert side.objects[0] is b.examples
    slot = side.objects[1]
    assert slot.objects == []
    root = side.get_root(served_doc)
    # the deferred parts are not in the first document's models
    assert b.palette._models == {} and root is not None
    pn.state._on_load(served_doc)
    assert any(o is b.palette for o in slot.objects)
    assert b.palette._models != {}  # now in the document too
    assert b.sidebar() is side  # one sidebar per builder


def test_app_first_document_leaves_out_the_palette_and_selection(served_doc):
    from neurocore_gui.session import App

    app = App()
    root = app.page.get_root(served_doc)
    served_doc.add_root(root)
    n_first = len(served_doc.models)
    assert app.builder.palette._models == {}
    assert app.run.raster_pops._models == {}
    pn.state._on_load(served_doc)
    # onload adds them (and draws the figures) to the same document
    assert app.builder.palette._models != {}
    assert app.run.raster_pops._models != {}
    assert len(served_doc.models) > n_first


# -- figures: drawn once, for the network that stays ---------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "networks"


def _count_figure_draws(app) -> list:
    """Calls of the run view's figure drawing (made only for shown figures)."""
    draws = []
    apply = app.run._apply_figure_format
    app.run._apply_figure_format = lambda: (draws.append([p for p, _ in app.run._groups()]), apply())[1]
    return draws


def _served_app(served_doc):
    from neurocore_gui.session import App

    app = App()
    served_doc.add_root(app.page.get_root(served_doc))
    return app


def test_a_reload_with_a_copy_draws_the_figures_once_for_the_copy(served_doc):
    import json

    from neurocore_gui.session import FIGURES_FALLBACK_MS

    app = _served_app(served_doc)
    draws = _count_figure_draws(app)
    # the copy: another example's network, as a browser would have kept it
    copy = json.loads((EXAMPLES / "synfire_chain.json").read_text())
    kept = [p["label"] for p in copy["populations"]]
    assert kept != [p["label"] for p in app.store.document["populations"]]
    pn.state._on_load(served_doc)
    # at onload the figures still wait for the page's answer about a copy;
    # only the fallback timer is set
    assert draws == [] and app.run.raster_pane.object is None
    timers = [cb for cb in served_doc.session_callbacks if getattr(cb, "timeout", None) == FIGURES_FALLBACK_MS]
    assert len(timers) == 1
    # the page sends its copy, then its answer (two changes, in this order)
    app.browser_copy.restored = json.dumps(copy)
    assert draws == []
    app.browser_copy.answered = True
    labels = [p["label"] for p in app.store.document["populations"]]
    assert labels == kept and draws == [kept]
    assert app.run.raster_pane.object is app.run.raster.dmap
    # the fallback firing later, or a second answer, draws nothing more
    timers[0].callback()
    app.browser_copy.answered = False
    app.browser_copy.answered = True
    assert len(draws) == 1


def test_without_a_copy_the_answer_draws_the_example_figures(served_doc):
    app = _served_app(served_doc)
    draws = _count_figure_draws(app)
    pn.state._on_load(served_doc)
    assert draws == []
    app.browser_copy.answered = True
    assert draws == [[p["label"] for p in app.store.document["populations"]]]
    assert app.store.dirty is False  # the example stays, unchanged


def test_a_page_that_never_answers_gets_its_figures_from_the_fallback(served_doc):
    from neurocore_gui.session import FIGURES_FALLBACK_MS

    app = _served_app(served_doc)
    draws = _count_figure_draws(app)
    pn.state._on_load(served_doc)
    (timer,) = [cb for cb in served_doc.session_callbacks if getattr(cb, "timeout", None) == FIGURES_FALLBACK_MS]
    timer.callback()
    assert len(draws) == 1 and app.run.raster_pane.object is app.run.raster.dmap
    app.browser_copy.answered = True  # a late answer draws nothing more
    assert len(draws) == 1


def test_a_hidden_message_reaches_the_page_only_when_shown(served_doc):
    from neurocore_gui.builder import placed_when_shown

    alert = pn.pane.Alert("", visible=False)
    col = placed_when_shown(alert)
    assert col.objects == []
    alert.visible = True
    assert col.objects == [alert]
    alert.visible = False  # closed: stays in place, hidden
    alert.visible = True
    assert col.objects == [alert]
    assert placed_when_shown(pn.pane.Alert("x")).objects[0].object == "x"  # shown from the start


def test_app_first_document_has_no_hidden_messages(served_doc):
    app = _served_app(served_doc)
    assert app.builder.message._models == {} and app.run.message._models == {}
    app.builder.notify("Saved.", "info")
    assert app.builder.message._models != {}
    app.run.show_error("boom")
    assert app.run.message._models != {}
