"""The per-session store: the one place a browser session keeps its network.

The canvas, the editors, the runner, the plots and the labs all read the
network from here and change it only through the methods below; they observe
the store with ``param.watch`` / ``pn.bind`` on :attr:`SessionStore.revision`
(any change) or :attr:`SessionStore.structure_revision` (a change that needs
a rebuild of the simulator).  There is no second live copy of the network.

The network is kept as the engine's JSON document (``Network.to_dict`` form,
:mod:`engine.network.io`), so what is saved, what runs and what the canvas
shows are the same data.  Every change is validated by the engine *before* it
is applied: a refused change raises and leaves the document untouched.
"""

from __future__ import annotations

import copy

import param

__all__ = ["SessionStore", "EMPTY_DOCUMENT"]

EMPTY_DOCUMENT = {"schema_version": 1, "seed": 42, "populations": [], "projections": [],
                  "stimuli": [], "monitors": [], "meta": {}}

#: Collections of the document and the key that names their entries.
_COLLECTIONS = {"population": "populations", "projection": "projections", "stimulus": "stimuli",
                "monitor": "monitors"}


class SessionStore(param.Parameterized):
    """One session's network, run settings, selection and run state."""

    document = param.Dict(default=None, doc="the network as the engine's JSON document; "
                          "canvas positions live in document['meta']['layout']")
    # (not ``name``: every Parameterized has a constant ``name`` of its own)
    source = param.String(default="", doc="where the network came from (example or file "
                          "name); set by ``replace(..., name=...)``")
    revision = param.Integer(default=0, doc="bumped on every change of the document")
    structure_revision = param.Integer(default=0, doc="bumped when the simulator must be rebuilt")
    last_change = param.Dict(default={}, doc="what the last change was: kind ('structure', 'layout', 'run' or "
                             "'param'), and for 'param': what, label, name, value")
    dirty = param.Boolean(default=False, doc="changed since it was last loaded or saved")

    run_dt = param.Number(default=0.001, bounds=(1e-7, 0.1), doc="simulation step (s)")
    backend = param.String(default="numpy", doc="backend the runner compiles for")
    run_state = param.Selector(default="idle", objects=["idle", "running", "paused"])
    selection = param.Dict(default={}, doc="selected object: {'kind': ..., 'label': ...} or {}")

    def __init__(self, **params):
        if params.get("document") is None:
            params["document"] = copy.deepcopy(EMPTY_DOCUMENT)
        super().__init__(**params)

    # -- reading ----------------------------------------------------------------------
    def network_dict(self) -> dict:
        """A private copy of the document (callers may change it freely)."""
        return copy.deepcopy(self.document)

    def build(self):
        """A fresh engine ``Network`` of the current document."""
        from engine.network import Network

        return Network.from_dict(self.network_dict())

    def labels(self, kind: str) -> list[str]:
        return [e.get("label") for e in self.document.get(_COLLECTIONS[kind], [])]

    def entry(self, kind: str, label: str) -> dict:
        """A copy of the document's entry of ``kind`` named ``label``."""
        return copy.deepcopy(self._find(self.document, kind, label))

    # -- changing ---------------------------------------------------------------------
    def replace(self, document: dict, *, name: str | None = None, validate: bool = True,
                dirty: bool = True, kind: str = "structure", origin=None) -> None:
        """Make ``document`` the session's network.  Validated first: when the
        engine refuses it, this raises and nothing changes.

        ``kind``: ``"structure"`` (the simulator must be rebuilt) or
        ``"layout"`` (only canvas positions changed: nothing to rebuild).
        ``origin``: the view that made the change, recorded in
        :attr:`last_change` so that it need not redraw itself.
        """
        if kind not in ("structure", "layout"):
            raise ValueError(f"kind must be 'structure' or 'layout', not {kind!r}")
        if not isinstance(document, dict):
            raise ValueError(f"document must be a dict, not {type(document).__name__}")
        doc = copy.deepcopy(document)
        if validate:
            self._validate(doc)
        with param.parameterized.batch_call_watchers(self):
            self.document = doc
            if name is not None:
                self.source = name
            self.dirty = dirty
            self.last_change = {"kind": kind, "origin": origin}
            if kind == "structure":
                self.structure_revision += 1
                dt = self.document_dt(doc)
                if dt is not None:
                    self.run_dt = dt
            self.revision += 1

    def set_param(self, kind: str, label, name: str, value, *, validate: bool = True,
                  origin=None) -> None:
        """Set one parameter of the named population / projection / stimulus.

        ``label`` is the entry's label, or its index in its list (projections
        often have no label).  A population's model parameters live under
        ``params``; every other field is a top-level key of the entry (``n``,
        ``weight``, ``rate_hz``…).  Validated by the engine first (raises,
        leaving the document as it was); ``validate=False`` for a value the
        caller's editor has just had the engine accept.
        """
        doc = copy.deepcopy(self.document)
        entry = self._find(doc, kind, label)
        index = self._index(doc, kind, label)  # before a "label" change renames the entry
        if kind == "population" and name not in ("n", "model", "label"):
            entry.setdefault("params", {})[name] = value
        else:
            entry[name] = value
        structural = name in ("n", "model", "label", "source", "target", "topology", "probability",
                              "seed", "allow_self_connections", "delay", "type")
        if validate:
            self._validate(doc)
        with param.parameterized.batch_call_watchers(self):
            self.document = doc
            self.dirty = True
            self.last_change = ({"kind": "structure", "origin": origin} if structural else
                                {"kind": "param", "what": kind, "label": entry.get("label"),
                                 "index": index, "name": name, "value": value, "origin": origin})
            if structural:
                self.structure_revision += 1
            self.revision += 1

    def mark_saved(self) -> None:
        self.dirty = False

    def set_run_dt(self, dt: float) -> None:
        """The run's step (s), also kept in the document (``meta.run.dt``) so
        that a saved file runs as it was shown.  Not a structural change."""
        dt = float(dt)
        if not 1e-7 <= dt <= 0.1:
            raise ValueError(f"run_dt must be between 1e-7 and 0.1 s, got {dt!r}")
        doc = copy.deepcopy(self.document)
        meta = doc.get("meta")
        if not isinstance(meta, dict):
            meta = doc["meta"] = {}
        meta.setdefault("run", {})["dt"] = dt
        with param.parameterized.batch_call_watchers(self):
            self.document = doc
            self.run_dt = dt
            self.last_change = {"kind": "run"}
            self.revision += 1

    @staticmethod
    def document_dt(doc: dict) -> float | None:
        """The step (s) a document asks to run with (``meta.run.dt``), if valid."""
        meta = doc.get("meta") if isinstance(doc, dict) else None
        run = meta.get("run") if isinstance(meta, dict) else None
        dt = run.get("dt") if isinstance(run, dict) else None
        if isinstance(dt, (int, float)) and not isinstance(dt, bool) and 1e-7 <= dt <= 0.1:
            return float(dt)
        return None

    # -- helpers ----------------------------------------------------------------------
    @staticmethod
    def _find(doc: dict, kind: str, label) -> dict:
        if kind not in _COLLECTIONS:
            raise ValueError(f"kind must be one of {sorted(_COLLECTIONS)}, not {kind!r}")
        entries = doc.get(_COLLECTIONS[kind], [])
        if isinstance(label, int) and not isinstance(label, bool):
            if 0 <= label < len(entries):
                return entries[label]
            raise KeyError(f"no {kind} number {label} in the network ({len(entries)} there)")
        for entry in entries:
            if entry.get("label") == label:
                return entry
        raise KeyError(f"no {kind} labelled {label!r} in the network")

    @classmethod
    def _index(cls, doc: dict, kind: str, label) -> int:
        entry = cls._find(doc, kind, label)
        return next(i for i, e in enumerate(doc[_COLLECTIONS[kind]]) if e is entry)

    @staticmethod
    def _validate(doc: dict) -> None:
        from engine.network import Network

        Network.from_dict(copy.deepcopy(doc))
