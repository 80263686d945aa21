"""Exact integer codes of engine.fixedpoint and of the fixed_point backend's
quantisation.  These codes feed the Verilog export and the RTL co-simulation,
so every value here is worked out by hand from the documented rule
(round half away from zero, saturate or wrap to W bits), not recomputed with
the code under test."""

import math
import warnings

import numpy as np
import pytest

from engine import fixedpoint as fx
from engine.backends.fixed_point import (FixedPointSimulator, QuantisationWarning, map_population,
                                         quantise_weights, resolve_qformat)
from engine.fixedpoint import QFormat
from engine.network import ConstantCurrent, Network, Population, Projection, StateMonitor

Q88 = QFormat(16, 8)


# -- QFormat ------------------------------------------------------------------------------------

def test_qformat_properties():
    q = QFormat(12, 4)
    assert (q.scale, q.min_int, q.max_int, q.resolution, str(q)) == (16, -2048, 2047, 0.0625, "Q8.4")
    assert QFormat() == QFormat(16, 8)
    assert str(QFormat(8, 0)) == "Q8.0"


@pytest.mark.parametrize("x, code", [
    (0.5 / 256, 1), (-0.5 / 256, -1),        # exact ties go away from zero
    (1.5 / 256, 2), (-1.5 / 256, -2),
    (2.5 / 256, 3), (-2.5 / 256, -3),        # not to even
    (0.49 / 256, 0), (-0.49 / 256, 0),
    (0.51 / 256, 1), (-0.51 / 256, -1),
    (1.0, 256), (-1.0, -256), (0.0, 0), (-0.0, 0),
    (-0.25, -64), (127.99609375, 32767), (-128.0, -32768),
])
def test_quantize_rounds_half_away_from_zero(x, code):
    got = Q88.quantize(x)
    assert type(got) is int and got == code


def test_quantize_saturates_or_wraps_out_of_range():
    q = QFormat(8, 4)  # codes -128 .. 127
    assert q.quantize(8.0) == 127 and q.quantize(-8.0) == -128 and q.quantize(-8.03125) == -128
    assert q.quantize(1e6) == 127 and q.quantize(-1e6) == -128
    # without saturation the register wraps: 8.0 -> code 128 -> -128; 8.0625 -> 129 -> -127
    assert q.quantize(8.0, saturate=False) == -128
    assert q.quantize(8.0625, saturate=False) == -127
    assert q.quantize(-8.0625, saturate=False) == 127
    assert q.quantize(7.9375, saturate=False) == 127


def test_quantize_arrays_keep_shape_and_int64():
    got = Q88.quantize(np.array([[0.5 / 256, -1.5 / 256], [200.0, -200.0]]))
    assert got.dtype == np.int64 and got.shape == (2, 2)
    assert got.tolist() == [[1, -2], [32767, -32768]]
    wrapped = QFormat(8, 0).quantize(np.array([127.0, 128.0, -129.0, 255.5]), saturate=False)
    assert wrapped.tolist() == [127, -128, 127, 0]  # 255.5 -> 256 -> 0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [0.0, math.nan]])
def test_quantize_refuses_non_finite(bad):
    with pytest.raises(ValueError, match="^cannot quantise non-finite values$"):
        Q88.quantize(bad)


def test_quantize_large_integers_saturate_instead_of_overflowing():
    # integer input is converted to float first: 2**62 * 256 would wrap in int64
    assert Q88.quantize(2**62) == 32767 and Q88.quantize(-(2**62)) == -32768
    assert Q88.quantize(np.array([2**62, 3], dtype=np.int64)).tolist() == [32767, 768]
    assert Q88.quantize(2**70) == 32767  # beyond int64 too
    assert Q88.quantize([1, -2]).tolist() == [256, -512]


def test_to_float_divides_by_scale():
    assert Q88.to_float(-64) == -0.25
    assert Q88.to_float(np.array([256, 1])).tolist() == [1.0, 1 / 256]


# -- widths, wrap, shifts -----------------------------------------------------------------------

@pytest.mark.parametrize("w, f", [(1, 0), (32, 31), (32, 0), (2, 1), (np.int64(16), np.int32(8))])
def test_check_width_accepts_limits(w, f):
    fx.check_width(w, f)


@pytest.mark.parametrize("w, f, match", [
    (0, 0, r"data_width must be in \[1, 32\], got 0"),
    (33, 0, r"data_width must be in \[1, 32\], got 33"),
    (16, 16, r"fraction must be in \[0, data_width\) = \[0, 16\), got 16"),
    (16, -1, r"fraction must be in .* got -1"),
    (True, 0, "data_width must be an integer"),
    (16.0, 8, "data_width must be an integer"),
    (16, False, "fraction must be an integer"),
    (16, 8.0, "fraction must be an integer"),
])
def test_check_width_names_the_parameter(w, f, match):
    with pytest.raises(ValueError, match=match):
        fx.check_width(w, f)
    if not isinstance(w, bool) and w == 33:
        with pytest.raises(ValueError, match=r"^width must be in"):
            fx.check_width(w, f, name="width")


def test_qformat_validates():
    with pytest.raises(ValueError, match="fraction"):
        QFormat(8, 8)


@pytest.mark.parametrize("x, bits, out", [
    (127, 8, 127), (128, 8, -128), (-128, 8, -128), (-129, 8, 127), (255, 8, -1), (256, 8, 0),
    (1, 1, -1), (0, 1, 0), (2**31, 32, -2**31), (-1, 16, -1), (40000, 16, 40000 - 65536),
])
def test_wrap_is_twos_complement(x, bits, out):
    assert fx.wrap(x, bits) == out and type(fx.wrap(x, bits)) is int
    assert fx.wrap(np.int32(x) if abs(x) < 2**31 else np.int64(x), bits) == out
    arr = fx.wrap(np.array([x, x]), bits)
    assert arr.dtype == np.int64 and arr.tolist() == [out, out]


def test_wrap_to_64_bits_leaves_int64_alone():
    x = np.array([-2**63, 2**63 - 1, 5], dtype=np.int64)
    assert fx.wrap(x, 64).tolist() == x.tolist()
    assert fx.wrap([3, -3], 2).tolist() == [-1, 1]
    # unsigned arrays too (uint64 + int64 would otherwise promote to float)
    assert fx.wrap(np.array([200, 127], dtype=np.uint64), 8).tolist() == [-56, 127]
    assert fx.wrap(np.array([200], dtype=np.uint8), 8).dtype == np.int64


def test_asr_floors():
    assert [fx.asr(v, 2) for v in (7, -7, -8, -1, 0)] == [1, -2, -2, -1, 0]
    assert fx.asr(np.array([7, -7, -1]), 1).tolist() == [3, -4, -1]
    assert fx.asr(np.int16(-5), 1) == -3
    assert type(fx.asr(7, 2)) is int and type(fx.asr(np.int64(7), 2)) is int
    assert fx.asr([7, -7], 1).tolist() == [3, -4]  # a list is an array, not an int
    # narrower arrays come back as int64, so sums of shifted products cannot overflow
    out = fx.asr(np.array([-7, 2**30], dtype=np.int32), 1)
    assert out.dtype == np.int64 and (out * 4).tolist() == [-16, 2**31]


def test_int_range_and_fits():
    assert fx.int_range(8) == (-128, 127) and fx.int_range(1) == (-1, 0)
    assert fx.fits(127, 8) and fx.fits(-128, 8) and not fx.fits(128, 8) and not fx.fits(-129, 8)
    assert fx.fits([0, 127, -128], 8) and not fx.fits([0, 128], 8)
    assert fx.fits([], 8) is True


