"""Networks as data: populations, projections (CSR), stimuli, monitors, and
their JSON form.

``Network.run`` compiles the network with :mod:`engine.backends` (imported
lazily) and loops over the simulator's ``advance``.

May import: numpy, ``engine.models``; ``engine.backends`` and
``engine.training.bridge`` only inside functions (they sit beside/above this
package).  Never torch or GUI libraries at import time.
"""

from engine.network.declare import declarations
from engine.network.monitors import Monitor, RateMonitor, SpikeMonitor, StateMonitor
from engine.network.network import Network
from engine.network.plasticity import STDP
from engine.network.population import Population
from engine.network.projection import Projection
from engine.network.stimuli import ConstantCurrent, PoissonInput, StepCurrent, Stimulus, TimedArray

__all__ = [
    "declarations",
    "Population",
    "Projection",
    "STDP",
    "Network",
    "Stimulus",
    "StepCurrent",
    "ConstantCurrent",
    "TimedArray",
    "PoissonInput",
    "Monitor",
    "SpikeMonitor",
    "StateMonitor",
    "RateMonitor",
]
