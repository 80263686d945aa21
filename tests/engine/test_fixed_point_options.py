"""Datapath options of the fixed-point LIF (refractory hold value, saturation,
rounding) and the exact quantisation codes: every form of the update agrees
with the written-out reference step, and the codes are pinned by value."""

import numpy as np
import pytest

from engine import fixedpoint as fx
from engine.backends.fixed_point import FixedPointSimulator
from engine.models.fixed_point_lif import (FixedPointLIF, FixedPointLIFArray, FixedPointLIFNeuron, _naive_step,
                                           lif_reference_step)
from engine.network import Network, Population, Projection, TimedArray

OPTIONS = [dict(refractory_hold=h, saturate=s, rounding=r)
           for h in ("v_rest", "v_reset") for s in (False, True) for r in ("floor", "nearest")]


def test_quantize_rounds_half_away_from_zero_exactly():
    q = fx.QFormat(8, 4)  # Q4.4, 1 LSB = 1/16
    x = [0.03125, -0.03125, 0.09375, -0.09375, 0.0312499, -0.0312499, 1.5, -1.5, 7.96875, -8.0, -8.03125, 100.0]
    # exact ties: 0.5 LSB -> 1, -0.5 LSB -> -1, 1.5 LSB -> 2, -1.5 LSB -> -2; saturation at 127 / -128
    assert q.quantize(x).tolist() == [1, -1, 2, -2, 0, 0, 24, -24, 127, -128, -128, 127]
    assert q.quantize(-0.03125) == -1 and isinstance(q.quantize(0.5), int)
    # without saturation the code wraps like the register: 8.0 -> 128 -> -128
    assert q.quantize(8.0, saturate=False) == -128
    assert fx.QFormat(16, 8).quantize([-49.0, -60.0, -50.0, 0.0019531, -0.001953125]).tolist() == \
        [-12544, -15360, -12800, 0, -1]
    with pytest.raises(ValueError, match="non-finite"):
        q.quantize(float("nan"))


def test_input_and_weight_codes_of_a_float_mapped_population():
    a = Population("LapicqueNeuron", 3, params={"tau": 10.0}, label="a")
    b = Population("LapicqueNeuron", 2, label="b")
    w = np.array([[0.5 / 256, -0.5 / 256], [1.25, -1.25], [-200.0, 0.1]])
    stim = np.array([[1.5 / 256, -1.5 / 256, 2.0]])
    net = Network(a, b, Projection(a, b, weight=w), TimedArray(stim, target=a))
    with pytest.warns(Warning):
        sim = FixedPointSimulator(net, 0.001, qformat="Q8.8")
    codes = sim.weight_codes(net.projections[0])
    # CSR order = row-major for a dense matrix; ties away from zero, -200 saturates to -32768
    assert codes.tolist() == [1, -1, 320, -320, -32768, 26]
    I_t, n_sat = sim.input_codes(0, stim[0], np.zeros(3))
    assert I_t.tolist() == [2, -2, 512] and n_sat == 0
    I_t, n_sat = sim.input_codes(1, np.array([200.0, -0.3]), np.array([0.0, 32700.0]))
    assert I_t.tolist() == [32767, 32623] and n_sat == 1
    m = sim.mappings[0]
    # leak_k = q(1 - exp(-1/10)) = round(0.0951626 * 256) = round(24.36) = 24
    assert (m.leak_k, m.gain_k, m.config["v_threshold"]) == (24, 24, 256)


def test_round_bias_and_shift():
    assert fx.round_bias(8, "floor") == 0 and fx.round_bias(8, "nearest") == 128 and fx.round_bias(0, "nearest") == 0
    p = np.array([383, 384, -383, -384, -385, 127, -128, -129])
    assert fx.shift_product(p, 8).tolist() == [1, 1, -2, -2, -2, 0, -1, -1]
    # nearest: ties (x.5) go up, i.e. towards +inf
    assert fx.shift_product(p, 8, "nearest").tolist() == [1, 2, -1, -1, -2, 0, 0, -1]
    assert fx.fit_sum(np.array([130, -130, 5]), 8, saturate=True).tolist() == [127, -128, 5]
    assert fx.fit_sum(np.array([130, -130, 5]), 8).tolist() == [-126, 126, 5]
    with pytest.raises(ValueError, match="rounding"):
        fx.check_options(rounding="up")
    with pytest.raises(ValueError, match="refractory_hold"):
        fx.check_options(refractory_hold="v_threshold")
    with pytest.raises(ValueError, match="saturate"):
        fx.check_options(saturate="yes")