def test_check_fits_names_the_value():
    fx.check_fits(np.array([-128, 127]), 8, "w")
    fx.check_fits(2**40, 48, "big")
    fx.check_fits(np.array([2**70], dtype=object), 72, "huge")  # Python ints beyond int64
    with pytest.raises(ValueError, match=r"^w=128 does not fit a signed 8-bit register \[-128, 127\]$"):
        fx.check_fits([0, 128], 8, "w")
    with pytest.raises(ValueError, match=r"^w=-129 does not fit"):
        fx.check_fits([-129, 500], 8, "w")
    with pytest.raises(ValueError, match=r"^w=200 does not fit"):  # the minimum is in range: name the max
        fx.check_fits([-128, 200], 8, "w")
    with pytest.raises(ValueError, match="^leak must be an integer code"):
        fx.check_fits(1.5, 8, "leak")
    with pytest.raises(ValueError, match="^flag must be an integer code"):
        fx.check_fits(True, 8, "flag")
    with pytest.raises(ValueError, match="^o must be an integer code"):
        fx.check_fits(np.array([1, "a"], dtype=object), 8, "o")
    with pytest.raises(ValueError, match="^o must be an integer code"):
        fx.check_fits(np.array([True], dtype=object), 8, "o")
    fx.check_fits(np.array([], dtype=np.int64), 8, "empty")


def test_work_dtype_is_the_narrowest_exact_one():
    assert fx.work_dtype(16, 8) is np.int32
    assert fx.work_dtype(24, 8) is np.int32       # W + F == 32
    assert fx.work_dtype(20, 13) is np.int64      # W + F == 33
    assert fx.work_dtype(32, 31) is np.int64
    with pytest.raises(ValueError, match="data_width"):
        fx.work_dtype(40, 8)


def test_wrap_inplace():
    a = np.array([127, 128, -129, 300, -1], dtype=np.int32)
    out = fx.wrap_inplace(a, 8)
    assert out is a and a.tolist() == [127, -128, 127, 44, -1]
    b = np.array([2**31 - 1, -2**31], dtype=np.int32)
    assert fx.wrap_inplace(b, 32).tolist() == [2**31 - 1, -2**31]  # full word: untouched
    c = np.array([5, 6, 7, 8], dtype=np.int64)
    assert fx.wrap_inplace(c, 3).tolist() == [-3, -2, -1, 0]


# -- format search ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, frac", [
    (0.0, 0), (0.5, 0), (-0.5, 0), (1.0, 0), (3.0, 0), (0.25, 1), (0.3, 1), (-0.3, 1), (0.2, 2),
    (0.125, 2), (1 / 1024, 9), (1e-6, 19), (5e-324, 1 << 16),
])
def test_min_fraction_nonzero(value, frac):
    assert fx.min_fraction_nonzero(value) == frac
    if 0 < frac < 64:  # the rule it promises: nonzero at frac, zero at frac - 1
        assert QFormat(frac + 2, frac).quantize(abs(value)) >= 1
        assert QFormat(frac + 1, frac - 1).quantize(abs(value)) == 0


@pytest.mark.parametrize("value, bits", [
    (0.0, 1), (0.5, 1), (0.99, 1), (1.0, 2), (1.5, 2), (-1.9, 2), (2.0, 3), (-3.0, 3), (4.0, 4),
    (127.9, 8), (128.0, 9), (1e30, 64),
])
def test_min_integer_bits(value, bits):
    assert fx.min_integer_bits(value) == bits


def test_smallest_qformat():
    assert fx.smallest_qformat([]) == QFormat(2, 0)
    assert fx.smallest_qformat([0.0, 0.0]) == QFormat(2, 0)
    assert fx.smallest_qformat([0.5]) == QFormat(2, 0)  # 0.5 rounds to code 1: Q1.0 tops out at 0
    assert fx.smallest_qformat([0.4]) == QFormat(2, 1)  # F = 1 (code 1 = 0.5), then one integer bit
    assert fx.smallest_qformat([0.25, -3.0]) == QFormat(4, 1)
    assert fx.smallest_qformat(np.array([[1.0, 0.0], [0.125, 2.5]])) == QFormat(5, 2)
    assert fx.smallest_qformat([1e-6]) == QFormat(20, 19)
    assert fx.smallest_qformat([1e-6], max_width=20) == QFormat(20, 19)
    assert fx.smallest_qformat([1e-6], max_width=19) is None
    assert fx.smallest_qformat([1e-9, 1e3]) is None  # 30 fraction + 11 integer bits > 32
    assert fx.smallest_qformat([5e-324]) is None
    assert fx.smallest_qformat([0.5], max_width=2) == QFormat(2, 0)
    assert fx.smallest_qformat([0.5], max_width=1) is None


def test_smallest_qformat_counts_the_carry_of_rounding():
    # 0.0488 needs 4 fraction bits; 127.998 then rounds to 128.0: 9 integer bits
    q = fx.smallest_qformat([127.998, 0.0488])
    assert q == QFormat(13, 4)
    assert q.quantize(127.998) == 2048 <= q.max_int
    assert fx.smallest_qformat([127.9, 0.0488]) == QFormat(12, 4)  # 127.875: no carry
    assert fx.smallest_qformat([1e308, 0.05]) is None  # too large to scale: no overflow, no format
    assert fx.smallest_qformat([-0.75]) == QFormat(2, 0)  # F = 0 suffices; it rounds to -1: Q2.0


# -- datapath options and rounding --------------------------------------------------------------

def test_check_options_names_the_option():
    fx.check_options()
    fx.check_options("v_reset", np.bool_(True), "nearest")
    with pytest.raises(ValueError, match=r"^refractory_hold must be one of \('v_rest', 'v_reset'\), got 'x'$"):
        fx.check_options(refractory_hold="x")
    with pytest.raises(ValueError, match="^saturate must be True or False, got 1$"):
        fx.check_options(saturate=1)
    with pytest.raises(ValueError, match=r"^rounding must be one of \('floor', 'nearest'\), got 'up'$"):
        fx.check_options(rounding="up")


def test_round_bias_and_shift_product():
    assert fx.round_bias(4) == 0 and fx.round_bias(4, "floor") == 0
    assert fx.round_bias(4, "nearest") == 8 and fx.round_bias(1, "nearest") == 1
    assert fx.round_bias(0, "nearest") == 0
    # products / 4: floor vs round half up (ties towards +inf)
    floor = [fx.shift_product(p, 2) for p in (7, 6, 5, -5, -6, -7)]
    near = [fx.shift_product(p, 2, "nearest") for p in (7, 6, 5, -5, -6, -7)]
    assert floor == [1, 1, 1, -2, -2, -2]
    assert near == [2, 2, 1, -1, -1, -2]
    assert fx.shift_product(np.array([6, -6]), 2, "nearest").tolist() == [2, -1]
    assert fx.shift_product(5, 0, "nearest") == 5


def test_saturate_to_and_fit_sum():
    assert [fx.saturate_to(v, 8) for v in (200, -200, 5, 127, -128)] == [127, -128, 5, 127, -128]
    assert type(fx.saturate_to(np.int64(300), 8)) is int
    arr = fx.saturate_to(np.array([300, -300, 1]), 8)
    assert arr.dtype == np.int64 and arr.tolist() == [127, -128, 1]
    assert fx.saturate_to([300, -300], 8).tolist() == [127, -128]
    arr = fx.saturate_to(np.array([300.7, -2.0, 5.9]), 8)  # codes are integers: truncated, then clipped
    assert arr.dtype == np.int64 and arr.tolist() == [127, -2, 5]
    assert fx.fit_sum(200, 8) == -56 and fx.fit_sum(200, 8, saturate=True) == 127
    assert fx.fit_sum(np.array([-200]), 8).tolist() == [56]


# -- the fixed_point backend's quantisation ----------------------------------------------------

def test_resolve_qformat_spellings():
    assert resolve_qformat("Q8.8") == QFormat(16, 8)
    assert resolve_qformat((12, 4)) == QFormat(12, 4)
    assert resolve_qformat(QFormat(8, 2)) == QFormat(8, 2)
    with pytest.raises(ValueError, match="qformat"):
        resolve_qformat("8.8")


def lapicque(**params):
    base = {"tau": 20.0, "resistance": 1.0, "v_rest": 0.0, "v_reset": 0.0, "v_threshold": 1.0}
    return Population("LapicqueNeuron", 2, params={**base, **params}, label="L")


