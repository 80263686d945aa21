"""Per-session page factory: every browser session gets its own store,
builder, runner and figures (nothing is shared through module globals).

The session's :class:`~neurocore_gui.store.SessionStore` is the one place
its network lives; the builder (canvas, editors), the run view and the labs
are views of it."""

from __future__ import annotations

import panel as pn
import panel_material_ui as pmui

import importlib
import importlib.util
import inspect
import weakref

from neurocore_gui.browser_copy import BrowserCopy
from neurocore_gui.builder import Builder, after_first_paint, example_names
from neurocore_gui.runview import RunView
from neurocore_gui.store import SessionStore

__all__ = ["create_app", "App"]

DEFAULT_EXAMPLE = "two_population_ei"
#: figures are drawn this long after the page loaded if it has not said
#: whether it kept a copy of the network (see ``App.__init__``)
FIGURES_FALLBACK_MS = 3000

#: Tabs after "Build & run": (title, module under neurocore_gui.labs, class).
#: Each lab is a ``pn.viewable.Viewer`` taking ``store=``; a lab whose module
#: is not there yet is left out.
LABS = [("Neuron lab", "neuron", "NeuronLab"), ("Training", "training", "TrainingLab"),
        ("Hardware", "hardware", "HardwareLab"), ("Sweep", "sweep", "SweepPanel")]


def _lab_exists(module: str) -> bool:
    """Whether the lab's module is there (without importing it: a lab's
    imports, torch among them, wait until its tab is opened)."""
    try:
        return importlib.util.find_spec(f"neurocore_gui.labs.{module}") is not None
    except ImportError:
        return False


def _lab_class(module: str, name: str):
    if not _lab_exists(module):
        return None
    cls = getattr(importlib.import_module(f"neurocore_gui.labs.{module}"), name, None)
    if not (inspect.isclass(cls) and issubclass(cls, pn.viewable.Viewer)):
        raise ImportError(f"neurocore_gui.labs.{module} has no lab class {name}")
    return cls

def _freeze_import_heap() -> None:
    """Once per server process, on its first session: move everything alive
    (the ~450 000 objects of Bokeh, HoloViews, Panel and the engine, kept for
    the process's life) out of the cyclic collector's sight.  Panel runs a
    full ``gc.collect()`` after every closed session, and each took ~1 s of
    the event loop on the loaded two-core machine, stalling every open
    page's frames (20-30 % of the server's samples in a py-spy profile while
    streaming); after the freeze a collection only walks what sessions made."""
    import gc

    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        gc.freeze()


_freeze_import_heap()

def release_process_refs(obj) -> int:
    """Drop the watchers that parameter references of ``obj`` put on the
    process-wide ``pn.state`` and ``pn.config``; returns how many.

    ``panel_material_ui.Page`` binds its ``busy`` to ``pn.state.param.busy``.
    Param resolves such a reference with a watcher registered on
    ``pn.state``, which lives as long as the process, and never removes it,
    not even when the value is later overwritten (holoviz/param#963).  That
    watcher (``Page.param._sync_refs``) held every closed session's Page,
    and through it the App, its store, runner, figures and Bokeh Document,
    for the life of the server.  Call this when the session is destroyed."""
    private = obj._param__private
    shared = (pn.state, pn.config)
    kept, dropped = [], 0
    for names, watcher in private.ref_watchers:
        if any(watcher.inst is o for o in shared):
            watcher.inst.param.unwatch(watcher)
            dropped += 1
        else:
            kept.append((names, watcher))
    private.ref_watchers = kept
    return dropped


def forget_document(doc) -> int:
    """Remove what ``pn.state._views`` still holds for ``doc``, a destroyed
    session's Bokeh Document; returns how many entries.

    Panel files each root it renders there as (view, model, document, comm)
    and removes the entry in ``_server_destroy`` only for a view that
    registered the document in its ``_documents``.  panel_material_ui's
    ``NotificationArea`` (the page's toasts, made per session by
    ``pn.extension(notifications=True)``) does not, so its entry, and with
    it the whole destroyed Document and its models, stayed in this
    class-level dict for the life of the server."""
    views = pn.state._views
    stale = [ref for ref, entry in list(views.items()) if entry[2] is doc]
    for ref in stale:
        views.pop(ref, None)
    return len(stale)


#: Documents of destroyed sessions, to recognise one left as Bokeh's default
_destroyed_documents: weakref.WeakSet = weakref.WeakSet()


def forget_default_document(doc=None) -> bool:
    """Make sure Bokeh's process-wide default Document (``curstate().document``)
    is not a destroyed session's (``doc``, or one destroyed before); returns
    whether it was.

    Panel's ``run_app`` saves ``bokeh.io.curdoc()`` before it runs the app
    script for a new session and sets it back as the default afterwards.
    ``curdoc()`` reads Bokeh's ``_PATCHED_CURDOCS``, one list for all threads,
    so if another session's callback or model change is being dispatched in
    another thread at that moment, what is saved and restored is that
    session's Document.  It then stays the default, held for the life of the
    server (seen under load: 1 of 6 sessions closed mid-run kept alive).
    That can happen after the session is destroyed, so a new session checks
    again once its start is over (``create_app``)."""
    from bokeh.document import Document
    from bokeh.io.state import curstate

    if doc is not None:
        _destroyed_documents.add(doc)
    state = curstate()
    if state.document not in _destroyed_documents:
        return False
    state.document = Document()
    return True


CSS = """
.nc-canvas { border: 1px solid #ddd; border-radius: 6px; }
"""


