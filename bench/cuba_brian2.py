"""Brian2 peer of ``bench/cuba.py``: the same CUBA network (Vogels & Abbott
2005 constants, as in Brian2's own example) run by Brian2's
``cpp_standalone`` device with one thread, or its runtime ``cython`` target.

Imports only Brian2 and NumPy, so it can run under another interpreter:
``python bench/cuba_brian2.py DEVICE REPEATS DURATION`` prints one JSON line
``{"walls": [...], "spikes": [...]}``; ``walls`` is Brian2's own measurement
of the run (code generation and C++ compilation excluded).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

TAU_M, V_T, V_R, E_L = 20.0, -50.0, -60.0, -49.0   # ms, mV
TAU_E, TAU_I = 5.0, 10.0                           # ms
W_E, W_I = 60 * 0.27 / 10, -20 * 4.5 / 10          # mV
DT, P_CONNECT = 1e-4, 0.02                         # s


def run_brian2(device: str, repeats: int, duration: float):
    import brian2 as b2

    walls, spikes = [], []
    for _ in range(repeats):
        b2.device.reinit()
        b2.device.activate()
        b2.start_scope()
        if device == "cpp_standalone":
            b2.set_device("cpp_standalone", directory=tempfile.mkdtemp(prefix="cuba_b2_"), build_on_run=True)
            b2.prefs.devices.cpp_standalone.openmp_threads = 0
        else:
            b2.set_device("runtime")
            b2.prefs.codegen.target = "cython"
        b2.defaultclock.dt = DT * b2.second
        eqs = """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
                 dge/dt = -ge / taue : volt
                 dgi/dt = -gi / taui : volt"""
        ns = {"taum": TAU_M * b2.ms, "taue": TAU_E * b2.ms, "taui": TAU_I * b2.ms, "El": E_L * b2.mV,
              "Vt": V_T * b2.mV, "Vr": V_R * b2.mV, "we": W_E * b2.mV, "wi": W_I * b2.mV}
        g = b2.NeuronGroup(4000, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * b2.ms,
                           method="exact", namespace=ns)
        g.v = "Vr + rand() * (Vt - Vr)"
        ce = b2.Synapses(g[:3200], g, on_pre="ge += we", namespace=ns)
        ce.connect(p=P_CONNECT)
        ci = b2.Synapses(g[3200:], g, on_pre="gi += wi", namespace=ns)
        ci.connect(p=P_CONNECT)
        mon = b2.SpikeMonitor(g)
        net = b2.Network(g, ce, ci, mon)
        if device == "cpp_standalone":
            net.run(duration * b2.second)
            walls.append(float(b2.device._last_run_time))
        else:
            net.run(1e-3 * b2.second)  # code generation and Cython compilation outside the timing
            t0 = time.perf_counter()
            net.run(duration * b2.second)
            walls.append(time.perf_counter() - t0)
        spikes.append(int(mon.num_spikes))
    if device == "cpp_standalone":
        b2.device.reinit()
        b2.set_device("runtime")
    return walls, spikes


if __name__ == "__main__":
    dev, reps, dur = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    w, s = run_brian2(dev, reps, dur)
    print(json.dumps({"walls": w, "spikes": s}))
