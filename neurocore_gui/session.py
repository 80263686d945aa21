"""Per-session page factory: every browser session gets its own store,
builder, runner and figures (nothing is shared through module globals).

The session's :class:`~neurocore_gui.store.SessionStore` is the one place
its network lives; the builder (canvas, editors), the run view and the labs
are views of it."""

from __future__ import annotations

import panel as pn
import panel_material_ui as pmui

from neurocore_gui.builder import Builder, example_names
from neurocore_gui.runview import RunView
from neurocore_gui.store import SessionStore

__all__ = ["create_app", "App"]

DEFAULT_EXAMPLE = "two_population_ei"

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
        if in_server:
            pn.state.onload(self.run.show_figures)
        names = example_names()
        if example and example in names:
            self.builder.load_example(example)
            self.builder.notify("")
        elif example:
            self.builder.notify("Examples are not available yet (assets/networks is empty); "
                                "build a network from the palette.", "warning")
        tabs = [("Build & run", self._main())]
        try:
            from neurocore_gui.neuron_lab import NeuronLab
            self.lab = NeuronLab()
            tabs.append(("Neuron lab", self.lab))
        except ImportError:
            self.lab = None
        # dynamic: the Neuron lab's widgets and figures are sent to the browser
        # only when its tab is opened, not with the first page
        self.tabs = pmui.Tabs(*tabs, sizing_mode="stretch_width", dynamic=True)
        self.page = pmui.Page(
            title="NeuroCore",
            sidebar=[self.run.controls(), pmui.Divider(), self.builder.sidebar(), pmui.Divider(),
                     self.run.selection_controls()],
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

    def close(self) -> None:
        self.run.close()
        if self.lab is not None and hasattr(self.lab, "close"):
            self.lab.close()

    def __panel__(self):
        return self.page


def create_app(example: str | None = DEFAULT_EXAMPLE) -> App:
    app = App(example=example)
    if pn.state.curdoc is not None:
        pn.state.on_session_destroyed(lambda ctx: app.close())
    return app
