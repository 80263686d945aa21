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