def test_hold_reset_and_saturation_on_the_scalar_neuron():
    n = FixedPointLIFNeuron(data_width=8, fraction=4, v_rest=10, v_reset=-20, v_threshold=40, refractory_period=3,
                            refractory_hold="v_reset")
    out = [n.step(0, 16, 50) for _ in range(6)]
    assert out == [(1, -20), (0, -20), (0, -20), (0, -20), (0, 30), (1, -20)]
    wrapping = FixedPointLIFNeuron(data_width=8, fraction=4, v_threshold=127, refractory_period=0)
    sat = FixedPointLIFNeuron(data_width=8, fraction=4, v_threshold=127, refractory_period=0, saturate=True)
    # driving down hard: the wrapping register jumps from -120 across to +something, saturation sticks at -128
    assert [wrapping.step(0, 16, -60)[1] for _ in range(3)] == [-60, -120, 76]
    assert [sat.step(0, 16, -60)[1] for _ in range(3)] == [-60, -120, -128]
    near = FixedPointLIFNeuron(data_width=8, fraction=4, v_threshold=127, refractory_period=0, rounding="nearest")
    floor = FixedPointLIFNeuron(data_width=8, fraction=4, v_threshold=127, refractory_period=0)
    # I*gain = 3*8 = 24 = 1.5 LSB << 4: floor -> 1, nearest -> 2
    assert floor.step(0, 8, 3) == (0, 1) and near.step(0, 8, 3) == (0, 2)
    with pytest.raises(ValueError, match="refractory_hold"):
        FixedPointLIFNeuron(refractory_hold="rest")


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(str(v) for v in o.values()))
@pytest.mark.parametrize("fmt", [(8, 4), (16, 8), (12, 0), (32, 16)])
def test_every_form_agrees_with_the_reference_step(opts, fmt):
    W, F = fmt
    lo, hi = fx.int_range(W)
    cfg = dict(data_width=W, fraction=F, v_rest=hi // 20, v_reset=-(hi // 10), v_threshold=hi // 3,
               refractory_period=2, **opts)
    rng = np.random.default_rng(W * 100 + F)
    n, T = 64, 150
    arr = FixedPointLIFArray(n, **cfg)
    arr_c = FixedPointLIFArray(n, **cfg, count_wraps=True)
    scal = [FixedPointLIFNeuron(**cfg) for _ in range(n)]
    v_ref = np.full(n, cfg["v_rest"], dtype=object)
    c_ref = np.zeros(n, dtype=object)
    v_nv, c_nv = np.full(n, cfg["v_rest"], dtype=np.int64), np.zeros(n, dtype=np.int64)
    decl = FixedPointLIF(**{k: v for k, v in cfg.items()}, leak_k=hi // 10, gain_k=1 << F)
    st = decl.initial_state(n)
    changed = 0
    for t in range(T):
        leak = int(rng.integers(0, hi // 4))
        gain = int(rng.integers(1, min(hi, 3 << F)))
        cur = rng.integers(lo // 2, hi // 2, size=n) if t % 3 else rng.integers(lo, hi, size=n)
        s_arr = arr.step(leak, gain, cur).copy()
        s_arc = arr_c.step(leak, gain, cur).copy()
        ref = [lif_reference_step(int(v_ref[i]), int(c_ref[i]), leak, gain, int(cur[i]), 0, **cfg) for i in range(n)]
        s_ref = np.array([r[0] for r in ref])
        v_ref = np.array([r[1] for r in ref], dtype=object)
        c_ref = np.array([r[2] for r in ref], dtype=object)
        s_sc = np.array([nrn.step(leak, gain, int(cur[i]))[0] for i, nrn in enumerate(scal)])
        s_nv, v_nv, c_nv = _naive_step(v_nv, c_nv, leak, gain, cur, 0, **cfg)
        assert s_arr.tolist() == s_ref.tolist() == s_sc.tolist() == s_arc.tolist() == s_nv.astype(int).tolist()
        assert arr.v.tolist() == v_ref.tolist() == [nrn.v for nrn in scal] == arr_c.v.tolist() == v_nv.tolist()
        assert arr.counter.tolist() == c_ref.tolist()
        changed += int(s_ref.sum())
    assert changed > 50  # the comparison saw spikes and refractory periods
    decl.step(st, np.zeros(n, dtype=np.int64))  # the declaration accepts the options too
    assert decl.config()["rounding"] == opts["rounding"]


def test_saturate_refuses_formats_whose_sum_does_not_fit_int64():
    with pytest.raises(ValueError, match="saturate"):
        FixedPointLIFArray(4, data_width=32, fraction=0, v_threshold=100, saturate=True)
