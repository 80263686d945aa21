"""Surrogate-gradient training in PyTorch.

* :mod:`engine.training.surrogate` -- the six surrogate spike functions, each on
  two autograd paths (``torch.library.custom_op`` and ``torch.autograd.Function``);
* :mod:`engine.training.cells` -- one-step spiking cells (``torch.nn.Module``);
* :mod:`engine.training.bridge` -- ``Network.to_torch``: a declarative network as
  a trainable module;
* :mod:`engine.training.spec` -- the surrogate choice a network document
  stores (torch-free: ``engine.network.io`` reads it);
* :mod:`engine.training.tasks` -- the built-in tasks of the training lab.

The names below load their submodule on first use, so ``import
engine.training.spec`` (and ``import engine``) does not import torch; the
other submodules do (this package and ``engine/backends/torch_backend.py`` are
the places that may).  May import: torch, numpy, ``engine.models``,
``engine.network``, ``engine.backends``.
"""

import importlib

_EXPORTS = {
    "surrogate": [
        "SURROGATE_DEFAULTS", "SURROGATE_PATHS", "SURROGATES", "get_surrogate", "surrogate_derivative",
        "fast_sigmoid", "fast_sigmoid_custom_op", "fast_sigmoid_legacy",
        "superspike", "superspike_custom_op", "superspike_legacy",
        "atan_surrogate", "atan_surrogate_custom_op", "atan_surrogate_legacy",
        "sigmoid_surrogate", "sigmoid_surrogate_custom_op", "sigmoid_surrogate_legacy",
        "straight_through", "straight_through_custom_op", "straight_through_legacy",
        "triangular", "triangular_custom_op", "triangular_legacy",
    ],
    "cells": ["LIFCell", "IFCell", "SynapticCell", "ALIFCell", "RecurrentLIFCell",
              "ExpIFCell", "AdExCell", "LapicqueCell", "AlphaCell", "SecondOrderLIFCell"],
    "bridge": ["network_to_torch", "TorchNetwork"],
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}

__all__ = [name for names in _EXPORTS.values() for name in names]


def __getattr__(name):
    # PEP 562: a submodule (and torch) loads only when one of its names is used
    if name in _WHERE:
        value = getattr(importlib.import_module(f"engine.training.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'engine.training' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
