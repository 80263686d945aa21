"""NeuroCore's Panel application: a thin view over :mod:`engine`.

May import engine, panel, holoviews, bokeh, panel-reactflow and
panel-material-ui.  Owns no science: every number shown comes from engine.
"""
