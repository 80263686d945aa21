"""engine.resources: refuse before allocating, with the estimate and the limit."""

import time

import numpy as np
import pytest

from engine import resources
from engine.network import Network, Population, Projection, StateMonitor
from engine.network.io import network_from_dict


def _has(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.fixture
def budget():
    def set_to(nbytes):
        resources.set_memory_budget(nbytes)
    yield set_to
    resources.set_memory_budget(None)


def test_default_budget_follows_available_memory(monkeypatch):
    monkeypatch.delenv(resources.ENV_VAR, raising=False)
    avail = resources.available_memory()
    assert avail > 0
    assert abs(resources.memory_budget() - resources.DEFAULT_FRACTION * avail) < 0.05 * avail


def test_budget_from_env_and_api(monkeypatch, budget):
    monkeypatch.setenv(resources.ENV_VAR, "512M")
    assert resources.memory_budget() == 512 << 20
    monkeypatch.setenv(resources.ENV_VAR, "2G")
    assert resources.memory_budget() == 2 << 30
    budget("3G")
    assert resources.memory_budget() == 3 << 30  # the API wins over the variable
    budget(None)
    monkeypatch.setenv(resources.ENV_VAR, "lots")
    with pytest.raises(ValueError, match="NEUROCORE_MEMORY_BUDGET='lots' is not a size"):
        resources.memory_budget()
    with pytest.raises(ValueError, match="memory budget must be >= 1"):
        resources.set_memory_budget(0)


def test_populations_and_synapses_refused_before_allocating(budget):
    budget(100 << 20)
    with pytest.raises(resources.ResourceError, match=r"Population 'big' .* needs about .*MiB, more than the "
                                                      r"memory budget of 100\.0 MiB"):
        Population("HodgkinHuxleyNeuron", 5_000_000, label="big")
    a = Population("lif", 7071, label="a")
    t0 = time.perf_counter()
    with pytest.raises(resources.ResourceError, match=r"Projection 'a->a' needs about 1\.9 GiB"):
        Projection(a, a, 1.0, topology="all_to_all")
    assert time.perf_counter() - t0 < 1.0  # refused from sizes, nothing sampled
    err = pytest.raises(resources.ResourceError, Projection, a, a, 1.0, probability=0.5).value
    assert err.limit == 100 << 20 and err.estimate > err.limit


def test_runs_and_chunks_refused_before_allocating(budget):
    budget(200 << 20)
    pop = Population("lif", 100_000, label="wide")
    net = Network(pop, StateMonitor(pop, ["v"]))
    with pytest.raises(resources.ResourceError, match=r"a run of 1000 steps .* needs about 76\d\.\d MiB"):
        net.run(1.0, dt=1e-3)
    backends = ["numpy", "fixed_point"] + (["compiled"] if _has("numba") else [])
    for backend in backends:
        sim = Network(Population("lif", 10)).simulator(backend, 1e-3)
        t0 = time.perf_counter()
        with pytest.raises(resources.ResourceError, match=r"advance\(n_steps=1000000000000\)"):
            sim.advance(10 ** 12)
        assert time.perf_counter() - t0 < 1.0


def test_absurd_dt_is_refused_not_hung():
    # issue 19: run(2*dt, dt=1000.0) on FitzHugh-Nagumo never returned
    net = Network(Population("FitzHughNagumoNeuron", 3, label="fhn"))
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"population 'fhn' .*dt=1e\+06 ms would take 1e\+07 internal substeps"):
        net.run(2000.0, dt=1000.0)
    assert time.perf_counter() - t0 < 1.0
    net.run(0.004, dt=1e-3)  # a sane step still runs
    assert net.step_count == 4


def test_documents_are_estimated_before_building(budget):
    budget(1 << 30)
    doc = {"schema_version": 1, "populations": [
        {"label": f"hh{i}", "model": "HodgkinHuxleyNeuron", "n": 10_000_000} for i in range(30)]}
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"the network of this document \(largest part: populations\[\d+\] \('hh\d+', n=10000000\)\) needs about "
                                         r".* GiB, more than the memory budget of 1\.0 GiB"):
        network_from_dict(doc)
    assert time.perf_counter() - t0 < 1.0
    doc = {"schema_version": 1, "populations": [{"label": "a", "model": "lif", "n": 7071}],
           "projections": [{"source": "a", "target": "a", "weight": 1.0, "topology": "all_to_all"}] * 4}
    with pytest.raises(ValueError, match="the network of this document"):
        network_from_dict(doc)


def test_a_network_that_fits_is_untouched(budget):
    budget(1 << 30)
    a = Population("lif", 200)
    net = Network(a, Projection(a, a, 0.1, probability=0.2))
    net.run(0.01, dt=1e-3)
    assert resources.network_bytes(net) == pytest.approx(8 * 200 * (2 + 3) + net.projections[0].nnz * 16 + 201 * 8)
    assert np.isfinite(a.voltages).all()


def test_dense_weights_of_the_torch_bridge_are_budgeted(budget):
    pytest.importorskip("torch")
    a = Population("lif", 3000, label="a")
    net = Network(a, Projection(a, a, 0.1, probability=0.001, seed=1, label="sparse"))
    budget(100 << 20)
    with pytest.raises(resources.ResourceError, match=r"projection 'sparse': dense 3000x3000 weights needs "
                                                      r"about 343\.3 MiB, more than the memory budget of 100\.0 MiB"):
        net.to_torch()
