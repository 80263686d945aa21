"""The network builder: palette, canvas, editors, history, files.

The canvas (``panel_reactflow.ReactFlow``) is a view of the session's
:class:`~neurocore_gui.store.SessionStore`: every edit made on it is written
to the store at once (validated by the engine first), and a change the store
gets from elsewhere (a lab, a restored browser copy) is redrawn here.  The
canvas's own node/edge lists are its drawing, mapped to and from the engine's
document by :mod:`neurocore_gui.graph`.  One ``Builder`` per browser session.
"""

from __future__ import annotations

import copy
import functools
import io
import json
from pathlib import Path

import panel as pn
import panel_material_ui as pmui
import param
from panel_reactflow import NodeType, ReactFlow

from engine.models import get_model
from neurocore_gui import catalog, graph
from neurocore_gui.editors import FieldEditor, declared_fields, model_fields, validate_model_value
from neurocore_gui.store import SessionStore

__all__ = ["Builder", "EXAMPLES_DIR", "after_first_paint", "example_names"]

ROOT = Path(__file__).resolve().parent.parent
#: the engine's limit on a network file (a saved file must load back)
MAX_FILE_BYTES = 50 * 1024 * 1024
# an installed wheel carries the examples in the package (build_hooks.py); a
# source checkout or an editable install reads the root assets/ folder
_PACKAGED_EXAMPLES = Path(__file__).resolve().parent / "assets" / "networks"
EXAMPLES_DIR = _PACKAGED_EXAMPLES if _PACKAGED_EXAMPLES.is_dir() else ROOT / "assets" / "networks"
DRAG_TYPE = "application/x-neurocore-palette"
GZIP_MAGIC = b"\x1f\x8b"
#: a population's surrogate entry left out: it trains with the network's
NETWORK_DEFAULT = "(network default)"


def _one_render(method):
    """Send everything ``method`` changes on the page as one patch: a loaded
    network and the message above the canvas that reports it then show
    together, so the canvas does not jump down under the user's pointer a
    moment after the new network is drawn."""
    @functools.wraps(method)
    def held(*args, **kwargs):
        with pn.io.hold():
            return method(*args, **kwargs)
    return held


def in_server_session() -> bool:
    """Whether this runs while a served page's session is being made."""
    doc = pn.state.curdoc
    return doc is not None and doc.session_context is not None


def after_first_paint(make, **column_kw) -> pn.Column:
    """A column that gets ``make()``'s objects once the page has loaded.

    The first document a browser gets is what it must render before the
    canvas shows: every Material UI widget in it is a React root of its own,
    and rendering them was the largest share of the page's JavaScript time
    (docs/app-performance.md, "Page load").  Parts the first view can do
    without (the palette, the neuron selection) are sent in the session's
    onload, right after.  Outside a served page (tests, a notebook) the
    column is filled at once."""
    col = pn.Column(sizing_mode="stretch_width", margin=0, **column_kw)

    def fill() -> None:
        objs = make()
        col.objects = list(objs) if isinstance(objs, (list, tuple)) else [objs]

    if in_server_session():
        pn.state.onload(fill)
    else:
        fill()
    return col


def placed_when_shown(widget, **column_kw) -> pn.Column:
    """A column that holds ``widget`` from the first time it is made visible.

    A hidden Material UI widget (a message no one has seen yet) still costs
    the page its React root at load; placed here, it reaches the browser only
    when there is something to show."""
    col = pn.Column(sizing_mode="stretch_width", margin=0, **column_kw)

    def place(event=None) -> None:
        if widget.visible and not col.objects:
            col.objects = [widget]

    widget.param.watch(place, "visible")
    place()
    return col


#: Canvas node type of a population with a self-projection or a back edge
#: drawn through the gap (graph.ROUTE_LOOKS "loop", "back"): the same node plus
#: the hidden handles those edges are drawn between.  Other nodes keep one
#: handle per side, so connecting by hand stays unambiguous.
LOOP_NODE = "population_loop"

# Canvas styling (the canvas lives in a shadow root, so it must come in as one
# of its stylesheets).  A LOOP_NODE lists three input and three output
# handles, which the extension would spread over the height: "in"/"out" go
# back to mid-height; the others are invisible and not draggable: the
# self-loop pair on the left edge above mid-height, the back-edge source low on
# the left edge and the back-edge target low on the right edge (so a back edge
# runs below the forward one of a reciprocal pair), both just outside the node
# (edges attach to a handle's outer side), so the arrow's tip meets the border.  Labels (fill-box:
# percentages are of the label's own size): a self-loop's is lifted above its
# loop, its left end at the loop's outer side; a back edge's sits under its
# line and its forward partner's above its own, so the two never meet; a
# back edge routed between rows has its label moved towards its target, or,
# when its reverse is routed so too, above or below the shared run.
_LOOP_HANDLE = f".react-flow__node-{LOOP_NODE} .react-flow__handle[data-handleid"
CANVAS_CSS = f"""
{_LOOP_HANDLE}="in"], {_LOOP_HANDLE}="out"] {{ top: 50% !important; }}
{_LOOP_HANDLE}="{graph.LOOP_TARGET}"], {_LOOP_HANDLE}="{graph.LOOP_SOURCE}"] {{
  left: 0; right: auto; transform: translate(-50%, -50%); opacity: 0; pointer-events: none; }}
{_LOOP_HANDLE}="{graph.BACK_SOURCE}"] {{
  left: 0; right: auto; transform: translate(-100%, -50%); opacity: 0; pointer-events: none; }}
{_LOOP_HANDLE}="{graph.BACK_TARGET}"] {{
  left: auto; right: 0; transform: translate(100%, -50%); opacity: 0; pointer-events: none; }}
{_LOOP_HANDLE}="{graph.LOOP_TARGET}"] {{ top: 6% !important; }}
{_LOOP_HANDLE}="{graph.LOOP_SOURCE}"] {{ top: 58% !important; }}
{_LOOP_HANDLE}="{graph.BACK_SOURCE}"], {_LOOP_HANDLE}="{graph.BACK_TARGET}"] {{ top: 84% !important; }}
.react-flow__edge.nc-selfloop .react-flow__edge-textwrapper {{ transform-box: fill-box; translate: 50% -26px; }}
.react-flow__edge.nc-label-below .react-flow__edge-textwrapper {{ transform-box: fill-box; translate: 0 calc(50% + 3px); }}
.react-flow__edge.nc-label-above .react-flow__edge-textwrapper {{ transform-box: fill-box; translate: 0 calc(-50% - 3px); }}
.react-flow__edge.nc-around .react-flow__edge-textwrapper {{ transform-box: fill-box; translate: -80px calc(50% + 7px); }}
"""


