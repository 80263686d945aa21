"""NeuroCore simulation engine.

Layers (imports point down only):

* ``engine.models``   -- neuron model declarations, kernels and the registry
* ``engine.fixedpoint`` -- two's-complement arithmetic shared by every
  fixed-point consumer (scalar model, backend, export, co-simulation)
* ``engine.neurons``  -- the reference API's single-neuron classes
* ``engine.network``  -- populations, projections, stimuli, monitors, I/O
* ``engine.backends`` -- compile a network into a simulator (numpy, torch,
  fixed_point)
* ``engine.training``, ``engine.conversion``, ``engine.spike_ode``,
  ``engine.hardware`` -- torch training, ANN-to-SNN conversion, spiking ODE
  layer, RTL co-simulation / export / synthesis.

``engine`` never imports panel, holoviews or bokeh, and imports torch only in
the modules that need it, so ``import engine`` stays fast.
"""

__version__ = "0.1.0"
