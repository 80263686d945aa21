"""View model: the canvas is a view of the engine's network dict.

``Network.to_dict()`` is the one description of a network.  This module maps
it onto React Flow nodes and edges and back, losslessly:

* each population entry -> a ``population`` node; its ``data`` is the entry
  itself (model, n, params, label, anything else the engine writes);
* each stimulus entry -> a ``stimulus`` node plus a ``drive`` edge to its
  target population;
* each projection entry -> a ``projection`` edge between two population
  nodes; its ``data`` is the entry without source/target;
* everything else in the dict (schema version, seed, monitors, ...) is kept
  verbatim in ``meta``.

Node ids are stable canvas ids (``p1``, ``s1``); the engine refers to
populations by label, so renaming rewrites the references.  Positions live in
an optional ``"layout"`` map ``{node label: {"x", "y"}}`` kept beside the
network dict in saved files (:func:`to_document` / :func:`from_document`).
"""

from __future__ import annotations

import copy
import json
import math

__all__ = [
    "network_to_canvas", "canvas_to_network", "to_document", "from_document",
    "auto_layout", "population_entry", "stimulus_entry", "projection_data",
    "display_label", "unique_label", "rename_population", "DocumentError",
    "edge_look", "edge_routes", "routed_nodes", "is_self_loop",
]

# keys of the engine's network dict (engine.network.io)
POPS, PROJS, STIMS, MONS = "populations", "projections", "stimuli", "monitors"
#: keys of a projection entry naming its populations
SRC, TGT = "source", "target"
#: key of a stimulus entry naming its population and its class
STIM_TARGET, STIM_TYPE = "target", "type"
#: monitor keys that name a population
MON_REF = "population"

NODE_W, NODE_H = 190, 50


def node_width(node: dict) -> float:
    """Estimated width (px) of a node on the canvas: it grows with its label
    (bold 12 px text, 10 px padding), and edges between wide nodes need room."""
    return max(NODE_W, 6.8 * len(display_label(node.get("type"), node.get("data") or {})) + 16)


class DocumentError(ValueError):
    """A saved network file that cannot be shown (the message names the culprit)."""


# -- entries ---------------------------------------------------------------------
def population_entry(model: str, n: int, label: str, params: dict | None = None) -> dict:
    return {"label": label, "model": model, "n": int(n), "params": dict(params or {})}


def stimulus_entry(kind: str, label: str, params: dict) -> dict:
    """Canvas data of a stimulus: the engine entry without its target."""
    return {STIM_TYPE: kind, "label": label, **params}


def stimulus_params(data: dict) -> dict:
    """Constructor arguments of a stimulus entry."""
    return {k: v for k, v in data.items() if k not in (STIM_TYPE, "label", STIM_TARGET)
            and not k.startswith("_")}


def projection_data(**kw) -> dict:
    """Canvas data of a new projection: the engine's declared defaults
    (``engine.network.declare``), then ``kw``."""
    from engine.network.declare import declarations

    d = {"label": None}
    d.update({name: copy.deepcopy(p.default) for name, p in declarations("Projection").items()})
    d.update(kw)
    return d


DEFAULT_META = {"schema_version": 1, "seed": 42}


def display_label(node_type: str, data: dict) -> str:
    if node_type == "population":
        return f"{data.get('label')} · {data.get('model')} · n={data.get('n')}"
    if node_type == "stimulus":
        return f"{data.get('label')} · {data.get(STIM_TYPE)}"
    return str(data.get("label"))


def unique_label(base: str, taken) -> str:
    taken = set(taken)
    if base not in taken:
        return base
    i = 1
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def _edge_label(data: dict) -> str:
    w = data.get("weight")
    csr = (data.get("csr") or {}).get("data") if isinstance(data.get("csr"), dict) else None
    if csr:  # explicit synapses (e.g. trained weights): their mean is what runs
        w = f"{sum(csr) / len(csr):.3g} (mean of {len(csr)})"
    elif isinstance(w, dict):
        w = w.get("dist", "dist")
    elif isinstance(w, (int, float)):
        w = f"{w:g}"
    p = data.get("probability")
    return f"w={w}" + (f", p={p:g}" if isinstance(p, (int, float)) and p != 1 else "")