def test_lapicque_codes_round_ties_away_from_zero():
    # ties in Q8.8: -64.5/256 -> -65, 96.5/256 -> 97, 0.5/256 -> 1
    pop = lapicque(v_rest=-64.5 / 256, v_reset=96.5 / 256, v_threshold=0.5 / 256)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = map_population(pop, Q88, dt_ms=1.0)
    assert (m.config["v_rest"], m.config["v_reset"], m.config["v_threshold"]) == (-65, 97, 1)
    # 1 - exp(-1/20) = 0.048770575...: * 256 = 12.485 -> 12; gain the same with R = 1
    assert (m.leak_k, m.gain_k) == (12, 12)
    assert m.config["refractory_hold"] == "v_reset"  # v_reset != v_rest
    assert (m.config["data_width"], m.config["fraction"]) == (16, 8)
    assert m.kind == "lapicque" and not m.native


def test_lapicque_equal_reset_codes_hold_v_rest():
    # different floats, same code (-0.25 and -0.2505 both -> -64): no REFRACTORY_HOLD
    m = map_population(lapicque(v_rest=-0.25, v_reset=-0.2505), Q88, dt_ms=1.0)
    assert (m.config["v_rest"], m.config["v_reset"]) == (-64, -64)
    assert m.config["refractory_hold"] == "v_rest"


def test_stochastic_lif_codes():
    pop = Population("StochasticLIFNeuron", 1, params={"tau_mem": 8.0, "resistance": 0.75, "v_rest": -0.5,
                                                       "v_threshold": 2.0, "refractory_period": 2})
    m = map_population(pop, Q88, dt_ms=0.25)
    # leak dt/tau = 1/32 -> 8, gain R*dt = 0.1875 -> 48
    assert (m.leak_k, m.gain_k, m.config["v_rest"], m.config["v_threshold"]) == (8, 48, -128, 512)
    assert m.config["refractory_hold"] == "v_rest" and m.config["refractory_period"] == 2
    noisy = Population("StochasticLIFNeuron", 1, params={"noise_std": 0.1}, label="noisy")
    with pytest.raises(NotImplementedError, match="'noisy'.*noise_std=0.1"):
        map_population(noisy, Q88, dt_ms=1.0)


def test_parameter_that_rounds_to_zero_or_saturates_warns_with_a_format():
    with pytest.warns(QuantisationWarning) as rec:
        m = map_population(lapicque(v_threshold=0.001, v_reset=200.0), Q88, dt_ms=1.0)
    text = [str(w.message) for w in rec]
    assert m.config["v_threshold"] == 0 and m.config["v_reset"] == 32767
    assert any(t.startswith("population 'L': v_threshold = 0.001 rounds to 0 in Q8.8") for t in text)
    assert any("v_reset = 200 saturates to 127.996 in Q8.8" in t and "Q9." in t for t in text)
    assert len(text) == 2
    # exactly the largest code: no warning; one code more: saturates
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        map_population(lapicque(v_reset=32767 / 256), Q88, dt_ms=1.0)
    with pytest.warns(QuantisationWarning, match="v_reset = 127.998 saturates to 127.996"):
        map_population(lapicque(v_reset=32767.5 / 256), Q88, dt_ms=1.0)
    with pytest.warns(QuantisationWarning, match="saturates to -128 in Q8.8"):
        map_population(lapicque(v_rest=-32768.5 / 256), Q88, dt_ms=1.0)


def _mapping(kind="lapicque"):
    return map_population(lapicque() if kind == "lapicque" else
                          Population("FixedPointLIFNeuron", 2, label="F"), Q88, dt_ms=1.0)


def test_float_weight_codes_are_pinned():
    a, b = lapicque(), lapicque()
    w = np.array([[0.5 / 256, -0.5 / 256], [-2.5 / 256, 0.25]])
    proj = Projection(a, b, weight=w)
    codes = quantise_weights(proj, _mapping())
    assert codes.dtype == np.int64
    assert sorted(codes.tolist()) == sorted([1, -1, -3, 64])
    big = Projection(a, b, weight=np.array([[200.0, -200.0], [0.001, 1.0]]), label="p")
    with pytest.warns(QuantisationWarning) as rec:
        codes = quantise_weights(big, _mapping())
    assert sorted(codes.tolist()) == sorted([32767, -32768, 0, 256])
    text = " ".join(str(w.message) for w in rec)
    assert "projection 'p': 1 of 4 weights (e.g. 0.001) round to 0 in Q8.8" in text
    assert "projection 'p': 2 weights saturate in Q8.8" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quantise_weights(big, _mapping(), warn=False)


def test_native_weight_codes_round_to_nearest_integer_and_saturate():
    a = Population("FixedPointLIFNeuron", 2, label="F")
    m = _mapping("native")
    codes = quantise_weights(Projection(a, a, weight=np.array([[1.4, -1.6], [2.5, 3.5]])), m, warn=False)
    assert sorted(codes.tolist()) == sorted([1, -2, 2, 4])  # np.rint: ties to even
    with pytest.warns(QuantisationWarning, match="integer weights outside the 16-bit range saturate"):
        codes = quantise_weights(Projection(a, a, weight=np.array([[40000.0, -40000.0], [5.0, 1.0]])), m)
    assert sorted(codes.tolist()) == sorted([32767, -32768, 5, 1])


def test_input_codes_of_float_and_native_populations():
    lap = lapicque()
    nat = Population("FixedPointLIFNeuron", 2, label="F")
    sim = FixedPointSimulator(Network(lap, nat), 0.001)
    I, n_sat = sim.input_codes(0, np.array([0.5 / 256, -2.5 / 256]), np.array([0, 0]))
    assert I.dtype == np.int64 and I.tolist() == [1, -3] and n_sat == 0
    # the stimulus saturates first, then the sum with the weight codes saturates again
    I, n_sat = sim.input_codes(0, np.array([200.0, 1.0]), np.array([-10, 32700]))
    assert I.tolist() == [32757, 32767] and n_sat == 2
    I, n_sat = sim.input_codes(0, np.array([-200.0, -127.0]), np.array([0, -1000]))
    assert I.tolist() == [-32768, -32768] and n_sat == 2
    I, n_sat = sim.input_codes(1, np.array([2.5, -1.5]), np.array([3, 0]))
    assert I.tolist() == [5, -2] and n_sat == 0  # native: codes already, np.rint
    I, n_sat = sim.input_codes(1, np.array([32767.0, -32768.0]), np.array([0, 0]))
    assert I.tolist() == [32767, -32768] and n_sat == 0


def test_lapicque_run_matches_a_hand_loop_on_pinned_codes():
    """A constant current through the float-mapped Lapicque neuron: the integer
    membrane trace must equal the RTL update written out with the codes above."""
    pop = Population("LapicqueNeuron", 1, label="L", params={"tau": 20.0, "v_threshold": 0.5,
                                                              "v_reset": -0.125, "refractory_period": 1})
    mon = StateMonitor(pop, ["v"])
    net = Network(pop, ConstantCurrent(0.75, target=pop), mon)
    net.run(0.03, dt=0.001, backend="fixed_point")
    leak = gain = 12
    thr, v_reset, I = 128, -32, 192
    v, hold, trace = 0, 0, []
    for _ in range(30):
        if hold:
            hold, v = hold - 1, v_reset
        else:
            v = v + ((0 - v) * leak >> 8) + (I * gain >> 8)
            if v >= thr:
                v, hold = v_reset, 1
        trace.append(v)
    assert (np.asarray(mon.traces["v"])[:, 0] * 256).round().astype(int).tolist() == trace
    assert trace.count(v_reset) >= 2  # it spiked more than once


# -- survivors of the mutation run on the backend's quantisation ------------------------------

def test_resolve_qformat_reads_integer_and_fraction_bits():
    assert resolve_qformat("Q8.4") == QFormat(12, 4)
    assert resolve_qformat([4, 1]) == QFormat(4, 1)
    for bad in ("Q8", (16,), (16, 8, 0)):
        with pytest.raises(ValueError, match="^qformat must be"):
            resolve_qformat(bad)


def test_parameter_codes_at_the_edges_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # -128.0 is exactly the smallest code; R = 0 makes the gain exactly 0 (nothing lost)
        m = map_population(lapicque(v_rest=-128.0, resistance=0.0), Q88, dt_ms=1.0)
    assert (m.config["v_rest"], m.gain_k) == (-32768, 0)
    with pytest.warns(QuantisationWarning, match="v_reset = 1e[+]308 saturates to 127.996"):
        m = map_population(lapicque(v_reset=1e308), Q88, dt_ms=1.0)  # scaled value overflows to inf
    assert m.config["v_reset"] == 32767


