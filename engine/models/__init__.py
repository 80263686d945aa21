"""Neuron model declarations and their registry.

One file per model; each defines a :class:`~engine.models.base.NeuronModel`
subclass decorated with :func:`~engine.models.base.register`.  Every module in
this package is imported here, so adding a model is adding a file.

May import: numpy, param, ``engine.fixedpoint``.  Never torch or GUI libraries.
"""

import importlib
import pkgutil

from engine.models.base import NeuronModel, Count, Real, get_model, model_names, register, registry

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "base" and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["NeuronModel", "Real", "Count", "register", "registry", "get_model", "model_names"]
