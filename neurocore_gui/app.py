"""Entry point for ``panel serve neurocore_gui/app.py``.

Everything is built per session by :func:`neurocore_gui.session.create_app`;
all JavaScript and CSS is served by the Panel server itself (no CDN).
"""
import holoviews as hv
import panel as pn

# the page says so when the server goes away (a run stops, nothing saves)
pn.extension("katex", notifications=True,
             disconnect_notification="Connection to the NeuroCore server lost: the run has stopped and "
                                     "nothing can be saved until the server is back; then reload the page.")
# this file runs again for every page; the plotting backend is process-wide
# and needs loading once (~0.1 s a page otherwise, in a py-spy profile)
import neurocore_gui  # noqa: E402

if not getattr(neurocore_gui, "_hv_bokeh_loaded", False):
    hv.extension("bokeh", logo=False)
    neurocore_gui._hv_bokeh_loaded = True

from neurocore_gui.session import create_app  # noqa: E402

create_app().page.servable(title="NeuroCore")
