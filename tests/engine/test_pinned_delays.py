"""A spike in flight survives a recompile, a backend switch and a delay change.

A spike emitted at step ``t`` over a projection with delay ``d`` reaches its
target at step ``t + 1 + d`` (SPEC: previous-step spike semantics).  The
source here fires exactly once, at step 3, and the target fires exactly when
the spike reaches it, so the target's spike step is the arrival step."""

import numpy as np
import pytest

from engine.network import Network, Population, Projection, SpikeMonitor, StateMonitor, TimedArray

EMIT = 3
# tau far below dt: exp(-dt/tau) == 0.0 exactly, so v = R * I each step and a
# neuron fires exactly on the steps its input reaches the threshold
FAST = {"tau": 1e-3, "v_threshold": 1.0, "refractory_period": 0}


def build(delay):
    src = Population("LapicqueNeuron", 1, params=FAST, label="src")
    tgt = Population("LapicqueNeuron", 1, params=FAST, label="tgt")
    pulse = np.zeros(40)
    pulse[EMIT] = 2.0
    mon_src, mon_tgt = SpikeMonitor(src), SpikeMonitor(tgt)
    net = Network(src, tgt, Projection(src, tgt, weight=2.0, delay=delay, label="p"),
                  TimedArray(pulse, target=src), mon_src, mon_tgt)
    return net, mon_src, mon_tgt


def steps(mon):
    return mon.raster_data()[0].tolist()


@pytest.mark.parametrize("delay", [0, 1, 2, 5])
def test_arrival_step_without_interruption(delay):
    net, ms, mt = build(delay)
    net.run(0.015, backend="numpy")
    assert steps(ms) == [EMIT]
    assert steps(mt) == [EMIT + 1 + delay]


@pytest.mark.parametrize("backend", ["numpy", "fixed_point", "torch"])
def test_spike_in_flight_across_recompile(backend):
    net, ms, mt = build(2)
    net.run(0.005, backend=backend)  # steps 0..4: emitted at 3, due at 6
    assert steps(mt) == []
    net.add(StateMonitor(net.populations[1], ["v"]))  # a new object: the network recompiles
    net.run(0.007, backend=backend)
    assert steps(ms) == [EMIT] and steps(mt) == [EMIT + 3]


def test_spike_in_flight_across_backend_switch():
    net, ms, mt = build(3)
    net.run(0.005, backend="numpy")
    net.run(0.002, backend="fixed_point")  # steps 5, 6
    net.run(0.005, backend="numpy")
    assert steps(mt) == [EMIT + 4]


@pytest.mark.parametrize("old, new", [(2, 4), (4, 1), (1, 3), (3, 3), (0, 2)])
@pytest.mark.parametrize("backend", ["numpy", "fixed_point"])
def test_delay_change_keeps_the_spike_in_flight(old, new, backend):
    """The delay line is resized around the current step: the spike emitted at
    step 3 arrives ``new + 1`` steps after it (or, if that step has passed
    already, never)."""
    net, ms, mt = build(old)
    net.run(0.005, backend=backend)  # steps 0..4
    due_old = EMIT + 1 + old
    assert steps(mt) == ([due_old] if due_old <= 4 else [])
    net.set("p", "delay", new)
    net.run(0.010, backend=backend)  # steps 5..14
    due_new = EMIT + 1 + new
    if due_old <= 4:
        assert steps(mt) == [due_old]
    else:
        assert steps(mt) == ([due_new] if due_new >= 5 else [])


def test_delay_shortened_past_the_spike_does_not_deliver_it_late():
    # emitted at 3 with delay 5 (due at 9); at step 8 the delay becomes 1: the
    # spike's slot (3) is now older than the line, so it is not delivered late
    net, ms, mt = build(5)
    net.run(0.008, backend="numpy")
    net.set("p", "delay", 1)
    net.run(0.006, backend="numpy")
    assert steps(mt) == []
    # a later spike uses the new delay
    net2, _, mt2 = build(5)
    net2.set("p", "delay", 1)
    net2.run(0.010, backend="numpy")
    assert steps(mt2) == [EMIT + 2]


def test_reset_clears_spikes_in_flight():
    net, ms, mt = build(4)
    net.run(0.005, backend="numpy")
    net.reset()
    pulse = np.zeros(40)  # the rerun has no pulse: nothing may arrive from before the reset
    net.stimuli[0].values = pulse
    net.run(0.010, backend="numpy")
    assert steps(mt) == []