# -- dict -> canvas ------------------------------------------------------------------
def network_to_canvas(net: dict, layout: dict | None = None) -> tuple[list, list, dict]:
    """``(nodes, edges, meta)`` for a network dict."""
    if not isinstance(net, dict):
        raise DocumentError(f"a network must be a JSON object, got {type(net).__name__}")
    layout = layout or {}
    nodes, edges = [], []
    by_label = {}
    for i, entry in enumerate(net.get(POPS) or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("label", entry.get("model")), str):
            raise DocumentError(f"populations[{i}] must be an object with a 'label' or 'model'")
        entry = copy.deepcopy(entry)
        entry.setdefault("label", entry["model"])  # the engine's default label
        nid = f"p{i + 1}"
        by_label[entry["label"]] = nid
        nodes.append(_node(nid, "population", entry, layout.get(entry["label"])))
    for i, entry in enumerate(net.get(STIMS) or []):
        if not isinstance(entry, dict):
            raise DocumentError(f"stimuli[{i}] must be an object")
        data = copy.deepcopy(entry)
        target = data.pop(STIM_TARGET, None)
        if data.get("label") is None:
            data["label"] = unique_label(str(data.get(STIM_TYPE, "stimulus")),
                                         [n["data"].get("label") for n in nodes])
            data["_auto_label"] = True
        nid = f"s{i + 1}"
        nodes.append(_node(nid, "stimulus", data, layout.get(data["label"])))
        if target is not None:
            if target not in by_label:
                raise DocumentError(f"stimuli[{i}] targets unknown population {target!r}")
            edges.append(_edge(f"d{i + 1}", nid, by_label[target], "drive", {}))
    for i, entry in enumerate(net.get(PROJS) or []):
        if not isinstance(entry, dict):
            raise DocumentError(f"projections[{i}] must be an object")
        data = copy.deepcopy(entry)
        src, tgt = data.pop(SRC, None), data.pop(TGT, None)
        for end, lab in (("source", src), ("target", tgt)):
            if lab not in by_label:
                raise DocumentError(f"projections[{i}] {end} {lab!r} is not a population of this network")
        edges.append(_edge(f"e{i + 1}", by_label[src], by_label[tgt], "projection", data))
    meta = {k: copy.deepcopy(v) for k, v in net.items() if k not in (POPS, PROJS, STIMS)}
    for k, v in DEFAULT_META.items():
        meta.setdefault(k, v)
    if any(n["position"] is None for n in nodes):
        auto_layout(nodes, edges, only_missing=True)
    # an edge's look depends on where its ends are, so it comes after the layout
    routes = edge_routes(nodes, edges)
    node_by_id = {n["id"]: n for n in nodes}
    for e in edges:
        e.update(edge_look(edge_kind(e, node_by_id), e["data"], route=routes[e["id"]]))
    return nodes, edges, meta


def _node(nid, ntype, data, pos):
    return {"id": nid, "type": ntype, "label": display_label(ntype, data),
            "position": dict(pos) if pos else None, "data": data}


def _edge(eid, src, tgt, kind, data):
    """A canvas edge (its look is added once the nodes have positions).  Its
    kind follows from its source node: from a stimulus it is a ``drive`` (the
    stimulus's target), else a ``projection``."""
    return {"id": eid, "source": src, "target": tgt, "data": data}


#: Handles of a population node used only by self-projections (see
#: ``builder.CANVAS_CSS``, which places them and hides them).
LOOP_SOURCE, LOOP_TARGET = "loop_out", "loop_in"
#: How far (px) a self-loop reaches out left of its node.
LOOP_REACH = 38
#: Room (px) a self-loop and its label need left of and above its node.
LOOP_ROOM = (LOOP_REACH + 12, 26)
#: Extra room (px) auto_layout leaves left of a looped node for the label of
#: an edge arriving from the left (it would sit on the loop).
LOOP_LABEL_ROOM = 60
#: Look of a self-projection.  React Flow draws an edge from a node's right
#: (source) handle to its own left (target) handle as a flat line through the
#: node.  A self-loop instead leaves from a hidden source handle low on the
#: node's *left* edge, and a smoothstep path runs right under the node (which
#: hides it), climbs to mid-height between the two handles, comes out past the
#: left edge and turns back into the upper handle: a small loop beside the node,
#: with the arrow entering where inputs enter.  ``stepPosition`` 1 puts the
#: label at the loop's outer side (the CSS lifts it above the loop).
LOOP_LOOK = {"type": "smoothstep", "sourceHandle": LOOP_SOURCE, "targetHandle": LOOP_TARGET,
             "className": "nc-selfloop",
             "pathOptions": {"offset": LOOP_REACH, "borderRadius": 7, "stepPosition": 1.0}}