def test_options_reach_float_mapped_populations():
    m = map_population(lapicque(), Q88, dt_ms=1.0, options={"saturate": True, "rounding": "nearest"})
    assert (m.config["saturate"], m.config["rounding"]) == (True, "nearest")
    m = map_population(lapicque(), Q88, dt_ms=1.0)
    assert (m.config["saturate"], m.config["rounding"]) == (False, "floor")


def test_native_mapping_keeps_label_noise_and_checks_the_format():
    pop = Population("FixedPointLIFNeuron", 2, label="F", params={"noise_amplitude": 3})
    m = map_population(pop, Q88, dt_ms=1.0)
    assert (m.label, m.kind, m.native, m.noise_amplitude) == ("F", "native", True, 3)
    other = Population("FixedPointLIFNeuron", 2, label="G", params={"data_width": 12, "fraction": 4})
    with pytest.raises(ValueError, match=r"^population 'G' is declared in Q8\.4 but the network runs in Q8\.8$"):
        map_population(other, Q88, dt_ms=1.0)


def test_stochastic_lif_kind_and_leak_note():
    pop = Population("StochasticLIFNeuron", 1, label="S", params={"tau_mem": 1000.0})
    with pytest.warns(QuantisationWarning, match=r"population 'S': leak \(dt/tau_mem\) = 0\.001 rounds to 0"):
        m = map_population(pop, Q88, dt_ms=1.0)
    assert m.kind == "stochastic_lif" and m.leak_k == 0


