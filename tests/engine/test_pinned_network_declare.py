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


# -- round 4: as_array, get_param / set_param by declared name, TimedArray values, stimulus dt --
import math  # noqa: E402
import warnings  # noqa: E402

from engine.network import stimuli  # noqa: E402
from engine.network.declare import as_array  # noqa: E402
from engine.validation import describe  # noqa: E402


@pytest.mark.parametrize("value, kwargs, exc, message", [
    ("12", {}, TypeError, "w must be an array of numbers, got " + describe("12")),
    (None, {}, TypeError, "w must be an array of numbers, got " + describe(None)),
    ({"a": 1}, {}, TypeError, "w must be an array of numbers, got " + describe({"a": 1})),
    (np.array([True, False]), {}, TypeError, "w must hold real numbers, got dtype bool"),
    ([[1.0, 2.0], [3.0]], {"ndims": (2,)}, TypeError, "w must be a (rectangular) array of real numbers"),
    (np.zeros((2, 2, 2)), {"ndims": (1, 2)}, ValueError, "w must have 1-D or 2-D shape, got (2, 2, 2)"),
    (np.zeros(5), {"max_len": 4}, ValueError, "w has 5 entries, more than the limit 4"),
    ([1.0, 2.0, math.nan], {}, ValueError, "w contains non-finite values: entry 2 is nan"),
    ([[1.0, 2.0], [-math.inf, 0.0]], {"ndims": (2,)}, ValueError,
     "w contains non-finite values: entry (1, 0) is -inf"),
])
def test_as_array_messages(value, kwargs, exc, message):
    with pytest.raises(exc) as e:
        as_array(value, "w", **kwargs)
    assert str(e.value) == message


def test_as_array_converts_integer_arrays_to_float():
    out = as_array(np.array([1, 2], np.int32), "w")
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]
    assert as_array(np.zeros(4), "w", max_len=4).size == 4


PROJ_PARAMS = "weight, probability, delay, topology, plasticity, seed, weight_threshold, allow_self_connections, tau_syn"


def test_unknown_parameter_names_list_the_declared_ones():
    a = Population("lif", 2, label="a")
    proj = Projection(a, a, 1.0)
    for call in (lambda: proj.get_param("bogus"), lambda: proj.set_param("bogus", 1)):
        with pytest.raises(ValueError) as e:
            call()
        assert str(e.value) == f"Projection 'a->a' has no parameter 'bogus'; parameters: {PROJ_PARAMS}"


def test_a_parameter_stored_under_another_attribute_name():
    # StateMonitor's declared "record" lives in record_indices (record is its method)
    a = Population("lif", 3, label="a")
    m = StateMonitor(a, record=[1])
    assert m.get_param("record").tolist() == [1]
    m.set_param("record", [0, 2])
    assert m.record_indices.tolist() == [0, 2] and m.get_param("record").tolist() == [0, 2]
    assert m.n_recorded == 2 and callable(m.record)


def test_timed_array_values_must_be_non_empty_and_within_the_limit(monkeypatch):
    with pytest.raises(ValueError) as e:
        TimedArray(values=np.zeros((3, 0)))
    assert str(e.value) == ("TimedArray values must be a non-empty 1-D (T,) or 2-D (T, n) array, "
                            "got shape (3, 0)")
    monkeypatch.setattr(stimuli, "MAX_TIMED_VALUES", 4)
    assert TimedArray(values=[1.0] * 4).values.size == 4
    with pytest.raises(ValueError) as e:
        TimedArray(values=np.ones(5))
    assert str(e.value) == "TimedArray values has 5 entries, more than the limit 4"


def test_a_standalone_poisson_input_uses_its_own_dt():
    # rate 100 Hz at dt = 10 ms: p = 1, every step spikes (at the 1 ms fallback p would be 0.1)
    stim = PoissonInput(n=3, rate_hz=100.0, weight=2.0, dt=0.01)
    out = np.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # standalone, its dt is the step: nothing differs, no warning
        stim.apply(0, out)
    assert out.tolist() == [2.0, 2.0, 2.0]


def test_a_dt_difference_of_exactly_the_tolerance_is_the_same_step():
    # own = m 2^-62 with m = 5e15: 1e-9 * own rounds to N 2^-62 (N = 5e6), a whole number of
    # own's ulps, so own - N 2^-62 differs from own by exactly the tolerance (1e-9 of the larger)
    m, n = 5 * 10 ** 15, 5 * 10 ** 6
    own, run_dt = math.ldexp(m, -62), math.ldexp(m - n, -62)
    assert abs(own - run_dt) == 1e-9 * own  # the boundary itself
    stim = TimedArray(values=[1.0], dt=own)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert stim.step_dt(run_dt) == own
    with pytest.warns(RuntimeWarning, match="differs from the run's step"):
        stim.step_dt(math.ldexp(m - n - 1, -62))


def test_constructor_argument_errors_name_the_class_and_parameter():
    a = Population("lif", 2, label="a")
    with pytest.raises(TypeError) as e:
        Projection(a, a, 1.0, 1.0, 0, "random", None, 42, 0.0, "extra")
    assert str(e.value) == ("Projection takes at most 7 positional parameter(s) (weight, probability, delay, "
                            "topology, plasticity, seed, weight_threshold), got 8")
    with pytest.raises(TypeError) as e:
        StepCurrent(0, 5, onset=1)
    assert str(e.value) == "StepCurrent got parameter 'onset' twice"
    with pytest.raises(TypeError) as e:
        StepCurrent(bogus=1)
    assert str(e.value) == "StepCurrent has no parameter 'bogus'; parameters: onset, offset, amplitude"


def test_assigning_a_renamed_parameter_attribute_validates_it(monkeypatch):
    # the attribute -> name map is cached per class; drop it so that it is built here
    monkeypatch.delattr(StateMonitor, "_param_names_cache", raising=False)
    a = Population("lif", 3, label="a")
    m = StateMonitor(a)
    m.record_indices = [2]  # the attribute of the declared "record": validated like set_param
    assert isinstance(m.record_indices, np.ndarray) and m.record_indices.tolist() == [2]
    with pytest.raises(ValueError) as e:
        m.record_indices = [5]
    assert str(e.value) == "StateMonitor of 'a' record indices must lie in [0, 3), got 5"