#: Panel's FileDownload drawn like the page's outlined Material buttons (in
#: the Material page shell it otherwise shows as bare text).
DOWNLOAD_CSS = """
.bk-btn { background: transparent !important; color: #0072b5 !important;
  border: 1px solid rgba(0, 114, 181, 0.5) !important; border-radius: 4px !important;
  font-weight: 500 !important; font-size: 13px !important;
  padding: 4px 10px; }
.bk-btn:hover { background: rgba(0, 114, 181, 0.06) !important; border-color: #0072b5 !important; }
.bk-btn a { color: inherit !important; text-decoration: none; }
"""


def download_button(callback, filename: str, label: str, **kw):
    """A download button for data made on demand.  Panel's own FileDownload:
    panel-material-ui's re-downloads stale data on a second click."""
    return pn.widgets.FileDownload(callback=callback, filename=filename, label=label,
                                   stylesheets=[DOWNLOAD_CSS], **kw)


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.json"))


def _no_editor(*args, **kwargs):
    return None


def _engine_io():
    """The engine's network serialisation, or None while it is missing."""
    try:
        from engine.network import Network
    except Exception:  # noqa: BLE001
        return None
    return Network if hasattr(Network, "from_dict") else None


def validate_network_dict(net: dict) -> None:
    """Let the engine judge a network dict (raises with the engine's message)."""
    Network = _engine_io()
    if Network is None:
        return
    Network.from_dict(copy.deepcopy(net))


class History:
    """Undo/redo over JSON snapshots of the document."""

    def __init__(self, limit: int = 200):
        self.items: list[str] = []
        self.pos = -1
        self.limit = limit

    def push(self, snap: dict) -> None:
        s = json.dumps(snap, sort_keys=True)
        if self.pos >= 0 and self.items[self.pos] == s:
            return
        del self.items[self.pos + 1:]
        self.items.append(s)
        if len(self.items) > self.limit:
            self.items.pop(0)
        self.pos = len(self.items) - 1

    def undo(self) -> dict | None:
        if self.pos <= 0:
            return None
        self.pos -= 1
        return json.loads(self.items[self.pos])

    def redo(self) -> dict | None:
        if self.pos >= len(self.items) - 1:
            return None
        self.pos += 1
        return json.loads(self.items[self.pos])

    @property
    def can_undo(self) -> bool:
        return self.pos > 0

    @property
    def can_redo(self) -> bool:
        return self.pos < len(self.items) - 1


