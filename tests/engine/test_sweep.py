"""Parameter sweeps: points, seeds, measures, cancel; Dask LocalCluster, a real
``dask scheduler`` / ``dask worker`` pair started from the CLI on 127.0.0.1,
and a worker killed mid-sweep.  Every distributed table equals the serial one."""
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.network import ConstantCurrent, Network, PoissonInput, Population, Projection
from engine.sweep import (ENV_SCHEDULER, SweepCancelled, grid_points, parse_parameter, point_seed,
                          random_points, sweep)

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).with_name("dask")


def _integrator(capacitance=2.0):
    p = Population("PerfectIntegratorNeuron", 3, params={"capacitance": capacitance}, label="pi")
    return Network(p, ConstantCurrent(0.1, target=p, label="drive"))


def _noisy():
    e = Population("StochasticLIFNeuron", 30, params={"noise_std": 0.2, "tau_mem": 15.0}, label="exc")
    i = Population("LapicqueNeuron", 10, params={"tau": 5.0}, label="inh")
    return Network(e, i, Projection(e, i, 0.6, probability=0.3, seed=1),
                   Projection(i, e, -0.3, probability=0.3, seed=2),
                   PoissonInput(30, 80.0, 1.5, target=e, label="poisson"),
                   ConstantCurrent(0.04, target=e, label="bias"), seed=5)


NOISY_GRID = {"population:exc.tau_mem": [10.0, 20.0],
              ("projection", "exc->inh", "weight"): [0.5, 1.5, 3.0]}


def _same(a, b):
    pd.testing.assert_frame_equal(a.drop(columns="run_time_s"), b.drop(columns="run_time_s"))


def test_points_and_seeds():
    keys, pts = grid_points({"population:a.tau": [1.0, 2.0], "stimulus:s.amplitude": [0.1, 0.2, 0.3]})
    assert [k.column for k in keys] == ["a.tau", "s.amplitude"]
    assert pts == [(1.0, 0.1), (1.0, 0.2), (1.0, 0.3), (2.0, 0.1), (2.0, 0.2), (2.0, 0.3)]
    _, r1 = random_points({"population:a.tau": (1.0, 5.0)}, 50, seed=3)
    _, r2 = random_points({"population:a.tau": (1.0, 5.0)}, 50, seed=3)
    assert r1 == r2 and all(1.0 <= v[0] <= 5.0 for v in r1) and len(set(r1)) == 50
    assert point_seed(0, 1) != point_seed(0, 2) and point_seed(7, 1) == point_seed(7, 1)
    for bad in ("tau", "neuron:a.tau", ("population", "a")):
        with pytest.raises(ValueError, match="parameter"):
            parse_parameter(bad)
    with pytest.raises(ValueError, match="finite"):
        grid_points({"population:a.tau": [1.0, float("nan")]})


def test_bad_arguments_name_themselves():
    net = _integrator()
    with pytest.raises(ValueError, match="no population labelled 'nope'"):
        sweep(net, {"population:nope.capacitance": [1.0]}, backend="serial")
    with pytest.raises(ValueError, match="measures"):
        sweep(net, {"population:pi.capacitance": [1.0]}, measures=("speed",), backend="serial")
    with pytest.raises(ValueError, match="duration"):
        sweep(net, {"population:pi.capacitance": [1.0]}, duration=-1, backend="serial")
    with pytest.raises(ValueError, match="capacitance"):  # the model's own bound check
        sweep(net, {"population:pi.capacitance": [-1.0]}, backend="serial")
    with pytest.raises(ValueError, match="agreement"):
        sweep(_noisy(), NOISY_GRID, measures=("agreement",), backend="serial")


