"""Entry point for ``panel serve neurocore_gui/app.py``.

Everything is built per session by :func:`neurocore_gui.session.create_app`;
all JavaScript and CSS is served by the Panel server itself (no CDN).
"""
import holoviews as hv
import panel as pn

pn.extension("katex", notifications=False)
hv.extension("bokeh", logo=False)

from neurocore_gui.session import create_app  # noqa: E402

create_app().page.servable(title="NeuroCore")
