"""Tests for engine.conversion: QCFS, convert / ConvertedSNN, digits experiment."""
import numpy as np
import pytest
import torch
from torch import nn

from engine.conversion import ConvertedSNN, QCFSActivation, convert

torch.set_num_threads(1)  # the machine is shared: oversubscribed threads thrash


# ----------------------------------------------------------------- QCFS
def test_qcfs_forward_matches_formula():
    T, theta = 4, 1.5
    act = QCFSActivation(T, theta=theta)
    x = torch.linspace(-1, 3, 401)
    expected = np.clip(np.floor(x.numpy() * T / theta + 0.5), 0, T) * theta / T
    np.testing.assert_allclose(act(x).numpy(), expected, atol=1e-6)
    assert set(np.round(act(x).numpy() / (theta / T), 6)) == {0.0, 1.0, 2.0, 3.0, 4.0}


def test_qcfs_straight_through_gradients():
    act = QCFSActivation(8, theta=2.0, learn_theta=True)
    x = torch.tensor([-0.5, 0.3, 1.0, 1.9, 2.5], requires_grad=True)
    act(x).sum().backward()
    # dy/dx = 1 inside (0, theta), 0 outside.
    np.testing.assert_allclose(x.grad.numpy(), [0, 1, 1, 1, 0])
    # dy/dtheta = q(x) - x/theta inside, 1 above, 0 below (autograd of Bu et al.'s form).
    with torch.no_grad():
        q = act(x) / 2.0
    inside = (q[1:4] - x.detach()[1:4] / 2.0).sum()
    assert act.theta.grad.item() == pytest.approx(float(inside) + 1.0, abs=1e-6)
    assert isinstance(act.theta, nn.Parameter)
    fixed = QCFSActivation(8, theta=2.0)
    assert not any(p is fixed.theta for p in fixed.parameters())


@pytest.mark.parametrize("kw", [{"T": 0}, {"T": 2.5}, {"T": 4, "theta": 0.0}, {"T": 4, "theta": float("nan")}])
def test_qcfs_bad_arguments(kw):
    with pytest.raises(ValueError):
        QCFSActivation(**kw)


# ------------------------------------------------------------- convert
def _two_layer_net():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 4))
    return net.eval()


def test_hand_built_net_matches_ann_on_constant_input():
    net = _two_layer_net()
    with torch.no_grad():  # hand-set weights: exercise both signs and the bias path
        net[0].weight.copy_(torch.linspace(-1, 1, 72).reshape(12, 6).flip(1) * torch.tensor(
            [1.0, -1, 1, 1, -1, 1]).repeat(12, 1))
        net[0].bias.copy_(torch.linspace(-0.2, 0.3, 12))
    x = torch.rand(200, 6, generator=torch.Generator().manual_seed(1))
    snn = convert(net, x, T=2000, percentile=100.0)
    with torch.no_grad():
        hidden = torch.relu(net[0](x))
        logits = net(x)
    counts = snn.run(x, encoding="constant")
    assert counts.shape == (200, 4)
    # Output rate * threshold approximates relu(logit) (clipped to the threshold).
    approx = counts / 2000 * snn.thresholds[1]
    target = logits.clamp(0, snn.thresholds[1])
    assert (approx - target).abs().max() < 0.02 * snn.thresholds[1]
    # Arg-max agrees except where the two best logits are within the rate resolution.
    pred = snn.classify(x, encoding="constant")
    top2 = logits.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1]) > 0.02 * snn.thresholds[1]
    assert clear.sum() > 150
    assert torch.equal(pred[clear], logits.argmax(1)[clear])
    assert hidden.max() == pytest.approx(snn.thresholds[0], rel=1e-5)  # 100th percentile = max


