"""Rate-coded ANN-to-SNN conversion.

Method
------
* The ``nn.Sequential`` is cut at every activation (``ReLU`` or
  :class:`QCFSActivation`).  Each piece holds exactly one weighted layer
  (``Linear`` / ``Conv2d``) plus any linear shape or pooling layers
  (``AvgPool2d``, ``Flatten``); it becomes one layer of integrate-and-fire
  (IF) neurons.  A trailing piece without activation (the logits) becomes an
  IF output layer too.  ``BatchNorm1d/2d`` directly after a weighted layer is
  folded into it (Ioffe & Szegedy 2015 inference form; see
  :func:`_fold_batchnorm`); ``Dropout`` and ``Identity`` are dropped (identity
  at inference).
* Threshold balancing (Diehl et al. 2015, "Fast-classifying, high-accuracy
  spiking deep networks through weight and threshold balancing", IJCNN; with
  the robust percentile of Rueckauer et al. 2017, Front. Neurosci. 11:682):
  lambda_l is the ``percentile``-th percentile of layer l's ANN activations on
  the calibration data (for QCFS layers lambda_l = theta, the clip level; with
  no calibration data lambda_l = 1).  A spike of layer l then stands for the
  value lambda_l, so the weights of layer l+1 are multiplied by lambda_l and
  the threshold of layer l is lambda_l.  Dividing weights, bias and threshold
  of a layer by lambda_l gives Diehl's form (W * lambda_{l-1} / lambda_l,
  threshold 1); the dynamics are identical, this form just keeps the
  thresholds readable.
* Neurons: non-leaky integrate-and-fire with **reset by subtraction**
  (Rueckauer et al. 2017, eq. 3): v <- v + W s + b every step;
  s = [v >= theta]; v <- v - s * theta.  Subtraction keeps the residual
  charge, so the firing rate approximates clip(a / theta, 0, 1) without the
  loss of reset-to-zero.  Biases are injected as a constant current each step.
* Initial membrane ``v_init * theta``.  Bu et al. (2022, Theorem 2) show that
  starting at theta/2 makes the expected conversion error of a QCFS network
  zero (their phi = 1/2 "shift"); it also turns the rounding-down of a
  reset-by-subtraction neuron into rounding-to-nearest for ReLU networks
  (Hwang et al. 2021, "pre-charged membrane").  Default: 0.5 for every layer.
* Optional signed IF neurons in the hidden layers (``signed=True``; after
  Wang et al. 2022): a negative spike takes back an earlier spike that later
  input cancelled, which removes most of the unevenness error of short
  Poisson-coded runs.
* Optional SNN-aware bias calibration after conversion
  (:meth:`ConvertedSNN.calibrate_bias`; Li et al. 2021, ICML).
* Input coding: ``"poisson"`` draws an independent Bernoulli spike per pixel
  and step with probability x (rate coding; seedable ``torch.Generator``);
  ``"constant"`` injects x itself as a current each step (deterministic).
* Output: spike counts of the last layer.  ``classify`` takes the arg-max of
  the counts and breaks ties by the residual membrane potential (the charge
  that was left below threshold), which matters at very small T.

Everything is simulated in torch, vectorised over batch; the time loop runs
per layer (the feed-forward net has no recurrence, so each layer's input
currents for all T steps are one batched matmul/conv).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.conversion.qcfs import QCFSActivation

__all__ = ["ConvertedSNN", "convert"]

_WEIGHTED = (nn.Linear, nn.Conv2d)
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d)
_PASSIVE = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Identity)
_SHAPE = (nn.AvgPool2d, nn.Flatten)
_ACT = (nn.ReLU, QCFSActivation)

# Working memory cap for one chunk of the time-unrolled simulation (floats).
_CHUNK_FLOATS = 24_000_000


@dataclass
class _Op:
    """One affine/linear op of a piece: kind in {linear, conv, avgpool, flatten}."""

    kind: str
    weight: torch.Tensor | None = None
    bias: torch.Tensor | None = None
    kwargs: dict = field(default_factory=dict)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "linear":
            return F.linear(x, self.weight, self.bias)
        if self.kind == "conv":
            return F.conv2d(x, self.weight, self.bias, **self.kwargs)
        if self.kind == "avgpool":
            return F.avg_pool2d(x, **self.kwargs)
        if self.kind == "flatten":
            return torch.flatten(x, **self.kwargs)
        raise AssertionError(self.kind)  # pragma: no cover - internal


def _fold_batchnorm(weight, bias, bn):
    """Fold inference-mode BatchNorm into the preceding weighted layer.

    BN(z) = gamma * (z - mu) / sqrt(var + eps) + beta with z = W x + b, so
    W' = W * s, b' = (b - mu) * s + beta with s = gamma / sqrt(var + eps)
    applied per output unit/channel (Ioffe & Szegedy 2015, sec. 3.1).
    """
    if bn.running_mean is None or bn.running_var is None:
        raise NotImplementedError(
            f"{type(bn).__name__} without running statistics (track_running_stats=False) cannot be folded"
        )
    if weight.shape[0] != bn.num_features:
        raise ValueError(
            f"{type(bn).__name__}(num_features={bn.num_features}) does not match the "
            f"{weight.shape[0]} outputs of the layer before it"
        )
    gamma = bn.weight.detach() if bn.weight is not None else torch.ones(bn.num_features)
    beta = bn.bias.detach() if bn.bias is not None else torch.zeros(bn.num_features)
    s = gamma / torch.sqrt(bn.running_var.detach() + bn.eps)
    shape = (-1,) + (1,) * (weight.dim() - 1)
    b = bias if bias is not None else torch.zeros(weight.shape[0])
    return weight * s.reshape(shape), (b - bn.running_mean.detach()) * s + beta


@dataclass
class _Piece:
    ops: list
    act: Any  # nn.ReLU, QCFSActivation or None (output layer without activation)
    name: str


def _parse(model: nn.Module) -> list[_Piece]:
    """Cut the Sequential into pieces, each ending at an activation."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"convert expects a torch.nn.Sequential, got {type(model).__name__}")
    pieces: list[_Piece] = []
    ops: list[_Op] = []
    last_weighted: _Op | None = None  # op that a following BatchNorm folds into
    for idx, layer in enumerate(model):
        label = f"layer {idx} ({type(layer).__name__})"
        if isinstance(layer, _PASSIVE):
            continue
        if isinstance(layer, nn.Sequential):
            raise NotImplementedError(f"nested Sequential at {label}: flatten the model first")
        if isinstance(layer, _WEIGHTED):
            w = layer.weight.detach().clone().float()
            b = layer.bias.detach().clone().float() if layer.bias is not None else torch.zeros(w.shape[0])
            if isinstance(layer, nn.Linear):
                op = _Op("linear", w, b)
            else:
                if layer.padding_mode != "zeros" or isinstance(layer.padding, str):
                    raise NotImplementedError(f"{label}: only numeric zero padding is supported")
                op = _Op("conv", w, b, {"stride": layer.stride, "padding": layer.padding,
                                            "dilation": layer.dilation, "groups": layer.groups})
            if any(o.weight is not None for o in ops):
                raise NotImplementedError(
                    f"{label}: two weighted layers without an activation between them"
                )
            ops.append(op)
            last_weighted = op
            continue
        if isinstance(layer, _BATCHNORM):
            if last_weighted is None or ops[-1] is not last_weighted:
                raise NotImplementedError(
                    f"{label}: BatchNorm can only be folded directly after a Linear or Conv2d"
                )
            last_weighted.weight, last_weighted.bias = _fold_batchnorm(
                last_weighted.weight, last_weighted.bias, layer)
            continue
        if isinstance(layer, nn.AvgPool2d):
            ops.append(_Op("avgpool", kwargs={
                "kernel_size": layer.kernel_size, "stride": layer.stride, "padding": layer.padding,
                "ceil_mode": layer.ceil_mode, "count_include_pad": layer.count_include_pad,
                "divisor_override": layer.divisor_override}))
            last_weighted = None
            continue
        if isinstance(layer, nn.Flatten):
            ops.append(_Op("flatten", kwargs={"start_dim": layer.start_dim, "end_dim": layer.end_dim}))
            last_weighted = None
            continue
        if isinstance(layer, _ACT):
            if not any(o.weight is not None for o in ops):
                raise NotImplementedError(
                    f"{label}: activation without a Linear/Conv2d before it (since the previous activation)"
                )
            pieces.append(_Piece(ops, layer, label))
            ops, last_weighted = [], None
            continue
        raise NotImplementedError(
            f"unsupported layer for ANN-to-SNN conversion: {label}; supported are Linear, Conv2d, "
            "ReLU, QCFSActivation, BatchNorm1d/2d (after Linear/Conv2d), AvgPool2d, Flatten, Dropout, Identity"
        )
    if ops:
        if not any(o.weight is not None for o in ops):
            raise NotImplementedError("the model ends with pooling/flatten layers after its last activation")
        pieces.append(_Piece(ops, None, "output"))
    if not pieces:
        raise ValueError("the model has no Linear or Conv2d layer to convert")
    return pieces