class App(pn.viewable.Viewer):
    """Builder + live run (+ labs) of one session."""

    def __init__(self, example: str | None = DEFAULT_EXAMPLE, **params):
        super().__init__(**params)
        self.store = SessionStore()
        self.builder = Builder(store=self.store)
        in_server = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
        self.run = RunView(self.store, defer_figures=in_server)
        names = example_names()
        if example and example in names:
            self.builder.load_example(example)
            self.builder.notify("")
        elif example:
            self.builder.notify("Examples are not available yet (assets/networks is empty); "
                                "build a network from the palette.", "warning")
        # the network survives a reload: a copy in the browser, restored on open
        # The figures are drawn once the page has said whether it kept a copy:
        # drawn at onload they were drawn for the example, then again for the
        # copy (a reload with a network cost twice the figures' CPU, server and
        # browser).  A page that never answers gets them after FIGURES_FALLBACK_MS.
        self.browser_copy = BrowserCopy(self.store, self._restore_copy,
                                        on_answer=self.run.show_figures if in_server else None)
        if in_server:
            pn.state.onload(self._figures_if_unanswered)
        tabs = [("Build & run", self._main())]
        #: lab title -> the lab, made when its tab is first opened
        self.labs: dict = {}
        self._lab_slots: dict[str, tuple[str, str, pn.Column]] = {}
        for title, module, cls_name in LABS:
            if not _lab_exists(module) and module != "neuron":
                continue
            slot = pn.Column(sizing_mode="stretch_width", margin=0)
            self._lab_slots[title] = (module, cls_name, slot)
            tabs.append((title, slot))
        self._tab_titles = [t for t, _ in tabs]
        # Labs are built and sent to the browser only when their tab is first
        # opened (a fast first page), and then stay: with ``dynamic`` tabs the
        # hidden canvas was unrendered, and a change sent to it meanwhile
        # failed in the page ("reading 'top_panel'")
        self.tabs = pmui.Tabs(*tabs, sizing_mode="stretch_width", dynamic=False)
        self.tabs.param.watch(self._on_tab, "active")
        self.page = pmui.Page(
            title="NeuroCore",
            # Panel's Divider, not Material UI's: a line needs no React root of its own
            sidebar=[self.run.controls(), pn.layout.Divider(), self.builder.sidebar(), pn.layout.Divider(),
                     after_first_paint(self.run.selection_controls), self.browser_copy],
            main=[self.tabs],
            sidebar_width=330,
        )

    def _main(self):
        top = pn.Row(
            pn.Column(self.builder, sizing_mode="stretch_width"),
            # no taller than the canvas (it scrolls): a long parameter list
            # must not push the live plots out of view while editing
            pn.Column(pn.pane.Markdown("#### Editor"), self.builder.editor_panel(), width=340,
                      height=500, scroll="y"),
            sizing_mode="stretch_width")
        return pn.Column(top, self.run, sizing_mode="stretch_width")

    @property
    def lab(self):
        """The Neuron lab, once opened."""
        return self.labs.get("Neuron lab")

    def _on_tab(self, event) -> None:
        title = self._tab_titles[event.new]
        self.open_lab(title)

    def open_lab(self, title: str):
        """The lab of tab ``title``, built on first use."""
        if title in self.labs or title not in self._lab_slots:
            return self.labs.get(title)
        module, cls_name, slot = self._lab_slots[title]
        try:
            lab = self._make_lab(module, cls_name)
        except Exception as exc:  # noqa: BLE001 - one broken lab must not take the page down
            lab = pmui.Alert(object=f"The {title} could not start: {type(exc).__name__}: {exc}",
                             severity="error", sizing_mode="stretch_width")
        self.labs[title] = lab
        slot.objects = [lab]
        return lab

    def _make_lab(self, module: str, cls_name: str):
        cls = _lab_class(module, cls_name)
        if cls is None and module == "neuron":
            from neurocore_gui.neuron_lab import NeuronLab as cls  # until labs/neuron.py exists
        if cls is None:
            return None
        try:
            return cls(store=self.store)
        except TypeError:  # a lab that does not work on the session's network
            return cls()

    def _figures_if_unanswered(self) -> None:
        doc = pn.state.curdoc
        if doc is not None:
            doc.add_timeout_callback(self.run.show_figures, FIGURES_FALLBACK_MS)

    def _restore_copy(self, text: str) -> None:
        try:
            self.builder.load_document(text, name="browser copy")
        except Exception as exc:  # noqa: BLE001 - a stale or foreign copy: say so, keep the example
            self.builder.notify(f"The network kept in this browser could not be loaded ({exc}); "
                                "showing the example instead.", "warning")
            return
        self.builder._forget_example()
        self.store.dirty = True  # restored, not saved to a file
        self.builder.notify("Restored the network you were building (kept in this browser). "
                            "New starts an empty one.", "info")

    def close(self) -> None:
        self.run.close()
        for lab in self.labs.values():
            if hasattr(lab, "close"):
                lab.close()

    def __panel__(self):
        return self.page


def create_app(example: str | None = DEFAULT_EXAMPLE) -> App:
    app = App(example=example)
    if pn.state.curdoc is not None:
        pn.state.on_session_destroyed(lambda ctx: release_session(app, ctx._document))
        # after Panel's run_app has restored its saved default (see there)
        pn.state.curdoc.add_next_tick_callback(forget_default_document)
    return app


def release_session(app: App, doc) -> None:
    """A destroyed session: stop its work, then drop what process-wide
    objects still hold of it (see docs/server.md, "Memory of closed
    sessions")."""
    try:
        app.close()
    finally:
        release_process_refs(app.page)
        forget_document(doc)
        forget_default_document(doc)
