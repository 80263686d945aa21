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
    name = param.String(default="", doc="where the network came from (example or file name)")
    revision = param.Integer(default=0, doc="bumped on every change of the document")
    structure_revision = param.Integer(default=0, doc="bumped when the simulator must be rebuilt")
    last_change = param.Dict(default={}, doc="what the last change was: kind ('structure' or "
                             "'param'), and for 'param': what, label, name, value")
    dirty = param.Boolean(default=False, doc="changed since it was last loaded or saved")

    run_dt = param.Number(default=0.001, bounds=(1e-6, 0.1), doc="simulation step (s)")
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
                dirty: bool = True) -> None:
        """Make ``document`` the session's network.  Validated first: when the
        engine refuses it, this raises and nothing changes."""
        doc = copy.deepcopy(document)
        if validate:
            self._validate(doc)
        with param.parameterized.batch_call_watchers(self):
            self.document = doc
            if name is not None:
                self.name = name
            self.dirty = dirty
            self.last_change = {"kind": "structure"}
            self.structure_revision += 1
            self.revision += 1

    def set_param(self, kind: str, label: str, name: str, value) -> None:
        """Set one parameter of the named population / projection / stimulus.

        A population's model parameters live under ``params``; every other
        field is a top-level key of the entry (``n``, ``weight``, ``rate_hz``…).
        Validated by the engine first (raises, leaving the document as it was).
        """
        doc = copy.deepcopy(self.document)
        entry = self._find(doc, kind, label)
        if kind == "population" and name not in ("n", "model", "label"):
            entry.setdefault("params", {})[name] = value
        else:
            entry[name] = value
        structural = name in ("n", "model", "label", "source", "target", "topology", "probability",
                              "seed", "allow_self_connections", "delay", "type")
        self._validate(doc)
        with param.parameterized.batch_call_watchers(self):
            self.document = doc
            self.dirty = True
            self.last_change = ({"kind": "structure"} if structural else
                                {"kind": "param", "what": kind, "label": label, "name": name,
                                 "value": value})
            if structural:
                self.structure_revision += 1
            self.revision += 1

    def mark_saved(self) -> None:
        self.dirty = False

    # -- helpers ----------------------------------------------------------------------
    @staticmethod
    def _find(doc: dict, kind: str, label: str) -> dict:
        if kind not in _COLLECTIONS:
            raise ValueError(f"kind must be one of {sorted(_COLLECTIONS)}, not {kind!r}")
        for entry in doc.get(_COLLECTIONS[kind], []):
            if entry.get("label") == label:
                return entry
        raise KeyError(f"no {kind} labelled {label!r} in the network")

    @staticmethod
    def _validate(doc: dict) -> None:
        from engine.network import Network

        Network.from_dict(copy.deepcopy(doc))