def test_without_calibration_thresholds_are_one_and_qcfs_uses_theta():
    net = nn.Sequential(nn.Linear(3, 5), QCFSActivation(4, theta=2.5), nn.Linear(5, 5), nn.ReLU(),
                        nn.Linear(5, 2))
    snn = convert(net)
    assert snn.thresholds == [2.5, 1.0, 1.0]
    assert snn.n_layers == 3 and snn.T == 16
    # Layer 2 reads spikes worth theta = 2.5: its weights are scaled by it.
    torch.testing.assert_close(snn.weights[1], net[2].weight.detach() * 2.5)
    torch.testing.assert_close(snn.weights[0], net[0].weight.detach())
    with_cal = convert(net, torch.rand(50, 3))
    assert with_cal.thresholds[0] == 2.5  # QCFS theta even with calibration data


def test_normalisation_puts_percentile_at_threshold():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(10, 40), nn.ReLU(), nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 5)).eval()
    x = torch.rand(500, 10)
    p = 97.0
    snn = convert(net, x, percentile=p)
    with torch.no_grad():
        a1 = torch.relu(net[0](x))
        a2 = torch.relu(net[2](a1))
    for a, th in ((a1, snn.thresholds[0]), (a2, snn.thresholds[1])):
        assert th == pytest.approx(float(np.percentile(a.numpy().ravel(), p)), rel=1e-5)
        assert float((a <= th).float().mean()) == pytest.approx(p / 100, abs=0.005)
    # Diehl's normalised form: W_l * lambda_{l-1} / lambda_l gives threshold 1 and
    # maps the percentile activation of layer 2 to 1.
    w2 = snn.weights[1] / snn.thresholds[1]
    b2 = snn.biases[1] / snn.thresholds[1]
    a2_norm = torch.relu((a1 / snn.thresholds[0]) @ w2.T + b2)
    assert float(np.percentile(a2_norm.numpy().ravel(), p)) == pytest.approx(1.0, rel=1e-4)


def test_batchnorm_folding_equals_unfolded_ann():
    torch.manual_seed(3)
    mlp = nn.Sequential(nn.Linear(7, 9), nn.BatchNorm1d(9), nn.ReLU(), nn.Dropout(0.5), nn.Linear(9, 3))
    cnn = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Flatten(), nn.Linear(4 * 3 * 3, 3))
    for net in (mlp, cnn):
        bn = net[1]
        with torch.no_grad():  # non-trivial statistics and affine parameters
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.2, 3)
            bn.weight.uniform_(0.5, 2)
            bn.bias.uniform_(-0.5, 0.5)
        net.eval()
    x = torch.rand(32, 7)
    snn = convert(mlp)
    torch.testing.assert_close(x @ snn.weights[0].T + snn.biases[0], mlp[1](mlp[0](x)).detach(),
                               atol=1e-5, rtol=1e-5)
    xi = torch.rand(8, 2, 6, 6)
    snn = convert(cnn)
    folded = torch.nn.functional.conv2d(xi, snn.weights[0], snn.biases[0], padding=1)
    torch.testing.assert_close(folded, cnn[1](cnn[0](xi)).detach(), atol=1e-5, rtol=1e-5)


def test_conv_net_rates_track_ann_and_accept_image_shapes():
    torch.manual_seed(4)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 4 * 4, 5)).eval()
    x = torch.rand(40, 1, 8, 8)
    snn = convert(cnn, x, T=1000, percentile=100.0)
    counts = snn.run(x, encoding="constant")
    with torch.no_grad():
        target = cnn(x).clamp(0, snn.thresholds[-1])
    assert (counts / 1000 * snn.thresholds[-1] - target).abs().max() < 0.05 * snn.thresholds[-1]
    one = snn.run(x[0], encoding="constant")
    assert one.shape == (5,)
    torch.testing.assert_close(one, counts[0])
    with pytest.raises(ValueError, match="channels"):
        snn.run(torch.rand(3, 8, 8))


def test_poisson_encoding_reproducible_by_seed():
    net = _two_layer_net()
    x = torch.rand(30, 6)
    snn = convert(net, x, T=20)
    a = snn.run(x, encoding="poisson", seed=5)
    b = snn.run(x, encoding="poisson", seed=5)
    c = snn.run(x, encoding="poisson", seed=6)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    torch.testing.assert_close(snn.run(x, encoding="constant"), snn.run(x, encoding="constant"))
    # Poisson rates are unbiased: averaged over seeds, hidden-driven output counts
    # approach the constant-current counts.
    mean = torch.stack([snn.run(x, seed=s, T=200) for s in range(10)]).mean(0)
    const = snn.run(x, encoding="constant", T=200)
    assert (mean - const).abs().mean() < 0.05 * 200


