"""Pinned values for engine/conversion that the mutation run found unchecked
(round 3b): calibrate_bias, classify_over_T, the ANN targets, and the training
progress messages.  Expected values are worked out by hand from the
definitions (rate = spikes / T, threshold-scaled), not copied from a run."""
import copy

import numpy as np

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from engine.conversion import converter as CV  # noqa: E402


def _mlp():
    """2 -> 3 -> 3 -> 2, hand-set weights; with percentile 100 on the one
    calibration sample [0.5, 0.25] the thresholds are 0.5 and 0.6 (worked
    out below) and 0.35 for the output's positive part."""
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))
        m[0].bias.zero_()
        m[2].weight.copy_(torch.eye(3))
        m[2].bias.copy_(torch.tensor([0.1, 0.0, 0.0]))
        m[4].weight.copy_(torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
        m[4].bias.copy_(torch.tensor([-0.5, 0.1]))
    return m


def _snn(**kw):
    return CV.convert(_mlp(), torch.tensor([[0.5, 0.25]]), percentile=100.0, **kw)


def test_thresholds_are_the_hand_computed_maxima():
    # layer 0: relu(x1, x2, x1 - x2) = (0.5, 0.25, 0.25) -> 0.5
    # layer 1: relu(a0 + (0.1, 0, 0)) = (0.6, 0.25, 0.25) -> 0.6
    # output:  relu(0.6 + 0.25 - 0.5, 0.25 + 0.1) = (0.35, 0.35) -> 0.35
    assert _snn().thresholds == pytest.approx([0.5, 0.6, 0.35])


def test_ann_targets_clip_each_hidden_layer_to_its_threshold():
    snn = _snn()
    x = torch.tensor([[1.0, -0.5]])
    # z0 = (1, -0.5, 1.5), clipped to [0, 0.5]
    assert torch.allclose(snn._ann_targets(x, 0), torch.tensor([[0.5, 0.0, 0.5]]))
    # z1 = clip(z0) + (0.1, 0, 0) = (0.6, 0, 0.5), clipped to [0, 0.6]
    assert torch.allclose(snn._ann_targets(x, 1), torch.tensor([[0.6, 0.0, 0.5]]))
    # logits: (0.6 + 0 - 0.5, 0.5 + 0.1)
    assert torch.allclose(snn._ann_targets(x, 2), torch.tensor([[0.1, 0.6]]))


def _reference_calibration(snn, xb, T, encoding, n_draws, seed, chunk):
    """calibrate_bias written out plainly: per layer, the mean over samples
    and draws of (ANN target - SNN rate * threshold), or of (logits - mean
    input current) for the output layer; earlier layers corrected first."""
    snn = copy.deepcopy(snn)
    gen = torch.Generator().manual_seed(seed)
    sizes = []
    for li in range(snn.n_layers):
        total, count = 0.0, 0
        for start in range(0, xb.shape[0], chunk):
            xc = xb[start:start + chunk]
            for _ in range(n_draws if encoding == "poisson" else 1):
                if encoding == "poisson":
                    s, const = (torch.rand((T,) + tuple(xc.shape), generator=gen) < xc).float(), False
                else:
                    s, const = xc.unsqueeze(0), True
                for lj in range(li + 1):
                    cur, s, _ = snn._layer(lj, s, T, const)
                    const = False
                if li == snn.n_layers - 1:
                    got = cur.mean(0)
                else:
                    got = s.mean(0) * snn.thresholds[li]
                total = total + (snn._ann_targets(xc, li) - got).sum(0)
                count += xc.shape[0]
        delta = total / count
        snn.biases[li].add_(delta)
        sizes.append(float(delta.abs().mean()))
    return sizes, [b.clone() for b in snn.biases]


X = torch.tensor([[0.9, 0.2], [0.3, 0.7], [0.6, 0.6]])


@pytest.mark.parametrize("chunk", [None, 1])
def test_calibrate_bias_defaults_equal_the_plain_reference(chunk):
    snn = _snn()
    if chunk is not None:
        # one sample per chunk: the loop over chunks must cover the whole batch
        snn._chunk_size = lambda x, T: chunk
    want_sizes, want_biases = _reference_calibration(snn, X, 5, "poisson", 4, 0, chunk or 3)
    sizes = snn.calibrate_bias(X, T=5)  # defaults: poisson, 4 draws, seed 0
    assert sizes == pytest.approx(want_sizes, rel=1e-5, abs=1e-7)
    for got, want in zip(snn.biases, want_biases):
        assert torch.allclose(got, want, atol=1e-6)
    assert all(s > 0 for s in sizes)  # a 5-step Poisson run is never exact here


def test_calibrate_bias_uses_the_default_T_and_the_given_seed():
    snn = _snn(T=6)
    want_sizes, _ = _reference_calibration(snn, X, 6, "poisson", 2, 7, 3)
    assert snn.calibrate_bias(X, n_draws=2, seed=7) == pytest.approx(want_sizes, rel=1e-5, abs=1e-7)


def test_calibrate_bias_constant_input_is_drawn_once():
    snn = _snn()
    want_sizes, want_biases = _reference_calibration(snn, X, 4, "constant", 1, 0, 3)
    sizes = snn.calibrate_bias(X, T=4, encoding="constant", n_draws=3)
    assert sizes == pytest.approx(want_sizes, rel=1e-6, abs=1e-8)
    for got, want in zip(snn.biases, want_biases):
        assert torch.allclose(got, want, atol=1e-7)


def test_classify_over_T_without_a_seed_draws_fresh_input():
    snn = _snn()
    preds, counts = snn.classify_over_T(X, [2, 3])  # seed=None: a fresh generator seed
    assert sorted(preds) == [2, 3] and preds[3].shape == (3,)
    # counts are spike counts of the 2 output units: whole numbers from 0 to T
    for T in (2, 3):
        c = counts[T]
        assert c.shape == (3, 2) and torch.equal(c, c.round()) and 0 <= float(c.min()) and float(c.max()) <= T


# -- experiment.accuracy_vs_T --------------------------------------------------------
from engine.conversion import curves as CU  # noqa: E402
from engine.conversion import experiment as EX  # noqa: E402

Y = torch.tensor([1, 1, 0])


def _plain_accuracy(model, T, percentile, seeds):
    """convert + classify, written out: the mean over seeds of % correct."""
    snn = CV.convert(model, torch.tensor([[0.5, 0.25]]), percentile=percentile)
    return sum(float((snn.classify(X, seed=s, T=T) == Y).float().mean()) * 100 for s in seeds) / len(seeds)


def test_accuracy_vs_T_defaults_one_seed_zero_and_the_name():
    import time

    m = _mlp()
    t0 = time.perf_counter()
    res = EX.accuracy_vs_T(m, torch.tensor([[0.5, 0.25]]), X, Y, Ts=(2, 5))
    wall = time.perf_counter() - t0
    assert res.name == "model"
    assert 0.0 <= res.convert_time_s <= wall
    for T in (2, 5):
        assert res.snn_acc[T] == pytest.approx(_plain_accuracy(m, T, 99.9, [0]))


def test_accuracy_vs_T_passes_the_percentile_and_seeds():
    m = _mlp()
    res = EX.accuracy_vs_T(m, torch.tensor([[0.5, 0.25]]), X, Y, Ts=(3,), percentile=50.0, n_seeds=2, seed=4,
                           name="tiny")
    assert res.name == "tiny"
    assert res.snn_acc[3] == pytest.approx(_plain_accuracy(m, 3, 50.0, [4, 5]))


# -- curves: train_ann, conversion_curve, ConversionCache, on a tiny digits split ---
@pytest.fixture
def tiny_digits(monkeypatch):
    xtr, ytr, xte, yte = CU.digits_data()
    tiny = (xtr[:40], ytr[:40], xte[:30], yte[:30])
    monkeypatch.setattr(CU, "digits_data", lambda: tiny)
    return tiny


def _recorder():
    got = []
    return got, lambda f, msg: got.append((round(f, 6), msg))


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("arch, activation", [("mlp", "qcfs"), ("cnn", "relu")])
def test_train_ann_is_make_then_noise_aware_train(tiny_digits, arch, activation):
    import time

    xtr, ytr, xte, yte = tiny_digits
    cfg = CU.AnnConfig(arch=arch, activation=activation, epochs=2, seed=3)
    got, progress = _recorder()
    t0 = time.perf_counter()
    tr = CU.train_ann(cfg, progress=progress)
    wall = time.perf_counter() - t0
    maker = EX.make_mlp if arch == "mlp" else EX.make_cnn
    want = maker(activation, seed=3)
    EX.train(want, xtr, ytr, epochs=2, seed=3, rate_noise_T=CU.NOISE_T)
    assert _same_weights(tr.model, want)
    assert tr.ann_acc == EX.ann_accuracy(want, xte, yte)
    assert 0.0 < tr.train_s <= wall
    name = f"{arch.upper()} {'QCFS' if activation == 'qcfs' else 'ReLU'}"
    assert got == [(0.0, f"training {name}"), (0.5, f"training {name}: epoch 1/2"),
                   (1.0, f"training {name}: epoch 2/2")]


def test_train_ann_stops_after_the_epoch_it_is_asked_to(tiny_digits):
    got, progress = _recorder()
    with pytest.raises(CU.Cancelled):
        CU.train_ann(CU.AnnConfig(epochs=3), progress=progress, should_stop=lambda: True)
    assert got == [(0.0, "training MLP ReLU"), (round(1 / 3, 6), "training MLP ReLU: epoch 1/3")]


def test_train_ann_says_when_it_waits_for_another_session(tiny_digits):
    import threading

    got, seen = [], threading.Event()

    def progress(f, msg):
        got.append(msg)
        seen.set()

    with CU._TRAIN_LOCK:
        t = threading.Thread(target=CU.train_ann, args=(CU.AnnConfig(epochs=1),), kwargs={"progress": progress})
        t.start()
        assert seen.wait(30)
        assert got == ["training MLP ReLU (waiting for another session)"]
    t.join(60)
    assert got[-1] == "training MLP ReLU: epoch 1/1"


@pytest.fixture
def trained(tiny_digits):
    return CU.train_ann(CU.AnnConfig(epochs=1))


def _plain_curve_acc(tr, percentile, Ts, seed):
    xtr, _, xte, yte = CU.digits_data()
    snn = CV.convert(tr.model, EX._shape(tr.model, xtr), percentile=percentile)
    preds, _ = snn.classify_over_T(EX._shape(tr.model, xte), Ts, seed=seed)
    return {T: 100.0 * float((preds[T] == yte).float().mean()) for T in Ts}


def test_conversion_curve_defaults_and_messages(trained):
    got, progress = _recorder()
    c = CU.conversion_curve(trained, Ts=(3, 1, 2), progress=progress)
    assert c.Ts == (1, 2, 3) and c.percentile == 99.9
    assert c.snn_acc == _plain_curve_acc(trained, 99.9, (1, 2, 3), 0)
    # the default 4 sample digits: the first test image of classes 0..3
    yte = CU.digits_data()[3].numpy()
    assert c.sample_index == [int(np.flatnonzero(yte == k)[0]) for k in range(4)]
    assert c.sample_counts.shape == (3, 4, 10)
    assert [m for _, m in got][:2] == ["converting MLP ReLU (percentile 99.9)",
                                       "running the SNN for T = 1, 2, 3 (one run of 3 steps)"]


def test_conversion_curve_passes_the_percentile(trained):
    c = CU.conversion_curve(trained, percentile=50, Ts=(2,), seed=5)
    assert c.snn_acc == _plain_curve_acc(trained, 50.0, (2,), 5)


def test_conversion_curve_checks_should_stop_before_the_snn_run(trained):
    got, progress = _recorder()
    with pytest.raises(CU.Cancelled):
        CU.conversion_curve(trained, Ts=(2,), progress=progress, should_stop=lambda: True)
    assert [m for _, m in got] == ["converting MLP ReLU (percentile 99.9)"]


def test_cache_get_curve_trains_once_and_passes_everything_on(tiny_digits):
    cache = CU.ConversionCache()
    cfg = CU.AnnConfig(epochs=1)
    got, progress = _recorder()
    c = cache.get_curve(cfg, Ts=(2,), seed=3, progress=progress)
    assert c.percentile == 99.9 and c.Ts == (2,)
    assert cache.curve(cfg, 99.9, (2,), 3) is c
    assert c.snn_acc == _plain_curve_acc(cache.ann(cfg), 99.9, (2,), 3)
    # training is the first half of the bar, with its own messages
    assert got[:2] == [(0.0, "training MLP ReLU"), (0.5, "training MLP ReLU: epoch 1/1")]
    assert got[2] == (0.5, "converting MLP ReLU (percentile 99.9)")
    assert got[-1][0] == 1.0
    # the ANN is cached now: the curve alone fills the whole bar
    got.clear()
    c2 = cache.get_curve(cfg, 50, Ts=(1, 2), seed=3, progress=progress)
    assert c2.percentile == 50.0 and c2.Ts == (1, 2)
    assert c2.snn_acc == _plain_curve_acc(cache.ann(cfg), 50.0, (1, 2), 3)
    assert [f for f, _ in got] == [0.0, 0.1, 1.0]
    with pytest.raises(CU.Cancelled):
        cache.get_curve(cfg, 60, Ts=(2,), should_stop=lambda: True)


def test_accuracy_vs_T_classifies_at_each_T_with_the_given_percentile():
    m = _mlp()
    g = torch.Generator().manual_seed(11)
    x = torch.rand(60, 2, generator=g)
    cal = torch.tensor([[0.5, 0.25], [1.0, 0.1], [0.2, 0.9]])
    snn = CV.convert(m, cal, percentile=50.0)
    # labels = the SNN's own answers at T = 1 with seed 0: that T scores exactly 100 %
    y = snn.classify(x, seed=0, T=1)
    res = EX.accuracy_vs_T(m, cal, x, y, Ts=(1, 8), percentile=50.0)
    assert res.snn_acc[1] == 100.0
    assert res.snn_acc[8] == 100.0 * float((snn.classify(x, seed=0, T=8) == y).float().mean())
    assert res.snn_acc[8] < 100.0  # a longer run answers differently on some of these inputs


def test_make_mlp_defaults():
    from engine.conversion.qcfs import QCFSActivation

    m = EX.make_mlp()
    assert [type(layer) for layer in m if not isinstance(layer, (nn.Linear, nn.Dropout, nn.BatchNorm1d,
                                                                 nn.Flatten))] == [nn.ReLU, nn.ReLU]
    assert _same_weights(m, EX.make_mlp("relu", seed=0))
    assert [a.T for a in EX.make_mlp("qcfs") if isinstance(a, QCFSActivation)] == [4, 4]


# -- round 4: parse and convert messages, input checks, exact landings, chunking, training ------
def _lin(n_in, n_out, w, b=None):
    layer = nn.Linear(n_in, n_out, bias=b is not None)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w, dtype=torch.float32))
        if b is not None:
            layer.bias.copy_(torch.tensor(b, dtype=torch.float32))
    return layer


