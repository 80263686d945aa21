"""ANN-to-SNN conversion accuracy vs T on scikit-learn's digits (SPEC 2.6).

Trains four ANNs on a fixed stratified 80/20 split of load_digits (seed 0):
a ReLU MLP, a QCFS MLP (Bu et al. 2022, L = 4 levels, learnable theta), and
a small CNN (Conv-BN-act-AvgPool x2, Linear) in both variants.  All four use
the same noise-aware training (inputs replaced by Binomial(T', x)/T' rate
draws, T' in {2, 4, 8}); ANN accuracy is measured on clean inputs.  Each ANN
is converted with engine.conversion.convert (99.9th-percentile threshold
balancing on the training set, reset by subtraction, membranes start at
theta/2) and run with Poisson input spikes for T in {4, ..., 128}; SNN
accuracy is the mean over 3 Poisson seeds.  The "const" column is the SNN
at T=4 with constant-current input (no input coding noise), which isolates
the conversion error from the Poisson sampling error; "ANN@P4" is the ANN
itself on Binomial(4, x)/4 inputs (the rates 4 Poisson steps deliver), the
accuracy a perfect converter could reach at T=4 with Poisson input (mean
of 20 draws).  "cal4" is the T=4 SNN after SNN-aware bias calibration (Li et
al. 2021, ``ConvertedSNN.calibrate_bias``, 4 Poisson draws of the training
set).  The summary lines split the T=4 gap ANN - SNN into the input-coding
part (ANN - ANN@P4: the ANN itself loses this on 4-sample Poisson rates) and
the conversion part (ANN@P4 - SNN), before and after calibration.

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
N_SEEDS = 3


def _spikingjelly_row(model, x_cal, x_test, y_test, T=32):
    """Accuracy of spikingjelly's ann2snn converter on the same ANN, if installed.

    spikingjelly is optional and not a dependency; this uses its documented
    ``ann2snn.Converter(mode='99.9%', dataloader=...)`` API with Poisson inputs.
    """
    try:
        from spikingjelly.activation_based import ann2snn, encoding, functional
    except ImportError:
        return None
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_cal, torch.zeros(len(x_cal))),
                                         batch_size=256)
    snn = ann2snn.Converter(mode="99.9%", dataloader=loader)(model)
    enc = encoding.PoissonEncoder()
    torch.manual_seed(0)
    with torch.no_grad():
        functional.reset_net(snn)
        out = sum(snn(enc(x_test)) for _ in range(T))
    return float((out.argmax(1) == y_test).float().mean()) * 100


def _ann_on_rate_noise(model, x, y, T=4, n_draws=20):
    g = torch.Generator().manual_seed(123)
    accs = []
    with torch.no_grad():
        for _ in range(n_draws):
            xn = torch.binomial(torch.full_like(x, float(T)), x, generator=g) / T
            accs.append(float((model(xn).argmax(1) == y).float().mean()) * 100)
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
    header = f"{'model':<15}{'ANN':>7}" + "".join(f"{'T=' + str(T):>8}" for T in T_VALUES) \
        + f"{'const4':>8}{'ANN@P4':>8}{'cal4':>8}{'convert ms':>12}"
    print("ANN vs converted-SNN test accuracy (%) on sklearn digits, Poisson input, "
          f"mean of {N_SEEDS} seeds")
    print(header)
    results = {}
    for name, model in models.items():
        train(model, xtr, ytr, epochs=100, seed=0, rate_noise_T=NOISE)
        r = accuracy_vs_T(model, xtr, xte, yte, Ts=T_VALUES, n_seeds=N_SEEDS, name=name)
        snn = convert(model, xtr if "MLP" in name else xtr.reshape(-1, 1, 8, 8), T=4)
        xt = xte if "MLP" in name else xte.reshape(-1, 1, 8, 8)
        const4 = float((snn.classify(xt, encoding="constant") == yte).float().mean()) * 100
        ann_p4 = _ann_on_rate_noise(model, xt, yte)
        snn.calibrate_bias(xtr if "MLP" in name else xtr.reshape(-1, 1, 8, 8), T=4, seed=1000)
        cal4 = sum(float((snn.classify(xt, seed=k, T=4) == yte).float().mean()) * 100
                   for k in range(N_SEEDS)) / N_SEEDS
        results[name] = (r, model, ann_p4, cal4)
        print(f"{name:<15}{r.ann_acc:>7.2f}" + "".join(f"{r.snn_acc[T]:>8.2f}" for T in T_VALUES)
              + f"{const4:>8.2f}{ann_p4:>8.2f}{cal4:>8.2f}{r.convert_time_s * 1e3:>12.2f}")
    print()
    for name, (r, _, ann_p4, cal4) in results.items():
        print(f"{name:<15} gap ANN - SNN:  T=4 {r.ann_acc - r.snn_acc[4]:+.2f} "
              f"(calibrated {r.ann_acc - cal4:+.2f})   T=32 {r.ann_acc - r.snn_acc[32]:+.2f} points;  "
              f"T=4 split: input coding ANN - ANN@P4 {r.ann_acc - ann_p4:+.2f}, "
              f"conversion ANN@P4 - SNN {ann_p4 - r.snn_acc[4]:+.2f} (calibrated {ann_p4 - cal4:+.2f})")
    mean_conv = sum(v[0].convert_time_s for v in results.values()) / len(results)
    print(f"mean conversion time: {mean_conv * 1e3:.2f} ms")
    sj = _spikingjelly_row(results["MLP ReLU"][1], xtr, xte, yte)
    print("spikingjelly ann2snn (MLP ReLU, T=32): "
          + ("not installed (optional)" if sj is None else f"{sj:.2f} %"))
    print(f"total bench time: {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
