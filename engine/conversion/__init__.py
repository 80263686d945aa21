"""ANN-to-SNN conversion (SPEC 2.6).

``convert`` turns a trained ``torch.nn.Sequential`` into a rate-coded SNN of
integrate-and-fire neurons with reset by subtraction (:class:`ConvertedSNN`);
``QCFSActivation`` is the quantisation-clip-floor-shift activation of Bu et
al. (2022) for training ANNs that convert at low latency.

May import: torch, numpy.  This package is the only conversion code that
imports torch; ``import engine`` does not import it.
"""

from engine.conversion.converter import ConvertedSNN, convert
from engine.conversion.qcfs import QCFSActivation

__all__ = ["ConvertedSNN", "QCFSActivation", "convert"]