@pytest.mark.parametrize("model, kind, message", [
    (nn.Linear(2, 2), TypeError, "convert expects a torch.nn.Sequential, got Linear"),
    (nn.Sequential(nn.Sequential(nn.Linear(2, 2))), NotImplementedError,
     "nested Sequential at layer 0 (Sequential): flatten the model first"),
    (nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"), nn.ReLU()), NotImplementedError,
     "layer 0 (Conv2d): only numeric zero padding is supported"),
    (nn.Sequential(nn.Conv2d(1, 1, 3, padding="same"), nn.ReLU()), NotImplementedError,
     "layer 0 (Conv2d): only numeric zero padding is supported"),
    (nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), NotImplementedError,
     "layer 1 (Linear): two weighted layers without an activation between them"),
    (nn.Sequential(nn.BatchNorm1d(2), nn.Linear(2, 2)), NotImplementedError,
     "layer 0 (BatchNorm1d): BatchNorm can only be folded directly after a Linear or Conv2d"),
    (nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), NotImplementedError,
     "layer 0 (ReLU): activation without a Linear/Conv2d before it (since the previous activation)"),
    (nn.Sequential(nn.Linear(2, 2), nn.Tanh()), NotImplementedError,
     "unsupported layer for ANN-to-SNN conversion: layer 1 (Tanh); supported are Linear, Conv2d, ReLU, "
     "QCFSActivation, BatchNorm1d/2d (after Linear/Conv2d), AvgPool2d, Flatten, Dropout, Identity"),
    (nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Flatten()), NotImplementedError,
     "the model ends with pooling/flatten layers after its last activation"),
    (nn.Sequential(nn.Dropout(), nn.Identity()), ValueError, "the model has no Linear or Conv2d layer to convert"),
])
def test_parse_messages(model, kind, message):
    with pytest.raises(kind) as info:
        CV.convert(model)
    assert str(info.value) == message


