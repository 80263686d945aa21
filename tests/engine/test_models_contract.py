"""Every registered model honours the declaration contract of
``engine/models/base.py``: kernels give identical results when called on a
``ParameterView`` (how simulators call them), ``draws_random`` tells the
truth, and ``describe()`` documents every parameter."""

import numpy as np
import pytest

from engine.models import registry


class _CountingRng:
    """A generator stand-in that records whether the kernel drew from it."""

    def __init__(self, seed=0):
        self.draws = 0
        self._rng = np.random.default_rng(seed)

    def __getattr__(self, name):
        self.draws += 1
        return getattr(self._rng, name)


def _inputs(model, n, steps, seed):
    lo, hi = getattr(model, "current_range", (0.0, 1.0))
    rng = np.random.default_rng(seed)
    cur = rng.uniform(lo, hi, size=(steps, n))
    return np.rint(cur).astype(np.int64) if model.integer else cur


@pytest.mark.parametrize("name", sorted(registry))
def test_kernel_on_parameter_view_equals_kernel_on_model(name):
    model = registry[name]()
    n, steps = 7, 30
    direct, viewed = model.initial_state(n), model.initial_state(n)
    view = model.view()
    for cur in _inputs(model, n, steps, seed=1):
        y1 = model.step(direct, cur.copy(), model.default_dt, np.random.default_rng(3))
        y2 = type(model).step(view, viewed, cur.copy(), model.default_dt, np.random.default_rng(3))
        np.testing.assert_array_equal(y1, y2)
    for var in direct:
        np.testing.assert_array_equal(direct[var], viewed[var], err_msg=f"{name}.{var}")


@pytest.mark.parametrize("name", sorted(registry))
def test_deterministic_models_never_touch_the_generator(name):
    model = registry[name]()
    if model.draws_random():
        pytest.fail(f"{name} draws random numbers with its default parameters; defaults should be noiseless")
    state, rng = model.initial_state(5), _CountingRng()
    for cur in _inputs(model, 5, 20, seed=2):
        model.step(state, cur, model.default_dt, rng)
    assert rng.draws == 0


@pytest.mark.parametrize("name", sorted(registry))
def test_every_parameter_is_documented_with_bounds_or_unit(name):
    info = registry[name]().describe()
    assert info["reference"], f"{name} has no literature reference"
    assert info["equations"], f"{name} has no equations docstring"
    # scale-free constants of models in arbitrary units: neither unit nor bounds
    dimensionless = {("SCIzhikevichNeuron", "b"), ("StochasticDendriticNeuron", "threshold")}
    for pname, p in info["parameters"].items():
        assert p["doc"], f"{name}.{pname} has no doc"
        if p["type"] in ("Real", "Integer") and (name, pname) not in dimensionless:
            # integer codes of the fixed-point model say "(code)" in their doc instead of a unit
            assert p["unit"] or p["bounds"] is not None or "(code)" in p["doc"], \
                f"{name}.{pname} has neither a unit nor bounds"
        if p["bounds"] is not None:
            lo, hi = p["bounds"]
            assert (lo is None or p["default"] >= lo) and (hi is None or p["default"] <= hi), \
                f"{name}.{pname} default {p['default']} is outside its bounds {p['bounds']}"


def test_view_refresh_picks_up_parameter_changes():
    model = registry["LapicqueNeuron"](tau=10.0)
    view = model.view()
    model.tau = 30.0
    assert view.tau == 10.0  # a copy: simulators refresh it once per advance
    view.refresh()
    assert view.tau == 30.0