class Builder(pn.viewable.Viewer):
    """Canvas + palette + editor for one session's network."""

    version = param.Integer(default=0, doc="bumped on every structural change of the network")

    def __init__(self, store: SessionStore | None = None, **params):
        super().__init__(**params)
        self.store = store if store is not None else SessionStore()
        self.meta: dict = {}
        self.history = History()
        self._counter = 0
        self._routes: dict = {}  # edge id -> route its look was drawn for (graph.edge_routes)
        self.message = pmui.Alert(object="", severity="info", visible=False, closeable=True,
                                  sizing_mode="stretch_width", margin=(5, 5))
        self.flow = ReactFlow(
            nodes=[], edges=[],
            node_types={
                "population": NodeType(type="population", label="Population", inputs=["in"], outputs=["out"]),
                LOOP_NODE: NodeType(type=LOOP_NODE, label="Population",
                                    inputs=["in", graph.LOOP_TARGET, graph.BACK_TARGET],
                                    outputs=["out", graph.LOOP_SOURCE, graph.BACK_SOURCE]),
                "stimulus": NodeType(type="stimulus", label="Stimulus", inputs=[], outputs=["out"]),
            },
            editor_mode="side", default_node_editor=_no_editor, default_edge_editor=_no_editor,
            display_side_bar=False, drop_types=[DRAG_TYPE], allow_edge_loops=True,
            show_minimap=False, min_zoom=0.2, sizing_mode="stretch_width", height=440,
            default_edge_options={"type": "default"}, css_classes=["nc-canvas"], stylesheets=[CANVAS_CSS],
        )
        self.flow.on("edge_added", self._on_edge_added)
        self.flow.on("node_deleted", self._on_deleted)
        self.flow.on("edge_deleted", self._on_deleted)
        self.flow.on("node_moved", self._on_moved)
        self.flow.on("drop", self._on_drop)
        self.flow.param.watch(self._on_selection, "selection")
        self._editor_box = pn.Column(sizing_mode="stretch_width", margin=0, css_classes=["nc-editor"])
        self._hint = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["nc-editor-hint"])
        self.field_editor: FieldEditor | None = None
        self._build_widgets()
        # made here, so its onload comes before the run view's figures: the
        # palette is what a user reaches for first
        self._sidebar = after_first_paint(self._sidebar_objects)
        self._sidebar_column: pn.Column | None = None
        self.store.param.watch(self._on_store, "revision")
        if self.store.document.get("populations") or self.store.document.get("stimuli"):
            self._draw_store()
        self._show_editor()

    # -- the store ----------------------------------------------------------------------
    def _notify(self, kind: str, info: dict | None = None) -> None:
        """Write the canvas's edit to the store (the one copy the runner, the
        plots and the labs read).  ``kind``: ``"structure"``, ``"layout"``
        (positions only) or ``"param"`` (``info``: what, label or index,
        name, value; already accepted by the engine through the editor)."""
        if kind == "structure":
            self.version += 1
        if kind == "param":
            info = info or {}
            key = info["label"] if info.get("what") != "projection" else info["index"]
            self.store.set_param(info["what"], key, info["name"], info["value"], validate=False,
                                 origin=self)
        else:
            self.store.replace(self.document(), validate=False, kind=kind, origin=self)
        self._show_hint()

    def _on_store(self, event) -> None:
        """Redraw a change that did not come from this canvas."""
        change = self.store.last_change
        if change.get("origin") is self:
            return
        if change.get("kind") == "run":  # the run's dt lives in the document's meta
            self.meta = {**self.meta, "meta": copy.deepcopy(self.store.document.get("meta") or {})}
            return
        self._draw_store()
        self.history.push(self.document())
        self._update_history_buttons()

    def _draw_store(self) -> None:
        net, layout = graph.from_document(self.store.document)
        nodes, edges, meta = graph.network_to_canvas(net, layout)
        self._set_canvas(nodes, edges, meta)
        self.version += 1

    def run_dt(self) -> float | None:
        """The step (s) the document asks to run with (``meta.run.dt``)."""
        return self.store.document_dt(self.store.document)

    @property
    def dt(self) -> float:
        """Step (s) new Poisson inputs are made for."""
        return self.store.run_dt

    def notify(self, text: str, severity: str = "info") -> None:
        self.message.severity = severity
        self.message.object = text
        self.message.visible = bool(text)

    # -- widgets ----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        groups = catalog.model_groups()
        items = []
        for cat, names in groups.items():
            items.append({"label": f"Populations: {cat}", "icon": "hub", "selectable": False,
                          "items": [{"label": n, "icon": "scatter_plot", "kind": "population", "value": n,
                                     "selectable": False} for n in names]})
        stim = catalog.stimulus_kinds()
        if stim:
            items.append({"label": "Stimuli", "icon": "bolt", "selectable": False,
                          "items": [{"label": k, "icon": "electric_bolt", "kind": "stimulus", "value": k,
                                     "selectable": False} for k in stim]})
        else:
            items.append({"label": "Stimuli (engine.network.stimuli not importable)", "disabled": True})
        self._palette_items = items
        self.palette = pmui.MenuList(items=items, draggable=True, drag_type=DRAG_TYPE, dense=True,
                                     expanded=[(0,), (len(items) - 1,)],
                                     sizing_mode="stretch_width", css_classes=["nc-palette"])
        # one click message per click: a selectable entry also syncs the menu's
        # ``active`` (and so its ``value``) from the browser, and a watcher on
        # those saw one click as two changes (two nodes)
        self.palette.on_click(self._on_palette)

        btn = dict(variant="outlined", size="small", margin=(2, 2))
        self.undo_btn = pmui.Button(label="Undo", icon="undo", disabled=True, **btn)
        self.redo_btn = pmui.Button(label="Redo", icon="redo", disabled=True, **btn)
        self.delete_btn = pmui.Button(label="Delete", icon="delete", **btn)
        self.layout_btn = pmui.Button(label="Auto-layout", icon="account_tree", **btn)
        self.python_btn = pmui.Button(label="Show as Python", icon="code", **btn)
        self.new_btn = pmui.Button(label="New", icon="note_add", **btn)
        self.undo_btn.on_click(lambda e: self.undo())
        self.redo_btn.on_click(lambda e: self.redo())
        self.delete_btn.on_click(lambda e: self.delete_selected())
        self.layout_btn.on_click(lambda e: self.auto_layout())
        self.python_btn.on_click(lambda e: self.show_python())
        self.new_btn.on_click(lambda e: self.clear())
        self.examples = pmui.Select(label="Examples", options=[""] + example_names(), value="",
                                    sizing_mode="stretch_width", css_classes=["nc-examples"])
        self.examples.param.watch(self._on_example, "value")
        self.download = download_button(self._save_file, "network.json", "Save JSON",
                                        css_classes=["nc-save"], margin=(4, 2), width=130)
        # uploaded_label: the button keeps its name; whether the file was
        # taken is said once, by the message above the canvas
        self.upload = pmui.FileInput(accept=".json,.gz,application/json,application/gzip", label="Load JSON",
                                     uploaded_label="Load JSON", css_classes=["nc-load"], **btn)
        self.upload.param.watch(self._on_upload, "value")
        self.nir_download = download_button(self._nir_file, "network.nir", "Export NIR",
                                            css_classes=["nc-nir-export"], margin=(4, 2), width=130)
        self.nir_upload = pmui.FileInput(accept=".nir", label="Import NIR", uploaded_label="Import NIR",
                                         css_classes=["nc-nir-import"], **btn)
        self.nir_upload.param.watch(self._on_nir_upload, "value")
        self._surrogate_picker = None
        self.code = pn.pane.Markdown("", sizing_mode="stretch_width", visible=False,
                                     css_classes=["nc-code"], max_height=400, styles={"overflow": "auto"})
        self.code_close = pmui.Button(label="Hide code", visible=False, **btn)
        self.code_close.on_click(lambda e: self._hide_code())
        self.code_download = download_button(self._code_file, "network.py", "Download .py",
                                             visible=False, margin=(4, 2), width=130)

    def toolbar(self):
        return pn.FlexBox(self.new_btn, self.undo_btn, self.redo_btn, self.delete_btn, self.layout_btn,
                          self.python_btn, self.download, self.upload, self.nir_download, self.nir_upload,
                          sizing_mode="stretch_width",
                          margin=0)

    # -- document ---------------------------------------------------------------------
    @property
    def nodes(self) -> list[dict]:
        return [self._plain_node(n) for n in self.flow.nodes]

    @property
    def edges(self) -> list[dict]:
        return [self._plain_edge(e) for e in self.flow.edges]

    @staticmethod
    def _plain_node(n) -> dict:
        d = n if isinstance(n, dict) else n.to_dict()
        ntype = "population" if d.get("type") == LOOP_NODE else d.get("type")
        return {"id": d["id"], "type": ntype, "label": d.get("label"),
                "position": dict(d.get("position") or {"x": 0, "y": 0}), "data": copy.deepcopy(d.get("data") or {})}

    @staticmethod
    def _plain_edge(e) -> dict:
        d = e if isinstance(e, dict) else e.to_dict()
        return {"id": d["id"], "source": d["source"], "target": d["target"],
                "data": copy.deepcopy(d.get("data") or {})}

    def network_dict(self) -> dict:
        """The engine network dict this canvas describes."""
        return graph.canvas_to_network(self.nodes, self.edges, self.meta)

    def document(self) -> dict:
        return graph.to_document(self.nodes, self.edges, self.meta)

    def load_network(self, net: dict, layout: dict | None = None, *, record: bool = True,
                     validate: bool = True, name: str | None = None) -> None:
        """Make ``net`` the session's network and show it; raises (changing
        nothing: canvas, store and run stay as they were) when it is refused."""
        if validate:
            validate_network_dict(net)  # the engine's verdict (and message) first
        nodes, edges, meta = graph.network_to_canvas(net, layout)
        doc = graph.to_document(nodes, edges, meta)
        # everything is checked: now swap, store first (the runner resets on it)
        self.store.replace(doc, validate=False, name=name, dirty=False, origin=self)
        self._set_canvas(nodes, edges, meta, fresh=True)
        self.version += 1
        if record:
            self.history.push(self.document())
        self._update_history_buttons()
        self._show_hint()

    def load_document(self, doc, name: str | None = None) -> None:
        net, layout = graph.from_document(doc)
        self.load_network(net, layout, name=name)

    def _set_canvas(self, nodes, edges, meta, fresh: bool = False) -> None:
        """``fresh``: a newly loaded network replaces the drawing."""
        ids = [n["id"] for n in nodes]
        self._counter = max([int(i[1:]) for i in ids if i[1:].isdigit()] + [self._counter])
        self.meta = meta
        with pn.io.hold():
            self.flow.edges = []
            if fresh:
                # param compares an old list with its replacement value by value
                # (minutes for a 50 MB TimedArray loaded over itself); against
                # an empty list that is one length check
                self.flow.nodes = []
            self._routes = graph.edge_routes(nodes, edges)
            routed = graph.routed_nodes(edges, self._routes)
            self.flow.nodes = [self._decorate_node(n, n["id"] in routed) for n in nodes]
            by_id = {n["id"]: n for n in nodes}
            self.flow.edges = [self._decorate_edge(e, by_id, self._routes[e["id"]]) for e in edges]
            self.fit_view(nodes, edges=edges)
        self._show_editor()

    def fit_view(self, nodes: list | None = None, width: float = 680, height: float = 420,
                 edges: list | None = None) -> None:
        """Zoom/pan so every node (and self-loop) is visible (the canvas's own
        fit-view button does the same on demand)."""
        nodes = self.nodes if nodes is None else nodes
        if not nodes:
            self.flow.viewport = {"x": 0.0, "y": 0.0, "zoom": 1.0}
            return
        edges = self.edges if edges is None else edges
        looped = self._looped(edges)
        room = {n["id"]: graph.LOOP_ROOM if n["id"] in looped else (0, 0) for n in nodes}
        x0 = min(n["position"]["x"] - room[n["id"]][0] for n in nodes)
        y0 = min(n["position"]["y"] - room[n["id"]][1] for n in nodes)
        w = max(n["position"]["x"] + graph.node_width(n) for n in nodes) - x0
        h = max(n["position"]["y"] for n in nodes) + graph.NODE_H - y0
        zoom = max(self.flow.min_zoom, min(1.0, (width - 40) / w, (height - 40) / h))
        vp = {"x": round(20 - x0 * zoom, 1), "y": round(20 - y0 * zoom, 1), "zoom": round(zoom, 3)}
        if vp == self.flow.viewport:
            vp["x"] += 0.1
        self.flow.viewport = vp

    @staticmethod
    def _looped(edges: list[dict]) -> set:
        """Ids of the nodes with a self-loop."""
        return {e["source"] for e in edges if graph.is_self_loop(e)}

    def _decorate_node(self, n: dict, routed: bool = False) -> dict:
        """``routed``: some edge of it needs the hidden handles of a LOOP_NODE."""
        n = dict(n)
        n["label"] = graph.display_label(n["type"], n["data"])
        if routed and n["type"] == "population":
            n["type"] = LOOP_NODE
        # the extension drops its default node frame once the canvas has extra
        # stylesheets (ours), unless the node asks for it by class
        n["className"] = "react-flow__node-default"
        return n

    def _decorate_edge(self, e: dict, by_id: dict, route: str | None = None) -> dict:
        kind = graph.edge_kind(e, by_id)
        out = {"id": e["id"], "source": e["source"], "target": e["target"], "data": e.get("data") or {}}
        out.update(graph.edge_look(kind, out["data"], route=route))
        if out.get("label") is None:
            out.pop("label", None)
        return out

    def clear(self) -> None:
        self.load_network({}, record=True, validate=False, name="")
        self._forget_example()
        self.notify("")

    def _record(self) -> None:
        self.history.push(self.document())
        self._update_history_buttons()

    def _update_history_buttons(self) -> None:
        self.undo_btn.disabled = not self.history.can_undo
        self.redo_btn.disabled = not self.history.can_redo

    def undo(self) -> None:
        snap = self.history.undo()
        if snap is not None:
            self._restore(snap)

    def redo(self) -> None:
        snap = self.history.redo()
        if snap is not None:
            self._restore(snap)

    def _restore(self, snap: dict) -> None:
        net, layout = graph.from_document(snap)
        nodes, edges, meta = graph.network_to_canvas(net, layout)
        self._set_canvas(nodes, edges, meta)
        self._update_history_buttons()
        self._notify("structure")

    # -- adding ---------------------------------------------------------------------------
    def _next_id(self, prefix: str) -> str:
        taken = {n["id"] for n in self.nodes}
        while True:
            self._counter += 1
            nid = f"{prefix}{self._counter}"
            if nid not in taken:
                return nid

    def _labels(self) -> list[str]:
        return [n["data"].get("label") for n in self.nodes]

    def _free_position(self) -> dict:
        nodes = self.nodes
        if not nodes:
            return {"x": 60.0, "y": 60.0}
        xs = [n["position"]["x"] for n in nodes]
        ys = [n["position"]["y"] for n in nodes]
        k = len(nodes)
        return {"x": min(xs) + (k % 3) * (graph.NODE_W + 60), "y": max(ys) + graph.NODE_H + 50
                if k % 3 == 0 else min(ys) + (k // 3) * (graph.NODE_H + 50)}

    def add_population(self, model: str, n: int = 100, position: dict | None = None,
                       label: str | None = None) -> str:
        cls = get_model(model)
        name = cls.registry_name()
        base = label or ("".join(c for c in name if c.isupper()) or name)
        data = graph.population_entry(name, n, graph.unique_label(base, self._labels()))
        nid = self._next_id("p")
        node = {"id": nid, "type": "population", "position": position or self._free_position(), "data": data}
        self.flow.add_node(self._decorate_node(node))
        self._record()
        self._notify("structure")
        return nid

    def add_stimulus(self, kind: str, position: dict | None = None) -> str:
        params = catalog.stimulus_defaults(kind, self.dt)
        data = graph.stimulus_entry(kind, graph.unique_label(kind, self._labels()), params)
        nid = self._next_id("s")
        node = {"id": nid, "type": "stimulus", "position": position or self._free_position(), "data": data}
        self.flow.add_node(self._decorate_node(node))
        # connect to the only population automatically when there is exactly one
        pops = [n for n in self.nodes if n["type"] == "population"]
        if len(pops) == 1:
            self._set_edges(self.edges + [{"id": self._edge_id(), "source": nid, "target": pops[0]["id"],
                                           "data": {}}])
        self._record()
        self._notify("structure")
        return nid

    def add_projection(self, source: str, target: str, **data) -> str:
        by_id = {n["id"]: n for n in self.nodes}
        if source not in by_id or target not in by_id:
            raise ValueError(f"unknown node {source!r} or {target!r}")
        eid = self._edge_id()
        data.setdefault("label", self._projection_label(by_id[source], by_id[target]))
        self._set_edges(self.edges + [{"id": eid, "source": source, "target": target,
                                       "data": graph.projection_data(**data)}])
        self._record()
        self._notify("structure")
        return eid

    def _projection_label(self, src: dict, tgt: dict) -> str:
        """A unique label for a new projection: the running network finds an
        object by label for a live change (``Network.set``), so a labelled
        projection's weight changes at the next chunk instead of restarting."""
        taken = [e["data"].get("label") for e in self.edges if e.get("data")]
        return graph.unique_label(f"{src['data']['label']}->{tgt['data']['label']}", taken)

    def _edge_id(self) -> str:
        taken = {e["id"] for e in self.edges}
        i = len(taken) + 1
        while f"e{i}" in taken:
            i += 1
        return f"e{i}"

    def _set_edges(self, edges: list[dict]) -> None:
        nodes = self.nodes
        by_id = {n["id"]: n for n in nodes}
        self._routes = graph.edge_routes(nodes, edges)
        self._sync_loop_nodes(edges)
        self.flow.edges = [self._decorate_edge(e, by_id, self._routes[e["id"]]) for e in edges]

    def _sync_loop_nodes(self, edges: list[dict]) -> None:
        """Give exactly the populations with a self-loop or a back edge the
        hidden handles (before an edge refers to them)."""
        routed = graph.routed_nodes(edges, self._routes)
        for n in self.flow.nodes:
            if not isinstance(n, dict) or n.get("type") not in ("population", LOOP_NODE):
                continue
            want = LOOP_NODE if n["id"] in routed else "population"
            if n["type"] != want:
                self.flow.patch_node_props(n["id"], {"type": want})

    def _refresh_routes(self) -> None:
        """Redraw the edges whose route changed (a node was moved or an edge
        deleted: a back edge may have become a forward one, or lost its pair).
        Looks follow positions on drop, not while a node is being dragged."""
        edges = self.edges
        if graph.edge_routes(self.nodes, edges) != {e["id"]: self._routes.get(e["id"]) for e in edges}:
            self._set_edges(edges)  # className is not patchable: send the edges again
        else:
            self._sync_loop_nodes(edges)

    def _on_palette(self, item) -> None:
        if not isinstance(item, dict) or "kind" not in item:
            return
        try:
            if item["kind"] == "population":
                self.add_population(item["value"])
            else:
                self.add_stimulus(item["value"])
        except Exception as exc:  # noqa: BLE001
            self.notify(f"Could not add {item.get('label')}: {exc}", "error")

    def _on_drop(self, payload: dict) -> None:
        data = payload.get("data") or {}
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError:
                return
        path = data.get("path") or []
        pos = payload.get("position") or None
        try:
            item = self._palette_items[path[0]]["items"][path[1]]
        except (IndexError, KeyError, TypeError):
            return
        if item.get("kind") == "population":
            self.add_population(item["value"], position=pos)
        elif item.get("kind") == "stimulus":
            self.add_stimulus(item["value"], position=pos)

    # -- canvas events ----------------------------------------------------------------------
    def _on_edge_added(self, payload: dict) -> None:
        edge = payload.get("edge") or {}
        by_id = {n["id"]: n for n in self.nodes}
        src, tgt = by_id.get(edge.get("source")), by_id.get(edge.get("target"))
        others = [e for e in self.edges if e["id"] != edge.get("id")]
        if src is None or tgt is None:
            return
        if tgt["type"] != "population":
            self._set_edges(others)
            self.notify("A connection must end at a population (stimuli have no input).", "warning")
            return
        if src["type"] == "stimulus":
            # a stimulus drives one population: re-target it
            others = [e for e in others if e["source"] != src["id"]]
            new = {"id": edge["id"], "source": src["id"], "target": tgt["id"], "data": {}}
            self.notify(f"{src['data']['label']} now drives {tgt['data']['label']}.", "info")
        else:
            new = {"id": edge["id"], "source": src["id"], "target": tgt["id"],
                   "data": graph.projection_data(label=self._projection_label(src, tgt))}
            self.notify(f"Projection {src['data']['label']} → {tgt['data']['label']} added; "
                        "select it to edit weight, probability, delay...", "success")
        self._set_edges(others + [new])
        self._record()
        self._notify("structure")

    def _on_deleted(self, payload: dict) -> None:
        self._refresh_routes()
        self._record()
        self._show_editor()
        self._notify("structure")

    def _on_moved(self, payload: dict) -> None:
        self._refresh_routes()
        self._record()
        self._notify("layout")

    def delete_selected(self) -> None:
        sel = self.flow.selection or {}
        nodes, edges = list(sel.get("nodes") or []), list(sel.get("edges") or [])
        if not nodes and not edges:
            self.notify("Select a node or a connection first.", "warning")
            return
        with pn.io.hold():
            if edges:
                self.flow.remove_edge(edges)
            if nodes:
                self.flow.remove_node(nodes)
            self.flow.selection = {"nodes": [], "edges": []}
        # remove_* emit deleted events which record and notify

    def auto_layout(self) -> None:
        nodes, edges = self.nodes, self.edges
        graph.auto_layout(nodes, edges)
        self._set_canvas(nodes, edges, self.meta)
        self._record()
        self._notify("layout")

    # -- selection / editors -------------------------------------------------------------------
    def _on_selection(self, event) -> None:
        self._show_editor()
        self.store.selection = self._selected_object()

    def _selected_object(self) -> dict:
        """The selection as the store keeps it: ``{'kind', 'label'}`` (a
        projection by ``index`` when it has no label), or ``{}``."""
        kind, item_id = self.selected()
        if kind == "node":
            node = next((n for n in self.nodes if n["id"] == item_id), None)
            if node is not None:
                return {"kind": node["type"], "label": node["data"].get("label")}
        elif kind == "edge":
            by_id = {n["id"]: n for n in self.nodes}
            edge = next((e for e in self.edges if e["id"] == item_id), None)
            if edge is not None and graph.edge_kind(edge, by_id) == "projection":
                return {"kind": "projection", "label": edge["data"].get("label"),
                        "index": self._projection_index(item_id)}
        return {}

    def selected(self) -> tuple[str | None, str | None]:
        sel = self.flow.selection or {}
        nodes, edges = sel.get("nodes") or [], sel.get("edges") or []
        if nodes:
            return "node", nodes[0]
        if edges:
            return "edge", edges[0]
        return None, None

    def _show_editor(self) -> None:
        kind, item_id = self.selected()
        self.field_editor = None
        try:
            if kind == "node":
                node = next((n for n in self.nodes if n["id"] == item_id), None)
                if node is not None:
                    view = (self._population_editor(node) if node["type"] == "population"
                            else self._stimulus_editor(node))
                    self._editor_box.objects = view
                    return
            if kind == "edge":
                edge = next((e for e in self.edges if e["id"] == item_id), None)
                if edge is not None:
                    self._editor_box.objects = self._edge_editor(edge)
                    return
        except Exception as exc:  # noqa: BLE001
            self._editor_box.objects = [pmui.Alert(object=f"Cannot edit this item: {exc}", severity="error")]
            return
        self._hint.object = self._hint_text()
        self._editor_box.objects = [self._hint]

    def _hint_text(self) -> str:
        # counted from the store: it holds what the canvas shows, also right
        # after an add (the canvas's own node list is patched asynchronously)
        n_pop = len(self.store.document.get("populations") or [])
        n_stim = len(self.store.document.get("stimuli") or [])
        return ("**Select** a population, stimulus or connection to edit it.\n\n"
                "Add from the palette (click or drag); connect the right handle of a node to the left "
                f"handle of a population. On the canvas: {n_pop} population(s), {n_stim} stimulus(i).")

    def _show_hint(self) -> None:
        if self._editor_box.objects and self._editor_box.objects[0] is self._hint:
            self._hint.object = self._hint_text()

    def _header(self, title: str, subtitle: str = "") -> pn.pane.Markdown:
        return pn.pane.Markdown(f"### {title}\n{subtitle}", sizing_mode="stretch_width", margin=(0, 5))

    def _label_input(self, node: dict) -> pmui.TextInput:
        w = pmui.TextInput(label="label", value=node["data"]["label"], sizing_mode="stretch_width",
                           helper_text="unique name of this object", css_classes=["nc-label-input"])

        def rename(event):
            new = (event.new or "").strip()
            old = node["data"]["label"]
            if new == old:
                return
            others = [lab for lab in self._labels() if lab != old]
            if not new:
                w.error_state, w.helper_text = True, "Refused: a label cannot be empty"
                return
            if new in others:
                w.error_state, w.helper_text = True, f"Refused: {new!r} is already used"
                return
            w.error_state, w.helper_text = False, "unique name of this object"
            if node["type"] == "population":
                graph.rename_population(self.meta, old, new)
            node["data"]["label"] = new
            node["data"].pop("_auto_label", None)
            self._patch_node(node, {"label": new, **({"_auto_label": None} if False else {})})
            self._record()
            self._notify("structure")
        w.param.watch(rename, "value")
        return w

    def _patch_node(self, node: dict, patch: dict) -> None:
        self.flow.patch_node_data(node["id"], patch)
        # patch_node_data replaced node data by a merged dict; keep ours authoritative
        for n in self.flow.nodes:
            if (n["id"] if isinstance(n, dict) else n.id) == node["id"] and isinstance(n, dict):
                n["data"] = copy.deepcopy(node["data"])
        self.flow.patch_node_props(node["id"], {"label": graph.display_label(node["type"], node["data"])})

    def _population_editor(self, node: dict) -> list:
        data = node["data"]
        cls = get_model(data["model"])
        groups = catalog.model_groups()
        model_sel = pmui.Select(label="model", value=cls.registry_name(), sizing_mode="stretch_width",
                                options=[m for names in groups.values() for m in names],
                                css_classes=["nc-model-select"])
        n_input = pmui.IntInput(label="n (neurons)", value=int(data["n"]), sizing_mode="stretch_width",
                                helper_text="1 … 10 000 000", css_classes=["nc-n-input"])

        def set_model(event):
            new_cls = get_model(event.new)
            keep = {k: v for k, v in data.get("params", {}).items() if k in new_cls.parameter_names()}
            data["model"], data["params"] = new_cls.registry_name(), keep
            data.pop("state", None)  # saved state belongs to the old model
            self._patch_node(node, {"model": data["model"], "params": keep})
            self._record()
            self._show_editor()
            self._notify("structure")

        def set_n(event):
            from engine.network.population import check_size
            try:
                n = check_size(event.new)
            except (TypeError, ValueError) as exc:
                n_input.error_state, n_input.helper_text = True, f"Refused: {exc}"
                return
            n_input.error_state, n_input.helper_text = False, "1 … 10 000 000"
            data["n"] = n
            data.pop("state", None)  # saved per-neuron state no longer fits
            self._patch_node(node, {"n": n})
            self._record()
            self._notify("structure")

        model_sel.param.watch(set_model, "value")
        n_input.param.watch(set_n, "value")

        def on_param(name, value):
            data.setdefault("params", {})[name] = value
            self._patch_node(node, {"params": dict(data["params"])})
            self._record()
            self._notify("param", {"what": "population", "label": data["label"], "name": name, "value": value})

        # judged with the population's other parameters: whether a value is
        # allowed can depend on them (a fixed-point width must exceed its fraction)
        self.field_editor = FieldEditor(model_fields(cls.registry_name(), data.get("params")),
                                        lambda name, v: validate_model_value(cls.registry_name(), name, v,
                                                                             data.get("params")),
                                        on_param)
        eq = cls.equations().split("\n\n")[0]
        return [self._header(f"Population {data['label']}", f"*{cls.registry_name()}* — {eq[:200]}"),
                self._label_input(node), model_sel, n_input,
                pn.pane.Markdown("**Parameters** (bounds in brackets; values refused by the engine are "
                                 "shown in red)", margin=(5, 5)),
                self.field_editor, *self._surrogate_editor(node),
                pn.pane.Markdown(f"<small>Reference: {cls.reference}</small>", margin=(0, 5))]

    def _surrogate_editor(self, node: dict) -> list:
        """This population's surrogate gradient for training (``"surrogate"``
        of its entry, ``engine.training.spec``): the network's default, or one
        of the six with its own path and shape parameter."""
        from engine.training.spec import SHAPE_PARAMS, SURROGATE_NAMES, SURROGATE_PATHS, normalize_override

        data = node["data"]
        ov = data.get("surrogate") or None
        name_sel = pmui.Select(label="surrogate (training)", value=ov["name"] if ov else NETWORK_DEFAULT,
                               options=[NETWORK_DEFAULT, *SURROGATE_NAMES], sizing_mode="stretch_width",
                               css_classes=["nc-pop-surrogate"])
        path_sel = pmui.Select(label="surrogate path", value=(ov or {}).get("path", NETWORK_DEFAULT),
                               options=[NETWORK_DEFAULT, *SURROGATE_PATHS], sizing_mode="stretch_width",
                               visible=ov is not None, css_classes=["nc-pop-surrogate-path"])
        shape = pmui.FloatInput(label="shape parameter", visible=False, sizing_mode="stretch_width",
                                css_classes=["nc-pop-surrogate-shape"])

        def show_shape(name, params):
            pname, default = SHAPE_PARAMS.get(name, (None, None))
            shape.visible = pname is not None
            if pname is not None:
                shape.param.update(label=pname, value=float(params.get(pname, default)), error_state=False,
                                   helper_text="")

        if ov:
            show_shape(ov["name"], ov.get("params") or {})

        def changed(event):
            name = name_sel.value
            if name == NETWORK_DEFAULT:
                entry = None
            else:
                pname, default = SHAPE_PARAMS[name]
                # a newly chosen surrogate starts at its reference default
                value = default if event.obj is name_sel else shape.value
                entry = {"name": name, "params": {} if pname is None else {pname: value}}
                if path_sel.value != NETWORK_DEFAULT:
                    entry["path"] = path_sel.value
                try:
                    entry = normalize_override(entry, f"population {data['label']!r} surrogate")
                except ValueError as exc:
                    shape.error_state, shape.helper_text = True, f"Refused: {exc}"
                    return
            if entry is None:
                data.pop("surrogate", None)
            else:
                data["surrogate"] = entry
            path_sel.visible = entry is not None
            if entry is None:
                shape.visible = False
            elif event.obj is name_sel:
                show_shape(name, entry["params"])
            else:
                shape.error_state, shape.helper_text = False, ""
            self._patch_node(node, {"surrogate": entry})
            self._record()
            self._notify("structure")

        for w in (name_sel, path_sel, shape):
            w.param.watch(changed, "value")
        return [pn.pane.Markdown("**Surrogate gradient** (used by `Network.to_torch`)", margin=(5, 5)),
                name_sel, path_sel, shape]

    def _stimulus_editor(self, node: dict) -> list:
        data = node["data"]
        kind = data[graph.STIM_TYPE]

        def on_param(name, value):
            data[name] = value
            self._patch_node(node, {name: value})
            self._record()
            self._notify("param", {"what": "stimulus", "label": data["label"], "name": name, "value": value})

        params = graph.stimulus_params(data)
        self.field_editor = FieldEditor(catalog.stimulus_fields(kind, params),
                                        lambda name, v: catalog.validate_stimulus(kind, data, name, v),
                                        on_param)
        by_id = {n["id"]: n for n in self.nodes}
        tgt = next((by_id[e["target"]]["data"]["label"] for e in self.edges if e["source"] == node["id"]),
                   None)
        target = f"drives **{tgt}**" if tgt else "not connected: drives the network's first population"
        return [self._header(f"Stimulus {data['label']}", f"*{kind}* — {target}"),
                self._label_input(node), self.field_editor]

    def _edge_editor(self, edge: dict) -> list:
        by_id = {n["id"]: n for n in self.nodes}
        src, tgt = by_id[edge["source"]], by_id[edge["target"]]
        if src["type"] == "stimulus":
            return [self._header("Drive", f"{src['data']['label']} → {tgt['data']['label']}"),
                    pn.pane.Markdown("A stimulus adds its current to the target population. "
                                     "Select the stimulus node to edit its parameters.")]
        data = edge["data"]
        # one field per parameter the engine declares for a projection
        fields = [f for f in declared_fields("Projection", data)]

        def validate(name, value):
            from engine.network.population import Population
            from engine.network.projection import Projection
            if name == "tau_syn" and value in (None, 0, 0.0):
                value = None
            trial = {k: v for k, v in data.items() if k not in ("label", "csr", "plasticity")}
            trial[name] = value
            n_s = min(int(src["data"]["n"]), 64)
            n_t = n_s if src["id"] == tgt["id"] else min(int(tgt["data"]["n"]), 64)
            if trial.get("topology") == "one_to_one" and src["data"]["n"] != tgt["data"]["n"]:
                raise ValueError("one_to_one needs source and target of the same size")
            a = Population(src["data"]["model"], n_s)
            b = a if src["id"] == tgt["id"] else Population(tgt["data"]["model"], n_t)
            Projection(a, b, **trial)
            return value

        def on_param(name, value):
            data[name] = value
            data.pop("csr", None)  # explicit synapses are regenerated from the edited spec
            self.flow.patch_edge_data(edge["id"], {name: value})
            for e in self.flow.edges:
                if isinstance(e, dict) and e["id"] == edge["id"]:
                    e["data"] = copy.deepcopy(data)
            # props patches merge, so a self-loop keeps its loop fields
            look = graph.edge_look("projection", data)
            self.flow.patch_edge_props(edge["id"], look)
            self._record()
            self._notify("param", {"what": "projection", "edge": edge["id"],
                                   "source": src["data"]["label"], "target": tgt["data"]["label"],
                                   "index": self._projection_index(edge["id"]), "name": name,
                                   "value": value})

        def tau_validate(name, value):
            return validate(name, value)

        self.field_editor = FieldEditor(fields, tau_validate, on_param)
        # tau_syn may be left empty (None): accept it
        tw = self.field_editor.widgets.get("tau_syn")
        if tw is not None:
            tw.placeholder = "instantaneous"
        return [self._header("Projection", f"{src['data']['label']} → {tgt['data']['label']}"),
                self.field_editor]

    def _projection_index(self, edge_id: str) -> int:
        by_id = {n["id"]: n for n in self.nodes}
        proj = [e for e in self.edges if graph.edge_kind(e, by_id) == "projection"]
        return next(i for i, e in enumerate(proj) if e["id"] == edge_id)

    # -- files -------------------------------------------------------------------------------------
    def save_bytes(self) -> tuple[bytes, str]:
        """``(file bytes, file name)`` of the session's network, checked to
        load back (``engine.network.io.dump_document``): plain JSON, or
        gzip-compressed ``.json.gz`` when the JSON is over the 50 MB a plain
        file may have.  A network too big even compressed raises."""
        from engine.network.io import dump_document

        graph.from_document(self.store.document)  # the layout is judged as a load would
        data = dump_document(self.store.document, name="network")
        return data, ("network.json.gz" if data[:2] == GZIP_MAGIC else "network.json")

    def save_text(self) -> str:
        """The session's network as plain JSON text (raises when it is over
        the plain file limit: :meth:`save_bytes` compresses such a network)."""
        from engine.network.io import dump_document

        graph.from_document(self.store.document)
        return dump_document(self.store.document, compress=False, name="network").decode("utf-8")

    def _save_file(self):
        try:
            data, filename = self.save_bytes()
        except Exception as exc:  # noqa: BLE001 - shown; nothing half-valid is written
            self.notify(f"Could not save: {exc}", "error")
            return io.BytesIO(b"")
        # read by the download widget after this callback returns
        self.download.filename = filename
        self.store.mark_saved()
        if filename.endswith(".gz"):
            self.notify(f"The network's JSON is over {MAX_FILE_BYTES / 1e6:.0f} MB: saved compressed as "
                        f"{filename} (Load JSON reads it back).", "info")
        return io.BytesIO(data)

    @_one_render
    def _on_upload(self, event) -> None:
        if event.new is None:
            return
        value = event.new
        name = self.upload.filename or "file"
        try:
            from engine.network.io import parse_document

            if isinstance(value, str):
                value = value.encode("utf-8")
            if len(value) > MAX_FILE_BYTES:
                raise ValueError(f"the file is {len(value) / 1e6:.0f} MB, over the "
                                 f"{MAX_FILE_BYTES / 1e6:.0f} MB limit")
            # JSON or .json.gz (told apart by the gzip magic bytes), parsed strictly
            self.load_document(parse_document(value, name), name=name)
        except Exception as exc:  # noqa: BLE001 - shown, current network kept
            self.notify(f"Could not load {name}: {exc} — the current network is unchanged.", "error")
            ok = False
        else:
            self._forget_example()
            self.notify(f"Loaded {name}.", "success")
            ok = True
        # the file widget would keep showing the file's name with a tick next
        # to a refusal: clear it, so the message above is the one verdict
        self.upload.param.update(value=None, filename=None)
        return ok

    def nir_bytes(self) -> bytes:
        """The session's network as a ``.nir`` file (raises ``ValueError``
        naming what NIR cannot express)."""
        from neurocore_gui.nir_files import export_nir_bytes

        return export_nir_bytes(self.store.network_dict(), dt=self.store.run_dt)

    def _nir_file(self):
        try:
            data = self.nir_bytes()
        except Exception as exc:  # noqa: BLE001 - shown; no half-made file
            self.notify(f"Could not export NIR: {exc}", "error")
            return io.BytesIO(b"")
        self.notify(f"Exported network.nir (dt = {self.store.run_dt:g} s).", "success")
        return io.BytesIO(data)

    def import_nir(self, data: bytes, name: str = "file.nir") -> None:
        """Make the graph of a ``.nir`` file the session's network; raises
        ``ValueError`` with the reason (nothing changed) when it is refused."""
        from neurocore_gui.nir_files import import_nir_bytes

        doc = import_nir_bytes(data, default_dt=self.store.run_dt)
        dt = (doc.get("meta") or {}).get("nir_dt")
        if isinstance(dt, (int, float)) and not isinstance(dt, bool):
            lo, hi = self.store.param.run_dt.bounds
            if lo <= dt <= hi:  # run at the graph's own step
                doc["meta"]["run"] = {"dt": float(dt)}
        self.load_document(doc, name=name)

    @_one_render
    def _on_nir_upload(self, event) -> None:
        if event.new is None:
            return
        name = self.nir_upload.filename or "file.nir"
        try:
            value = event.new.encode("utf-8") if isinstance(event.new, str) else event.new
            self.import_nir(value, name=name)
        except Exception as exc:  # noqa: BLE001 - shown, current network kept
            self.notify(f"Could not import {name}: {exc} — the current network is unchanged.", "error")
            ok = False
        else:
            self._forget_example()
            self.notify(f"Imported {name}.", "success")
            ok = True
        self.nir_upload.param.update(value=None, filename=None)
        return ok

    def _on_example(self, event) -> None:
        if not event.new:
            return
        self.load_example(event.new)

    def _forget_example(self) -> None:
        """The Examples box names the example on the canvas, and nothing once
        the network comes from elsewhere."""
        if self.examples.value:
            self.examples.param.update(value="")

    @_one_render
    def load_example(self, name: str) -> None:
        path = EXAMPLES_DIR / f"{name}.json"
        try:
            self.load_document(path.read_text(), name=name)
        except Exception as exc:  # noqa: BLE001
            self.notify(f"Example {name} could not be loaded: {exc}", "error")
            return
        if self.examples.value != name:
            self.examples.param.update(value=name)
        self.notify(f"Example “{name}” loaded.", "success")

    def show_python(self) -> None:
        from neurocore_gui.codegen import network_to_python
        try:
            src = network_to_python(self.network_dict(), dt=self.run_dt() or 0.001)
        except Exception as exc:  # noqa: BLE001
            self.notify(f"Cannot generate Python: {exc}", "error")
            return
        self._code_text = src
        self.code.object = f"```python\n{src}\n```"
        self.code.visible = self.code_close.visible = self.code_download.visible = True

    def _code_file(self):
        return io.StringIO(getattr(self, "_code_text", ""))

    def _hide_code(self) -> None:
        self.code.visible = self.code_close.visible = self.code_download.visible = False

    # -- layout -------------------------------------------------------------------------------------
    def __panel__(self):
        return pn.Column(self.toolbar(), placed_when_shown(self.message), self.flow,
                         pn.Row(self.code_close, self.code_download), self.code,
                         sizing_mode="stretch_width")

    def sidebar(self):
        """The examples menu, then the palette and the surrogate choice (those
        two sent after the first paint, below it, so nothing already drawn
        moves when they arrive)."""
        if self._sidebar_column is None:
            self._sidebar_column = pn.Column(self.examples, self._sidebar, sizing_mode="stretch_width")
        return self._sidebar_column

    def _sidebar_objects(self) -> list:
        return [pn.pane.Markdown("#### Palette\nClick to add, or drag onto the canvas."),
                self.palette, self.surrogate_picker()]

    def surrogate_picker(self):
        """The network's surrogate choice (the training lab's picker over the
        same store), made once."""
        if self._surrogate_picker is None:
            from neurocore_gui.labs.training import SurrogatePicker

            self._surrogate_picker = SurrogatePicker(store=self.store)
        return self._surrogate_picker

    def editor_panel(self):
        return self._editor_box