def test_passive_layers_and_batchnorm_are_skipped_or_folded():
    # Dropout first, then Linear + BatchNorm (folded), ReLU, Linear without bias
    bn = nn.BatchNorm1d(1, eps=1.0)
    bn.eval()
    with torch.no_grad():
        bn.running_mean.fill_(1.0)
        bn.running_var.fill_(3.0)  # s = 1 / sqrt(3 + 1) = 0.5
    model = nn.Sequential(nn.Dropout(), _lin(1, 1, [[2.0]], [1.0]), bn, nn.ReLU(), _lin(1, 2, [[3.0], [1.0]]))
    snn = CV.convert(model)
    assert snn.n_layers == 2 and snn.thresholds == [1.0, 1.0]
    # W' = 2 * 0.5, b' = (1 - 1) * 0.5 + 0; the bias-free output layer gets zeros of its 2 outputs
    assert [w.tolist() for w in snn.weights] == [[[1.0]], [[3.0], [1.0]]]
    assert [b.tolist() for b in snn.biases] == [[0.0], [0.0, 0.0]]


def test_convert_argument_messages():
    m = _mlp()
    for T in (0, True, 2.0, "3"):
        with pytest.raises(ValueError) as info:
            CV.convert(m, T=T)
        assert str(info.value) == f"T must be a positive int, got {T!r}"
    assert CV.convert(_mlp(), T=1).T == 1
    for pct in (0.0, 100.5):
        with pytest.raises(ValueError, match=rf"^percentile must be in \(0, 100\], got {pct!r}$"):
            CV.convert(m, torch.tensor([[0.5, 0.25]]), percentile=pct)
    assert CV.convert(_mlp(), torch.tensor([[0.5, 0.25]]), percentile=0.5).thresholds[0] > 0
    for v in ([0.5, 0.5], 1.0, 1.5, -0.1):
        with pytest.raises(ValueError) as info:
            CV.convert(m, v_init=v)
        assert str(info.value) == "v_init must be one value or 3 values, each in [0, 1)"
    cases = [(torch.tensor([[float("nan"), 0.0]]), "calibration_data contains non-finite values"),
             (torch.tensor([0.5, 0.25]), "calibration_data must be a batch with 2 dimensions, got shape (2,)"),
             (torch.zeros(0, 2), "calibration_data is empty")]
    for data, message in cases:
        with pytest.raises(ValueError) as info:
            CV.convert(m, data)
        assert str(info.value) == message
    with pytest.raises(ValueError, match=r"^calibration_data must be numeric array data: "):
        CV.convert(m, [["a", "b"]])