#: Handles of a population used only by back edges drawn through the gap
#: (source on the node's left edge, target on its right edge, low down; see
#: ``builder.CANVAS_CSS``).
BACK_SOURCE, BACK_TARGET = "back_out", "back_in"
#: Horizontal clearance (px) for an edge to count as running left to right, and
#: vertical clearance for two nodes to count as being in different rows.
COL_GAP, ROW_GAP = 10, 20

#: Looks of projections by route (see :func:`edge_routes`).  React Flow leaves a
#: node on its right (outputs) and enters on its left (inputs), and every path
#: type stays between the heights of its two ends, so a projection whose target
#: is left of its source in the same row is a flat line through both nodes.
#:
#: * ``"back"`` (target left, same row): a straight arrow through the gap, from
#:   a hidden handle low on the source's left edge to one low on the target's
#:   right edge, below the forward edge of a reciprocal pair; its label sits
#:   under the line (CSS in ``builder.CANVAS_CSS``, class ``nc-label-below``).
#: * ``"pair"``: a forward edge whose reverse is a ``"back"`` edge; its label
#:   sits above the line (``nc-label-above``) so the two labels do not meet.
#: * ``"around"`` (target left or in the same column, other row): a smoothstep
#:   path from the usual handles; its horizontal run lies half way between the
#:   two rows, so it passes between the nodes instead of through them.  Its
#:   label would sit where the reverse edge's label sits (both at the midpoint
#:   of the two ends), so it moves under the run, towards the target (class
#:   ``nc-around``).
#: * ``"around_up"``/``"around_down"``: an ``"around"`` edge whose reverse is
#:   one too (same column): both runs and labels meet, so the label of the one
#:   going up sits above the run and the other's below.
_AROUND = {"type": "smoothstep", "pathOptions": {"offset": 22, "borderRadius": 8}}
ROUTE_LOOKS = {
    "loop": LOOP_LOOK,
    "back": {"type": "straight", "sourceHandle": BACK_SOURCE, "targetHandle": BACK_TARGET,
             "className": "nc-back nc-label-below"},
    "pair": {"className": "nc-pair nc-label-above"},
    "around": {**_AROUND, "className": "nc-around"},
    "around_up": {**_AROUND, "className": "nc-around-pair nc-label-above"},
    "around_down": {**_AROUND, "className": "nc-around-pair nc-label-below"},
    "forward": {},
}


def is_self_loop(edge: dict) -> bool:
    return edge.get("source") == edge.get("target")


def edge_routes(nodes: list, edges: list) -> dict:
    """``{edge id: route}`` from the node positions (a key of ``ROUTE_LOOKS``).
    Only projections are routed; drives (from stimuli, which sit left of
    their targets after :func:`auto_layout`) are always ``"forward"``."""
    by_id = {n["id"]: n for n in nodes}
    routes = {}
    for e in edges:
        src, tgt = by_id.get(e["source"]), by_id.get(e["target"])
        route = "forward"
        if src is not None and src.get("type") == "stimulus":
            pass
        elif is_self_loop(e):
            route = "loop"
        elif src is not None and tgt is not None and src.get("position") and tgt.get("position"):
            s, t = src["position"], tgt["position"]
            if t["x"] < s["x"] + node_width(src) + COL_GAP:  # target left of, or above/below, the source
                if abs(t["y"] - s["y"]) >= NODE_H + ROW_GAP:
                    route = "around"
                elif t["x"] + node_width(tgt) + COL_GAP <= s["x"]:
                    route = "back"
        routes[e["id"]] = route
    back = {(e["source"], e["target"]) for e in edges if routes[e["id"]] == "back"}
    around = {(e["source"], e["target"]) for e in edges if routes[e["id"]] == "around"}
    for e in edges:
        pair = (e["target"], e["source"])
        if routes[e["id"]] == "forward" and pair in back:
            routes[e["id"]] = "pair"
        elif routes[e["id"]] == "around" and pair in around:
            up = by_id[e["target"]]["position"]["y"] < by_id[e["source"]]["position"]["y"]
            routes[e["id"]] = "around_up" if up else "around_down"
    return routes


def routed_nodes(edges: list, routes: dict) -> set:
    """Ids of the populations some edge of which uses hidden handles."""
    out = set()
    for e in edges:
        if routes.get(e["id"]) in ("loop", "back"):
            out.update((e["source"], e["target"]))
    return out


