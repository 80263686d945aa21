"""engine.conversion pinned: BatchNorm folding against torch's own BatchNorm,
the messages that name the offending argument, the documented experiment CNN,
the converted network's repr, and the curve cache's lookups."""
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from engine.conversion import converter as CV  # noqa: E402
from engine.conversion import curves as CU  # noqa: E402
from engine.conversion import experiment as EX  # noqa: E402
from engine.conversion.qcfs import QCFSActivation  # noqa: E402


def _bn(n, **kw):
    bn = nn.BatchNorm1d(n, **kw)
    g = torch.Generator().manual_seed(1)
    bn.running_mean = torch.randn(n, generator=g, dtype=torch.float32)
    bn.running_var = torch.rand(n, generator=g) + 0.5
    if bn.weight is not None:
        with torch.no_grad():
            bn.weight.copy_(torch.rand(n, generator=g) + 0.5)
            bn.bias.copy_(torch.randn(n, generator=g))
    return bn.eval()


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_fold_batchnorm_equals_torchs_batchnorm(affine, bias):
    lin = nn.Linear(3, 4, bias=bias)
    bn = _bn(4, affine=affine)
    w, b = CV._fold_batchnorm(lin.weight.detach(), None if lin.bias is None else lin.bias.detach(), bn)
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = bn(lin(x))
    assert torch.allclose(x @ w.T + b, want, atol=1e-6)


def test_fold_batchnorm_conv_weights():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    bn = nn.BatchNorm2d(3).eval()
    bn.running_mean = torch.tensor([0.5, -1.0, 2.0])
    bn.running_var = torch.tensor([4.0, 1.0, 0.25])
    w, b = CV._fold_batchnorm(conv.weight.detach(), conv.bias.detach(), bn)
    x = torch.randn(2, 2, 5, 5, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        want = bn(conv(x))
    assert torch.allclose(nn.functional.conv2d(x, w, b, padding=1), want, atol=1e-5)


def test_fold_batchnorm_messages():
    with pytest.raises(NotImplementedError) as e:
        CV._fold_batchnorm(torch.ones(4, 3), None, nn.BatchNorm1d(4, track_running_stats=False))
    assert str(e.value) == "BatchNorm1d without running statistics (track_running_stats=False) cannot be folded"
    half = nn.BatchNorm1d(4)
    half.running_var = None  # one statistic missing is as bad as both
    with pytest.raises(NotImplementedError, match="without running statistics"):
        CV._fold_batchnorm(torch.ones(4, 3), None, half)
    with pytest.raises(ValueError) as e:
        CV._fold_batchnorm(torch.ones(4, 3), None, nn.BatchNorm1d(5))
    assert str(e.value) == "BatchNorm1d(num_features=5) does not match the 4 outputs of the layer before it"


def test_converted_repr():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    assert repr(CV.convert(model, T=8)) == "ConvertedSNN(n_layers=2, T=8, thresholds=[1, 1])"
    assert repr(CV.convert(model, T=4, signed=True)) == \
        "ConvertedSNN(n_layers=2, T=4, thresholds=[1, 1], signed=True)"
    q = nn.Sequential(nn.Linear(2, 3), QCFSActivation(4, theta=2.5), nn.Linear(3, 2))
    assert repr(CV.convert(q, T=16)) == "ConvertedSNN(n_layers=2, T=16, thresholds=[2.5, 1])"


def test_calibrate_bias_n_draws():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    snn = CV.convert(model, T=4)
    x = torch.rand(3, 2, generator=torch.Generator().manual_seed(0))
    for bad in (0, True, 1.5, -2):
        with pytest.raises(ValueError) as e:
            snn.calibrate_bias(x, n_draws=bad)
        assert str(e.value) == f"n_draws must be a positive int, got {bad!r}"
    assert len(snn.calibrate_bias(x, n_draws=1)) == 2
    assert len(snn.calibrate_bias(x, n_draws=np.int64(2))) == 2


# -- the experiment's CNN (8x8 digits, the documented architecture) ----------------------------

def _layers(model):
    out = []
    for m in model:
        if isinstance(m, nn.Conv2d):
            out.append(("conv", m.in_channels, m.out_channels, m.kernel_size, m.padding, m.bias is not None))
        elif isinstance(m, nn.BatchNorm2d):
            out.append(("bn", m.num_features))
        elif isinstance(m, nn.AvgPool2d):
            out.append(("avg", m.kernel_size))
        elif isinstance(m, nn.Dropout):
            out.append(("drop", m.p))
        elif isinstance(m, nn.Linear):
            out.append(("linear", m.in_features, m.out_features))
        elif isinstance(m, QCFSActivation):
            out.append(("qcfs", m.T, float(m.theta.detach()), isinstance(m.theta, nn.Parameter)))
        else:
            out.append(type(m).__name__)
    return out


@pytest.mark.parametrize("kind", ["relu", "qcfs"])
def test_make_cnn_architecture(kind):
    act = "ReLU" if kind == "relu" else ("qcfs", 3, 2.0, True)
    model = EX.make_cnn(kind, T_train=3, seed=0)
    assert _layers(model) == [("conv", 1, 16, (3, 3), (1, 1), True), ("bn", 16), act, ("avg", 2),
                              ("conv", 16, 32, (3, 3), (1, 1), True), ("bn", 32), act, ("avg", 2),
                              "Flatten", ("drop", 0.1), ("linear", 128, 10)]
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)  # 8x8 -> 4x4 -> 2x2, 32 * 4 features