def test_a_silent_layer_keeps_threshold_one():
    # calibration sample 0: layer 0 is relu(0, 0, 0) = 0 -> 1.0; layer 1 relu(0.1, 0, 0) -> 0.1;
    # output relu(0.1 - 0.5, 0.1) -> 0.1
    assert CV.convert(_mlp(), torch.tensor([[0.0, 0.0]]), percentile=100.0).thresholds == \
        pytest.approx([1.0, 0.1, 0.1])


def test_grouped_convolution_and_flatten_first_models():
    conv = nn.Sequential(nn.Conv2d(2, 2, 1, groups=2), nn.ReLU(), nn.Flatten(), nn.Linear(2, 2))
    snn = CV.convert(conv, torch.full((1, 2, 1, 1), 0.5))
    assert snn._in_features == 2 and snn._sample_ndim == 3
    flat = nn.Sequential(nn.Flatten(), _lin(4, 2, [[1.0] * 4, [0.5] * 4], [0.0, 0.0]), nn.ReLU(),
                         _lin(2, 2, [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]))
    assert CV.convert(flat)._sample_ndim is None
    # with calibration data the sample's dimensions come from it: (batch, 2, 2) -> 2
    snn = CV.convert(flat, torch.full((1, 2, 2), 0.5))
    assert snn._sample_ndim == 2
    assert snn.run(torch.full((2, 2), 0.5), encoding="constant", T=2).shape == (2,)  # one sample
    bare = CV.convert(flat)
    assert bare.run(torch.full((3, 4), 0.5), encoding="constant", T=2).shape == (3, 2)  # a batch
    with pytest.raises(ValueError) as info:
        bare.run(torch.full((4,), 0.5))
    assert str(info.value) == "this model starts with Flatten; pass a batch (batch, ...) of inputs"