def edge_look(kind: str, data: dict, loop: bool = False, route: str | None = None) -> dict:
    """Display fields of an edge (React Flow keys).  ``route``: a key of
    ``ROUTE_LOOKS`` (``loop=True`` is ``route="loop"``); without one, the
    fields every projection has (label, colour, arrow)."""
    if kind == "projection":
        inhib = _is_inhibitory(data)
        colour = "#d62728" if inhib else "#1f77b4"
        look = {"label": _edge_label(data), "style": {"stroke": colour, "strokeWidth": 2},
                "markerEnd": {"type": "arrowclosed", "color": colour}}
        look.update(copy.deepcopy(ROUTE_LOOKS["loop" if loop else route or "forward"]))
        return look
    return {"label": None, "style": {"stroke": "#888", "strokeDasharray": "5 4"},
            "markerEnd": {"type": "arrow", "color": "#888"}}


def _is_inhibitory(data: dict) -> bool:
    w = data.get("weight")
    if isinstance(w, dict):
        w = w.get("mean", w.get("value", w.get("low", 0)))
    try:
        return float(w) < 0
    except (TypeError, ValueError):
        return False


def edge_kind(edge: dict, nodes_by_id: dict) -> str:
    src = nodes_by_id.get(edge["source"])
    return "drive" if src is not None and src["type"] == "stimulus" else "projection"


# -- canvas -> dict -----------------------------------------------------------------
def canvas_to_network(nodes: list, edges: list, meta: dict | None = None) -> dict:
    """The engine network dict described by the canvas (inverse of
    :func:`network_to_canvas`)."""
    net = copy.deepcopy(meta or {})
    node_by_id = {n["id"]: n for n in nodes}
    pops, stims = [], []
    for n in nodes:
        if n["type"] == "population":
            pops.append(copy.deepcopy(n["data"]))
    drive_of = {}
    for e in edges:
        if edge_kind(e, node_by_id) == "drive":
            drive_of[e["source"]] = node_by_id[e["target"]]["data"]["label"]
    for n in nodes:
        if n["type"] != "stimulus":
            continue
        data = copy.deepcopy(n["data"])
        auto = data.pop("_auto_label", False)
        entry = {}
        for k, v in data.items():
            entry[k] = v
        if auto:
            entry["label"] = None
        entry[STIM_TARGET] = drive_of.get(n["id"])
        # keep the engine's key order: type, target, ... as far as we know it
        stims.append(_reorder(entry, n["data"]))
    projs = []
    for e in edges:
        if edge_kind(e, node_by_id) != "projection":
            continue
        entry = {SRC: node_by_id[e["source"]]["data"]["label"],
                 TGT: node_by_id[e["target"]]["data"]["label"]}
        entry.update(copy.deepcopy(e.get("data") or {}))
        projs.append(entry)
    out = {}
    # reproduce the engine's key order (meta keys first as found, then the lists)
    for k in (meta or {}):
        out[k] = net[k]
    out[POPS] = pops
    out[PROJS] = projs
    out[STIMS] = stims
    return out


def _reorder(entry: dict, original: dict) -> dict:
    return entry


# -- rename -----------------------------------------------------------------------------
def rename_population(meta: dict, old: str, new: str) -> None:
    """Rewrite references to population ``old`` in ``meta`` (monitors)."""
    for mon in meta.get(MONS) or []:
        if isinstance(mon, dict) and mon.get(MON_REF) == old:
            mon[MON_REF] = new


# -- documents (saved files) ------------------------------------------------------
def to_document(nodes: list, edges: list, meta: dict) -> dict:
    """A saved file: the network dict, with node positions in
    ``meta.layout`` (the engine keeps ``meta`` as free-form data, so the file
    also loads with ``Network.load``)."""
    net = canvas_to_network(nodes, edges, meta)
    extra = net.get("meta")
    extra = dict(extra) if isinstance(extra, dict) else {}
    # a position that is not a finite number (a canvas glitch) is left out:
    # JSON has no NaN, and the node is laid out again when the file loads
    extra["layout"] = {n["data"]["label"]: {"x": round(float(n["position"]["x"]), 1),
                                            "y": round(float(n["position"]["y"]), 1)}
                       for n in nodes if _finite_position(n.get("position"))}
    net["meta"] = extra
    return net


def _finite_position(pos) -> bool:
    try:
        return pos is not None and math.isfinite(float(pos["x"])) and math.isfinite(float(pos["y"]))
    except (TypeError, KeyError, ValueError):
        return False