def test_unsupported_layers_are_named():
    with pytest.raises(NotImplementedError, match="Sigmoid"):
        convert(nn.Sequential(nn.Linear(3, 3), nn.Sigmoid()))
    with pytest.raises(NotImplementedError, match="MaxPool2d"):
        convert(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2)))
    with pytest.raises(NotImplementedError, match="BatchNorm1d"):
        convert(nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 2)))
    with pytest.raises(TypeError, match="Sequential"):
        convert(nn.Linear(3, 3))


def test_bad_inputs_raise_value_error():
    net = _two_layer_net()
    snn = convert(net, T=8)
    assert isinstance(snn, ConvertedSNN)
    with pytest.raises(ValueError, match="features"):
        snn.run(torch.rand(4, 5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        snn.run(torch.full((6,), 1.5))
    with pytest.raises(ValueError, match="non-finite"):
        snn.run(torch.tensor([0.1, 0.2, float("nan"), 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="dimensions"):
        snn.run(torch.rand(2, 3, 6))
    with pytest.raises(ValueError, match="encoding"):
        snn.run(torch.rand(6), encoding="latency")
    with pytest.raises(ValueError, match="T must"):
        snn.run(torch.rand(6), T=0)
    with pytest.raises(ValueError, match="percentile"):
        convert(net, percentile=0)
    with pytest.raises(ValueError, match="calibration_data"):
        convert(net, torch.rand(10, 5))
    # Unbatched input gives unbatched output; numpy input works.
    assert snn.run(np.random.default_rng(0).random(6), encoding="constant").shape == (4,)
    assert snn.classify(torch.rand(6), encoding="constant").dim() == 0


def test_digits_accuracy_bounds_reduced_experiment():
    """Reduced version of bench/conversion_digits.py (MLPs only).

    Classic IF neurons, 2 Poisson seeds: the ReLU SNN at T=32 and the QCFS
    SNN at T=4 stay within 2.5 points of their ANN's clean test accuracy.
    Signed IF neurons (``signed=True``), 10 Poisson seeds: the QCFS SNN at
    T=4 is within 1.25 points of the same ANN's clean accuracy, and within
    0.3 points of that ANN fed the rates of the very spike trains the SNN
    got -- what is left of the gap is the information 4-step Poisson coding
    loses, not conversion error.

    The gaps to the *clean* ANN depend on how well the ANN trains, which
    moves with library versions: in a fresh environment of 2026-12
    (scikit-learn 1.9.1, torch 2.13.0) the ANN reaches 98.6 % and the gaps
    were 2.08 (classic) and 1.08 (signed) points, where earlier installs gave
    under 2 and 1; one test image is 0.28 points.  The conversion-error
    check (0.3 points against ANN@P4) is the tight one and does not move.
    """
    from engine.conversion.experiment import (
        accuracy_vs_T,
        load_digits_split,
        make_mlp,
        train,
    )

    xtr, ytr, xte, yte = load_digits_split(seed=0)
    relu = train(make_mlp("relu", hidden=(256, 128)), xtr, ytr, epochs=100, rate_noise_T=(2, 4, 8))
    qcfs = train(make_mlp("qcfs", hidden=(256, 128), T_train=4), xtr, ytr, epochs=100, rate_noise_T=(2, 4, 8))
    r = accuracy_vs_T(relu, xtr, xte, yte, Ts=(4, 32), n_seeds=2)
    q = accuracy_vs_T(qcfs, xtr, xte, yte, Ts=(4, 32), n_seeds=2)
    assert r.ann_acc > 95 and q.ann_acc > 95
    assert r.ann_acc - r.snn_acc[32] < 2.5, (r.ann_acc, r.snn_acc)
    assert q.ann_acc - q.snn_acc[4] < 2.5, (q.ann_acc, q.snn_acc)
    # QCFS training is what makes T=4 work: it beats the ReLU conversion there.
    assert q.snn_acc[4] > r.snn_acc[4]
    # Signed neurons, 10 seeds.  ANN@P4: the ANN on the rates of the SNN's own
    # input spike trains (same encoder draws: one chunk, seeds 0..9).
    qs = accuracy_vs_T(qcfs, xtr, xte, yte, Ts=(4,), n_seeds=10, signed=True)
    with torch.no_grad():
        ann_p4 = np.mean([
            float((qcfs((torch.rand((4,) + tuple(xte.shape), generator=torch.Generator().manual_seed(k))
                         < xte).float().mean(0)).argmax(1) == yte).float().mean()) * 100
            for k in range(10)])
    print(f"QCFS MLP: ANN {q.ann_acc:.2f}, classic SNN@4 (2 seeds) {q.snn_acc[4]:.2f}, "
          f"signed SNN@4 (10 seeds) {qs.snn_acc[4]:.2f}, ANN@P4 {ann_p4:.2f}")
    assert q.ann_acc - qs.snn_acc[4] < 1.25, (q.ann_acc, qs.snn_acc[4])
    assert abs(ann_p4 - qs.snn_acc[4]) < 0.3, (ann_p4, qs.snn_acc[4])


@pytest.mark.parametrize("v_init", [0.5, 0.0])
def test_qcfs_layer_is_exact_with_half_threshold_initial_membrane(v_init):
    # Bu et al. (2022), Theorem 2: an IF layer with reset by subtraction,
    # threshold theta and v(0) = theta/2 driven by a constant current z for T = L
    # steps emits exactly clip(floor(z T / theta + 1/2), 0, T) spikes, i.e. the
    # QCFS output.  With v(0) = 0 it rounds down instead (floor, no +1/2).
    torch.manual_seed(5)
    T, theta = 8, 1.7
    net = nn.Sequential(nn.Linear(5, 30), QCFSActivation(T, theta=theta))
    x = torch.rand(400, 5)
    snn = convert(net, T=T, v_init=v_init)
    counts = snn.run(x, encoding="constant")
    with torch.no_grad():
        z = net[0](x)
    expected = torch.clamp(torch.floor(z * T / theta + v_init), 0, T)
    torch.testing.assert_close(counts, expected)
    if v_init == 0.5:
        with torch.no_grad():
            torch.testing.assert_close(counts * theta / T, net(x))


# ------------------------------------------------------ bias calibration
def _qcfs_net(seed=6):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 20), QCFSActivation(8, theta=1.0), nn.Linear(20, 3)).eval()


def test_calibrate_bias_is_zero_for_an_exact_conversion():
    # QCFS layer, T = L, v(0) = theta/2, constant input: the SNN reproduces the
    # ANN exactly (Bu et al. 2022, Theorem 2), so there is nothing to correct.
    net = _qcfs_net()
    x = torch.rand(300, 6, generator=torch.Generator().manual_seed(7))
    snn = convert(net, T=8)
    before = [b.clone() for b in snn.biases]
    sizes = snn.calibrate_bias(x, encoding="constant")
    assert len(sizes) == 2 and max(sizes) < 1e-5
    for b0, b1 in zip(before, snn.biases):
        torch.testing.assert_close(b0, b1, atol=1e-5, rtol=0)


def test_calibrate_bias_removes_a_systematic_offset_layer_by_layer():
    net = _qcfs_net()
    x = torch.rand(400, 6, generator=torch.Generator().manual_seed(8))
    snn = convert(net, T=8)
    with torch.no_grad():
        target_hidden = net[1](net[0](x))
        logits = net(x)
    snn.biases[0].add_(0.15)  # a systematic error in the first layer

    def hidden_error():
        counts = snn._layer(0, x.unsqueeze(0), 8, True)[1].sum(0)
        return (counts / 8 * snn.thresholds[0] - target_hidden).mean(0)

    err_before = hidden_error()
    assert float(err_before.mean()) > 0.08
    sizes = snn.calibrate_bias(x, encoding="constant")
    err_after = hidden_error()
    assert float(err_after.abs().mean()) < 0.25 * float(err_before.abs().mean())
    assert sizes[0] > 0.08
    # The output layer was corrected for what the calibrated hidden layer still
    # passes on: the mean integrated current per step matches the mean logit.
    hidden_spikes = snn._layer(0, x.unsqueeze(0), 8, True)[1]
    cur = snn._layer(1, hidden_spikes, 8, False)[0].mean(0)
    assert (cur.mean(0) - logits.mean(0)).abs().max() < 1e-4
    # Targets come from the original biases: calibrating again barely moves them.
    again = snn.calibrate_bias(x, encoding="constant")
    assert max(again) < 0.2 * sizes[0]


def test_calibrate_bias_arguments():
    snn = convert(_qcfs_net(), T=4)
    with pytest.raises(ValueError, match="n_draws"):
        snn.calibrate_bias(torch.rand(10, 6), n_draws=0)
    with pytest.raises(ValueError, match="encoding"):
        snn.calibrate_bias(torch.rand(10, 6), encoding="latency")
    with pytest.raises(ValueError, match="features"):
        snn.calibrate_bias(torch.rand(10, 5))
    # Poisson calibration is reproducible by seed.
    a, b = convert(_qcfs_net(), T=4), convert(_qcfs_net(), T=4)
    x = torch.rand(50, 6, generator=torch.Generator().manual_seed(9))
    a.calibrate_bias(x, seed=3)
    b.calibrate_bias(x, seed=3)
    for ba, bb in zip(a.biases, b.biases):
        torch.testing.assert_close(ba, bb)


# ------------------------------------------------------ signed IF neurons
def _signed_pair_net():
    # 2 inputs -> 1 hidden QCFS unit (weights +1, -1, theta 1) -> 1 output.
    net = nn.Sequential(nn.Linear(2, 1), QCFSActivation(4, theta=1.0), nn.Linear(1, 1)).eval()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -1.0]]))
        net[0].bias.zero_()
        net[2].weight.fill_(1.0)
        net[2].bias.zero_()
    return net


