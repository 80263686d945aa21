"""A page with only the Training and conversion lab over a fresh session
store (``panel serve tests/gui/training_lab/app.py``), for the browser test
while the main page has no tab for it."""
import holoviews as hv
import panel as pn

pn.extension(notifications=False)
hv.extension("bokeh", logo=False)

from neurocore_gui.labs.training import TrainingLab  # noqa: E402
from neurocore_gui.store import SessionStore  # noqa: E402

lab = TrainingLab(store=SessionStore())
pn.state.on_session_destroyed(lambda ctx, lab=lab: lab.close())  # bound now: the script's globals go
pn.Column(lab, sizing_mode="stretch_width").servable(title="NeuroCore training lab")