def test_make_cnn_defaults_and_seed():
    a, b, c = EX.make_cnn(), EX.make_cnn(seed=0), EX.make_cnn(seed=1)
    assert _layers(a)[2] == "ReLU"
    assert torch.equal(a[0].weight, b[0].weight) and not torch.equal(a[0].weight, c[0].weight)
    assert _layers(EX.make_cnn("qcfs"))[2] == ("qcfs", 4, 2.0, True)  # T_train 4 by default
    with pytest.raises(ValueError, match="activation kind must be 'relu' or 'qcfs', got 'tanh'"):
        EX.make_cnn("tanh")


# -- curve arguments and the cache -----------------------------------------------------------

class _Stop(Exception):
    pass


def _stopper(*_):
    raise _Stop  # the first progress report: the arguments were accepted


TRAINED = SimpleNamespace(config=SimpleNamespace(name="stub"), model=None)


@pytest.mark.parametrize("pct", [50, 100, 99.9, 75.5])
def test_curve_accepts_percentiles_in_range(pct):
    with pytest.raises(_Stop):
        CU.conversion_curve(TRAINED, percentile=pct, progress=_stopper)


@pytest.mark.parametrize("Ts", [(1,), (4096,), (1, 4096), [3.0, 3]])
def test_curve_accepts_T_in_range(Ts):
    with pytest.raises(_Stop):
        CU.conversion_curve(TRAINED, Ts=Ts, progress=_stopper)


def test_curve_argument_messages():
    for bad in (49.9, 100.01, True, "99", None):
        with pytest.raises(ValueError) as e:
            CU.conversion_curve(TRAINED, percentile=bad, progress=_stopper)
        assert str(e.value) == f"percentile must be a number in [50, 100], got {bad!r}"
    for bad in ((), (0, 5), (5, 4097), (0,), (4097,)):
        with pytest.raises(ValueError) as e:
            CU.conversion_curve(TRAINED, Ts=bad, progress=_stopper)
        assert str(e.value) == f"Ts must be whole numbers in 1..4096, got {tuple(sorted(set(bad)))!r}"


def test_curve_progress_names_the_ann_and_percentile():
    seen = []

    def record(f, msg):
        seen.append((f, msg))
        raise _Stop

    with pytest.raises(_Stop):
        CU.conversion_curve(TRAINED, percentile=99.5, progress=record)
    assert seen == [(0.0, "converting stub (percentile 99.5)")]


def test_cache_lookup_keys():
    cache = CU.ConversionCache()
    cfg = CU.AnnConfig("mlp", "relu", epochs=4)
    assert CU.ConversionCache.key(cfg, 99, Ts=[8, 4, 4.0], seed=2.0) == (cfg, 99.0, (4, 8), 2)
    assert cache.curve(cfg, 99.9) is None and cache.ann(cfg) is None and cache.curves() == []
    marker = object()
    cache._curves[CU.ConversionCache.key(cfg, 99.9)] = marker
    assert cache.curve(cfg, 99.9) is marker
    assert cache.curve(cfg, 99.9, Ts=CU.T_VALUES, seed=0) is marker
    assert cache.curve(cfg, 99.9, seed=1) is None and cache.curve(cfg, 99.0) is None
    assert cache.curve(cfg, 99.9, Ts=(4, 8)) is None
    assert cache.curves() == [marker]
    # a hit costs nothing: get_curve returns the cached object without training
    assert cache.get_curve(cfg, 99.9, progress=_stopper) is marker


def test_qcfs_repr_and_config_messages():
    assert QCFSActivation(4, theta=2.5).extra_repr() == "T=4, theta=2.5, learn_theta=False"
    assert QCFSActivation(8, theta=1.0, learn_theta=True).extra_repr() == "T=8, theta=1, learn_theta=True"
    for kw, msg in (({"arch": "rnn"}, "arch must be one of ('mlp', 'cnn'), got 'rnn'"),
                    ({"activation": "tanh"}, "activation must be one of ('relu', 'qcfs'), got 'tanh'"),
                    ({"epochs": 0}, "epochs must be a whole number in 1..1000, got 0"),
                    ({"epochs": 1001}, "epochs must be a whole number in 1..1000, got 1001"),
                    ({"epochs": True}, "epochs must be a whole number in 1..1000, got True"),
                    ({"seed": -1}, "seed must be a non-negative whole number, got -1"),
                    ({"seed": 1.0}, "seed must be a non-negative whole number, got 1.0")):
        with pytest.raises(ValueError) as e:
            CU.AnnConfig(**kw)
        assert str(e.value) == msg
    for ok in ({"epochs": 1}, {"epochs": 1000}, {"seed": 0}):
        CU.AnnConfig(**ok)
    assert CU.AnnConfig("cnn", "qcfs").name == "CNN QCFS" and CU.AnnConfig().name == "MLP ReLU"


