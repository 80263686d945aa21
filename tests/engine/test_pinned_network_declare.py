"""Pinned behaviour of the declaration machinery (engine/network/declare.py,
the stimuli's shared ``dt`` field, ``repr``) found unpinned by mutation testing.

``finish``, ``_signature``, ``Field`` and ``_dt_field`` run when the classes are
defined (at import), so these tests call them again on purpose: a test that
only used the classes would never see a change in them.
"""

import inspect

import numpy as np
import param
import pytest

from engine.models.base import Real
from engine.network import Population
from engine.network.declare import Declared, Field, _signature, declarations, finish
from engine.network.monitors import RateMonitor, StateMonitor
from engine.network.projection import Projection
from engine.network.stimuli import PoissonInput, StepCurrent, TimedArray, _dt_field
from engine.validation import check_param


# -- Field ----------------------------------------------------------------------------
def test_field_keeps_every_argument():
    def check(v, where):
        return v

    def to_json(v):
        return [v]

    f = Field(5, check=check, to_json=to_json, unit="mV", kind="required", doc="a field")
    assert f.default == 5
    assert f.check is check and f.to_json is to_json
    assert f.unit == "mV" and f.kind == "required" and f.doc == "a field"


def test_field_defaults():
    f = Field(check=len)
    assert f.default is None and f.to_json is None
    assert f.unit == "" and f.kind == "object"


# -- the generated signatures ---------------------------------------------------------
# expected strings written from each class's Params, _leading, _positional and
# _trailing: leading and positional names are positional-or-keyword, the rest
# of the declaration keyword-only, then the trailing names (default None); a
# "required" field has no default
@pytest.mark.parametrize("cls, expected", [
    (RateMonitor, "(self, population, bin_ms=10.0, *, label=None)"),
    (StateMonitor, "(self, population, variables=None, record=None, *, label=None)"),
    (TimedArray, "(self, values, dt=None, *, target=None, label=None)"),
    (StepCurrent, "(self, onset=0, offset=0, amplitude=1.0, *, target=None, label=None)"),
    (Projection, "(self, source, target, weight=1.0, probability=1.0, delay=0, topology='random', "
                 "plasticity=None, seed=42, weight_threshold=0.0, *, allow_self_connections=True, "
                 "tau_syn=None, label=None)"),
])
def test_signature_of_the_declared_classes(cls, expected):
    assert str(_signature(cls)) == expected
    kinds = [p.kind for p in _signature(cls).parameters.values()]
    assert kinds == sorted(kinds)  # positional-or-keyword first, then keyword-only


def test_signature_without_leading_or_trailing_names():
    class Bare(Declared):
        class Params(param.Parameterized):
            x = Real(1.5, doc="x")
            y = Real(2.0, doc="y")

        _positional = ("x",)

    assert str(_signature(Bare)) == "(self, x=1.5, *, y=2.0)"


def test_finish_wraps_init_with_the_signature():
    class Dummy(Declared):
        class Params(param.Parameterized):
            a = Real(2.0, doc="a")
            b = Real(3.0, doc="b")

        _positional = ("a",)

        def __init__(self, *args, **kwargs):
            self._init_declared(args, kwargs)

    assert finish(Dummy) is Dummy
    d = Dummy(5.0, b=7.0)
    assert (d.a, d.b) == (5.0, 7.0)
    assert str(inspect.signature(Dummy)) == "(a=2.0, *, b=3.0)"
    assert Dummy.__init__.__qualname__ == Dummy.__qualname__ + ".__init__"


def test_defaults_are_the_declared_defaults_copied():
    assert RateMonitor.defaults() == {"bin_ms": 10.0}
    a, b = TimedArray.defaults()["values"], TimedArray.defaults()["values"]
    assert a == [0.0] and a is not b


def test_unknown_kind_names_the_known_kinds():
    with pytest.raises(ValueError, match=r"unknown kind 'NoSuchKind'; known: Projection, StepCurrent, "
                                         r"ConstantCurrent, TimedArray, PoissonInput"):
        declarations("NoSuchKind")


# -- the stimuli's dt field -------------------------------------------------------------
def test_dt_field_declaration():
    f = _dt_field()
    assert f.default is None and f.allow_None is True
    assert f.bounds == (0.0, None) and f.inclusive_bounds == (False, True)
    assert f.unit == "s"
    assert f.doc.startswith("step the stimulus assumes") and "seconds" in f.doc
    # behaviour: empty allowed, zero excluded, any positive step allowed
    assert check_param(f, None, "dt") is None
    assert check_param(f, 0.5, "dt") == 0.5
    with pytest.raises(ValueError, match="dt"):
        check_param(f, 0.0, "dt")


# -- repr and re-seeding ---------------------------------------------------------------
def test_stimulus_repr_lists_parameters_but_not_values():
    assert repr(StepCurrent(2, 5, 1.5)) == "StepCurrent(onset=2, offset=5, amplitude=1.5)"
    assert repr(TimedArray([1.0, 2.0], dt=0.001)) == "TimedArray(dt=0.001)"


def test_poisson_seed_change_reseeds_other_changes_do_not():
    p = PoissonInput(3, 100.0, 1.0, seed=1)
    first = p.rng.random(5)
    np.testing.assert_array_equal(first, np.random.default_rng(1).random(5))
    p.rate_hz = 20.0  # not the seed: the stream goes on
    np.testing.assert_array_equal(p.rng.random(3), np.random.default_rng(1).random(8)[5:])
    p.seed = 7
    np.testing.assert_array_equal(p.rng.random(3), np.random.default_rng(7).random(3))


def test_timed_array_values_are_required():
    pop = Population("LapicqueNeuron", 2)
    with pytest.raises(TypeError, match="TimedArray needs the parameter 'values'"):
        TimedArray(target=pop)