def test_run_input_messages():
    snn = _snn()
    cases = [(torch.zeros(1, 1, 2), "x must have 1 (one sample) or 2 (batch) dimensions, got shape (1, 1, 2)"),
             (torch.zeros(0, 2), "x is an empty batch"),
             (torch.zeros(3), "x has 3 features, the first layer expects 2"),
             (torch.tensor([float("inf"), 0.0]), "x contains non-finite values"),
             (torch.tensor([1.5, 0.0]), "x must lie in [0, 1] (rates / intensities for rate coding)")]
    for x, message in cases:
        with pytest.raises(ValueError) as info:
            snn.run(x)
        assert str(info.value) == message
    with pytest.raises(ValueError, match=r"^x must be numeric array data: "):
        snn.run(["a", "b"])
    with pytest.raises(ValueError) as info:
        snn.run(torch.zeros(2), T=True)
    assert str(info.value) == "T must be a positive int, got True"
    conv = CV.convert(nn.Sequential(nn.Conv2d(1, 1, 1), nn.ReLU()))
    with pytest.raises(ValueError) as info:
        conv.run(torch.zeros(2, 1, 1))
    assert str(info.value) == "x has 2 channels, the first layer expects 1"


def _two_layer(signed):
    # hidden: 1.5 s - 0.5; output: s - 0.5; thresholds 1.0 (no calibration), v_init 0
    model = nn.Sequential(_lin(1, 1, [[1.5]], [-0.5]), nn.ReLU(), _lin(1, 1, [[1.0]], [-0.5]))
    return CV.convert(model, v_init=0.0, signed=signed)