def test_signed_neuron_takes_back_a_spike_that_later_input_cancels():
    net = _signed_pair_net()
    # +1 at step 1, -1 at step 2, nothing after: the integrated input is 0.
    spikes = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]).reshape(4, 1, 2)
    classic = convert(net, T=4)
    signed = convert(net, T=4, signed=True)
    assert classic.signed is False and signed.signed is True and "signed=True" in repr(signed)
    _, out_c, v_c = classic._layer(0, spikes, 4, False)
    _, out_s, v_s = signed._layer(0, spikes, 4, False)
    assert out_c.flatten().tolist() == [1.0, 0.0, 0.0, 0.0]   # fires once, cannot undo it
    assert out_s.flatten().tolist() == [1.0, -1.0, 0.0, 0.0]  # negative spike cancels it
    assert float(v_c) == pytest.approx(-0.5) and float(v_s) == pytest.approx(0.5)
    # A neuron that has not fired never emits a negative spike.
    neg_first = spikes.flip(2)
    _, out_n, _ = signed._layer(0, neg_first, 4, False)
    assert out_n.flatten().tolist() == [0.0, 0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="signed"):
        convert(net, signed="yes")


def test_signed_hidden_counts_equal_qcfs_of_the_delivered_input():
    # With Poisson input the hidden QCFS layer should emit QCFS(W r + b), r the
    # input rate actually delivered; signed neurons get this right far more
    # often than classic ones, whose early spikes cannot be withdrawn.
    torch.manual_seed(10)
    T = 4
    net = nn.Sequential(nn.Linear(12, 40), QCFSActivation(T, theta=1.0), nn.Linear(40, 3)).eval()
    x = torch.rand(300, 12, generator=torch.Generator().manual_seed(11))
    match = {}
    for signed in (False, True):
        snn = convert(net, T=T, signed=signed)
        spikes, _ = snn._encode(x, T, "poisson", torch.Generator().manual_seed(12))
        _, out, _ = snn._layer(0, spikes, T, False)
        with torch.no_grad():
            want = net[1](net[0](spikes.mean(0))) * T  # theta = 1
        match[signed] = float((out.sum(0) == want.round()).float().mean())
    assert match[True] > 0.99, match
    # Measured: 1.9 % of classic counts miss, 0.17 % of signed ones.
    assert 1 - match[True] < 0.25 * (1 - match[False]), match


