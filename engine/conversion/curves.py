"""Accuracy-vs-T curves on the digits, with progress, cancel and a cache.

What the training lab's conversion part runs, kept here so it is tested and
usable without the GUI:

* :func:`train_ann` -- an MLP or CNN, ReLU or QCFS, trained on the digits
  (:mod:`engine.conversion.experiment`'s models, split and noise-aware training);
* :func:`conversion_curve` -- convert it (percentile threshold balancing) and
  measure SNN accuracy on the 360 test images for each T (Poisson input, one
  fixed seed; one run of the longest T read at every T,
  ``ConvertedSNN.classify_over_T``), plus the output spike counts per class
  of a few test digits at every T (how the evidence builds up in that run);
* :class:`ConversionCache` -- one per session: trained ANNs keyed by their
  configuration, curves by (ANN configuration, percentile, Ts), so asking for
  a configuration again is instant.

``progress(fraction, message)`` reports; ``should_stop()`` returning true
raises :class:`Cancelled` at the next epoch, or before the SNN run.  Training the ANN draws
dropout masks from torch's global generator (seeded and restored by
``experiment.train``), so ANN trainings of different sessions take turns on a
process-wide lock: each gets the same model it would get alone.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from engine.conversion.converter import convert
from engine.conversion.experiment import (
    T_VALUES,
    _shape,
    ann_accuracy,
    load_digits_split,
    make_cnn,
    make_mlp,
    train,
)

__all__ = ["ARCHS", "ACTIVATIONS", "T_VALUES", "Cancelled", "AnnConfig", "TrainedAnn", "Curve",
           "digits_data", "train_ann", "conversion_curve", "ConversionCache"]

ARCHS = ("mlp", "cnn")
ACTIVATIONS = ("relu", "qcfs")
#: the noise-aware training's input-rate T' values (as bench/conversion_digits.py)
NOISE_T = (2, 4, 8)

_TRAIN_LOCK = threading.Lock()


class Cancelled(Exception):
    """The user stopped the run."""


@dataclass(frozen=True)
class AnnConfig:
    arch: str = "mlp"
    activation: str = "relu"
    epochs: int = 30
    seed: int = 0

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or not 1 <= self.epochs <= 1000:
            raise ValueError(f"epochs must be a whole number in 1..1000, got {self.epochs!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative whole number, got {self.seed!r}")

    @property
    def name(self) -> str:
        return f"{self.arch.upper()} {'QCFS' if self.activation == 'qcfs' else 'ReLU'}"


@dataclass
class TrainedAnn:
    config: AnnConfig
    model: torch.nn.Sequential
    ann_acc: float          # % on the 360 test images
    train_s: float


@dataclass
class Curve:
    ann: AnnConfig
    percentile: float
    Ts: tuple
    ann_acc: float
    snn_acc: dict                      # T -> % on the test images
    sample_index: list                 # indices into the test set
    sample_images: np.ndarray          # (k, 8, 8) in [0, 1]
    sample_labels: np.ndarray          # (k,)
    sample_counts: np.ndarray          # (len(Ts), k, 10) output spike counts
    convert_s: float
    curve_s: float                     # conversion + all Ts (the lab's target)
    n_test: int = 0
    extra: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def digits_data():
    """(x_train, y_train, x_test, y_test): the fixed split, loaded once per
    process and shared read-only."""
    return load_digits_split(seed=0)


def _check(should_stop):
    if should_stop is not None and should_stop():
        raise Cancelled()


def train_ann(config: AnnConfig, *, progress=None, should_stop=None) -> TrainedAnn:
    """Train ``config``'s ANN on the digits (noise-aware, as the benchmark)."""
    xtr, ytr, xte, yte = digits_data()
    maker = make_mlp if config.arch == "mlp" else make_cnn
    stopped = []

    def cb(epoch, epochs):
        if progress is not None:
            progress(epoch / epochs, f"training {config.name}: epoch {epoch}/{epochs}")
        if should_stop is not None and should_stop():
            stopped.append(True)
            return False
        return True

    if progress is not None:
        progress(0.0, f"training {config.name}" + (" (waiting for another session)" if _TRAIN_LOCK.locked()
                                                    else ""))
    with _TRAIN_LOCK:
        t0 = time.perf_counter()
        model = maker(config.activation, seed=config.seed)
        train(model, xtr, ytr, epochs=config.epochs, seed=config.seed, rate_noise_T=NOISE_T, callback=cb)
        dt = time.perf_counter() - t0
    if stopped:
        raise Cancelled()
    return TrainedAnn(config, model, ann_accuracy(model, xte, yte), dt)


