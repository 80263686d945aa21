"""Fuzz suite (issue 19): malformed network documents and API calls.

Each generated case either succeeds (and the network then runs two steps)
or raises ``ValueError``/``TypeError`` whose message names the field that
was broken.  Anything else is a *crash*, an error that does not name the
field is *unclear*, more than ``HANG_S`` seconds is a *hang*.  The cases are
derived from a small valid network: one place of the document (or one
argument of a call) is replaced by a hostile value, removed, or joined by an
unknown key.

Bounded for CI: a fixed number of examples, derandomised, about 30-60 s on
a loaded 2-core machine.  ``python tests/engine/test_fuzz.py`` prints the
counts (run it with ``PYTHONPATH`` pointing at another checkout to compare).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.network import (ConstantCurrent, Network, PoissonInput, Population, Projection, RateMonitor,
                            SpikeMonitor, StateMonitor, StepCurrent, TimedArray)

DOC_EXAMPLES = int(os.environ.get("NEUROCORE_FUZZ_DOCS", 800))
API_EXAMPLES = int(os.environ.get("NEUROCORE_FUZZ_CALLS", 1200))
HANG_S = 10.0
#: memory budget during the fuzz: memory bombs must be refused, not tried
FUZZ_BUDGET = 1 << 30

_HUGE_MARK = "@@HUGE_INT_LITERAL@@"


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` eats it."""


def _alarm(signum, frame):
    raise Hang()


# -- hostile values --------------------------------------------------------------------
def _json_values():
    """Values a JSON file can hold (NaN/Infinity as Python floats: json.dumps
    writes them as the literals; the marker becomes a 5000-digit integer)."""
    return [float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 5e-324, -1.0, 0.0, 0.5, 3,
            -1, 0, 2 ** 63, 2 ** 53 + 1, 10 ** 18, 10 ** 400, -10 ** 400, _HUGE_MARK, 10 ** 7, 10 ** 9,
            True, False, None, "x", "", "NaN", "1e3", [], [1.0], [[1.0]], [True], [None], ["a"],
            [1.0, float("nan")], [10 ** 400], {}, {"dist": ["normal"]}, {"dist": "normal"},
            {"dist": "normal", "mean": 10 ** 400, "std": 1}, {"dist": "uniform", "low": 2, "high": 1},
            {"dist": "lognormal", "mean": 1000, "sigma": 10}, {"rule": "stdp", "tau_plus": -1},
            {"rule": "oja"}, {"a": {"b": {"c": {}}}}, list(range(200))]


def _api_values():
    """Values a Python caller can pass (what JSON holds, plus NumPy and complex)."""
    return [v for v in _json_values() if v is not _HUGE_MARK] + [
        10 ** 5000, 1 + 2j, np.array([1.0, 2.0]), np.array(3.0), np.float64("nan"), np.int64(5),
        np.bool_(True), np.array([[1.0, np.inf]]), object(), b"bytes", (1, 2), {"dist": "constant", "value": 1j}]


#: arbitrary JSON trees, for places where any structure may be thrown in
_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(min_value=-10 ** 30, max_value=10 ** 30)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8)


def _base_network():
    e = Population("lif", 12, params={"tau": 10.0, "refractory_period": 2}, label="E")
    i = Population("RulkovMapNeuron", 6, label="I")
    return Network(
        e, i,
        Projection(e, i, {"dist": "normal", "mean": 0.5, "std": 0.1}, probability=0.5, seed=1, label="E->I"),
        Projection(i, e, -0.2, topology="all_to_all", delay=2, tau_syn=5.0, label="I->E"),
        Projection(e, e, 0.1, probability=0.3, allow_self_connections=False,
                   plasticity={"rule": "stdp", "tau_plus": 20.0, "tau_minus": 20.0, "a_plus": 0.01,
                               "a_minus": 0.012, "w_min": 0.0, "w_max": 1.0}, label="E->E"),
        PoissonInput(5, 20.0, 1.0, seed=3, target=e, label="noise"),
        StepCurrent(1, 4, 1.5, target=i, label="pulse"),
        ConstantCurrent(0.2, target=e, label="bias"),
        TimedArray([0.0, 0.5, 1.0], target=e, label="ramp"),
        SpikeMonitor(e, label="spikes"), StateMonitor(i, ["x"], record=[0, 2], label="trace"),
        RateMonitor(e, bin_ms=2.0, label="rate"), seed=5)


