"""Built-in training tasks for ``Network.to_torch`` modules (the training lab's).

A task is input currents ``(T, n, input_dim)`` and class labels for a train
and a test split, made reproducibly from a seed with a private
``torch.Generator`` (two tasks made at once share no random state):

* ``"two_pattern"`` -- discrimination of two input spike-train patterns.  Each
  class has a fixed rate template over the input neurons (each neuron fires
  with probability ``p_high`` or ``p_low`` per step, drawn once from the seed;
  half the neurons are "high" in each class, on different neurons); a sample is
  a fresh Bernoulli spike train of its class's template.  The current of a
  spike is ``amplitude``.
* ``"digits_poisson"`` -- scikit-learn's bundled handwritten digits (1797
  8x8 images, :func:`engine.conversion.experiment.load_digits_split`'s
  stratified 80/20 split): each pixel intensity ``x`` in [0, 1] becomes a
  Bernoulli spike train with probability ``x * p_max`` per step, of current
  ``amplitude``; 64 inputs, 10 classes.
* ``"digits_current"`` -- the same digits as constant currents
  ``amplitude * x``.

:func:`train_network` trains a module on a task with Adam and cross-entropy
on the output spike counts (logits = ``counts * 10 / T``, so the scale does
not grow with T), calling back after every batch; the callback can stop the
run (return ``False``) or hold it (by blocking, e.g. on an Event: pause).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import torch

__all__ = ["TASKS", "Task", "make_task", "train_network", "evaluate", "TrainRecord",
           "two_pattern_network", "digits_network", "proposed_network"]

#: task name -> one-line description (the lab's menu)
TASKS = {
    "two_pattern": "two-pattern discrimination of input spike trains (2 classes)",
    "digits_poisson": "scikit-learn digits, 8x8 pixels as Poisson spike trains (64 inputs, 10 classes)",
    "digits_current": "scikit-learn digits, 8x8 pixels as constant currents (64 inputs, 10 classes)",
}

MAX_T = 1000
MAX_SAMPLES = 20_000


@dataclass
class Task:
    name: str
    x_train: torch.Tensor   # (T, n_train, input_dim) currents
    y_train: torch.Tensor   # (n_train,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int

    @property
    def T(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[2])


def _posint(value, name, hi):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= hi:
        raise ValueError(f"{name} must be a whole number in 1..{hi}, got {value!r}")
    return int(value)


def _posnum(value, name, hi=math.inf):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not 0 < value <= hi:
        raise ValueError(f"{name} must be a finite number in (0, {hi:g}], got {value!r}")
    return float(value)


def make_task(name: str, *, T: int = 25, input_dim: int | None = None, seed: int = 0,
              n_train: int = 256, n_test: int = 128, amplitude: float = 2.0, p_high: float = 0.2,
              p_low: float = 0.05, p_max: float = 0.4, dtype=torch.float32) -> Task:
    """The task ``name`` (see :data:`TASKS`) with ``T`` steps per sample.

    ``input_dim`` is the number of input neurons (two-pattern: any >= 2; the
    digits tasks have 64 and refuse another value); ``n_train`` / ``n_test``
    apply to the two-pattern task (the digits use the fixed split)."""
    if name not in TASKS:
        raise ValueError(f"task: unknown task {name!r}; choose one of {', '.join(TASKS)}")
    T = _posint(T, "T", MAX_T)
    amplitude = _posnum(amplitude, "amplitude")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")
    g = torch.Generator().manual_seed(int(seed))
    if name == "two_pattern":
        d = 20 if input_dim is None else input_dim
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 2:
            raise ValueError(f"input_dim: the two-pattern task needs at least 2 input neurons, got {input_dim!r}")
        n_train = _posint(n_train, "n_train", MAX_SAMPLES)
        n_test = _posint(n_test, "n_test", MAX_SAMPLES)
        p_high, p_low = _posnum(p_high, "p_high", 1.0), _posnum(p_low, "p_low", 1.0)
        # each class is "high" on its own random half of the input neurons
        order = torch.randperm(int(d), generator=g)
        rates = torch.full((2, int(d)), p_low)
        rates[0, order[: d // 2]] = p_high
        rates[1, order[d // 2: 2 * (d // 2)]] = p_high

        def sample(n):
            y = torch.arange(n) % 2
            y = y[torch.randperm(n, generator=g)]
            spikes = torch.bernoulli(rates[y].unsqueeze(0).expand(T, n, int(d)), generator=g)
            return (spikes * amplitude).to(dtype), y

        xtr, ytr = sample(n_train)
        xte, yte = sample(n_test)
        return Task(name, xtr, ytr, xte, yte, 2)
    if input_dim is not None and input_dim != 64:
        raise ValueError(f"input_dim: the digits tasks have 64 inputs (8x8 pixels); the network's input "
                         f"populations have {input_dim} neurons")
    from engine.conversion.experiment import load_digits_split

    xtr, ytr, xte, yte = load_digits_split(seed=0)

    def encode(x):
        if name == "digits_current":
            return (amplitude * x).unsqueeze(0).expand(T, *x.shape).to(dtype).contiguous()
        p = _posnum(p_max, "p_max", 1.0) * x
        return (torch.bernoulli(p.unsqueeze(0).expand(T, *x.shape), generator=g) * amplitude).to(dtype)

    return Task(name, encode(xtr), ytr, encode(xte), yte, 10)


def two_pattern_network(input_dim: int = 20, hidden: int = 20, seed: int = 1) -> dict:
    """The network document the lab proposes for the two-pattern task:
    ``in`` (Lapicque relays, tau 1 ms: one input spike of current 2 makes one
    spike) -> ``hidden`` -> ``out`` (2 neurons, one per class), all
    LapicqueNeuron, random positive initial weights."""
    return {
        "schema_version": 1, "seed": int(seed),
        "populations": [
            {"label": "in", "model": "LapicqueNeuron", "n": int(input_dim), "params": {"tau": 1.0}},
            {"label": "hidden", "model": "LapicqueNeuron", "n": int(hidden), "params": {"tau": 10.0}},
            {"label": "out", "model": "LapicqueNeuron", "n": 2, "params": {"tau": 10.0}},
        ],
        "projections": [
            {"label": "in->hidden", "source": "in", "target": "hidden", "probability": 0.8, "seed": seed,
             "weight": {"dist": "uniform", "low": 0.0, "high": 0.6}},
            {"label": "hidden->out", "source": "hidden", "target": "out", "seed": seed + 1,
             "weight": {"dist": "uniform", "low": 0.0, "high": 0.6}},
        ],
        "stimuli": [], "monitors": [],
        "training": {"surrogate": "atan_surrogate", "path": "custom_op", "params": {"alpha": 2.0}},
    }


def digits_network(hidden: int = 64, seed: int = 1) -> dict:
    """A network document for the digits tasks: 64 input relays -> ``hidden``
    -> 10 outputs (one per digit), all LapicqueNeuron."""
    doc = two_pattern_network(64, hidden, seed)
    doc["populations"][2]["n"] = 10
    for proj in doc["projections"]:
        proj["weight"] = {"dist": "uniform", "low": 0.0, "high": 0.3}
    proj = doc["projections"][0]
    proj.pop("probability")
    return doc


def proposed_network(task: str) -> dict:
    """The network document the lab proposes for ``task``."""
    if task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return two_pattern_network() if task == "two_pattern" else digits_network()


@dataclass
class TrainRecord:
    """What :func:`train_network` reports after each batch (and returns last)."""
    epoch: int              # 0-based epoch of this batch
    batch: int              # 0-based batch within the epoch
    n_batches: int          # batches per epoch
    loss: float             # this batch's loss
    train_acc: float        # this batch's accuracy (%)
    test_acc: float | None  # test accuracy (%) after the epoch (None mid-epoch)
    elapsed_s: float
    history: dict = field(default_factory=dict)  # "loss", "train_acc", "test_acc" lists so far


def _check_fit(module, task):
    if task.input_dim != module.input_dim:
        raise ValueError(f"input_dim: the task has {task.input_dim} inputs but the network's input "
                         f"populations {module.input_labels} have {module.input_dim} neurons")
    if module.output_dim != task.n_classes:
        raise ValueError(f"output: the task has {task.n_classes} classes but the network's output populations "
                         f"{module.output_labels} have {module.output_dim} neurons (one per class needed)")


def _logits(module, x):
    return module(x) * (10.0 / x.shape[0])


@torch.no_grad()
def evaluate(module, x, y, batch_size: int = 512) -> float:
    """Accuracy (%) of ``module`` (argmax of output spike counts) on ``x``, ``y``."""
    dtype = next(iter(module.parameters()), torch.empty(0)).dtype
    correct = 0
    for i in range(0, x.shape[1], batch_size):
        out = module(x[:, i:i + batch_size].to(dtype))
        correct += int((out.argmax(1) == y[i:i + batch_size]).sum())
    return 100.0 * correct / max(1, x.shape[1])


def train_network(module, task: Task, *, epochs: int = 20, lr: float = 0.05, batch_size: int = 32,
                  seed: int = 0, callback=None) -> TrainRecord:
    """Train ``module`` (a :class:`~engine.training.bridge.TorchNetwork`) on
    ``task``: Adam, cross-entropy on ``counts * 10 / T``, batches in a seeded
    order.  ``callback(record)`` runs after each batch; ``False`` stops.
    Returns the last record (its ``history`` has the per-batch loss and
    train accuracy and the per-epoch test accuracy)."""
    epochs = _posint(epochs, "epochs", 10_000)
    batch_size = _posint(batch_size, "batch", MAX_SAMPLES)
    lr = _posnum(lr, "learning rate", 10.0)
    _check_fit(module, task)
    dtype = next(iter(module.parameters()), torch.empty(0)).dtype
    g = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(module.parameters(), lr=lr)
    n = task.x_train.shape[1]
    n_batches = -(-n // batch_size)
    hist = {"loss": [], "train_acc": [], "test_acc": []}
    t0 = time.perf_counter()
    rec = None
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=g)
        for b in range(n_batches):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            x, y = task.x_train[:, idx].to(dtype), task.y_train[idx]
            opt.zero_grad()
            logits = _logits(module, x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            hist["loss"].append(loss.item())
            hist["train_acc"].append(100.0 * float((logits.argmax(1) == y).float().mean()))
            test = None
            if b == n_batches - 1:
                test = evaluate(module, task.x_test, task.y_test)
                hist["test_acc"].append(test)
            rec = TrainRecord(epoch, b, n_batches, hist["loss"][-1], hist["train_acc"][-1], test,
                              time.perf_counter() - t0, hist)
            if callback is not None and callback(rec) is False:
                return rec
    return rec