def test_weight_codes_at_the_edges():
    a, b = lapicque(), lapicque()
    exact = Projection(a, b, weight=np.array([[32767 / 256, -128.0], [1.0, 2.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = quantise_weights(exact, _mapping())  # the largest and smallest codes exactly: no warning
    assert sorted(codes.tolist()) == sorted([32767, -32768, 256, 512])
    over = Projection(a, b, weight=np.array([[32767.5 / 256, 1.0], [1.0, 1.0]]), label="o")
    with pytest.warns(QuantisationWarning) as rec:
        codes = quantise_weights(over, _mapping())
    assert [str(w.message).split(";")[0] for w in rec] == ["projection 'o': 1 weights saturate in Q8.8"]
    assert all(w.category is QuantisationWarning for w in rec)
    assert max(codes) == 32767


def test_native_weight_codes_edges_and_empty():
    a = Population("FixedPointLIFNeuron", 2, label="F")
    m = _mapping("native")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = quantise_weights(Projection(a, a, weight=np.array([[32767.0, -32768.0], [1.0, 2.0]])), m)
        empty = quantise_weights(Projection(a, a, weight=np.zeros((2, 2))), m)
    assert codes.dtype == np.int64 and sorted(codes.tolist()) == [-32768, 1, 2, 32767]
    assert empty.size == 0
    # only the minimum out of range still saturates (and warns)
    with pytest.warns(QuantisationWarning, match="integer weights outside the 16-bit range saturate"):
        codes = quantise_weights(Projection(a, a, weight=np.array([[-40000.0, 1.0], [2.0, 3.0]])), m)
    assert sorted(codes.tolist()) == [-32768, 1, 2, 3]


def test_input_codes_without_stimulus_count_no_saturation():
    sim = FixedPointSimulator(Network(lapicque()), 0.001)
    I, n_sat = sim.input_codes(0, np.zeros(2), np.array([5.0, -7.0]))
    assert I.dtype == np.int64 and I.tolist() == [5, -7] and n_sat == 0
    I, n_sat = sim.input_codes(0, np.zeros(2), np.array([40000.0, -40000.0]))
    assert I.tolist() == [32767, -32768] and n_sat == 2


@pytest.mark.parametrize("model, params, leak_what, gain_what, leak, gain", [
    ("LapicqueNeuron", {"tau": 1e5, "resistance": 1.0}, "leak (1-exp(-dt/tau))", "gain (R*(1-exp(-dt/tau)))",
     -math.expm1(-1e-5), -math.expm1(-1e-5)),
    ("StochasticLIFNeuron", {"tau_mem": 1e5, "resistance": 1e-3}, "leak (dt/tau_mem)", "gain (R*dt)", 1e-5, 1e-3),
])
def test_float_mapping_fields_and_notes(model, params, leak_what, gain_what, leak, gain):
    pop = Population(model, 1, label="P", params=params)
    with pytest.warns(QuantisationWarning) as rec:
        m = map_population(pop, Q88, dt_ms=1.0)
    assert all(w.category is QuantisationWarning for w in rec)
    assert [n.split(" = ")[0] for n in m.notes] == [f"population 'P': {leak_what}", f"population 'P': {gain_what}"]
    assert all(" rounds to 0 in Q8.8; smallest Q-format that keeps it: " in n for n in m.notes)
    assert [str(w.message) for w in rec] == m.notes
    assert (m.label, m.leak_k, m.gain_k, m.noise_amplitude) == ("P", 0, 0, 0)
    assert (m.config["v_rest"], m.config["v_reset"], m.config["v_threshold"]) == (0, 0, 256)
    assert set(m.float_values) == {"leak", "gain", "v_rest", "v_reset", "v_threshold"}
    assert m.float_values["leak"] == pytest.approx(leak, rel=1e-9)
    assert m.float_values["gain"] == pytest.approx(gain, rel=1e-9)
    assert (m.float_values["v_rest"], m.float_values["v_threshold"]) == (0.0, 1.0)


# -- round 5: the whole fixed-point backend (run loops, state, options) -------------------------
#
# A small network (two native populations and one float-mapped Lapicque population, an instant
# projection, a synaptic-current projection, a delayed recurrent one, stimuli that saturate,
# drives that wrap) is stepped by a plain Python reference written from the module docstring
# and the RTL rule (lif_reference_step), and both step loops of the backend (kernel="python"
# and the numba chunk loop) must give the same codes, spikes, counts and units.

from engine.models.fixed_point_lif import lif_reference_step  # noqa: E402
from engine.network import SpikeMonitor, TimedArray  # noqa: E402
from engine.network.plasticity import STDP  # noqa: E402

KERNEL_LOOPS = ("python", "compiled")
LO, HI = -32768, 32767
CFG_A = dict(data_width=16, fraction=8, v_threshold=256, v_reset=-20, refractory_period=2, leak_k=20, gain_k=200)
# gain 256: one LSB more input is one LSB more membrane, so a stray register value shows
CFG_B = dict(CFG_A, refractory_period=0, leak_k=30, gain_k=256, v_reset=5)
# LapicqueNeuron(tau 20 ms, R 2, 1 ms steps) in Q8.8, worked out in test_lapicque_quantisation_rule:
# leak q(1 - e^-0.05) = 12, gain q(2 (1 - e^-0.05)) = 25, threshold q(1.5) = 384, rest = reset q(-0.25) = -64
LAP = {"tau": 20.0, "resistance": 2.0, "v_threshold": 1.5, "v_rest": -0.25, "v_reset": -0.25,
       "refractory_period": 3}
LAP_CODES = dict(leak=12, gain=25, v_threshold=384, v_rest=-64, v_reset=-64, refractory_period=3)
SYN_K = 210  # q(exp(-1/5)) = round(0.8187 * 256) = round(209.6)
T_RUN = 30


def _q(x):
    """Round half away from zero to Q8.8 and saturate (the documented input rule)."""
    c = math.copysign(math.floor(abs(x) * 256 + 0.5), x)
    return int(min(HI, max(LO, c)))


def _stimuli():
    rng = np.random.default_rng(5)
    sa = rng.integers(-100, 400, size=(T_RUN, 3)).astype(float)
    sa[4, 0], sa[5, 1] = 40000.0, -40000.0          # saturating stimulus codes
    sa[10:16, 2] = -40000.0                          # full negative drive for several steps: wraps
    sc = rng.uniform(-1.0, 6.0, size=(T_RUN, 2))
    return sa, sc


W_AB = np.array([[120.0, -60.0], [80.0, 200.0], [-30.0, 90.0]])        # instant, a -> b
W_SYN = np.array([[20000.0, 15.0], [14000.0, -40.0], [300.0, 25.0]])   # tau_syn 5 ms, delay 1, a -> b
W_BB = np.array([[0.0, -150.0], [70.0, 0.0]])                          # delay 2, b -> b
W_AC = np.array([[0.8, -0.3], [0.45, 0.6], [-1.25, 0.2]])              # a -> c, float weights


def _network(plastic=False, extra=()):
    a = Population("FixedPointLIFNeuron", 3, params=CFG_A, label="a")
    b = Population("FixedPointLIFNeuron", 2, params=CFG_B, label="b")
    c = Population("LapicqueNeuron", 2, params=LAP, label="c")
    sa, sc = _stimuli()
    mons = [SpikeMonitor(a), SpikeMonitor(b), SpikeMonitor(c), StateMonitor(b, ["v", "refractory_counter"]),
            StateMonitor(c, ["v", "refractory"], record=[1])]
    projs = [Projection(a, b, weight=W_AB, label="ab"),
             Projection(a, b, weight=W_SYN, delay=1, tau_syn=5.0, label="syn"),
             Projection(b, b, weight=W_BB, delay=2, label="bb"),
             Projection(a, c, weight=W_AC, label="ac", plasticity=STDP() if plastic else None)]
    net = Network(a, b, c, *projs, TimedArray(sa, target=a), TimedArray(sc, target=c), *mons, *extra)
    return net, mons


def _reference(T=T_RUN):
    """The network above stepped by hand: spikes, membrane codes, counters, saturation and wrap
    counts per population, and the synaptic register."""
    sa, sc = _stimuli()
    pops = {"a": (3, CFG_A), "b": (2, CFG_B),
            "c": (2, dict(data_width=16, fraction=8, v_threshold=384, v_reset=-64, refractory_period=3,
                          leak_k=12, gain_k=25, v_rest=-64))}
    v = {"a": [0] * 3, "b": [0] * 2, "c": [-64] * 2}     # initial v: v_rest
    cnt = {k: [0] * n for k, (n, _) in pops.items()}
    spk = {k: np.zeros((T, n), dtype=int) for k, (n, _) in pops.items()}
    vs = {k: np.zeros((T, n), dtype=int) for k, (n, _) in pops.items()}
    cs = {k: np.zeros((T, n), dtype=int) for k, (n, _) in pops.items()}
    sat = {k: 0 for k in pops}
    wraps = {k: 0 for k in pops}
    syn = [0, 0]
    wac = [[_q(x) for x in row] for row in W_AC]
    for t in range(T):
        prev = lambda k, back: spk[k][t - back] if t >= back else np.zeros(len(v[k]), int)  # noqa: E731
        # synaptic register of b: decay (floor shift), then the arrivals of a's spikes 1 + 1 steps back
        for j in range(2):
            s = ((syn[j] * SYN_K) >> 8) + int(prev("a", 2) @ W_SYN[:, j])
            if not LO <= s <= HI:
                sat["b"] += 1
                s = min(HI, max(LO, s))
            syn[j] = s
        drive = {
            "a": [(sa[t, i], 0) for i in range(3)],
            "b": [(0.0, int(prev("a", 1) @ W_AB[:, j]) + int(prev("b", 3) @ W_BB[:, j]) + syn[j])
                  for j in range(2)],
            "c": [(sc[t, j], sum(wac[i][j] for i in range(3) if prev("a", 1)[i])) for j in range(2)],
        }
        for k, (n, cfg) in pops.items():
            for i in range(n):
                x, proj = drive[k][i]
                code = int(round(x)) if k != "c" else _q(x)
                if x != 0 and not LO <= code <= HI:
                    sat[k] += 1
                code = min(HI, max(LO, code)) + proj
                if not LO <= code <= HI:
                    sat[k] += 1
                    code = min(HI, max(LO, code))
                if cnt[k][i] == 0:
                    s = v[k][i] + ((fx.wrap(cfg.get("v_rest", 0) - v[k][i], 32) * cfg["leak_k"]) >> 8) \
                        + ((code * cfg["gain_k"]) >> 8)
                    wraps[k] += not LO <= s <= HI
                spike, v[k][i], cnt[k][i] = lif_reference_step(
                    v[k][i], cnt[k][i], cfg["leak_k"], cfg["gain_k"], code, 0, data_width=16, fraction=8,
                    v_rest=cfg.get("v_rest", 0), v_reset=cfg["v_reset"], v_threshold=cfg["v_threshold"],
                    refractory_period=cfg["refractory_period"])
                spk[k][t, i], vs[k][t, i], cs[k][t, i] = spike, v[k][i], cnt[k][i]
    return dict(spikes=spk, v=vs, counter=cs, sat=sat, wraps=wraps, syn=syn)


REF = _reference()


def _raster(steps_ids, n, t0, T):
    out = np.zeros((T, n), dtype=int)
    steps, ids = steps_ids
    out[np.asarray(steps) - t0, ids] = 1
    return out


def _check_chunk(chunk, t0, T, ref=REF):
    assert (chunk.start_step, chunk.n_steps, chunk.dt) == (t0, T, 0.001)
    for k, n in (("a", 3), ("b", 2), ("c", 2)):
        steps, ids = chunk.spikes[k]
        assert steps.dtype == np.int64 and ids.dtype == np.int64
        assert np.array_equal(_raster(chunk.spikes[k], n, t0, T), ref["spikes"][k][t0:t0 + T])
        assert np.array_equal(chunk.rates[k], ref["spikes"][k][t0:t0 + T].sum(axis=1) / n)
    (mb, tb), (mc, tc) = [(m, chunk.traces[m]) for m in chunk.traces]
    assert tb["v"].dtype == np.int64 and np.array_equal(tb["v"], ref["v"]["b"][t0:t0 + T])
    assert np.array_equal(tb["refractory_counter"], ref["counter"]["b"][t0:t0 + T])
    # the float-mapped population is recorded in volts (code / 256) and float counts
    assert tc["v"].dtype == np.float64 and np.array_equal(tc["v"], ref["v"]["c"][t0:t0 + T, [1]] / 256)
    assert tc["refractory"].dtype == np.float64
    assert np.array_equal(tc["refractory"], ref["counter"]["c"][t0:t0 + T, [1]].astype(float))


def test_reference_network_is_busy():
    # the reference run exercises what it is meant to: spikes everywhere, saturation, wraps
    assert all(REF["spikes"][k].sum() >= 3 for k in "abc")
    assert REF["sat"]["a"] >= 2 and REF["sat"]["b"] >= 1 and REF["wraps"]["a"] >= 1
    assert REF["counter"]["c"].max() == 3 and REF["syn"] != [0, 0]


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_both_step_loops_match_the_reference_over_two_chunks(kernel):
    net, mons = _network()
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    assert sim.last_kernel is None and sim.kernel_choice == kernel
    assert sim.stats == {k: {"input_saturated": 0, "v_wrapped": 0} for k in "abc"}
    first = sim.advance(13)
    assert sim.last_kernel == kernel and sim.step_count == 13
    _check_chunk(first, 0, 13)
    second = sim.advance(T_RUN - 13)
    assert sim.step_count == T_RUN and sim.t == pytest.approx(T_RUN * 0.001)
    _check_chunk(second, 13, T_RUN - 13)
    assert sim.stats == {k: {"input_saturated": REF["sat"][k], "v_wrapped": REF["wraps"][k]} for k in "abc"}
    for k in "abc":
        kern = sim.kernel(k)
        assert kern.v.tolist() == REF["v"][k][-1].tolist()
        assert kern.counter.tolist() == REF["counter"][k][-1].tolist()
    # the populations' own state follows: codes for the native ones, volts and float counts for Lapicque
    a, b, c = net.populations
    assert b.state["v"].tolist() == REF["v"]["b"][-1].tolist()
    assert b.state["refractory_counter"].tolist() == REF["counter"]["b"][-1].tolist()
    assert c.state["v"].tolist() == (REF["v"]["c"][-1] / 256).tolist()
    assert c.state["refractory"].tolist() == REF["counter"]["c"][-1].astype(float).tolist()
    # the spike monitors saw both chunks
    assert np.array_equal(_raster(mons[1].raster_data(), 2, 0, T_RUN), REF["spikes"]["b"])


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_reset_restarts_every_register(kernel):
    net, _ = _network()
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    sim.advance(T_RUN - 1)   # ends with charge in the synaptic register and stimuli pending
    sim.reset()
    assert sim.step_count == 0
    assert sim.stats == {k: {"input_saturated": 0, "v_wrapped": 0} for k in "abc"}
    _check_chunk(sim.advance(T_RUN), 0, T_RUN)
    assert sim.stats == {k: {"input_saturated": REF["sat"][k], "v_wrapped": REF["wraps"][k]} for k in "abc"}


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_a_recompiled_simulator_continues_from_the_snapshot(kernel):
    net, _ = _network()
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    sim.advance(13)
    snap = sim.state_snapshot()
    assert set(snap["fixed_point_syn"]) == {(id(net.populations[1]), 5.0)}
    assert snap["fixed_point_syn"][(id(net.populations[1]), 5.0)].tolist() != [0, 0]
    sim2 = FixedPointSimulator(net, 0.001, kernel=kernel)
    sim2.inherit(snap)
    _check_chunk(sim2.advance(T_RUN - 13), 13, T_RUN - 13)


def test_a_snapshot_of_the_numpy_simulator_leaves_no_float_current_behind():
    """Switching from the NumPy backend: its float synaptic currents are not the integer register's,
    so the fixed-point simulator starts its arrivals at 0 (and its register with no entry at 0)."""
    from engine.backends.numpy_backend import NumpySimulator

    a = Population("FixedPointLIFNeuron", 1, params=dict(CFG_A, v_rest=300, leak_k=200), label="a")  # fires by itself
    b = Population("FixedPointLIFNeuron", 1, params=CFG_B, label="b")
    mon = StateMonitor(b, ["v"])
    net = Network(a, b, Projection(a, b, weight=50.0, tau_syn=5.0), mon)
    np_sim = NumpySimulator(net, 0.001)
    np_sim.advance(20)
    snap = np_sim.state_snapshot()
    assert any(abs(buf).max() > 1 for buf in snap["syn"].values())  # a float current in flight
    net.reset()
    sim = FixedPointSimulator(net, 0.001, kernel="python")
    sim.inherit(snap)
    chunk = sim.advance(1)
    # b starts at 0 with an empty register; only a spike of a at step 19 (in the ring) arrives now
    v, c, fired = 300, 0, []   # starts at v_rest
    for _ in range(20):
        spike, v, c = lif_reference_step(v, c, 200, 200, 0, 0, data_width=16, fraction=8, v_rest=300,
                                         v_reset=-20, v_threshold=256, refractory_period=2)
        fired.append(spike)
    assert sum(fired) >= 1
    assert chunk.traces[mon.label]["v"][0].tolist() == [50 * fired[19]]


def test_stimuli_without_a_target_drive_the_first_population():
    a = Population("FixedPointLIFNeuron", 2, params=dict(CFG_B, gain_k=256, leak_k=0), label="a")
    b = Population("FixedPointLIFNeuron", 2, params=CFG_B, label="b")
    mon_a, mon_b = StateMonitor(a, ["v"]), StateMonitor(b, ["v"])
    net = Network(a, b, ConstantCurrent(7.0), mon_a, mon_b)
    for kernel in KERNEL_LOOPS:
        sim = FixedPointSimulator(net, 0.001, kernel=kernel)
        chunk = sim.advance(3)
        assert chunk.traces[mon_a.label]["v"][:, 0].tolist() == [7, 14, 21]
        assert chunk.traces[mon_b.label]["v"].tolist() == [[0, 0]] * 3
        net.reset()


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_a_non_finite_stimulus_names_its_population(kernel):
    a = Population("FixedPointLIFNeuron", 3, label="a")
    c = Population("LapicqueNeuron", 2, params=LAP, label="c")
    d = Population("FixedPointLIFNeuron", 2, label="d")
    # each value is finite, their sum is not: c's first neuron (the first column after a's) at step 1
    late = np.zeros((4, 2))
    late[1, 0] = 1e308
    net = Network(a, c, d, TimedArray(np.ones((4, 3)), target=a), ConstantCurrent(1e308, target=c),
                  TimedArray(late, target=c))
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    with np.errstate(over="ignore"), pytest.raises(ValueError, match=r"^stimulus current for population 'c' "
                                                                     r"is not finite$"):
        sim.advance(4)


def test_kernel_choice_and_why_the_compiled_loop_is_refused(monkeypatch):
    import engine.backends.fixed_point as fpb

    with pytest.raises(ValueError, match=r"^kernel must be one of \('auto', 'compiled', 'python'\), got 'numba'$"):
        FixedPointSimulator(_network()[0], 0.001, kernel="numba")
    net, _ = _network(plastic=True)
    sim = FixedPointSimulator(net, 0.001)
    sim.advance(2)
    assert sim.last_kernel == "python"          # auto falls back for plasticity
    assert sim._compiled_blocker() == "plastic projections"
    with pytest.raises(NotImplementedError, match=r"^the compiled fixed-point loop cannot run this network: "
                                                  r"plastic projections$"):
        FixedPointSimulator(net, 0.001, kernel="compiled").advance(1)
    noisy = Network(Population("FixedPointLIFNeuron", 2, label="nz", params={"noise_amplitude": 2}))
    with pytest.raises(NotImplementedError, match=r"cannot run this network: population 'nz' has noise_amplitude$"):
        FixedPointSimulator(noisy, 0.001, kernel="compiled").advance(1)
    plain, _ = _network()
    auto = FixedPointSimulator(plain, 0.001)
    auto.advance(1)
    assert auto.last_kernel == "compiled" and auto._compiled_blocker() is None
    monkeypatch.setattr(fpb, "_KERNEL", [None])   # as if numba could not be imported
    assert auto._compiled_blocker() == "numba is not importable"
    auto.advance(1)
    assert auto.last_kernel == "python"
    with pytest.raises(NotImplementedError, match=r"cannot run this network: numba is not importable$"):
        FixedPointSimulator(plain, 0.001, kernel="compiled").advance(1)


def test_numba_kernel_is_imported_once_or_missing(monkeypatch):
    import sys as _sys

    import engine.backends.fixed_point as fpb
    from engine.backends.fixed_point_kernel import run_chunk

    monkeypatch.setattr(fpb, "_KERNEL", [])
    assert fpb._numba_kernel() is run_chunk and fpb._KERNEL == [run_chunk]
    assert fpb._numba_kernel() is run_chunk and len(fpb._KERNEL) == 1
    monkeypatch.setattr(fpb, "_KERNEL", [])
    monkeypatch.setitem(_sys.modules, "engine.backends.fixed_point_kernel", None)  # import fails
    assert fpb._numba_kernel() is None and fpb._KERNEL == [None]


def _one(label="x", n=2, **params):
    return Population("FixedPointLIFNeuron", n, params={**CFG_B, **params}, label=label)


def _ref_trace(T, I, cfg, v=0, noise=None, change=None):
    """Membrane codes of one native neuron under a constant input code (``change``: (step, key, value)
    switches a parameter from that step on)."""
    cfg, c, out = dict(cfg), 0, []
    for t in range(T):
        if change is not None and t == change[0]:
            cfg[change[1]] = change[2]
        _, v, c = lif_reference_step(v, c, cfg["leak_k"], cfg["gain_k"], I, 0 if noise is None else noise[t],
                                     data_width=16, fraction=8, v_rest=cfg.get("v_rest", 0),
                                     v_reset=cfg["v_reset"], v_threshold=cfg["v_threshold"],
                                     refractory_period=cfg["refractory_period"])
        out.append(v)
    return out


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
@pytest.mark.parametrize("which", [0, 1])
def test_a_parameter_changed_between_chunks_applies_to_the_next(kernel, which):
    pops = [_one("p0"), _one("p1")]
    mons = [StateMonitor(p, ["v"]) for p in pops]
    net = Network(*pops, ConstantCurrent(60.0), ConstantCurrent(60.0, target=pops[1]), *mons)
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    sim.advance(4)
    pops[which].set_param("v_threshold", 100)   # only this population changes; the other keeps its kernel
    sim.advance(6)
    for k in (0, 1):
        want = _ref_trace(10, 60, CFG_B, change=(4, "v_threshold", 100) if k == which else None)
        assert mons[k].traces["v"][:, 0].tolist() == want
    assert _ref_trace(10, 60, CFG_B, change=(4, "v_threshold", 100)) != _ref_trace(10, 60, CFG_B)  # it matters


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_noise_is_drawn_from_the_populations_generator(kernel):
    pop = _one("nz", n=3, noise_amplitude=3, refractory_period=1)
    mon = StateMonitor(pop, ["v"])
    net = Network(pop, ConstantCurrent(40.0), mon)  # seed 42, population 0
    sim = FixedPointSimulator(net, 0.001, kernel="auto" if kernel == "compiled" else kernel)
    sim.advance(12)
    assert sim.last_kernel == "python"   # noise always runs the Python loop
    rng = np.random.default_rng(np.random.SeedSequence([42, 0]))
    draws = np.array([rng.integers(-3, 4, size=3) for _ in range(12)])
    assert set(draws.ravel().tolist()) == set(range(-3, 4))    # the whole range [-a, a] is drawn
    for i in range(3):
        assert mon.traces["v"][:, i].tolist() == _ref_trace(12, 40, dict(CFG_B, refractory_period=1),
                                                            noise=draws[:, i])


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_synaptic_register_at_exactly_its_limits_does_not_count_as_saturated(kernel):
    src = Population("FixedPointLIFNeuron", 1, params=dict(CFG_A, v_rest=300), label="src")  # fires at step 0
    tgt = _one("tgt", leak_k=0, v_threshold=32767)
    mon = StateMonitor(tgt, ["v"])
    net = Network(src, tgt, Projection(src, tgt, weight=np.array([[32767.0, -32768.0]]), tau_syn=5.0), mon)
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    sim.advance(2)
    assert sim.stats["tgt"] == {"input_saturated": 0, "v_wrapped": 0}
    # step 1: the register holds exactly 32767 and -32768; gain 256 moves v by exactly that
    assert mon.traces["v"].tolist() == [[0, 0], [5, -32768]]  # 32767 reaches the threshold: reset to 5
    sim.advance(1)
    # step 2: (32767 * 210) >> 8 = 26879 and (-32768 * 210) >> 8 = -26880, no arrival: v moves by that
    assert mon.traces["v"][2].tolist() == [5 + 26879, fx.wrap(-32768 - 26880, 16)]  # the sum wraps
    assert sim.stats["tgt"] == {"input_saturated": 0, "v_wrapped": 1}


def test_the_backends_errors_name_what_is_missing():
    a, c = _one("a"), Population("LapicqueNeuron", 2, params=LAP, label="c")
    proj = Projection(a, c, weight=np.array([[0.5, 1.0], [-0.25, 0.75]]))
    sim = FixedPointSimulator(Network(a, c, proj), 0.001)
    with pytest.raises(KeyError, match=r"no population labelled 'zz'"):
        sim.kernel("zz")
    other = Projection(a, a, weight=1.0)
    with pytest.raises(KeyError, match=r"projection .* is not in this simulator"):
        sim.weight_codes(other)
    codes = sim.weight_codes(proj)
    assert codes.dtype == np.int64 and sorted(codes.tolist()) == [-64, 128, 192, 256]
    with pytest.raises(ValueError, match=r"^population 'a' has no state variable 'u' in the fixed_point backend; "
                                         r"available: v, refractory_counter$"):
        sim._read_state(0, "u")
    with pytest.raises(ValueError, match=r"^population 'c' has no state variable 'v_m' in the fixed_point backend; "
                                         r"available: v, refractory$"):
        sim._read_state(1, "v_m")


def test_one_q_format_per_network_and_live_changes_of_it():
    a, b = _one("a"), Population("FixedPointLIFNeuron", 1, label="b", params={"data_width": 12, "fraction": 4})
    with pytest.raises(ValueError, match=r"^FixedPointLIFNeuron populations use different Q-formats "
                                         r"\('a': Q8\.8, 'b': Q8\.4\); one network runs in one format$"):
        FixedPointSimulator(Network(a, b), 0.001)
    sim = FixedPointSimulator(Network(_one("a")), 0.001)
    assert sim.qformat == QFormat(16, 8)
    pop = sim.populations[0]
    for name in ("data_width", "fraction"):
        assert sim.live_change_blocker(pop, name) == ("the network runs in one Q-format (Q8.8), chosen when it "
                                                      "is compiled")
    assert sim.live_change_blocker(pop, "v_threshold") is None
    assert sim.live_change_blocker(object(), "data_width") is None   # not a population: no model


def test_options_come_from_the_argument_or_the_network():
    from engine.backends.fixed_point import network_options

    c = Population("LapicqueNeuron", 2, params=LAP, label="c")
    net = Network(c)
    assert network_options(net) == {"saturate": False, "rounding": "floor"}
    net.fixed_point_options = {"rounding": "nearest"}
    assert network_options(net) == {"saturate": False, "rounding": "nearest"}
    sim = FixedPointSimulator(net, 0.001)
    assert sim.options == {"saturate": False, "rounding": "nearest"}
    assert (sim.mappings[0].config["rounding"], sim.kernel("c").rounding) == ("nearest", "nearest")
    # the argument wins over the attribute
    sim = FixedPointSimulator(net, 0.001, options={"saturate": True})
    assert sim.options == {"saturate": True, "rounding": "floor"}
    assert (sim.mappings[0].config["saturate"], sim.mappings[0].config["rounding"]) == (True, "floor")
    with pytest.raises(ValueError, match=r"^options must be a dict with saturate / rounding, got \[1, 2\]$"):
        network_options(net, [1, 2])
    with pytest.raises(ValueError, match=r"^options has unknown keys \['a', 'z'\]; known: saturate, rounding$"):
        network_options(net, {"z": 1, "a": 2, "rounding": "floor"})
    with pytest.raises(ValueError, match=r"^rounding must be one of"):
        network_options(net, {"rounding": "up"})


def test_initial_codes_of_out_of_range_native_state_are_clipped():
    pop = _one("a", n=3)
    pop.state["v"][...] = [40000, -40000, 12]
    pop.state["refractory_counter"][...] = [0, 1, 2]
    sim = FixedPointSimulator(Network(pop), 0.001)
    assert sim.kernel("a").v.tolist() == [32767, -32768, 12]
    assert sim.kernel("a").counter.tolist() == [0, 1, 2]


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_synaptic_decay_that_rounds_to_zero_warns_with_a_format(kernel):
    a, b = _one("a"), _one("b")
    # exp(-1 / tau) = 0.0015: 0.384 LSB in Q8.8; 9 fraction bits keep it (0.768 -> 1) and
    # the register must also hold 1.0 (code 512 at 9 bits: 11 bits signed): Q2.9
    tau = -1.0 / math.log(0.0015)
    with pytest.warns(QuantisationWarning) as rec:
        FixedPointSimulator(Network(a, b, Projection(a, b, weight=1.0, tau_syn=tau, label="fast")), 0.001,
                            kernel=kernel)
    assert [str(w.message) for w in rec] == [
        "projection 'fast': synaptic decay exp(-dt/tau_syn) = 0.0015 rounds to 0 in Q8.8; smallest Q-format "
        "that keeps it: Q2.9"]


def test_a_weight_no_format_holds_says_so():
    a, c = _one("a"), Population("LapicqueNeuron", 2, params=LAP, label="c")
    with pytest.warns(QuantisationWarning, match="smallest Q-format that holds them: none up to 32 bits$"):
        FixedPointSimulator(Network(a, c, Projection(a, c, weight=1e12, label="huge")), 0.001)


def test_a_chunk_longer_than_one_compiled_block():
    """The compiled loop runs a chunk in blocks of 2**21 // N steps; with N = 2048 neurons a chunk of
    1029 steps takes two blocks (1024 + 5).  v_rest = 300 is above the threshold and the neuron holds
    v_rest while refractory, so it fires every refractory_period + 1 steps: a closed form for every
    step.  The 2045 neurons between them rest at 0 without input."""
    p0 = _one("p0", n=1, v_rest=300, v_reset=-20, refractory_period=2)
    quiet = _one("quiet", n=2045)
    p1 = _one("p1", n=1, v_rest=300, v_reset=-20, refractory_period=3)
    # and one driven by a stimulus that differs every step (leak 0, gain 256: v is its running sum)
    drv = _one("drv", n=1, leak_k=0, v_threshold=32767)
    st, sd = StateMonitor(p1, ["v"]), StateMonitor(drv, ["v"])
    T = 1029
    x = (np.arange(T + 2) % 7 - 3).astype(float)
    net = Network(p0, quiet, p1, drv, st, sd, TimedArray(x[:, None], target=drv))
    sim = FixedPointSimulator(net, 0.001, kernel="compiled")
    sim.advance(2)
    chunk = sim.advance(T)
    assert sim.step_count == T + 2
    t = np.arange(2, T + 2)
    for label, period in (("p0", 3), ("p1", 4)):
        steps, ids = chunk.spikes[label]
        assert np.array_equal(steps, t[t % period == 0]) and not ids.any()
        assert np.array_equal(chunk.rates[label], (t % period == 0).astype(float))
    assert chunk.spikes["quiet"][0].size == 0 and not chunk.rates["quiet"].any()
    assert np.array_equal(chunk.traces[st.label]["v"][:, 0], np.where(t % 4 == 0, -20, 300))
    assert sim.kernel("quiet").v.tolist() == [0] * 2045
    assert np.array_equal(chunk.traces[sd.label]["v"][:, 0], np.cumsum(x)[2:])


def _fires_every(period, n=1, label="src"):
    """Neurons that fire at step 0 and then every ``period`` steps by themselves (v_rest above the
    threshold, v_rest held while refractory)."""
    return _one(label, n=n, v_rest=300, v_reset=-20, refractory_period=period - 1)


def _register_trace(T, weights, k, period, delay=0):
    """Hand loop of one synaptic register per weight: spikes at 0, period, 2 period, ... arrive
    1 + delay steps later; returns the register codes and how many saturated."""
    regs, out, n_sat = [0] * len(weights), [], 0
    for t in range(T):
        arrive = t >= 1 + delay and (t - 1 - delay) % period == 0
        for j, w in enumerate(weights):
            s = ((regs[j] * k) >> 8) + (w if arrive else 0)
            if not LO <= s <= HI:
                n_sat += 1
                s = min(HI, max(LO, s))
            regs[j] = s
        out.append(list(regs))
    return out, n_sat


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_two_synaptic_groups_on_two_targets(kernel):
    """Three register groups (on t1 = the first population, with tau 5 and 20 ms, and on t2, tau 10 ms):
    each group's registers, offsets and decay are its own.  Leak 0 and gain 256 make each membrane
    the running sum of its register."""
    t1, t2 = _one("t1", leak_k=0, v_threshold=32767), _one("t2", n=1, leak_k=0, v_threshold=32767)
    src = _fires_every(3)
    m1, m2 = StateMonitor(t1, ["v"]), StateMonitor(t2, ["v"])
    net = Network(t1, t2, src, Projection(src, t1, weight=np.array([[100.0, -200.0]]), tau_syn=5.0),
                  Projection(src, t2, weight=300.0, tau_syn=10.0, delay=1),
                  Projection(src, t1, weight=np.array([[7.0, 9.0]]), tau_syn=20.0), m1, m2)
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    sim.advance(5)
    sim.advance(7)
    # q(exp(-1/5)) = 210, q(exp(-1/10)) = round(0.9048 * 256) = round(231.6) = 232,
    # q(exp(-1/20)) = round(0.95123 * 256) = round(243.5) = 244; t1 has two groups, t2 one
    r1, _ = _register_trace(12, [100, -200], 210, 3)
    r1b, _ = _register_trace(12, [7, 9], 244, 3)
    r2, _ = _register_trace(12, [300], 232, 3, delay=1)
    assert m1.traces["v"].tolist() == np.cumsum(np.add(r1, r1b), axis=0).tolist()
    assert m2.traces["v"].tolist() == np.cumsum(r2, axis=0).tolist()


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_synaptic_register_saturates_both_ways_and_counts_it(kernel):
    src = _fires_every(3)
    tgt = _one("tgt", leak_k=0, v_threshold=32767, saturate=True)
    net = Network(src, tgt, Projection(src, tgt, weight=np.array([[30000.0, -30000.0]]), tau_syn=5.0))
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    sim.advance(8)
    regs, n_sat = _register_trace(8, [30000, -30000], 210, 3)
    assert n_sat == 4 and regs[4] == [HI, LO]   # the second arrival (step 4) overflows both ways
    assert sim.stats["tgt"]["input_saturated"] == n_sat   # the input sum stays in range: only these


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_reset_empties_a_register_that_does_not_decay(kernel):
    """With tau_syn = 1000 dt the decay code is q(exp(-0.001)) = 256: the register keeps its value, so a
    register left non-zero by reset would drive the neuron for ever."""
    src = _fires_every(50)
    tgt = _one("tgt", n=1, leak_k=0, v_threshold=32767)
    mon = StateMonitor(tgt, ["v"])
    net = Network(src, tgt, Projection(src, tgt, weight=1.0, tau_syn=1000.0), mon)
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    sim.advance(4)
    assert mon.traces["v"][:, 0].tolist() == [0, 1, 2, 3]
    net.reset()
    sim.reset()
    chunk = sim.advance(3)
    assert chunk.traces[mon.label]["v"][:, 0].tolist() == [0, 1, 2]


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_many_spikes_in_one_step_are_delivered(kernel):
    # more than base._LOOP_ROWS (4) source rows in one step take the CSR position path
    src = _fires_every(100, n=6)
    tgt = _one("tgt", n=2, leak_k=0, v_threshold=32767)
    mon = StateMonitor(tgt, ["v"])
    w = np.arange(1.0, 13.0).reshape(6, 2)
    sim = FixedPointSimulator(Network(src, tgt, Projection(src, tgt, weight=w), mon), 0.001, kernel=kernel)
    sim.advance(3)
    # step 1 gets every source's row: 1+3+5+7+9+11 = 36 and 2+4+...+12 = 42
    assert mon.traces["v"].tolist() == [[0, 0], [36, 42], [36, 42]]


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_an_empty_chunk(kernel):
    net, _ = _network()
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    chunk = sim.advance(0)
    assert (chunk.start_step, chunk.n_steps, sim.step_count) == (0, 0, 0)
    for k in "abc":
        steps, ids = chunk.spikes[k]
        assert steps.dtype == np.int64 and ids.dtype == np.int64 and steps.size == ids.size == 0
        assert chunk.rates[k].shape == (0,)
    _check_chunk(sim.advance(T_RUN), 0, T_RUN)


@pytest.mark.parametrize("kernel", KERNEL_LOOPS)
def test_spikes_in_the_delay_line_cross_chunk_boundaries(kernel):
    """Only the third neuron of the source fires (every 2 steps from step 0: stimulus 300 over a
    threshold of 256, one refractory step), its row of weights is 100, and the delay is 2: the
    target's membrane (leak 0, gain 256) gains 100 at steps 3, 5, 7, ..., whatever the chunks."""
    filler = _one("filler", n=1)
    src = _one("src", n=3, leak_k=0, v_reset=0, refractory_period=1)
    tgt = _one("tgt", n=1, leak_k=0, v_threshold=32767)
    mon = StateMonitor(tgt, ["v"])
    net = Network(filler, src, tgt, Projection(src, tgt, weight=np.array([[1.0], [10.0], [100.0]]), delay=2),
                  TimedArray(np.array([[0.0, 0.0, 300.0]]), target=src), mon)
    sim = FixedPointSimulator(net, 0.001, kernel=kernel)
    for n in (4, 3, 1, 5):
        sim.advance(n)
    t = np.arange(13)
    want = [100 * int(((k >= 3) & (k % 2 == 1)).sum()) for k in (t[:i + 1] for i in range(13))]
    assert mon.traces["v"][:, 0].tolist() == want