# ------------------------------------------- the lab's curves, progress, cancel, cache
def test_conversion_curve_cache_progress_and_cancel():
    from engine.conversion.curves import AnnConfig, Cancelled, ConversionCache, train_ann

    cfg = AnnConfig("mlp", "relu", epochs=4)
    cache = ConversionCache()
    seen = []
    curve = cache.get_curve(cfg, 99.9, progress=lambda f, msg: seen.append(f))
    fracs = [f for f in seen]
    assert fracs == sorted(fracs) and fracs[-1] == 1.0 and len(fracs) >= 4 + 2  # epochs, SNN run
    assert curve.Ts == (4, 8, 16, 32, 64, 128) and set(curve.snn_acc) == set(curve.Ts)
    assert curve.n_test == 360
    # a real conversion: ANN well above chance, the SNN approaches it as T grows
    assert curve.ann_acc > 80
    assert curve.snn_acc[128] > curve.ann_acc - 10 and curve.snn_acc[128] >= curve.snn_acc[4] - 2
    # the few test digits: counts per class for every T, growing with T
    k = len(curve.sample_index)
    assert curve.sample_counts.shape == (6, k, 10) and curve.sample_images.shape == (k, 8, 8)
    totals = curve.sample_counts.sum(axis=(1, 2))
    assert np.all(np.diff(totals) > 0)
    # the SNN's vote at T=128 is right for most of the sample digits
    assert (curve.sample_counts[-1].argmax(1) == curve.sample_labels).mean() >= 0.7
    # the same configuration again: the cached object, no work
    assert cache.get_curve(cfg, 99.9) is curve
    # another percentile reuses the trained ANN (no training progress reported)
    msgs = []
    other = cache.get_curve(cfg, 99.0, progress=lambda f, m: msgs.append(m))
    assert other is not curve and not any("training" in m for m in msgs)
    assert len(cache.curves()) == 2
    # cancel: raises at the next epoch and caches nothing
    with pytest.raises(Cancelled):
        train_ann(AnnConfig("mlp", "qcfs", epochs=50), should_stop=lambda: True)
    with pytest.raises(Cancelled):
        cache.get_curve(AnnConfig("mlp", "qcfs", epochs=3), should_stop=lambda: True)
    assert cache.ann(AnnConfig("mlp", "qcfs", epochs=3)) is None


