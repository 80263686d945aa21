"""The first document of a page (issue 17, page load): the palette and the
neuron selection are sent after the first paint, in the session's onload;
outside a served page they are there at once."""

from __future__ import annotations

import weakref

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
