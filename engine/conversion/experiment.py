"""Accuracy-vs-T experiment on scikit-learn's handwritten digits (SPEC 2.6).

Shared by ``bench/conversion_digits.py``, the test suite (at reduced size) and
the GUI's conversion lab.  Data: ``sklearn.datasets.load_digits`` (1797 8x8
images, intensities 0..16 scaled to [0, 1]); fixed stratified 80/20 split.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from engine.conversion.converter import convert
from engine.conversion.qcfs import QCFSActivation

__all__ = [
    "T_VALUES",
    "DigitsResult",
    "accuracy_vs_T",
    "ann_accuracy",
    "load_digits_split",
    "make_cnn",
    "make_mlp",
    "train",
]

T_VALUES = (4, 8, 16, 32, 64, 128)


def load_digits_split(seed: int = 0, test_size: float = 0.2):
    """(x_train, y_train, x_test, y_test) as float32/int64 tensors in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, d.target, test_size=test_size, random_state=seed,
                                          stratify=d.target)
    return (torch.from_numpy(xtr), torch.from_numpy(ytr).long(),
            torch.from_numpy(xte), torch.from_numpy(yte).long())


def _act(kind: str, T_train: int):
    if kind == "relu":
        return nn.ReLU()
    if kind == "qcfs":
        # Learnable clip level, as in Bu et al. (2022); initial theta chosen
        # near the typical activation scale of a freshly initialised layer.
        return QCFSActivation(T_train, theta=2.0, learn_theta=True)
    raise ValueError(f"activation kind must be 'relu' or 'qcfs', got {kind!r}")


def make_mlp(kind: str = "relu", hidden=(128, 64), T_train: int = 4, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers, n = [], 64
    for h in hidden:
        layers += [nn.Linear(n, h), _act(kind, T_train)]
        n = h
    layers.append(nn.Linear(n, 10))
    return nn.Sequential(*layers)


def make_cnn(kind: str = "relu", T_train: int = 4, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), _act(kind, T_train),
        nn.AvgPool2d(2),                                    # 8x8 -> 4x4
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), _act(kind, T_train),
        nn.AvgPool2d(2),                                    # 4x4 -> 2x2
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(32 * 4, 10),
    )


def _shape(model: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, 1, 8, 8) if isinstance(model[0], nn.Conv2d) else x


def train(model: nn.Sequential, x, y, epochs: int = 60, lr: float = 3e-3, batch_size: int = 64,
          seed: int = 0, rate_noise_T=None, callback=None) -> nn.Sequential:
    """Adam + cross-entropy with a cosine learning-rate schedule.

    ``rate_noise_T`` (int or sequence of ints): if given, each training batch
    is replaced by a Binomial(T, x)/T draw -- the input rate a Poisson encoder
    delivers in T steps -- with T drawn from the sequence per batch, so the
    ANN learns to tolerate input coding noise (noise-aware training).  The
    ANN is still evaluated on clean inputs.

    ``callback(epoch, epochs)`` (optional) runs after each epoch (1-based);
    returning ``False`` stops training there (the model is left part-trained)."""
    if rate_noise_T is not None and not isinstance(rate_noise_T, (list, tuple)):
        rate_noise_T = (rate_noise_T,)
    g = torch.Generator().manual_seed(seed)
    x = _shape(model, x)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    loss_fn = nn.CrossEntropyLoss()
    # Dropout draws from torch's global generator: seed it here (and restore
    # the caller's state afterwards) so a model's training does not depend
    # on what ran before it in the process.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _train_epochs(model, x, y, epochs, batch_size, g, opt, sched, loss_fn, rate_noise_T, callback)
    model.eval()
    return model


def _train_epochs(model, x, y, epochs, batch_size, g, opt, sched, loss_fn, rate_noise_T, callback=None):
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(x.shape[0], generator=g)
        for i in range(0, x.shape[0], batch_size):
            idx = perm[i:i + batch_size]
            xb = x[idx]
            if rate_noise_T is not None:
                Tn = rate_noise_T[int(torch.randint(len(rate_noise_T), (1,), generator=g))]
                xb = torch.binomial(torch.full_like(xb, float(Tn)), xb, generator=g) / Tn
            opt.zero_grad()
            loss_fn(model(xb), y[idx]).backward()
            opt.step()
        sched.step()
        if callback is not None and callback(epoch + 1, epochs) is False:
            return


def ann_accuracy(model, x, y) -> float:
    with torch.no_grad():
        return float((model(_shape(model, x)).argmax(1) == y).float().mean()) * 100


@dataclass
class DigitsResult:
    name: str
    ann_acc: float
    snn_acc: dict = field(default_factory=dict)   # T -> accuracy in percent (mean over seeds)
    convert_time_s: float = 0.0


def accuracy_vs_T(model, x_cal, x_test, y_test, Ts=T_VALUES, percentile: float = 99.9,
                  n_seeds: int = 1, seed: int = 0, name: str = "model", **convert_kwargs) -> DigitsResult:
    """ANN accuracy, conversion time and Poisson-input SNN accuracy for each T."""
    res = DigitsResult(name, ann_accuracy(model, x_test, y_test))
    t0 = time.perf_counter()
    snn = convert(model, _shape(model, x_cal), T=max(Ts), percentile=percentile, **convert_kwargs)
    res.convert_time_s = time.perf_counter() - t0
    xt = _shape(model, x_test)
    for T in Ts:
        accs = [float((snn.classify(xt, encoding="poisson", seed=seed + k, T=T) == y_test)
                      .float().mean()) * 100 for k in range(n_seeds)]
        res.snn_acc[T] = float(np.mean(accs))
    return res
