"""Surrogate-gradient training in PyTorch.

* :mod:`engine.training.surrogate` -- the six surrogate spike functions, each on
  two autograd paths (``torch.library.custom_op`` and ``torch.autograd.Function``);
* :mod:`engine.training.cells` -- one-step spiking cells (``torch.nn.Module``);
* :mod:`engine.training.bridge` -- ``Network.to_torch``: a declarative network as
  a trainable module.

This package imports torch (it is the only place besides
``engine/backends/torch_backend.py`` that may); ``import engine`` does not
import it.  May import: torch, numpy, ``engine.models``, ``engine.network``,
``engine.backends``.
"""

from engine.training.surrogate import (
    SURROGATE_DEFAULTS,
    SURROGATE_PATHS,
    SURROGATES,
    get_surrogate,
    surrogate_derivative,
    atan_surrogate,
    atan_surrogate_custom_op,
    atan_surrogate_legacy,
    fast_sigmoid,
    fast_sigmoid_custom_op,
    fast_sigmoid_legacy,
    sigmoid_surrogate,
    sigmoid_surrogate_custom_op,
    sigmoid_surrogate_legacy,
    straight_through,
    straight_through_custom_op,
    straight_through_legacy,
    superspike,
    superspike_custom_op,
    superspike_legacy,
    triangular,
    triangular_custom_op,
    triangular_legacy,
)
from engine.training.cells import (
    ALIFCell,
    AdExCell,
    AlphaCell,
    ExpIFCell,
    IFCell,
    LapicqueCell,
    LIFCell,
    RecurrentLIFCell,
    SecondOrderLIFCell,
    SynapticCell,
)
from engine.training.bridge import TorchNetwork, network_to_torch

__all__ = [
    "SURROGATE_PATHS", "SURROGATES", "SURROGATE_DEFAULTS", "get_surrogate", "surrogate_derivative",
    "fast_sigmoid", "fast_sigmoid_custom_op", "fast_sigmoid_legacy",
    "superspike", "superspike_custom_op", "superspike_legacy",
    "atan_surrogate", "atan_surrogate_custom_op", "atan_surrogate_legacy",
    "sigmoid_surrogate", "sigmoid_surrogate_custom_op", "sigmoid_surrogate_legacy",
    "straight_through", "straight_through_custom_op", "straight_through_legacy",
    "triangular", "triangular_custom_op", "triangular_legacy",
    "LIFCell", "IFCell", "SynapticCell", "ALIFCell", "RecurrentLIFCell",
    "ExpIFCell", "AdExCell", "LapicqueCell", "AlphaCell", "SecondOrderLIFCell",
    "network_to_torch", "TorchNetwork",
]
