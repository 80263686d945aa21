"""ANN-to-SNN conversion accuracy vs T on scikit-learn's digits (SPEC 2.6).

Trains four ANNs on a fixed stratified 80/20 split of load_digits (seed 0):
a ReLU MLP, a QCFS MLP (Bu et al. 2022, L = 4 levels, learnable theta), and
a small CNN (Conv-BN-act-AvgPool x2, Linear) in both variants.  All four use
the same noise-aware training (inputs replaced by Binomial(T', x)/T' rate
draws, T' in {2, 4, 8}); ANN accuracy is always that ANN's accuracy on the
clean test inputs.  Each ANN is converted with engine.conversion.convert
(99.9th-percentile threshold balancing on the training set, reset by
subtraction, membranes start at theta/2) twice: with classic IF neurons
("IF") and with signed IF neurons in the hidden layers ("signed", Wang et
al. 2022, ``convert(..., signed=True)``).  Each SNN runs with Poisson input
spikes for T in {4, ..., 128}; SNN accuracy is the mean over N_SEEDS Poisson
seeds (one seed's accuracy scatters by ~0.7 points on these 360 test
images, so 3 seeds are not enough to resolve a 1-point target).

Extra columns, all at T=4:
  const4  SNN with constant-current input (no input-coding noise);
  ANN@P4  the same ANN fed the input rates of the very Poisson spike trains
          the SNN got (spike count / 4 per pixel, same seeds): what a
          perfect converter reaches at T=4 with Poisson input;
  cal4    SNN after SNN-aware bias calibration (Li et al. 2021,
          ``ConvertedSNN.calibrate_bias``, 4 Poisson draws of the training set).
The summary splits the T=4 gap ANN - SNN into the input-coding part
(ANN - ANN@P4) and the conversion part (ANN@P4 - SNN), for classic and
signed neurons, without and with calibration.

Run:  .venv/bin/python bench/conversion_digits.py
"""
from __future__ import annotations

import time

import torch

from engine.conversion import convert
from engine.conversion.experiment import (
    T_VALUES,
    accuracy_vs_T,
    load_digits_split,
    make_cnn,
    make_mlp,
    train,
)

NOISE = (2, 4, 8)
N_SEEDS = 10


def _spikingjelly_row(model, x_cal, x_test, y_test, T=32):
    """Accuracy of spikingjelly's ann2snn converter on the same ANN, if installed.

    spikingjelly is optional and not a dependency.  Its API changed: recent
    releases take a ``RateCodingRecipe(dataloader, mode="99.9%")`` and a
    ``convert(model)`` call; older ones ``Converter(mode=..., dataloader=...)(model)``.
    Both use a 99.9th-percentile normalisation with Poisson inputs, like ours.
    """
    try:
        from spikingjelly.activation_based import ann2snn, encoding, functional
    except ImportError:
        return None
    import copy

    model = copy.deepcopy(model)  # the converter rewrites the graph in place
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_cal, torch.zeros(len(x_cal))),
                                         batch_size=256)
    recipes = getattr(ann2snn, "recipes", None)
    if recipes is not None and hasattr(recipes, "RateCodingRecipe"):
        snn = ann2snn.Converter(recipes.RateCodingRecipe(dataloader=loader, mode="99.9%")).convert(model)
    else:
        snn = ann2snn.Converter(mode="99.9%", dataloader=loader)(model)
    enc = encoding.PoissonEncoder()
    torch.manual_seed(0)
    with torch.no_grad():
        functional.reset_net(snn)
        out = sum(snn(enc(x_test)) for _ in range(T))
    return float((out.argmax(1) == y_test).float().mean()) * 100


def _acc(pred, y):
    return float((pred == y).float().mean()) * 100


