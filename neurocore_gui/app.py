"""Entry point for ``panel serve neurocore_gui/app.py``."""
import panel as pn

pn.extension()
pn.pane.Markdown("# NeuroCore\nThe builder is on its way.").servable(title="NeuroCore")
