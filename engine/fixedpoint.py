"""Two's-complement fixed-point arithmetic: the single home of wrap, shifts and
quantisation.

Used by the scalar ``FixedPointLIFNeuron``, the vectorised fixed-point
population, the ``fixed_point`` backend, the Verilog export and the RTL
co-simulation checker, so all of them round and wrap identically.

Every function accepts Python ints or NumPy integer arrays.  Python's ``>>`` on
ints and NumPy's ``right_shift`` on signed arrays are both arithmetic
(floor) shifts, which is what Verilog's ``>>>`` on a signed value does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_WIDTH = 32


def check_width(data_width: int, fraction: int, *, name: str = "data_width") -> None:
    """Validate a Q-format: ``1 <= data_width <= 32`` and ``0 <= fraction < data_width``."""
    if isinstance(data_width, bool) or not isinstance(data_width, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {data_width!r}")
    if not 1 <= int(data_width) <= MAX_WIDTH:
        raise ValueError(f"{name} must be in [1, {MAX_WIDTH}], got {data_width}")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, np.integer)):
        raise ValueError(f"fraction must be an integer, got {fraction!r}")
    if not 0 <= int(fraction) < int(data_width):
        raise ValueError(f"fraction must be in [0, {name}) = [0, {data_width}), got {fraction}")


def wrap(x, bits: int):
    """Two's-complement wrap-around of ``x`` to ``bits`` bits (signed result)."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, np.ndarray):
        half = 1 << (bits - 1)
        return ((int(x) + half) & ((1 << bits) - 1)) - half
    x = np.asarray(x, dtype=np.int64)
    if bits >= 64:
        return x
    half = np.int64(1) << np.int64(bits - 1)
    mask = (np.int64(1) << np.int64(bits)) - np.int64(1)
    return ((x + half) & mask) - half


def asr(x, shift: int):
    """Arithmetic shift right (floor division by ``2**shift``)."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, np.ndarray):
        return int(x) >> shift
    return np.right_shift(np.asarray(x, dtype=np.int64), shift)


def int_range(bits: int) -> tuple[int, int]:
    """Smallest and largest signed integer that fits ``bits`` bits."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def fits(value, bits: int) -> bool:
    lo, hi = int_range(bits)
    arr = np.asarray(value)
    return bool(np.all((arr >= lo) & (arr <= hi)))


@dataclass(frozen=True)
class QFormat:
    """A signed fixed-point format ``Q(data_width - fraction).fraction``."""

    data_width: int = 16
    fraction: int = 8

    def __post_init__(self):
        check_width(self.data_width, self.fraction)

    @property
    def scale(self) -> int:
        return 1 << self.fraction

    @property
    def min_int(self) -> int:
        return int_range(self.data_width)[0]

    @property
    def max_int(self) -> int:
        return int_range(self.data_width)[1]

    @property
    def resolution(self) -> float:
        return 1.0 / self.scale

    def __str__(self) -> str:
        return f"Q{self.data_width - self.fraction}.{self.fraction}"

    def quantize(self, x, *, saturate: bool = True):
        """Round-to-nearest (ties away from zero) float -> integer code.

        With ``saturate`` values outside the range clip to the format's limits;
        without it they wrap like the hardware register would.
        """
        arr = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError("cannot quantise non-finite values")
        codes = np.sign(arr) * np.floor(np.abs(arr) * self.scale + 0.5)
        if saturate:
            codes = np.clip(codes, self.min_int, self.max_int)
            out = codes.astype(np.int64)
        else:
            out = wrap(codes.astype(np.int64), self.data_width)
        return int(out) if np.ndim(out) == 0 else out

    def to_float(self, code):
        return np.asarray(code, dtype=np.float64) / self.scale


# -- helpers shared by the fixed-point neuron, backend, export and co-simulation --

