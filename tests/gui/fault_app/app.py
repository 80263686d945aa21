"""The real app (``neurocore_gui/app.py``) with one fault injected where real
ones happen: the live simulator's ``advance``, called in the runner's worker
thread, raises on its fourth chunk.  Served by tests/gui/test_load_faults.py."""
import runpy
from pathlib import Path

import neurocore_gui
from neurocore_gui import runview

FAULT = "injected fault in the simulation thread"
_advance = runview.LiveSimulator.advance


def _failing_advance(self, n):
    self._chunks = getattr(self, "_chunks", 0) + 1
    if self._chunks == 4:
        raise RuntimeError(FAULT)
    return _advance(self, n)


if not getattr(runview.LiveSimulator.advance, "injected", False):  # this script runs once per session
    _failing_advance.injected = True
    runview.LiveSimulator.advance = _failing_advance
runpy.run_path(str(Path(neurocore_gui.__file__).with_name("app.py")))