@pytest.mark.parametrize("kw, match", [
    ({"arch": "rnn"}, "arch"), ({"activation": "tanh"}, "activation"), ({"epochs": 0}, "epochs"),
])
def test_ann_config_checks(kw, match):
    from engine.conversion.curves import AnnConfig

    with pytest.raises(ValueError, match=match):
        AnnConfig(**kw)


def test_classify_over_T_reads_one_run_at_every_T():
    from engine.conversion.curves import AnnConfig, digits_data, train_ann
    from engine.conversion.experiment import _shape

    xtr, _, xte, yte = digits_data()
    tr = train_ann(AnnConfig("mlp", "relu", epochs=2))
    snn = convert(tr.model, _shape(tr.model, xtr), T=64)
    x = xte[:120]
    Ts = (4, 16, 64)
    for enc in ("constant", "poisson"):
        preds, counts = snn.classify_over_T(x, Ts, encoding=enc, seed=5)
        for T in Ts:  # a batch this small runs in one chunk: the same spikes as a T-step run
            assert torch.equal(preds[T], snn.classify(x, encoding=enc, seed=5, T=T))
            assert torch.equal(counts[T], snn.run(x, encoding=enc, seed=5, T=T))
        assert torch.all(counts[64] >= counts[16]) and torch.all(counts[16] >= counts[4])
    with pytest.raises(ValueError, match="T must"):
        snn.classify_over_T(x, (0, 4))