def _paths(node, prefix=()):
    """Every place of a document: ``(path tuple, is container)``."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for j, v in enumerate(node[:4]):  # a few items of long lists are enough
            out += _paths(v, prefix + (j,))
    return out


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def _copy(doc):
    return json.loads(json.dumps(doc))


# -- classification --------------------------------------------------------------------
class Stats:
    def __init__(self):
        self.counts = Counter()
        self.examples: dict[str, list] = {}

    def note(self, kind, what):
        self.counts[kind] += 1
        if kind in ("crash", "unclear", "hang"):
            self.examples.setdefault(kind, [])
            if len(self.examples[kind]) < 8:
                self.examples[kind].append(what)

    def summary(self) -> str:
        c = self.counts
        lines = [f"tried {c['tried']}: loaded/ran {c['ok']}, refused clearly {c['clear']}, "
                 f"crashes {c['crash']}, unclear errors {c['unclear']}, hangs {c['hang']}"]
        for kind, items in self.examples.items():
            lines += [f"  {kind}: {item}" for item in items]
        return "\n".join(lines)


def _show(value) -> str:
    """A short, safe text for a value (a 5000-digit int cannot even be printed)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"<int of {value.bit_length()} bits>"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        text = f"<{type(value).__name__}>"
    return text[:40]


#: a document path in an error message, e.g. ``projections[0].target``
_DOC_PATH = re.compile(r"[a-z_]+\[\d+\]\.[A-Za-z_]+")


def _names(path) -> list[str]:
    """Names that an error about ``path`` may give: its keys (innermost first)
    and, for a network object, its label or type."""
    return [p for p in reversed(path) if isinstance(p, str)]


def _classify(stats, what, names, action, extra_ok=(), paths_count=False):
    """Run ``action``; note ok / clear / unclear / crash / hang.  An error is
    clear when it names the broken field (or, for documents, when
    ``paths_count``, the field of another object the change broke, such as a
    projection's ``source`` after its population lost its label)."""
    stats.counts["tried"] += 1
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            action()
    except Hang:
        stats.note("hang", f"{what} (> {HANG_S} s)")
    except (ValueError, TypeError, *extra_ok) as exc:
        msg = str(exc)
        if not names or any(re.search(rf"(?<![A-Za-z_]){re.escape(n)}(?![A-Za-z_])", msg) for n in names[:2]) \
                or (paths_count and _DOC_PATH.search(msg)):
            stats.note("clear", what)
        else:
            stats.note("unclear", f"{what}: {type(exc).__name__}: {msg[:160]}")
    except BaseException as exc:  # noqa: BLE001 - the point: anything else is a crash
        if isinstance(exc, KeyboardInterrupt):
            raise
        stats.note("crash", f"{what}: {type(exc).__name__}: {str(exc)[:160]}")
    else:
        stats.note("ok", what)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if time.perf_counter() - t0 > HANG_S:
            stats.note("hang", f"{what} ({time.perf_counter() - t0:.1f} s)")


def _run_briefly(net):
    net.run(0.002, dt=0.001)


# -- documents -----------------------------------------------------------------------------
def fuzz_documents(stats: Stats, examples: int = DOC_EXAMPLES) -> None:
    base = _base_network().to_dict()
    paths = _paths(base)
    values = _json_values()
    tmp = tempfile.mkdtemp(prefix="nc-fuzz-")

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(paths), op=st.sampled_from(["replace", "replace", "replace", "delete", "add"]),
           value=st.one_of(st.sampled_from(values), _ANY_JSON), via=st.sampled_from(["dict", "file"]))
    def case(path, op, value, via):
        doc = _copy(base)
        names = _names(path)
        if op == "replace":
            if not path:
                doc = value
            else:
                _get(doc, path[:-1])[path[-1]] = value
        elif op == "delete":
            if not path:
                return
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        else:
            target = _get(doc, path)
            if not isinstance(target, dict):
                return
            target["zz_unknown"] = value
            names = ["zz_unknown"]
        what = f"{via} {op} {'.'.join(map(str, path)) or '<root>'} = {_show(value)}"
        if via == "dict":
            if _HUGE_MARK in json.dumps(doc):
                return  # the marker only means something in a file

            def action():
                _run_briefly(Network.from_dict(doc))
        else:
            text = json.dumps(doc).replace(json.dumps(_HUGE_MARK), "9" * 5000)
            file = os.path.join(tmp, "case.json")
            with open(file, "w", encoding="utf-8") as fh:
                fh.write(text)

            def action():
                _run_briefly(Network.load(file))
        _classify(stats, what, names, action, paths_count=True)

    case()


