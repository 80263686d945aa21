"""Write the example networks of the app's Examples menu.

Every example is built with the engine API and written with
``engine.network.io.network_to_dict`` (connectivity regenerated from each
projection's spec and seed, so files stay small), plus a ``meta`` block the
engine keeps verbatim: ``meta.run.dt`` (the step the example is meant to run
with, in seconds), ``meta.description`` and ``meta.layout`` (canvas
positions, filled in by the app's auto-layout when missing).

Usage: ``python assets/networks/make_examples.py`` (rewrites the *.json here).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402

from engine.network import (ConstantCurrent, Network, PoissonInput, Population, Projection,  # noqa: E402
                            StepCurrent)
from engine.network.io import network_to_dict  # noqa: E402

LIF = "LapicqueNeuron"


def single_lif_step():
    """One LIF neuron and a step current (0.1 s to 0.8 s): regular firing while the step is on."""
    n = Population(LIF, 1, {"tau": 20.0, "refractory_period": 2}, label="LIF")
    return Network(n, StepCurrent(100, 800, 1.5, target=n, label="step"), seed=1), 0.001


def two_population_ei():
    """Excitatory (80) and inhibitory (20) LIF populations, Poisson-driven, with E->E, E->I, I->E, I->I."""
    e = Population(LIF, 80, {"tau": 20.0, "refractory_period": 2}, label="E")
    i = Population(LIF, 20, {"tau": 10.0, "refractory_period": 1}, label="I")
    objs = [e, i,
            Projection(e, e, 0.5, probability=0.1, seed=1, tau_syn=5.0),
            Projection(e, i, 1.0, probability=0.3, seed=2, tau_syn=5.0),
            Projection(i, e, -2.0, probability=0.3, seed=3, tau_syn=10.0),
            Projection(i, i, -1.0, probability=0.2, seed=4, tau_syn=10.0, allow_self_connections=False),
            PoissonInput(80, 200.0, 5.0, dt=0.001, seed=5, target=e, label="poisson_E"),
            PoissonInput(20, 100.0, 4.0, dt=0.001, seed=6, target=i, label="poisson_I")]
    return Network(*objs, seed=2), 0.001


def synfire_chain():
    """Five groups of 30 LIF neurons, all-to-all feed-forward: a pulse into the first group travels down the chain."""
    groups = [Population(LIF, 30, {"tau": 10.0, "refractory_period": 5}, label=f"G{k + 1}") for k in range(5)]
    objs = list(groups)
    for k in range(4):
        objs.append(Projection(groups[k], groups[k + 1], 0.25, topology="all_to_all", delay=2, seed=k,
                               tau_syn=2.0))
    objs.append(StepCurrent(20, 25, 30.0, target=groups[0], label="pulse"))
    objs.append(PoissonInput(30, 5.0, 8.0, dt=0.001, seed=9, target=groups[0], label="background"))
    return Network(*objs, seed=3), 0.001


def poisson_feedforward():
    """200 input neurons fired by Poisson inputs (10 Hz) feed a layer of 100 LIF neurons (p = 0.1)."""
    inp = Population(LIF, 200, {"tau": 5.0}, label="input")
    out = Population(LIF, 100, {"tau": 20.0, "refractory_period": 2}, label="layer")
    objs = [inp, out,
            PoissonInput(200, 10.0, 8.0, dt=0.001, seed=7, target=inp, label="poisson"),
            Projection(inp, out, 1.2, probability=0.1, seed=8, tau_syn=5.0)]
    return Network(*objs, seed=4), 0.001


def cuba():
    """Vogels & Abbott (2005) CUBA network: 3200 exc / 800 inh LapicqueNeuron, p = 0.02, tau_syn 5/10 ms, dt = 0.1 ms."""
    from cuba import build_cuba

    return build_cuba(monitor=False), 1e-4


def lateral_inhibition():
    """Three channels driven by 1.2 / 1.6 / 1.2: the strongest wins through a shared inhibitory pool."""
    chans = [Population(LIF, 20, {"tau": 20.0, "refractory_period": 2}, label=f"C{k + 1}") for k in range(3)]
    pool = Population(LIF, 20, {"tau": 10.0, "refractory_period": 1}, label="inh")
    objs = [*chans, pool]
    for k, c in enumerate(chans):
        objs.append(Projection(c, pool, 0.15, probability=0.5, seed=10 + k, tau_syn=5.0))
        objs.append(Projection(pool, c, -0.3, probability=0.5, seed=20 + k, tau_syn=10.0))
    for k, (c, amp) in enumerate(zip(chans, (1.2, 1.6, 1.2))):
        objs.append(ConstantCurrent(amp, target=c, label=f"drive{k + 1}"))
        objs.append(PoissonInput(20, 50.0, 0.3, dt=0.001, seed=30 + k, target=c, label=f"noise{k + 1}"))
    return Network(*objs, seed=5), 0.001


def recurrent_inhibition():
    """Feedback inhibition: a driven excitatory population recruits interneurons that inhibit it back."""
    e = Population(LIF, 50, {"tau": 20.0, "refractory_period": 2}, label="E")
    i = Population(LIF, 10, {"tau": 10.0}, label="I")
    objs = [e, i,
            ConstantCurrent(1.5, target=e, label="drive"),
            PoissonInput(50, 30.0, 0.4, dt=0.001, seed=3, target=e, label="noise"),
            Projection(e, i, 0.2, probability=0.4, seed=1, tau_syn=5.0),
            Projection(i, e, -0.6, probability=0.6, seed=2, tau_syn=10.0)]
    return Network(*objs, seed=6), 0.001


def disinhibition():
    """I1 inhibits I2, which tonically silences E; a step into I1 (0.3-0.7 s) releases E."""
    e = Population(LIF, 30, {"tau": 20.0, "refractory_period": 2}, label="E")
    i2 = Population(LIF, 15, {"tau": 10.0, "refractory_period": 1}, label="I2")
    i1 = Population(LIF, 15, {"tau": 10.0, "refractory_period": 1}, label="I1")
    objs = [e, i2, i1,
            ConstantCurrent(1.3, target=e, label="drive_E"),
            ConstantCurrent(1.5, target=i2, label="drive_I2"),
            StepCurrent(300, 700, 2.0, target=i1, label="step_I1"),
            Projection(i2, e, -1.0, probability=0.8, seed=1, tau_syn=10.0),
            Projection(i1, i2, -2.0, probability=0.8, seed=2, tau_syn=10.0)]
    return Network(*objs, seed=7), 0.001


def half_centre_oscillator():
    """Two neurons with spike-frequency adaptation inhibiting each other: they fire in alternating bursts."""
    params = {"tau_m": 20.0, "tau_theta": 500.0, "delta_theta": 0.1, "refractory_period": 3}
    a = Population("AdaptiveThresholdIFNeuron", 1, params, label="A")
    b = Population("AdaptiveThresholdIFNeuron", 1, params, label="B")
    objs = [a, b,
            ConstantCurrent(3.0, target=a, label="drive_A"),
            ConstantCurrent(2.91, target=b, label="drive_B"),
            Projection(a, b, -2.0, seed=1, tau_syn=30.0),
            Projection(b, a, -2.0, seed=2, tau_syn=30.0)]
    return Network(*objs, seed=8), 0.001


EXAMPLES = {
    "single_lif_step": single_lif_step,
    "two_population_ei": two_population_ei,
    "synfire_chain": synfire_chain,
    "poisson_feedforward": poisson_feedforward,
    "cuba": cuba,
    "lateral_inhibition": lateral_inhibition,
    "recurrent_inhibition": recurrent_inhibition,
    "disinhibition": disinhibition,
    "half_centre_oscillator": half_centre_oscillator,
}


def build(name: str):
    net, dt = EXAMPLES[name]()
    doc = network_to_dict(net, include_state=True, include_csr=False)
    doc["meta"] = {"description": (EXAMPLES[name].__doc__ or "").strip(), "run": {"dt": dt}}
    return doc


def main() -> int:
    for name in EXAMPLES:
        doc = build(name)
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(doc, allow_nan=False, separators=(",", ":")) + "\n")
        print(f"{path.relative_to(ROOT)}: {os.path.getsize(path)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