def _spikes(*s):
    return torch.tensor(s, dtype=torch.float32).reshape(len(s), 1, 1)


def test_if_layers_fire_on_landing_exactly_on_the_threshold():
    snn = _two_layer(signed=False)
    # output currents 0.5 each step: v = 0.5, 1.0 (fires, back to 0), 0.5, 1.0 (fires)
    _, out, v = snn._layer(1, _spikes(1, 1, 1, 1), 4, False)
    assert out.flatten().tolist() == [0.0, 1.0, 0.0, 1.0] and v.flatten().tolist() == [0.0]


def test_signed_neurons_in_hidden_layers_only():
    snn = _two_layer(signed=True)
    # hidden currents 1.0, -0.5, 1.0, -0.5: v = 1.0 fires (0, net 1); -0.5 < 0 with net 1: a -1 spike
    # (v 0.5, net 0); 1.5 fires (0.5, net 1); 0.0 is not below 0: no spike
    _, out, v = snn._layer(0, _spikes(1, 0, 1, 0), 4, False)
    assert out.flatten().tolist() == [1.0, -1.0, 1.0, 0.0] and v.flatten().tolist() == [0.0]
    # the output layer stays unsigned: currents 0.5, 0.5, -0.5, -0.5 -> one spike, v ends at -1
    _, out, v = snn._layer(1, _spikes(1, 1, 0, 0), 4, False)
    assert out.flatten().tolist() == [0.0, 1.0, 0.0, 0.0] and v.flatten().tolist() == [-1.0]


def test_chunk_size_keeps_three_T_steps_of_the_widest_layer(monkeypatch):
    snn = _snn()  # widths per sample: input 2, layers 3, 3, 2 -> 3
    x = torch.zeros(5, 2)
    monkeypatch.setattr(CV, "_CHUNK_FLOATS", 120)
    assert snn._chunk_size(x, 4) == 120 // (3 * 4 * 3)  # 3
    monkeypatch.setattr(CV, "_CHUNK_FLOATS", 30)
    assert snn._chunk_size(x, 4) == 1  # never below one sample
    wide = CV.convert(nn.Sequential(_lin(4, 1, [[1.0] * 4], [0.0]), nn.ReLU()))  # the input is widest: 4
    monkeypatch.setattr(CV, "_CHUNK_FLOATS", 96)
    assert wide._chunk_size(torch.zeros(5, 4), 2) == 96 // (3 * 2 * 4)  # 4