# -- API calls -------------------------------------------------------------------------------
def _calls():
    """``name -> (factory(args) -> object/run, base keyword arguments)``."""
    def pops():
        return Population("lif", 10, label="A"), Population("lif", 10, label="B")

    def population(model="lif", n=10, params=None, label="P"):
        pop = Population(model, n, params=params, label=label)
        _run_briefly(Network(pop))

    def projection(**kw):
        a, b = pops()
        _run_briefly(Network(a, b, Projection(a, b, **kw)))

    def stimulus(cls):
        def make(**kw):
            a, _ = pops()
            _run_briefly(Network(a, cls(**kw, target=a)))
        return make

    def monitor(cls):
        def make(**kw):
            a, _ = pops()
            _run_briefly(Network(a, cls(a, **kw)))
        return make

    def run(**kw):
        Network(Population("FitzHughNagumoNeuron", 5)).run(**kw)

    def advance(n_steps):
        a = Population("lif", 10)
        Network(a, StateMonitor(a, ["v"])).simulator("numpy", 1e-3).advance(n_steps)

    def set_state(values):
        a = Population("lif", 10, label="A")
        a.set_state("v", values)
        _run_briefly(Network(a))

    calls = {
        "Population": (population, {"model": "lif", "n": 10, "params": {"tau": 10.0}, "label": "P"}),
        "Population.params": (lambda **kw: population(params=kw),
                              {"tau": 10.0, "refractory_period": 2, "v_threshold": 1.0}),
        "Rulkov.params": (lambda **kw: population("RulkovMapNeuron", 4, params=kw),
                          {"alpha": 4.1, "y_init": -2.9}),
        "Projection": (projection, {"weight": 0.5, "probability": 0.5, "delay": 1, "topology": "random",
                                    "seed": 1, "weight_threshold": 0.0, "allow_self_connections": True,
                                    "tau_syn": None, "plasticity": None}),
        "PoissonInput": (stimulus(PoissonInput), {"n": 5, "rate_hz": 20.0, "weight": 1.0, "seed": 42}),
        "StepCurrent": (stimulus(StepCurrent), {"onset": 1, "offset": 5, "amplitude": 1.0}),
        "ConstantCurrent": (stimulus(ConstantCurrent), {"amplitude": 1.0}),
        "TimedArray": (stimulus(TimedArray), {"values": [0.0, 1.0]}),
        "StateMonitor": (monitor(StateMonitor), {"variables": ["v"], "record": [0, 1]}),
        "RateMonitor": (monitor(RateMonitor), {"bin_ms": 5.0}),
        "Network.run": (run, {"duration": 0.003, "dt": 0.001}),
        "advance": (advance, {"n_steps": 3}),
        "Network.simulator": (lambda **kw: Network(Population("lif", 4)).simulator(**kw).advance(2),
                              {"backend": "numpy", "dt": 0.001}),
        "set_state": (set_state, {"values": 0.5}),
    }
    # every parameter of every model, run on the NumPy backend (and the
    # fixed-point one for the models it maps)
    from engine.models import get_model, model_names

    def model_run(model, backend, **params):
        pop = Population(model, 3, params=params, label="M")
        Network(pop).run(0.002, dt=0.001, backend=backend)

    for model in model_names():
        base = {k: v for k, v in get_model(model)().values().items() if k != "dt"}
        calls[f"{model}.params"] = (lambda model=model, **kw: model_run(model, "numpy", **kw), base)
    for model in ("LapicqueNeuron", "FixedPointLIFNeuron"):
        base = {k: v for k, v in get_model(model)().values().items() if k != "dt"}
        calls[f"{model}.params@fixed_point"] = (lambda model=model, **kw: model_run(model, "fixed_point", **kw),
                                                base)
    if hasattr(Network, "set"):  # live edits of a built network (not in older engines)
        def live_set(label, name, value):
            net = _base_network()
            net.set(label, name, value)
            _run_briefly(net)

        for label, name, value in (("E", "tau", 12.0), ("I", "y_init", -2.0), ("E->I", "weight", 0.3),
                                   ("I->E", "delay", 1), ("E->E", "probability", 0.2), ("noise", "rate_hz", 5.0),
                                   ("pulse", "offset", 6), ("ramp", "values", [1.0, 2.0]),
                                   ("trace", "record", [1]), ("rate", "bin_ms", 4.0)):
            calls[f"Network.set({label!r}, {name!r})"] = (
                lambda value, label=label, name=name: live_set(label, name, value), {"value": value})
            _ALSO_NAMED[f"Network.set({label!r}, {name!r})"] = (name,)
    return calls


