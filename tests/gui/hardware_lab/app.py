"""A page with only the Hardware lab over a session store holding
``poisson_feedforward`` (``panel serve tests/gui/hardware_lab/app.py``), for
the browser test while the main page has no tab for it."""
import json
from pathlib import Path

import holoviews as hv
import panel as pn

pn.extension(notifications=False)
hv.extension("bokeh", logo=False)

from neurocore_gui.labs.hardware import HardwareLab  # noqa: E402
from neurocore_gui.store import SessionStore  # noqa: E402

doc = json.loads((Path(__file__).resolve().parents[3] / "assets" / "networks" / "poisson_feedforward.json").read_text())
lab = HardwareLab(store=SessionStore(document=doc, name="poisson_feedforward"))
pn.Column(lab, sizing_mode="stretch_width").servable(title="NeuroCore hardware lab")
