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