#: other names that identify the field of a call (set_state's values are state variable "v")
_ALSO_NAMED = {"set_state": ("v",)}


def fuzz_api(stats: Stats, examples: int = API_EXAMPLES) -> None:
    calls = _calls()
    targets = [(name, key) for name, (_, base) in calls.items() for key in base]
    values = _api_values()

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(target=st.sampled_from(targets), value=st.sampled_from(values),
           op=st.sampled_from(["replace", "replace", "replace", "replace", "add"]))
    def case(target, value, op):
        name, key = target
        factory, base = calls[name]
        kwargs = dict(base)
        if op == "replace":
            kwargs[key] = value
            names = [key, *_ALSO_NAMED.get(name, ())]
        else:
            kwargs["zz_unknown"] = value
            names = ["zz_unknown"]
        # an unimplemented plasticity rule is a documented NotImplementedError
        extra = (NotImplementedError,) if key == "plasticity" and op == "replace" else ()
        _classify(stats, f"{name}({key}={_show(value)})" if op == "replace" else f"{name}(zz_unknown=...)",
                  names, lambda: factory(**kwargs), extra)

    case()


# -- the tests ---------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fuzz_budget():
    try:
        from engine import resources
    except ImportError:  # an engine without a budget (for comparisons)
        yield
        return
    resources.set_memory_budget(FUZZ_BUDGET)
    yield
    resources.set_memory_budget(None)


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def test_fuzz_documents():
    stats = Stats()
    before = _peak_rss()
    fuzz_documents(stats)
    print(stats.summary())
    # no case allocated more than the budget (the process's peak grew by less)
    assert _peak_rss() - before < FUZZ_BUDGET
    assert stats.counts["tried"] >= 0.8 * DOC_EXAMPLES
    assert stats.counts["crash"] == 0 and stats.counts["hang"] == 0, stats.summary()
    assert stats.counts["unclear"] == 0, stats.summary()
    assert stats.counts["ok"] > 0 and stats.counts["clear"] > stats.counts["ok"] / 10  # both outcomes seen


def test_fuzz_api_calls():
    stats = Stats()
    before = _peak_rss()
    fuzz_api(stats)
    print(stats.summary())
    assert _peak_rss() - before < FUZZ_BUDGET
    assert stats.counts["tried"] >= API_EXAMPLES * 0.9
    assert stats.counts["crash"] == 0 and stats.counts["hang"] == 0, stats.summary()
    assert stats.counts["unclear"] == 0, stats.summary()
    assert stats.counts["ok"] > 0 and stats.counts["clear"] > 0


def main() -> int:
    try:
        from engine import resources

        resources.set_memory_budget(FUZZ_BUDGET)
    except ImportError:
        pass
    total = Counter()
    for name, fn in (("documents", fuzz_documents), ("API calls", fuzz_api)):
        stats = Stats()
        t0 = time.perf_counter()
        fn(stats)
        print(f"{name} ({time.perf_counter() - t0:.1f} s): {stats.summary()}")
        total.update(stats.counts)
    print(f"total: tried {total['tried']}, crashes {total['crash']}, unclear {total['unclear']}, "
          f"hangs {total['hang']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
