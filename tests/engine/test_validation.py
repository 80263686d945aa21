"""engine.validation: the one path every number takes (file, API, editor)."""

import numpy as np
import param
import pytest

from engine.models.base import Count, Real, get_model
from engine.network import Population, Projection, StepCurrent
from engine.validation import (MAX_INT, ArgumentTypeError, HugeInteger, check_param, integer, real,
                               whole_steps)


@pytest.mark.parametrize("value, error, match", [
    (10 ** 400, ValueError, "tau is out of range: an integer of about 401 digits does not fit a float"),
    (float("nan"), ValueError, "tau must be finite"),
    (float("-inf"), ValueError, "tau must be finite"),
    (1 + 2j, TypeError, r"tau must be a real number, got \(1\+2j\)"),
    (np.array([1.0, 2.0]), TypeError, r"tau must be a real number, got an array of shape \(2,\)"),
    (np.array(3.0), TypeError, r"got an array of shape \(\)"),
    ([1.0], TypeError, "got a list of length 1"),
    (True, TypeError, r"got a bool \(True\)"),
    ("3", TypeError, "must be a real number, got '3'"),
    (None, TypeError, "got None"),
    (HugeInteger(5000), ValueError, "out of range: <an integer of 5000 digits>"),
])
def test_real_refuses_with_the_name(value, error, match):
    with pytest.raises(error, match=match):
        real(value, "tau")


def test_real_bounds_and_kinds():
    assert real(3, "x") == 3.0 and isinstance(real(3, "x"), float)
    assert real(np.float32(0.5), "x") == 0.5
    with pytest.raises(ValueError, match="x must be > 0"):
        real(0.0, "x", bounds=(0, None), inclusive=(False, True))
    with pytest.raises(ValueError, match="x must be <= 1"):
        real(1.5, "x", bounds=(0, 1))
    err = pytest.raises(ArgumentTypeError, real, "a", "x").value
    assert isinstance(err, TypeError) and isinstance(err, ValueError)


def test_integer_is_bounded_before_conversion():
    assert integer(3.0, "n") == 3 and integer(np.int64(7), "n") == 7
    assert integer(MAX_INT, "n") == MAX_INT
    for bad, match in [(MAX_INT + 1, "out of range"), (10 ** 5000, "does not fit"), (2.5, "whole number"),
                       (float("inf"), "whole number"), (False, "got a bool")]:
        with pytest.raises(ValueError, match=match):
            integer(bad, "n")
    with pytest.raises(TypeError, match="n must be an integer"):
        integer(3.0, "n", allow_float=False)
    assert whole_steps(4.0, "delay") == 4
    with pytest.raises(ValueError, match="delay must be a whole number of steps"):
        whole_steps(1.5, "delay")


def test_check_param_reads_the_declaration():
    assert check_param(Real(1.0, bounds=(0, 2)), 2, "a") == 2.0
    assert check_param(Count(0), 5.0, "b") == 5 and isinstance(check_param(Count(0), 5.0, "b"), int)
    assert check_param(param.Boolean(True), False, "c") is False
    assert check_param(param.Selector(objects=["x", "y"], default="x"), "y", "d") == "y"
    with pytest.raises(ValueError, match="d must be one of 'x', 'y'"):
        check_param(param.Selector(objects=["x", "y"], default="x"), "z", "d")
    with pytest.raises(TypeError, match="c must be true or false"):
        check_param(param.Boolean(True), 1, "c")
    assert check_param(Real(None, allow_None=True), None, "e") is None


def test_model_parameters_take_the_same_path():
    lif = get_model("LapicqueNeuron")
    with pytest.raises(ValueError, match="parameter 'tau' is out of range"):
        lif(tau=10 ** 400)
    with pytest.raises(ValueError, match="parameter 'refractory_period' is out of range"):
        lif(refractory_period=10 ** 400)  # was accepted, then overflowed inside kernels
    with pytest.raises(TypeError, match="parameter 'tau' must be a real number, got an array"):
        lif(tau=np.ones(3))
    with pytest.raises(TypeError, match=r"parameter 'tau' must be a real number, got \(1\+1j\)"):
        lif(tau=1 + 1j)
    assert isinstance(get_model("RulkovMapNeuron")(y_init=-1).y_init, float)


def test_network_objects_name_object_and_field():
    a = Population("lif", 3, label="E")
    b = Population("lif", 3, label="I")
    with pytest.raises(ValueError, match=r"Population 'E' params.tau must be finite"):
        Population("lif", 3, params={"tau": float("nan")}, label="E")
    with pytest.raises(ValueError, match=r"Projection 'E->I' weight must be finite"):
        Projection(a, b, float("inf"))
    with pytest.raises(ValueError, match=r"Projection 'E->I' weight\['dist'\] must be one of"):
        Projection(a, b, {"dist": ["normal"]})
    with pytest.raises(ValueError, match=r"Projection 'E->I' probability must be <= 1.0"):
        Projection(a, b, 1.0, probability=2)
    with pytest.raises(ValueError, match=r"StepCurrent amplitude is out of range"):
        StepCurrent(0, 1, 10 ** 400)
    with pytest.raises(ValueError, match=r"n is out of range"):
        Population("lif", 10 ** 400)
