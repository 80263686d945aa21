"""Keeps a copy of the session's network in the browser (``localStorage``).

A reload, a closed tab or a server restart starts a new session, which
would otherwise show the default example instead of the network the user was
building.  The store's document is sent here after each change and written
to ``localStorage``; when a page opens, the copy found there is sent back and
loaded (through the same validated path as an uploaded file).  The page's
answer comes once, copy or not (``answered``), so the figures can wait for it
and be drawn once, for the network that stays.  A network too
big for the browser's storage is not copied: then leaving the page with
unsaved changes asks first.
"""

from __future__ import annotations

import json

import param
from panel.custom import JSComponent

__all__ = ["BrowserCopy", "STORAGE_KEY", "MAX_COPY_CHARS"]

STORAGE_KEY = "neurocore.network.v1"
#: browsers give a site about 5 M characters of localStorage in all
MAX_COPY_CHARS = 2_000_000


class BrowserCopy(JSComponent):
    """Invisible component: ``document_json`` goes to ``localStorage``;
    ``restored`` comes back once, when the page opens."""

    document_json = param.String(default="", doc="the network to keep (JSON), '' for nothing new")
    too_big = param.Boolean(default=False, doc="the network is not copied: ask before leaving")
    dirty = param.Boolean(default=False, doc="changes since the last load or save")
    restored = param.String(default="", doc="the copy the browser held when the page opened")
    answered = param.Boolean(default=False, doc="the page has said whether it held a copy")

    _esm = f"""
const KEY = {json.dumps(STORAGE_KEY)}
export function render({{ model }}) {{
  let kept = !model.too_big
  let stored = null
  try {{ stored = window.localStorage.getItem(KEY) }} catch (e) {{ stored = null }}
  // sent once the page's document is idle: a change sent while the session
  // is still starting is applied on the server, but its effects never
  // reached the page
  let sent = false
  // the copy (if any) before the answer: the server applies changes in order
  const send = () => {{
    if (sent) return
    sent = true
    if (stored) model.restored = stored
    model.answered = true
  }}
  const doc = window.Bokeh && window.Bokeh.documents && window.Bokeh.documents[0]
  if (doc && doc.idle && !doc.is_idle) {{ doc.idle.connect(() => setTimeout(send, 0)) }}
  else {{ setTimeout(send, 0) }}
  model.on('document_json', () => {{
    const text = model.document_json
    if (!text) return
    try {{ window.localStorage.setItem(KEY, text); kept = true }} catch (e) {{ kept = false }}
  }})
  model.on('too_big', () => {{ if (model.too_big) kept = false }})
  window.addEventListener('beforeunload', (ev) => {{
    if (model.dirty && !kept) {{ ev.preventDefault(); ev.returnValue = '' }}
  }})
}}
"""

    def __init__(self, store, on_restore, on_answer=None, **params):
        """``on_restore(text)`` loads a copy that differs from the store's
        network; ``on_answer()`` is called once, after it, when the page has
        answered whether it held a copy."""
        super().__init__(width=0, height=0, margin=0, **params)
        self._store = store
        self._on_restore = on_restore
        self._on_answer = on_answer
        store.param.watch(self._copy, "revision")
        store.param.watch(lambda e: setattr(self, "dirty", e.new), "dirty")
        # one watcher for both: a batch with the copy and the answer restores first
        self.param.watch(self._from_page, ["restored", "answered"])

    def _from_page(self, *events) -> None:
        for event in events:
            if event.name == "restored":
                self._restore(event)
        if any(e.name == "answered" and e.new for e in events) and self._on_answer is not None:
            answer, self._on_answer = self._on_answer, None
            answer()

    def _copy(self, event=None) -> None:
        text = json.dumps(self._store.document, separators=(",", ":"), allow_nan=False)
        big = len(text) > MAX_COPY_CHARS
        self.param.update(document_json="" if big else text, too_big=big, dirty=self._store.dirty)

    def _restore(self, event) -> None:
        text = event.new
        if not text:
            return
        try:
            same = json.loads(text) == self._store.document
        except ValueError:
            same = False
        if not same:
            self._on_restore(text)