def conversion_curve(trained: TrainedAnn, *, percentile: float = 99.9, Ts=T_VALUES, seed: int = 0,
                     n_samples: int = 4, progress=None, should_stop=None) -> Curve:
    """Convert ``trained`` and measure SNN accuracy for each T (see module doc)."""
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float)) or not 50 <= percentile <= 100:
        raise ValueError(f"percentile must be a number in [50, 100], got {percentile!r}")
    Ts = tuple(sorted({int(t) for t in Ts}))
    if not Ts or Ts[0] < 1 or Ts[-1] > 4096:
        raise ValueError(f"Ts must be whole numbers in 1..4096, got {Ts!r}")
    xtr, _, xte, yte = digits_data()
    model = trained.model
    t0 = time.perf_counter()
    if progress is not None:
        progress(0.0, f"converting {trained.config.name} (percentile {percentile:g})")
    snn = convert(model, _shape(model, xtr), T=max(Ts), percentile=float(percentile))
    convert_s = time.perf_counter() - t0
    xt = _shape(model, xte)
    # the same few digits every time: one per class among the first test images
    picks = [int(np.flatnonzero(yte.numpy() == c)[0]) for c in range(10)][:max(0, int(n_samples))]
    _check(should_stop)
    if progress is not None:
        progress(0.1, f"running the SNN for T = {', '.join(map(str, Ts))} (one run of {Ts[-1]} steps)")
    # one run of the longest T read at every T: the curve costs max(Ts) steps, not sum(Ts)
    preds, all_counts = snn.classify_over_T(xt, Ts, encoding="poisson", seed=seed)
    acc = {T: 100.0 * float((preds[T] == yte).float().mean()) for T in Ts}
    # (len(Ts), len(picks), n_out); indexing with an empty pick list keeps n_out
    counts = np.stack([all_counts[T][picks].numpy() for T in Ts])
    if progress is not None:
        progress(1.0, "SNN accuracy: " + ", ".join(f"T={T}: {acc[T]:.1f} %" for T in Ts))
    return Curve(trained.config, float(percentile), Ts, trained.ann_acc, acc, picks,
                 xte[picks].numpy().reshape(-1, 8, 8), yte[picks].numpy(),
                 counts, convert_s,
                 time.perf_counter() - t0, int(yte.shape[0]))


class ConversionCache:
    """One session's trained ANNs and curves (thread-safe)."""

    def __init__(self):
        self._anns: dict[AnnConfig, TrainedAnn] = {}
        self._curves: dict[tuple, Curve] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(config: AnnConfig, percentile: float, Ts=T_VALUES, seed: int = 0) -> tuple:
        return (config, float(percentile), tuple(sorted({int(t) for t in Ts})), int(seed))

    def ann(self, config: AnnConfig) -> TrainedAnn | None:
        with self._lock:
            return self._anns.get(config)

    def curve(self, config: AnnConfig, percentile: float, Ts=T_VALUES, seed: int = 0) -> Curve | None:
        with self._lock:
            return self._curves.get(self.key(config, percentile, Ts, seed))

    def curves(self) -> list[Curve]:
        with self._lock:
            return list(self._curves.values())

    def get_curve(self, config: AnnConfig, percentile: float = 99.9, Ts=T_VALUES, seed: int = 0, *,
                  progress=None, should_stop=None) -> Curve:
        """The cached curve, else train (if needed), convert and measure."""
        key = self.key(config, percentile, Ts, seed)
        with self._lock:
            hit = self._curves.get(key)
        if hit is not None:
            return hit
        trained = self.ann(config)
        if trained is None:
            def part(f, msg):  # training is the first half of the bar
                if progress is not None:
                    progress(0.5 * f, msg)
            trained = train_ann(config, progress=part, should_stop=should_stop)
            with self._lock:
                self._anns[config] = trained
            base = 0.5
        else:
            base = 0.0

        def rest(f, msg):
            if progress is not None:
                progress(base + (1 - base) * f, msg)
        curve = conversion_curve(trained, percentile=percentile, Ts=key[2], seed=seed, progress=rest,
                                 should_stop=should_stop)
        with self._lock:
            self._curves[key] = curve
        return curve