def test_qcfs_defaults_and_messages():
    from engine.conversion.qcfs import QCFSActivation

    q = QCFSActivation(1)
    assert q.T == 1 and float(q.theta) == 1.0 and q.theta.dtype == torch.float32
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:  # theta stays float32, like the weights it scales, whatever torch's default
        assert QCFSActivation(2, theta=0.5).theta.dtype == torch.float32
    finally:
        torch.set_default_dtype(before)
    with pytest.raises(ValueError) as info:
        QCFSActivation(0)
    assert str(info.value) == "T must be a positive int, got 0"
    with pytest.raises(ValueError) as info:
        QCFSActivation(4, theta=-1.0)
    assert str(info.value) == "theta must be finite and > 0, got -1.0"


def test_load_digits_split_defaults():
    from engine.conversion.experiment import load_digits_split

    xtr, ytr, xte, yte = load_digits_split()
    assert (xtr.shape, xte.shape) == ((1437, 64), (360, 64))  # 20 % of sklearn's 1797 digits
    again = load_digits_split(0)
    assert torch.equal(xtr, again[0]) and torch.equal(yte, again[3])
    assert not torch.equal(xtr, load_digits_split(1)[0])
    # stratified: every digit is in the test split in its share (35-37 of 360)
    counts = torch.bincount(yte, minlength=10)
    assert int(counts.min()) >= 35 and int(counts.max()) <= 37


def _reference_train(model, x, y, epochs, lr, batch_size, seed, noise_T):
    """The training loop train()'s docstring describes, written out: Adam, cosine
    schedule, batches from a seeded generator, Binomial(T, x)/T input noise, and
    torch's global generator seeded for Dropout."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    loss_fn = nn.CrossEntropyLoss()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(epochs):
            model.train()
            perm = torch.randperm(x.shape[0], generator=g)
            for i in range(0, x.shape[0], batch_size):
                idx = perm[i:i + batch_size]
                xb = x[idx]
                Tn = noise_T[int(torch.randint(len(noise_T), (1,), generator=g))]
                xb = torch.binomial(torch.full_like(xb, float(Tn)), xb, generator=g) / Tn
                opt.zero_grad()
                loss_fn(model(xb), y[idx]).backward()
                opt.step()
            sched.step()
    model.eval()
    return model


def test_train_defaults_equal_the_written_out_loop():
    from engine.conversion.experiment import train

    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 3))
    x = torch.rand(8, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    ref = _reference_train(copy.deepcopy(model), x, y, 60, 3e-3, 4, 0, (3,))
    torch.manual_seed(99)  # the caller's global state must not matter
    got = train(model, x, y, batch_size=4, rate_noise_T=3)  # an int means (3,)
    for a, b in zip(got.state_dict().values(), ref.state_dict().values()):
        assert torch.equal(a, b)


def test_poisson_input_spikes_with_probability_exactly_x():
    # a uniform draw u on torch's float32 grid has P(u < x) = x: a draw equal to x does not spike
    snn = _snn()
    draws = torch.rand((4, 1, 3), generator=torch.Generator().manual_seed(5))
    x = draws[1].clone()  # the pixel values equal the step-1 draws
    spikes, const = snn._encode(x, 4, "poisson", torch.Generator().manual_seed(5))
    assert const is False and spikes.shape == (4, 1, 3)
    assert spikes[1].tolist() == [[0.0, 0.0, 0.0]]
    assert torch.equal(spikes, (draws < x).float())


def test_calibrate_bias_simulates_constant_input_once_per_layer():
    snn = _snn()
    encodings = []
    encode = snn._encode

    def spy(x, T, encoding, gen):
        encodings.append(encoding)
        return encode(x, T, encoding, gen)

    snn._encode = spy
    snn.calibrate_bias(X, T=4, encoding="constant", n_draws=3)
    assert encodings == ["constant"] * 3  # 3 layers, one chunk, one draw each
    encodings.clear()
    snn.calibrate_bias(X, T=4, encoding="poisson", n_draws=2)
    assert encodings == ["poisson"] * 6