def _ann_on_snn_input(model, x, y, T=4, n_seeds=N_SEEDS):
    """The ANN on the rates of the Poisson spike trains the SNN sees: the same
    Bernoulli draws as ConvertedSNN's encoder for seeds 0..n_seeds-1 (the test
    batch is a single simulation chunk)."""
    accs = []
    with torch.no_grad():
        for k in range(n_seeds):
            g = torch.Generator().manual_seed(k)
            rates = (torch.rand((T,) + tuple(x.shape), generator=g) < x).float().mean(0)
            accs.append(_acc(model(rates).argmax(1), y))
    return sum(accs) / len(accs)


def main():
    torch.set_num_threads(1)  # the machine is shared: oversubscribed threads thrash
    t_start = time.perf_counter()
    xtr, ytr, xte, yte = load_digits_split(seed=0)
    models = {
        "MLP ReLU": make_mlp("relu", hidden=(256, 128), seed=0),
        "MLP QCFS(L=4)": make_mlp("qcfs", hidden=(256, 128), T_train=4, seed=0),
        "CNN ReLU": make_cnn("relu", seed=0),
        "CNN QCFS(L=4)": make_cnn("qcfs", T_train=4, seed=0),
    }
    header = f"{'model':<15}{'neuron':<8}{'ANN':>7}" + "".join(f"{'T=' + str(T):>8}" for T in T_VALUES) \
        + f"{'const4':>8}{'ANN@P4':>8}{'cal4':>8}{'convert ms':>12}"
    print("ANN vs converted-SNN test accuracy (%) on sklearn digits, Poisson input, "
          f"mean of {N_SEEDS} seeds")
    print(header)
    results = {}
    for name, model in models.items():
        train(model, xtr, ytr, epochs=100, seed=0, rate_noise_T=NOISE)
        xc = xtr if "MLP" in name else xtr.reshape(-1, 1, 8, 8)
        xt = xte if "MLP" in name else xte.reshape(-1, 1, 8, 8)
        ann_p4 = _ann_on_snn_input(model, xt, yte)
        for signed in (False, True):
            r = accuracy_vs_T(model, xtr, xte, yte, Ts=T_VALUES, n_seeds=N_SEEDS, name=name, signed=signed)
            snn = convert(model, xc, T=4, signed=signed)
            const4 = _acc(snn.classify(xt, encoding="constant"), yte)
            snn.calibrate_bias(xc, T=4, seed=1000)
            cal4 = sum(_acc(snn.classify(xt, seed=k, T=4), yte) for k in range(N_SEEDS)) / N_SEEDS
            results[name, signed] = (r, model, ann_p4, cal4)
            print(f"{name:<15}{'signed' if signed else 'IF':<8}{r.ann_acc:>7.2f}"
                  + "".join(f"{r.snn_acc[T]:>8.2f}" for T in T_VALUES)
                  + f"{const4:>8.2f}{ann_p4:>8.2f}{cal4:>8.2f}{r.convert_time_s * 1e3:>12.2f}", flush=True)
    print()
    print("gap ANN - SNN in points (T=4 split into input coding ANN - ANN@P4 and conversion ANN@P4 - SNN)")
    for (name, signed), (r, _, ann_p4, cal4) in results.items():
        print(f"{name:<15}{'signed' if signed else 'IF':<8}"
              f"T=4 {r.ann_acc - r.snn_acc[4]:+.2f} (calibrated {r.ann_acc - cal4:+.2f})  "
              f"T=32 {r.ann_acc - r.snn_acc[32]:+.2f}   T=4 split: coding {r.ann_acc - ann_p4:+.2f}, "
              f"conversion {ann_p4 - r.snn_acc[4]:+.2f} (calibrated {ann_p4 - cal4:+.2f})")
    mean_conv = sum(v[0].convert_time_s for v in results.values()) / len(results)
    print(f"mean conversion time: {mean_conv * 1e3:.2f} ms")
    sj = _spikingjelly_row(results["MLP ReLU", False][1], xtr, xte, yte)
    print("spikingjelly ann2snn (MLP ReLU, T=32): "
          + ("not installed (optional)" if sj is None else f"{sj:.2f} %"))
    print(f"total bench time: {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