def test_serial_measures_match_the_analytic_rate():
    net = _integrator()
    amps = [0.0625, 0.125, 0.25]  # exact in binary: no rounding in the sum of steps
    caps = [1.0, 2.0]
    df = sweep(net, {"stimulus:drive.amplitude": amps, "population:pi.capacitance": caps}, duration=0.3,
               measures=("rate", "count", "cv_isi"), backend="serial")
    assert len(df) == 6 and list(df["point"]) == list(range(6))
    for _, row in df.iterrows():
        # v += I dt/C from 0: one spike every ceil(C / (I dt)) steps (dt = 1 ms, threshold 1)
        period = math.ceil(row["pi.capacitance"] / (row["drive.amplitude"] * 1.0) - 1e-9)
        assert row["count[pi]"] == 3 * (300 // period)
        assert row["rate[pi]"] == pytest.approx(row["count[pi]"] / (3 * 0.3))
        assert row["cv_isi[pi]"] == pytest.approx(0.0)  # perfectly regular
        assert row["run_time_s"] > 0
    assert df["rate[pi]"].is_monotonic_increasing is False  # grid order: amplitude slowest
    assert df.loc[df["pi.capacitance"] == 1.0, "rate[pi]"].is_monotonic_increasing


def test_float_vs_fixed_agreement_measure():
    p = Population("LapicqueNeuron", 4, params={"tau": 10.0}, label="lif")
    net = Network(p, ConstantCurrent(1.5, target=p, label="drive"))
    df = sweep(net, {"stimulus:drive.amplitude": [1.2, 1.5, 2.5]}, duration=0.2,
               measures=("count", "agreement"), backend="serial")
    from engine.hardware.report import compare_float_fixed

    assert (df["count[lif]"] > 0).all()
    for _, row in df.iterrows():
        q = Population("LapicqueNeuron", 4, params={"tau": 10.0}, label="lif")
        ref = compare_float_fixed(Network(q, ConstantCurrent(row["drive.amplitude"], target=q)), n_steps=200)
        assert row["agreement[lif]"] == ref.populations["lif"].mean_agreement
    assert df["agreement[lif]"].nunique() > 1  # the measure moves with the parameter


def test_seed_per_point_is_reproducible_and_independent():
    a = sweep(_noisy(), NOISY_GRID, seed=11, backend="serial", measures=("count", "cv_isi"))
    b = sweep(_noisy(), NOISY_GRID, seed=11, backend="serial", measures=("count", "cv_isi"))
    c = sweep(_noisy(), NOISY_GRID, seed=12, backend="serial", measures=("count", "cv_isi"))
    _same(a, b)
    assert not a["count[exc]"].equals(c["count[exc]"])
    assert a["count[exc]"].min() > 0 and a["count[inh]"].max() > 0
    # a stronger exc->inh weight drives inh harder
    for tau in (10.0, 20.0):
        inh = a.loc[a["exc.tau_mem"] == tau, "count[inh]"].to_numpy()
        assert inh[-1] > inh[0]


def test_cancel_returns_the_finished_points():
    stop = threading.Event()

    def on_result(row, done, total):
        if done == 2:
            stop.set()

    with pytest.raises(SweepCancelled) as info:
        sweep(_noisy(), NOISY_GRID, backend="serial", on_result=on_result, cancel=stop)
    assert len(info.value.partial) == 2


def test_local_cluster_equals_serial():
    serial = sweep(_noisy(), NOISY_GRID, seed=4, backend="serial", measures=("rate", "cv_isi"))
    links, seen = [], []
    dist = sweep(_noisy(), NOISY_GRID, seed=4, measures=("rate", "cv_isi"), n_workers=2,
                 on_start=links.append, on_result=lambda row, d, t: seen.append(d))
    _same(serial, dist)
    assert links and links[0].startswith("http://127.0.0.1:")
    assert seen == list(range(1, 7))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cli_cluster():
    """A real scheduler and two workers from Dask's CLI, on 127.0.0.1 only; killed at teardown."""
    if not DASK.exists():
        pytest.fail(f"the dask CLI is missing at {DASK} (dask[distributed] is a dependency)")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = dict(cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  start_new_session=True)
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **common)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([str(DASK), "worker", address, "--host", "127.0.0.1",
                                           "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                           "--death-timeout", "60"], **common))
        from dask.distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="5s") as c:
                    c.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address, procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def test_cli_scheduler_by_address_and_env_equals_serial(cli_cluster, monkeypatch):
    address, _ = cli_cluster
    serial = sweep(_noisy(), NOISY_GRID, seed=9, backend="serial", measures=("rate", "count", "cv_isi"))
    by_arg = sweep(_noisy(), NOISY_GRID, seed=9, address=address, measures=("rate", "count", "cv_isi"))
    _same(serial, by_arg)
    monkeypatch.setenv(ENV_SCHEDULER, address)
    links = []
    small = {"population:exc.tau_mem": [10.0, 20.0]}
    by_env = sweep(_noisy(), small, seed=9, measures=("count",), on_start=links.append)
    _same(sweep(_noisy(), small, seed=9, measures=("count",), backend="serial"), by_env)
    assert links and links[0] is None or "127.0.0.1" in str(links[0])


def test_cancel_on_a_cluster(cli_cluster):
    address, _ = cli_cluster
    stop = threading.Event()
    grid = {"population:exc.tau_mem": list(np.linspace(8.0, 20.0, 12))}
    with pytest.raises(SweepCancelled) as info:
        sweep(_noisy(), grid, address=address, duration=0.3, measures=("count",), cancel=stop,
              on_result=lambda row, done, total: stop.set())
    assert 1 <= len(info.value.partial) < 12


def test_cancel_does_not_wait_for_a_running_point(cli_cluster):
    address, _ = cli_cluster
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(SweepCancelled) as info:
            # two points of ~30 s of simulated time each: far longer than the wait below
            sweep(_noisy(), {"population:exc.tau_mem": [10.0, 20.0]}, address=address, duration=30.0,
                  measures=("count",), cancel=stop)
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 5.0
    assert len(info.value.partial) == 0


def test_sweep_survives_a_killed_worker(cli_cluster):
    address, procs = cli_cluster
    grid = {"population:exc.tau_mem": [8.0, 12.0, 16.0, 20.0], "stimulus:bias.amplitude": [0.02, 0.04, 0.06]}
    killed = []

    def on_result(row, done, total):
        if done == 1 and not killed:
            victim = procs[2]
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
            killed.append(victim.pid)

    dist = sweep(_noisy(), grid, seed=21, address=address, duration=1.0, measures=("count",),
                 on_result=on_result)
    assert killed and procs[2].poll() is not None  # a worker really died mid-sweep
    from dask.distributed import Client

    with Client(address, timeout="5s") as c:
        assert len(c.scheduler_info()["workers"]) == 1  # ...the scheduler saw it go
    assert list(dist["point"]) == list(range(12))  # ...and every point still came back
    serial = sweep(_noisy(), grid, seed=21, backend="serial", duration=1.0, measures=("count",))
    _same(serial, dist)


def test_sweepable_parameters_lists_numeric_fields():
    from engine.sweep import sweepable_parameters

    found = dict(sweepable_parameters(_noisy().to_dict()))
    assert found["population:exc.tau_mem"] == 15.0 and found["projection:exc->inh.weight"] == 0.6
    assert found["stimulus:poisson.rate_hz"] == 80.0 and found["stimulus:bias.amplitude"] == 0.04
    assert isinstance(found["projection:exc->inh.delay"], int)
    assert isinstance(found["population:exc.refractory_period"], int)
    assert not any(k.endswith((".seed", ".dt", ".n")) for k in found)


def test_progress_bar_in_the_terminal(capsys):
    sweep(_integrator(), {"population:pi.capacitance": [1.0, 2.0, 4.0]}, backend="serial", progress=True)
    err = capsys.readouterr().err
    assert "3/3 points" in err and "1/3 points" in err


def test_engine_modules_load_dask_pandas_and_nir_only_when_used():
    code = ("import sys, engine, engine.sweep, engine.interop.nir; "
            "print(sorted(m for m in ('dask', 'distributed', 'pandas', 'nir', 'panel') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