def check_fits(value, bits: int, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless every value is an integer that
    fits a signed ``bits``-bit register."""
    arr = np.asarray(value)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        if arr.dtype.kind == "O" and all(isinstance(x, int) and not isinstance(x, bool) for x in arr.ravel()):
            pass  # Python ints too large for int64 land here; range-checked below
        else:
            raise ValueError(f"{name} must be an integer code, got {value!r}")
    lo, hi = int_range(bits)
    if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
        bad = int(arr.min()) if int(arr.min()) < lo else int(arr.max())
        raise ValueError(f"{name}={bad} does not fit a signed {bits}-bit register [{lo}, {hi}]")


def work_dtype(data_width: int, fraction: int):
    """Narrowest NumPy integer dtype in which the LIF update is bit-exact.

    Only the low ``data_width`` bits of the new membrane are kept, and those
    depend only on the low ``data_width + fraction`` bits of each product
    (the shift discards ``fraction`` bits).  Integer arrays wrap modulo
    ``2**32`` / ``2**64`` on overflow, so int32 is exact whenever
    ``data_width + fraction <= 32`` (every Q-format up to Q8.8 and e.g. Q16.0,
    Q12.4, Q20.12) and int64 is exact for every supported format (W+F <= 63).
    """
    check_width(data_width, fraction)
    return np.int32 if data_width + fraction <= 32 else np.int64


def wrap_inplace(arr: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap of a signed integer array to ``bits`` bits, in place:
    shift the kept bits to the top of the word, then arithmetic-shift back
    (two cheap passes, no temporaries)."""
    word = arr.dtype.itemsize * 8
    if bits < word:
        s = word - bits
        np.left_shift(arr, s, out=arr)
        np.right_shift(arr, s, out=arr)
    return arr


def min_fraction_nonzero(value: float) -> int:
    """Smallest number of fraction bits for which ``value`` does not round to 0
    (round half away from zero: needs ``|value| * 2**F >= 0.5``)."""
    a = abs(float(value))
    if a == 0.0:
        return 0
    ratio = 0.5 / a
    if not math.isfinite(ratio):  # a subnormal value: more bits than any format has
        return 1 << 16
    return max(0, int(np.ceil(np.log2(ratio) - 1e-12)))


def min_integer_bits(value: float) -> int:
    """Integer bits (including the sign bit) needed to hold ``value`` without
    saturating: ``Q(m).F`` holds ``[-2**(m-1), 2**(m-1) - 2**-F]``."""
    a = abs(float(value))
    m = 1
    while a >= (1 << (m - 1)) and m < 64:
        m += 1
    return m


def _rounded(value: float, frac: int) -> float:
    """``|value|`` rounded (half away from zero) to ``frac`` fraction bits; a value
    too large to scale is returned as it is (it needs every integer bit anyway)."""
    scaled = abs(value) * 2.0 ** frac
    return math.floor(scaled + 0.5) / 2.0 ** frac if math.isfinite(scaled) else abs(value)


def smallest_qformat(values, *, max_width: int = MAX_WIDTH) -> "QFormat | None":
    """Smallest ``QFormat`` in which every non-zero value is representable without
    rounding to zero or saturating (``None`` when none up to ``max_width`` bits)."""
    vals = [float(v) for v in np.ravel(values) if float(v) != 0.0]
    if not vals:
        return QFormat(2, 0)
    frac = max(min_fraction_nonzero(v) for v in vals)
    if frac >= max_width:
        return None
    # integer bits of the *rounded* value: rounding can carry it up to the next
    # power of two (127.998 at 4 fraction bits is 128.0, which Q8.4 cannot hold)
    ints = max(min_integer_bits(_rounded(v, frac)) for v in vals)
    width = frac + ints
    if width > max_width:
        return None
    return QFormat(max(width, 1), frac)


# -- arithmetic options of the LIF datapath (RTL parameters REFRACTORY_HOLD, SATURATE, ROUND) --

REFRACTORY_HOLDS = ("v_rest", "v_reset")
ROUNDINGS = ("floor", "nearest")


def check_options(refractory_hold: str = "v_rest", saturate: bool = False, rounding: str = "floor") -> None:
    """Validate the datapath options (``ValueError`` naming the option)."""
    if refractory_hold not in REFRACTORY_HOLDS:
        raise ValueError(f"refractory_hold must be one of {REFRACTORY_HOLDS}, got {refractory_hold!r}")
    if not isinstance(saturate, (bool, np.bool_)):
        raise ValueError(f"saturate must be True or False, got {saturate!r}")
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")


def round_bias(fraction: int, rounding: str = "floor") -> int:
    """What is added to a product before the arithmetic shift by ``fraction``:
    0 for ``floor``; ``2**(fraction-1)`` for ``nearest`` (round half up, i.e.
    ties towards +inf, the cheapest rounding in hardware: one adder)."""
    if rounding == "nearest" and fraction > 0:
        return 1 << (fraction - 1)
    return 0


def shift_product(p, fraction: int, rounding: str = "floor"):
    """``(p + bias) >> fraction`` (arithmetic): a product scaled back to Q-format."""
    return asr(p + round_bias(fraction, rounding), fraction)


def saturate_to(x, bits: int):
    """Clip ``x`` to the signed ``bits``-bit range (ints or arrays)."""
    lo, hi = int_range(bits)
    if isinstance(x, (int, np.integer)) and not isinstance(x, np.ndarray):
        return min(max(int(x), lo), hi)
    return np.clip(np.asarray(x, dtype=np.int64), lo, hi)


def fit_sum(x, bits: int, saturate: bool = False):
    """An exact sum brought to ``bits`` bits: clipped (``saturate``) or wrapped."""
    return saturate_to(x, bits) if saturate else wrap(x, bits)