def test_classify_over_T_needs_a_T():
    snn = CV.convert(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)), T=4)
    with pytest.raises(ValueError) as e:
        snn.classify_over_T(torch.zeros(1, 2), [])
    assert str(e.value) == "Ts must name at least one T"
    # one sample (1-D input): class indices and counts without the batch axis
    preds, counts = snn.classify_over_T(torch.tensor([0.5, 0.25]), [2, 4], encoding="constant")
    assert preds[4].dim() == 0 and counts[4].shape == (2,)
    p2, c2 = snn.classify_over_T(torch.tensor([[0.5, 0.25]]), [2, 4], encoding="constant")
    assert int(p2[4][0]) == int(preds[4]) and c2[4][0].tolist() == counts[4].tolist()


def test_a_small_curve_end_to_end():
    trained = CU.train_ann(CU.AnnConfig("mlp", "relu", epochs=1))
    seen = []
    t0 = __import__("time").perf_counter()
    c = CU.conversion_curve(trained, percentile=99.0, Ts=(4, 2), n_samples=3, seed=0,
                            progress=lambda f, m: seen.append((f, m)))
    wall = __import__("time").perf_counter() - t0
    _, _, xte, yte = CU.digits_data()
    picks = [int(np.flatnonzero(yte.numpy() == k)[0]) for k in range(3)]  # the first 0, 1 and 2
    assert c.ann is trained.config and c.percentile == 99.0 and c.Ts == (2, 4)
    assert c.ann_acc == trained.ann_acc
    assert c.sample_index == picks and c.sample_labels.tolist() == [0, 1, 2]
    assert np.array_equal(c.sample_images, xte[picks].numpy().reshape(3, 8, 8))
    assert c.sample_counts.shape == (2, 3, 10) and c.n_test == yte.shape[0]
    assert all(abs(c.snn_acc[T] * c.n_test / 100 - round(c.snn_acc[T] * c.n_test / 100)) < 1e-3 for T in c.Ts)  # float32 mean
    assert 0 <= c.convert_s <= c.curve_s <= wall
    assert [m for _, m in seen] == [
        "converting MLP ReLU (percentile 99)", "running the SNN for T = 2, 4 (one run of 4 steps)",
        "SNN accuracy: " + ", ".join(f"T={T}: {c.snn_acc[T]:.1f} %" for T in (2, 4))]
    assert [f for f, _ in seen] == [0.0, 0.1, 1.0]
    again = CU.conversion_curve(trained, percentile=99.0, Ts=(2, 4), n_samples=0)
    assert again.sample_index == [] and again.sample_counts.shape == (2, 0, 10)
    assert again.snn_acc == c.snn_acc  # the same seed, the same Poisson draws


def _conv_qcfs_net():
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), QCFSActivation(8, theta=1.0), nn.Flatten(),
                         nn.Linear(2 * 4 * 6, 3)).eval()


def test_calibrate_bias_on_a_convolution():
    # the exact case (QCFS, T = L, constant input): nothing to correct, also per channel
    net = _conv_qcfs_net()
    x = torch.rand(64, 1, 4, 6, generator=torch.Generator().manual_seed(5))  # not square: rows != columns
    snn = CV.convert(net, T=8)
    sizes = snn.calibrate_bias(x, encoding="constant")
    assert len(sizes) == 2 and max(sizes) < 1e-5
    # a systematic offset in the convolution's bias is taken back, channel by channel
    snn = CV.convert(net, T=8)
    snn.biases[0].add_(torch.tensor([0.15, -0.1]))
    with torch.no_grad():
        target = net[1](net[0](x))  # (N, 2, 4, 6)

    def channel_error():
        spikes = snn._layer(0, x.unsqueeze(0), 8, True)[1]
        rate = spikes.sum(0) / 8 * snn.thresholds[0]
        return (rate.reshape(target.shape) - target).mean(dim=(0, 2, 3))

    before = channel_error()
    assert float(before[0]) > 0.05 and float(before[1]) < -0.03
    sizes = snn.calibrate_bias(x, encoding="constant")
    after = channel_error()
    # (clipping at 0 and theta and the 1/8 quantisation leave part of it; a correction
    # averaged with the wrong count of positions would be off by a factor of 24)
    assert float(after.abs().max()) < 0.6 * float(before.abs().min())
    assert 0.05 < sizes[0] < 0.15
