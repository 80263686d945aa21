"""NIR round trips per node type: us -> NIR file -> us, us -> NIR -> snnTorch,
snnTorch -> NIR -> us.  Prints one line per case: identical spike trains over
T steps or not (with the number of differing spike entries), the spike count
compared, and where they part.

Usage: ``python bench/nir_roundtrip.py [--steps 200]``.  Needs snnTorch and
nirtorch for the peer rows (skipped with a note when missing).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from engine.interop.nir import SNNTORCH_1_0_DT, NIRUnsupported, from_nir, read_nir, to_nir, write_nir  # noqa: E402
from engine.network import Network, Population, Projection, SpikeMonitor, TimedArray  # noqa: E402

DT = 1e-3


def _line(direction, node, a, b, note=""):
    a, b = np.asarray(a, dtype=np.uint8), np.asarray(b, dtype=np.uint8)
    diff = int(np.count_nonzero(a != b))
    first = "" if diff == 0 else f" first_diff_step={int(np.argwhere(a != b)[0][0])}"
    verdict = "identical" if diff == 0 else f"DIFFER ({diff} entries)"
    print(f"{direction:<18} {node:<34} {verdict:<22} spikes ours={int(a.sum())} other={int(b.sum())}{first} {note}")


def _raster(mon, steps, n, start=0):
    r = np.zeros((steps + start, n), dtype=np.uint8)
    s, i = mon.raster_data()
    keep = s < steps + start
    r[s[keep], i[keep]] = 1
    return r[start:]


def _chain(first_model, first_params, second=None, tau_syn=None, delay=0, x=None, recurrent=False):
    a = Population(first_model, 4, params=first_params, label="a")
    objs = [a, TimedArray(x, target=a)]
    if second is not None:
        b = Population(second[0], 3, params=second[1], label="b")
        w = np.random.default_rng(0).uniform(0.2, 1.0, (4, 3))
        objs += [b, Projection(a, b, w, tau_syn=tau_syn, delay=delay)]
    if recurrent:
        objs.append(Projection(a, a, -0.2, allow_self_connections=False))
    net = Network(*objs)
    mons = [SpikeMonitor(p) for p in net.populations]
    net.add(*mons)
    return net, mons


def us_to_us(T, x):
    cases = [
        ("LIF (LapicqueNeuron, exact)", dict(first_model="LapicqueNeuron", first_params={"tau": 10.0})),
        ("LIF (StochasticLIFNeuron, Euler)", dict(first_model="StochasticLIFNeuron", first_params={"tau_mem": 10.0})),
        ("IF (PerfectIntegratorNeuron)", dict(first_model="PerfectIntegratorNeuron", first_params={})),
        ("Linear + CubaLIF (tau_syn)", dict(first_model="LapicqueNeuron", first_params={"tau": 10.0},
                                            second=("LapicqueNeuron", {"tau": 8.0}), tau_syn=5.0)),
        ("Linear + Delay (3 steps)", dict(first_model="LapicqueNeuron", first_params={"tau": 10.0},
                                          second=("StochasticLIFNeuron", {"tau_mem": 6.0}), delay=3)),
        ("recurrent Linear", dict(first_model="LapicqueNeuron", first_params={"tau": 10.0}, recurrent=True)),
    ]
    for name, kw in cases:
        net, mons = _chain(x=x * (5.0 if "Lapicque" in kw["first_model"] else 1.0), **kw)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "n.nir")
            write_nir(net, path, dt=DT)
            back = read_nir(path).network
        net.run(T * DT, dt=DT)
        back.run(T * DT, dt=DT)
        a = np.hstack([_raster(m, T, m.population.n) for m in mons])
        b = np.hstack([_raster(m, T, m.population.n) for m in back.monitors])
        same_doc = "document equal" if back.to_dict() == net.to_dict() else "document differs"
        _line("us->NIR->us", name, a, b, same_doc)


def us_to_snntorch(T, x):
    import torch
    from snntorch.import_nir import import_from_nir

    cases = [
        ("LIF (StochasticLIFNeuron, Euler)",
         dict(first_model="StochasticLIFNeuron", first_params={"tau_mem": 10.0}), 1.0),
        ("LIF (LapicqueNeuron, exact)", dict(first_model="LapicqueNeuron", first_params={"tau": 10.0}), 5.0),
        ("IF (PerfectIntegratorNeuron, C=1)", dict(first_model="PerfectIntegratorNeuron", first_params={}), 1.0),
        # C = 1e4 makes NIR's r = 1 at snnTorch's dt (its importer asserts r == 1)
        ("IF (PerfectIntegratorNeuron, r=1)", dict(first_model="PerfectIntegratorNeuron",
                                                   first_params={"capacitance": 1e4}), 1e4),
        ("Linear + LIF (2 layers, Euler)", dict(first_model="StochasticLIFNeuron", first_params={"tau_mem": 10.0},
                                                second=("StochasticLIFNeuron", {"tau_mem": 6.0})), 1.0),
        ("Linear + CubaLIF (Euler LIF)", dict(first_model="StochasticLIFNeuron", first_params={"tau_mem": 10.0},
                                              second=("StochasticLIFNeuron", {"tau_mem": 6.0}), tau_syn=5.0), 1.0),
    ]
    for name, kw, gain in cases:
        xs = x * gain
        net, mons = _chain(x=xs, **kw)
        g = to_nir(net, dt=DT, peer_dt=SNNTORCH_1_0_DT)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                module = import_from_nir(g)
        except Exception as exc:  # noqa: BLE001 - report what the peer's importer does
            print(f"{'us->NIR->snnTorch':<18} {name:<34} snnTorch import refused: {type(exc).__name__}: {exc}")
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            outs = []
            with torch.no_grad():
                for t in range(T):
                    y, _ = module(torch.tensor(xs[t:t + 1], dtype=torch.float32))
                    y = y[0] if isinstance(y, tuple) else y  # IF comes back without init_hidden
                    outs.append(y.numpy()[0])
        depth = len(net.populations) - 1
        net.run((T + depth) * DT, dt=DT)
        ours = _raster(mons[-1], T, mons[-1].population.n, start=depth)
        note = {"IF (PerfectIntegratorNeuron, r=1)": "snnTorch 1.0.0 imports IF as Leaky(beta=0.9)",
                "LIF (LapicqueNeuron, exact)": "snnTorch steps LIF with forward Euler",
                "Linear + CubaLIF (Euler LIF)": "our synapse decays exactly, snnTorch with Euler"}.get(name, "")
        _line("us->NIR->snnTorch", name, ours, np.array(outs), note)


def snntorch_to_us(T, x):
    import snntorch as snn
    import torch
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(0)

    def leaky(n, beta, **kw):
        return snn.Leaky(beta=torch.full((n,), beta), threshold=torch.ones(n), init_hidden=True,
                         reset_mechanism="zero", **kw)

    builds = {
        "Affine + Leaky (LIF)": lambda: [torch.nn.Linear(4, 3), leaky(3, 0.9, output=True)],
        "Linear + Leaky x2 (LIF)": lambda: [torch.nn.Linear(4, 3, bias=False), leaky(3, 0.9),
                                            torch.nn.Linear(3, 2, bias=False), leaky(2, 0.8, output=True)],
        "Linear + Synaptic (CubaLIF)": lambda: [torch.nn.Linear(4, 3, bias=False),
                                                snn.Synaptic(alpha=torch.full((3,), 0.7), beta=torch.full((3,), 0.85),
                                                             threshold=torch.ones(3), init_hidden=True,
                                                             reset_mechanism="zero", output=True)],
        "Linear + Synaptic, reset_delay=False": lambda: [
            torch.nn.Linear(4, 3, bias=False),
            snn.Synaptic(alpha=torch.full((3,), 0.7), beta=torch.full((3,), 0.85), threshold=torch.ones(3),
                         init_hidden=True, reset_mechanism="zero", reset_delay=False, output=True)],
        "Linear + RLeaky (recurrent)": lambda: [torch.nn.Linear(4, 3, bias=False),
                                                snn.RLeaky(beta=torch.full((3,), 0.9), linear_features=3,
                                                           init_hidden=True, reset_mechanism="zero", reset_delay=False,
                                                           output=True)],
    }
    for name, build in builds.items():
        mods = build()
        with torch.no_grad():
            for m in mods:
                if isinstance(m, torch.nn.Linear):
                    m.weight.mul_(2.0).add_(0.4)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                g = export_to_nir(torch.nn.Sequential(*mods), torch.zeros(1, 4), ignore_dims=[0])
        except Exception as exc:  # noqa: BLE001 - report what the peer's exporter does
            print(f"{'snnTorch->NIR->us':<18} {name:<34} snnTorch export failed: {type(exc).__name__}: {exc}")
            continue
        try:
            imp = from_nir(g, dt=SNNTORCH_1_0_DT)
        except NIRUnsupported as exc:
            print(f"{'snnTorch->NIR->us':<18} {name:<34} refused: {exc}")
            continue
        for m in mods:
            if isinstance(m, snn.SpikingNeuron):
                m.reset_hidden()
        last = []
        with torch.no_grad():
            for t in range(T):
                h = torch.tensor(x[t:t + 1], dtype=torch.float32)
                for m in mods:
                    h = m(h)
                    h = h[0] if isinstance(h, tuple) else h
                last.append(h.numpy()[0])
        ours = imp.run(x)[imp.outputs["output"]]
        note = ("snnTorch's delayed zero reset also zeroes the synaptic current"
                if name == "Linear + Synaptic (CubaLIF)" else "")
        _line("snnTorch->NIR->us", name, ours, np.array(last), note)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args(argv)
    T = args.steps
    x = np.random.default_rng(1).uniform(0.0, 0.5, (T, 4))
    print(f"T={T} steps; ours dt={DT} s; snnTorch 1.0.0 steps with dt={SNNTORCH_1_0_DT} s (time rescaled on export)")
    us_to_us(T, x)
    try:
        import nirtorch  # noqa: F401
        import snntorch  # noqa: F401
    except ImportError as exc:
        print(f"snnTorch rows skipped: {exc}")
        return
    us_to_snntorch(T, x)
    snntorch_to_us(T, x)


if __name__ == "__main__":
    main()