def _refuse_constant(name: str):
    raise DocumentError(f"{name} is not allowed in a network file (JSON has no such number)")


def _check_finite(value, where: str) -> None:
    """Free-form data (``meta``) must still be plain, finite JSON, or the
    network could not be saved again."""
    if isinstance(value, float) and not math.isfinite(value):
        raise DocumentError(f"{where}: {value!r} is not allowed in a network file")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")


def from_document(doc) -> tuple[dict, dict]:
    """``(network dict, layout)`` from a parsed file or JSON text."""
    if isinstance(doc, (bytes, str)):
        try:
            doc = json.loads(doc, parse_constant=_refuse_constant)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DocumentError(f"not a JSON file: {exc}") from None
    if not isinstance(doc, dict):
        raise DocumentError(f"a network file must hold a JSON object, got {type(doc).__name__}")
    doc = dict(doc)
    extra = doc.get("meta")
    if extra is not None and not isinstance(extra, dict):
        raise DocumentError(f"meta must be a JSON object (free-form data), got {type(extra).__name__}")
    _check_finite(extra, "meta")
    layout = {}
    if isinstance(extra, dict) and "layout" in extra:
        extra = dict(extra)
        layout = extra.pop("layout") or {}
        if extra:
            doc["meta"] = extra
        else:
            doc.pop("meta")
    if not isinstance(layout, dict):
        raise DocumentError("'layout' must map node labels to {x, y}")
    clean = {}
    for k, v in layout.items():
        try:
            x, y = v["x"], v["y"]
            if isinstance(x, bool) or isinstance(y, bool):
                raise TypeError
            clean[str(k)] = {"x": float(x), "y": float(y)}
        except (TypeError, KeyError, ValueError, OverflowError):
            raise DocumentError(f"meta.layout[{k!r}] must be {{'x': number, 'y': number}}") from None
        if not (math.isfinite(clean[str(k)]["x"]) and math.isfinite(clean[str(k)]["y"])):
            raise DocumentError(f"meta.layout[{k!r}] must hold finite numbers")
    return doc, clean


# -- layout --------------------------------------------------------------------------
def auto_layout(nodes: list, edges: list, only_missing: bool = False) -> None:
    """Layered left-to-right layout: stimuli first, then populations by their
    longest feed-forward distance from a source (cycles broken by DFS order)."""
    ids = [n["id"] for n in nodes]
    succ = {i: [] for i in ids}
    indeg = {i: 0 for i in ids}
    for e in edges:
        if e["source"] in succ and e["target"] in succ and e["source"] != e["target"]:
            succ[e["source"]].append(e["target"])
    # drop back edges (DFS) so cycles still get a layering
    state, back = {}, set()

    def dfs(u):
        state[u] = 1
        for v in succ[u]:
            if state.get(v) == 1:
                back.add((u, v))
            elif v not in state:
                dfs(v)
        state[u] = 2

    order = sorted(ids, key=lambda i: (not i.startswith("s"), i))
    for i in order:
        if i not in state:
            dfs(i)
    for u in ids:
        for v in succ[u]:
            if (u, v) not in back:
                indeg[v] += 1
    layer = {i: 0 for i in ids}
    queue = [i for i in order if indeg[i] == 0]
    while queue:
        u = queue.pop(0)
        for v in succ[u]:
            if (u, v) in back:
                continue
            layer[v] = max(layer[v], layer[u] + 1)
            indeg[v] -= 1
            if indeg[v] == 0:
                queue.append(v)
    # a layer whose nodes have self-loops gets extra room on its left for them,
    # and for the label of an edge coming in beside them
    looped = {layer[e["source"]] for e in edges if is_self_loop(e) and e["source"] in layer}
    width = {}
    for n in nodes:
        width[layer[n["id"]]] = max(width.get(layer[n["id"]], NODE_W), node_width(n))
    x_of = {}
    x = 40.0
    for lay in range(max(layer.values(), default=0) + 1):
        if lay and lay in looped:
            x += LOOP_ROOM[0] + LOOP_LABEL_ROOM
        x_of[lay] = x
        x += width.get(lay, NODE_W) + 80
    rows: dict[int, int] = {}
    for n in sorted(nodes, key=lambda n: (layer[n["id"]], order.index(n["id"]))):
        lay = layer[n["id"]]
        r = rows.get(lay, 0)
        rows[lay] = r + 1
        if only_missing and n.get("position"):
            continue
        n["position"] = {"x": x_of[lay], "y": 40.0 + r * (NODE_H + 50)}