def _as_tensor(x, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach().float()
    else:
        try:
            t = torch.as_tensor(np.asarray(x, dtype=np.float32))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric array data: {exc}") from None
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains non-finite values")
    return t


class ConvertedSNN:
    """A converted rate-coded SNN of integrate-and-fire neurons.

    Attributes
    ----------
    weights, biases : list[torch.Tensor]
        Per spiking layer, the (normalised, BatchNorm-folded) weight and bias
        of its Linear/Conv2d.  Weights already include lambda_{l-1}, the value
        one spike of the previous layer stands for.
    thresholds : list[float]
        Firing threshold lambda_l of each layer (reset by subtraction).
    T : int
        Default number of simulation steps.
    n_layers : int
        Number of spiking layers (output layer included).
    v_init : list[float]
        Initial membrane potential of each layer as a fraction of its threshold.
    signed : bool
        Hidden layers use signed IF neurons (spikes in {-1, 0, +1}); see
        :func:`convert`.
    """

    def __init__(self, pieces: list[_Piece], thresholds: list[float], T: int,
                 v_init: list[float], sample_ndim: int | None, in_features: int | None,
                 signed: bool = False):
        self._pieces = pieces
        self.signed = bool(signed)
        self.thresholds = [float(t) for t in thresholds]
        self.T = int(T)
        self.v_init = [float(v) for v in v_init]
        self.n_layers = len(pieces)
        self._sample_ndim = sample_ndim
        self._in_features = in_features
        self.weights = [next(o for o in p.ops if o.weight is not None).weight for p in pieces]
        self.biases = [next(o for o in p.ops if o.weight is not None).bias for p in pieces]
        self._ann_biases = [b.clone() for b in self.biases]  # reference for calibrate_bias

    # ------------------------------------------------------------ input checks
    def _prepare(self, x) -> tuple[torch.Tensor, bool]:
        t = _as_tensor(x, "x")
        nd = self._sample_ndim
        if nd is None:  # model starts with Flatten: only batched input is unambiguous
            if t.dim() < 2:
                raise ValueError("this model starts with Flatten; pass a batch (batch, ...) of inputs")
            batched = True
        elif t.dim() == nd:
            t, batched = t.unsqueeze(0), False
        elif t.dim() == nd + 1:
            batched = True
        else:
            raise ValueError(
                f"x must have {nd} (one sample) or {nd + 1} (batch) dimensions, got shape {tuple(t.shape)}"
            )
        if t.shape[0] == 0:
            raise ValueError("x is an empty batch")
        if self._in_features is not None and t.shape[1] != self._in_features:
            what = "features" if nd == 1 else "channels"
            raise ValueError(f"x has {t.shape[1]} {what}, the first layer expects {self._in_features}")
        if (t < 0).any() or (t > 1).any():
            raise ValueError("x must lie in [0, 1] (rates / intensities for rate coding)")
        return t, batched

    # -------------------------------------------------------------- simulation
    def _chunk_size(self, x: torch.Tensor, T: int) -> int:
        """Batch chunk that keeps T steps of the widest layer within _CHUNK_FLOATS."""
        width = x[:1].numel()  # per-sample working size of the widest layer
        with torch.no_grad():
            probe = x[:1]
            for p in self._pieces:
                for op in p.ops:
                    probe = op(probe)
                width = max(width, probe.numel())
        return max(1, min(x.shape[0], _CHUNK_FLOATS // max(1, 3 * T * width)))

    def _simulate(self, x: torch.Tensor, T: int, encoding: str, seed):
        """Returns (output spike counts, final output membrane) for a batch."""
        B = x.shape[0]
        chunk = self._chunk_size(x, T)
        gen = None
        if encoding == "poisson":
            gen = torch.Generator()
            if seed is None:
                gen.seed()
            else:
                gen.manual_seed(int(seed))
        counts_all, v_all = [], []
        with torch.no_grad():
            for start in range(0, B, chunk):
                xb = x[start:start + chunk]
                counts, v = self._simulate_chunk(xb, T, encoding, gen)
                counts_all.append(counts)
                v_all.append(v)
        return torch.cat(counts_all), torch.cat(v_all)

    def _encode(self, x, T, encoding, gen):
        """Input spikes (T, batch, ...) or, for constant input, the input once (1, batch, ...)."""
        if encoding == "poisson":
            # Bernoulli spike with probability x per step (rate coding).
            return (torch.rand((T,) + tuple(x.shape), generator=gen) < x).float(), False
        return x.unsqueeze(0), True  # same current every step: compute once

    def _layer(self, li, spikes, T, const_input):
        """Run spiking layer ``li`` on its input spikes (steps, batch, ...).

        Returns (input currents (T, batch, ...), output spikes, final membrane)."""
        piece = self._pieces[li]
        steps, b = spikes.shape[0], spikes.shape[1]
        cur = spikes.reshape((-1,) + tuple(spikes.shape[2:]))
        for op in piece.ops:
            cur = op(cur)
        cur = cur.reshape((steps, b) + tuple(cur.shape[1:]))
        if const_input:
            cur = cur.expand((T,) + tuple(cur.shape[1:]))
        theta = self.thresholds[li]
        v = torch.full(cur.shape[1:], self.v_init[li] * theta)
        out = torch.empty_like(cur)
        if self.signed and li < self.n_layers - 1:
            # Signed IF neuron with memory (after Wang et al. 2022): a negative
            # spike (-1, membrane + theta) when v < 0 while the neuron's net
            # spike count so far is positive.  net * theta + v stays equal to
            # the integrated input, so early spikes that later input cancels
            # are taken back.
            net = torch.zeros_like(v)
            for t in range(T):
                v.add_(cur[t])
                s = (v >= theta).float() - ((v < 0) & (net > 0)).float()
                v.sub_(s * theta)
                net.add_(s)
                out[t] = s
            return cur, out, v
        # Integrate-and-fire with reset by subtraction (Rueckauer et al. 2017, eq. 3).
        for t in range(T):
            v.add_(cur[t])
            s = (v >= theta).float()
            v.sub_(s * theta)
            out[t] = s
        return cur, out, v

    def _simulate_chunk(self, x, T, encoding, gen):
        b = x.shape[0]
        spikes, const_input = self._encode(x, T, encoding, gen)
        v = None
        for li in range(self.n_layers):
            _, spikes, v = self._layer(li, spikes, T, const_input)
            const_input = False
        counts = spikes.sum(dim=0).reshape(b, -1)
        return counts, v.reshape(b, -1)

    def _check_run_args(self, encoding, T):
        if encoding not in ("poisson", "constant"):
            raise ValueError(f"encoding must be 'poisson' or 'constant', got {encoding!r}")
        T = self.T if T is None else T
        if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
            raise ValueError(f"T must be a positive int, got {T!r}")
        return int(T)

    def run(self, x, encoding: str = "poisson", seed: int | None = None, T: int | None = None):
        """Output spike counts over T steps.

        x: one sample (``(n_input,)`` or ``(C, H, W)``) or a batch of them, values
        in [0, 1].  Returns a float tensor of counts, ``(n_out,)`` or
        ``(batch, n_out)``.  ``seed`` fixes the Poisson input spikes.
        """
        T = self._check_run_args(encoding, T)
        xb, batched = self._prepare(x)
        counts, _ = self._simulate(xb, T, encoding, seed)
        return counts if batched else counts[0]

    def classify(self, x, encoding: str = "poisson", seed: int | None = None, T: int | None = None):
        """Class index per sample: arg-max of output spike counts, ties broken by
        the residual output membrane potential."""
        T = self._check_run_args(encoding, T)
        xb, batched = self._prepare(x)
        counts, v = self._simulate(xb, T, encoding, seed)
        top = counts == counts.max(dim=1, keepdim=True).values
        pred = torch.where(top, v, torch.full_like(v, -math.inf)).argmax(dim=1)
        return pred if batched else pred[0]

    def classify_over_T(self, x, Ts, encoding: str = "poisson", seed: int | None = None):
        """``{T: class indices}`` for every T in ``Ts`` from *one* run of
        ``max(Ts)`` steps, read at each T, so the whole accuracy-vs-T curve
        costs one run of the longest T.  Reading at T is what a T-step run
        does (counts, and ties broken by the output membrane at step T): with
        constant input the results equal :meth:`classify` exactly; with
        Poisson input also, when the batch is simulated in one chunk (the
        input spikes are then the same draws), otherwise the spikes are
        another draw of the same rates.  Also returns ``{T: output spike
        counts}``."""
        Ts = sorted({self._check_run_args(encoding, T) for T in Ts})
        if not Ts:
            raise ValueError("Ts must name at least one T")
        xb, batched = self._prepare(x)
        Tmax = Ts[-1]
        chunk = self._chunk_size(xb, Tmax)
        gen = None
        if encoding == "poisson":
            gen = torch.Generator()
            gen.seed() if seed is None else gen.manual_seed(int(seed))
        preds = {T: [] for T in Ts}
        counts = {T: [] for T in Ts}
        idx = torch.tensor([T - 1 for T in Ts])
        theta = self.thresholds[-1]
        with torch.no_grad():
            for start in range(0, xb.shape[0], chunk):
                xc = xb[start:start + chunk]
                b = xc.shape[0]
                spikes, const_input = self._encode(xc, Tmax, encoding, gen)
                for li in range(self.n_layers):
                    cur, spikes, _ = self._layer(li, spikes, Tmax, const_input)
                    const_input = False
                # the output layer is a plain IF neuron with reset by subtraction:
                # v(t) = v0 + sum of its input up to t - theta * its spikes up to t
                c = spikes.reshape(Tmax, b, -1).cumsum(0)[idx]
                v = (self.v_init[-1] * theta + cur.reshape(Tmax, b, -1).cumsum(0)[idx]) - theta * c
                for k, T in enumerate(Ts):
                    top = c[k] == c[k].max(dim=1, keepdim=True).values
                    preds[T].append(torch.where(top, v[k], torch.full_like(v[k], -math.inf)).argmax(dim=1))
                    counts[T].append(c[k])
        preds = {T: torch.cat(p) if batched else torch.cat(p)[0] for T, p in preds.items()}
        counts = {T: torch.cat(c) if batched else torch.cat(c)[0] for T, c in counts.items()}
        return preds, counts

    # --------------------------------------------------------- calibration
    def _ann_targets(self, x: torch.Tensor, li: int) -> torch.Tensor:
        """ANN value that layer ``li`` of the SNN should reproduce, from the
        *original* (uncalibrated) biases: the activation clipped to the
        threshold for hidden layers, the logits for the output layer."""
        s = x
        for lj in range(li + 1):
            z = s
            for op in self._pieces[lj].ops:
                if op.weight is not None:
                    op = _Op(op.kind, op.weight, self._ann_biases[lj], op.kwargs)
                z = op(z)
            if lj == self.n_layers - 1:
                return z
            act, theta = self._pieces[lj].act, self.thresholds[lj]
            a = act(z) if isinstance(act, QCFSActivation) else torch.clamp(z, 0.0, theta)
            s = a / theta
        return a

    def calibrate_bias(self, x, T: int | None = None, encoding: str = "poisson", n_draws: int = 4,
                       seed: int | None = 0) -> list[float]:
        """SNN-aware bias calibration ("light pipeline" bias correction of Li,
        Deng, Dong, Gong & Gu 2021, "A free lunch from ANN: towards efficient,
        accurate spiking neural networks calibration", ICML, sec. 4).

        Layer by layer, from the first to the output layer, the bias of layer
        l is shifted by the mean (over the calibration batch, the ``n_draws``
        input draws and, for convolutions, the spatial positions) of
        ``a_l - r_l``: a_l is the ANN value the layer stands for (its
        activation clipped to the threshold; the logits for the output layer)
        on the clean input, r_l what the SNN delivers in ``T`` steps with the
        given input ``encoding`` (spike count * threshold / T; the mean input
        current for the output layer).  Earlier layers are already corrected
        when layer l is measured, so the correction accounts for the errors
        they pass on.  Targets always come from the original ANN biases, so a
        second call refines the correction instead of compounding it.  The
        correction is per output unit (per channel for convolutions) and
        does not depend on the sample.

        Returns, per layer, the mean absolute per-unit correction applied
        (the size of the systematic error that was removed).
        """
        T = self._check_run_args(encoding, T)
        if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
            raise ValueError(f"n_draws must be a positive int, got {n_draws!r}")
        xb, _ = self._prepare(x)
        gen = torch.Generator()
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
        chunk = self._chunk_size(xb, T)
        sizes = []
        with torch.no_grad():
            for li in range(self.n_layers):
                err_sum, n = 0.0, 0
                for start in range(0, xb.shape[0], chunk):
                    xc = xb[start:start + chunk]
                    target = self._ann_targets(xc, li)
                    draws = n_draws if encoding == "poisson" else 1
                    for _ in range(draws):
                        spikes, const_input = self._encode(xc, T, encoding, gen)
                        for lj in range(li + 1):
                            cur, spikes, _ = self._layer(lj, spikes, T, const_input)
                            const_input = False
                        got = cur.mean(0) if li == self.n_layers - 1 else spikes.mean(0) * self.thresholds[li]
                        d = target - got
                        # Sum over batch (and spatial positions): one value per unit/channel.
                        err_sum = err_sum + (d.sum(dim=(0, 2, 3)) if d.dim() == 4 else d.sum(dim=0))
                        n += d.shape[0] * (d.shape[2] * d.shape[3] if d.dim() == 4 else 1)
                delta = err_sum / n
                self.biases[li].add_(delta)  # the op holds the same tensor
                sizes.append(float(delta.abs().mean()))
        return sizes

    def __repr__(self) -> str:
        th = ", ".join(f"{t:.3g}" for t in self.thresholds)
        sg = ", signed=True" if self.signed else ""
        return f"ConvertedSNN(n_layers={self.n_layers}, T={self.T}, thresholds=[{th}]{sg})"


def convert(model: nn.Sequential, calibration_data=None, T: int = 16, percentile: float = 99.9,
            *, v_init: float | Sequence[float] = 0.5, signed: bool = False) -> ConvertedSNN:
    """Convert a trained ``nn.Sequential`` into a :class:`ConvertedSNN`.

    Parameters
    ----------
    model : nn.Sequential of Linear, Conv2d, ReLU, QCFSActivation, BatchNorm1d/2d,
        AvgPool2d, Flatten, Dropout, Identity.
    calibration_data : array-like or tensor, optional
        A batch of training inputs in the model's input shape.  Used to set each
        ReLU layer's threshold to the ``percentile``-th percentile of its
        activations; without it every ReLU layer's threshold is 1.0.  QCFS
        layers always use their theta.
    T : int
        Default number of time steps for ``run``/``classify``.
    percentile : float in (0, 100]
    v_init : float or sequence of floats in [0, 1)
        Initial membrane potential per layer as a fraction of the threshold
        (0.5 = Bu et al.'s theta/2; 0 = Diehl et al.'s empty membrane).
    signed : bool
        Use signed IF neurons with memory in the hidden layers, after Wang,
        Zhang, Chen & Qu 2022 ("Signed neuron with memory: towards simple,
        accurate and high-efficient ANN-SNN conversion", IJCAI) and the
        signed IF neuron of Li, Ma & Furber 2022 ("Quantization framework for
        fast spiking neural networks", Front. Neurosci.).  Rule used here: a
        neuron whose net spike count is positive and whose membrane drops
        below 0 emits a -1 spike and gets theta back, so its membrane stays
        in [0, theta) from either side and net count * theta + v equals the
        integrated input.  This removes the part of the "unevenness" error
        of short runs (Bu et al. 2022, ICLR; Hao et al. 2023, "Reducing
        ANN-SNN conversion error through residual membrane potential", AAAI)
        in which input that arrives early makes a neuron fire and later
        input would have cancelled it; with Poisson-coded input at T = 4
        that is most of the conversion error.  (Input that arrives too late
        to be fired out within T steps is still lost.)  Spikes become
        ternary, which the target hardware must support; the output layer
        stays unsigned.  Default False (classic IF neurons).
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")
    if not isinstance(signed, (bool, np.bool_)):
        raise TypeError(f"signed must be a bool, got {signed!r}")
    percentile = float(percentile)
    if not (0.0 < percentile <= 100.0):
        raise ValueError(f"percentile must be in (0, 100], got {percentile!r}")
    pieces = _parse(model)

    first = next(o for o in pieces[0].ops if o.weight is not None)
    first_op = pieces[0].ops[0]
    if first_op.kind == "linear":
        sample_ndim, in_features = 1, first.weight.shape[1]
    elif first_op.kind == "conv":
        sample_ndim, in_features = 3, first.weight.shape[1] * first_op.kwargs["groups"]
    else:
        sample_ndim, in_features = None, None

    if isinstance(v_init, (int, float)):
        v_init = [float(v_init)] * len(pieces)
    v_init = [float(v) for v in v_init]
    if len(v_init) != len(pieces) or any(not (0.0 <= v < 1.0) for v in v_init):
        raise ValueError(f"v_init must be one value or {len(pieces)} values, each in [0, 1)")

    # lambda_l per layer: ANN activations on the calibration data.
    lambdas: list[float] = []
    if calibration_data is not None:
        a = _as_tensor(calibration_data, "calibration_data")
        if sample_ndim is not None and a.dim() != sample_ndim + 1:
            raise ValueError(
                f"calibration_data must be a batch with {sample_ndim + 1} dimensions, got shape {tuple(a.shape)}"
            )
        if a.shape[0] == 0:
            raise ValueError("calibration_data is empty")
        if in_features is not None and a.shape[1] != in_features:
            raise ValueError(f"calibration_data has {a.shape[1]} features/channels, the model expects {in_features}")
        if sample_ndim is None:
            sample_ndim = a.dim() - 1
        with torch.no_grad():
            for p in pieces:
                for op in p.ops:
                    a = op(a)
                if isinstance(p.act, QCFSActivation):
                    a = p.act(a)
                    lambdas.append(float(p.act.theta.detach()))
                else:
                    # ReLU output, or the positive part of the logits (what an
                    # IF output neuron can represent).
                    a = torch.relu(a)
                    flat = a.flatten().double().numpy()
                    lam = float(np.percentile(flat, percentile))
                    # A silent layer has no scale to measure; keep 1.0.
                    lambdas.append(lam if lam > 0 else 1.0)
    else:
        lambdas = [float(p.act.theta.detach()) if isinstance(p.act, QCFSActivation) else 1.0 for p in pieces]

    # Spikes of layer l-1 stand for lambda_{l-1}: scale the weights that read them.
    prev = 1.0  # input spikes / currents carry the pixel value range [0, 1]
    for p, lam in zip(pieces, lambdas):
        w_op = next(o for o in p.ops if o.weight is not None)
        w_op.weight = w_op.weight * prev
        prev = lam
    return ConvertedSNN(pieces, lambdas, int(T), v_init, sample_ndim, in_features, signed=signed)
