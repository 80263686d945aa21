from neurocore_gui.labs.neuron import *  # noqa: F401,F403 - moved; the app imports neurocore_gui.labs.neuron
