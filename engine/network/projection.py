"""Projections: synaptic connectivity between two populations, stored as CSR.

Row ``i`` of the CSR arrays (``indices[indptr[i]:indptr[i+1]]``,
``data[...]``) lists the targets and weights of source neuron ``i``; targets
within a row are sorted and unique.

Timing (identical on every backend): a spike emitted by the source at step
``t`` is delivered to the target at step ``t + 1 + delay`` -- the network
always propagates the spikes of the *previous* step, and ``delay`` (whole
steps, ``>= 0``) adds to that one-step latency.

Synapse kinetics: ``tau_syn=None`` (the reference behaviour) delivers an
instantaneous current -- the propagated weight is input for exactly one step.
With ``tau_syn`` (ms) the synaptic current ``I`` is a state of the projection:
each step ``I <- I * exp(-dt/tau_syn) + sum of arriving weights`` and ``I`` is
added to the target's input (a current-based exponential synapse).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from engine.network.plasticity import STDP, make_plasticity
from engine.network.population import Population

__all__ = ["Projection", "TOPOLOGIES", "MAX_DELAY_STEPS", "MAX_EDGES"]

TOPOLOGIES = ("random", "all_to_all", "one_to_one")
#: longest supported delay; each step of delay keeps one spike list in memory
MAX_DELAY_STEPS = 100_000
#: largest number of synapses one projection may hold (~1.2 GB of CSR arrays plus
#: construction temporaries); far above typical cortical models (CUBA: 3.2e5)
MAX_EDGES = 50_000_000
#: rows sampled per block by the random topology (bounds temporary memory)
_BLOCK_CELLS = 1 << 22
#: below this probability the random topology samples geometric gaps instead
#: of one uniform number per pair
_SPARSE_P = 0.25

_DISTRIBUTIONS = {
    "normal": ("mean", "std"),
    "uniform": ("low", "high"),
    "lognormal": ("mean", "sigma"),
    "constant": ("value",),
}


def _real(value, name, *, minimum=None, maximum=None, strict_min=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None and (value < minimum or (strict_min and value == minimum)):
        raise ValueError(f"{name} must be {'>' if strict_min else '>='} {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return value


def check_delay(delay) -> int:
    """Delay in whole steps: an int, or a float with no fractional part."""
    if isinstance(delay, (bool, np.bool_)) or not isinstance(delay, numbers.Real):
        raise TypeError(f"delay must be a whole number of steps, got {delay!r}")
    d = float(delay)
    if not math.isfinite(d) or d != round(d):
        raise ValueError(f"delay must be a whole number of steps (>= 0), got {delay!r}")
    d = int(round(d))
    if d < 0:
        raise ValueError(f"delay must be >= 0 steps, got {delay!r}")
    if d > MAX_DELAY_STEPS:
        raise ValueError(f"delay={d} exceeds the limit of {MAX_DELAY_STEPS} steps")
    return d


def check_tau_syn(tau_syn):
    if tau_syn is None:
        return None
    return _real(tau_syn, "tau_syn", minimum=0.0, strict_min=True)


def check_weight_spec(spec: dict) -> dict:
    """Validate a distribution spec such as ``{"dist": "normal", "mean": 1, "std": 0.1}``."""
    if "dist" not in spec:
        raise ValueError(f"weight distribution spec needs a 'dist' key, one of {', '.join(_DISTRIBUTIONS)}")
    dist = spec["dist"]
    if dist not in _DISTRIBUTIONS:
        raise ValueError(f"weight['dist'] must be one of {', '.join(_DISTRIBUTIONS)}, got {dist!r}")
    needed = _DISTRIBUTIONS[dist]
    unknown = [k for k in spec if k not in ("dist", *needed)]
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(map(repr, unknown))} in weight spec "
                         f"for {dist!r}; expected {', '.join(needed)}")
    missing = [k for k in needed if k not in spec]
    if missing:
        raise ValueError(f"weight spec for {dist!r} is missing {', '.join(map(repr, missing))}")
    out = {"dist": dist}
    for k in needed:
        out[k] = _real(spec[k], f"weight[{k!r}]")
    if dist == "normal" and out["std"] < 0:
        raise ValueError(f"weight['std'] must be >= 0, got {out['std']}")
    if dist == "lognormal" and out["sigma"] < 0:
        raise ValueError(f"weight['sigma'] must be >= 0, got {out['sigma']}")
    if dist == "uniform" and out["high"] < out["low"]:
        raise ValueError(f"weight['high'] ({out['high']}) must be >= weight['low'] ({out['low']})")
    return out


class Projection:
    """Synapses from ``source`` to ``target`` in CSR form.

    Parameters
    ----------
    source, target : Population
    weight : float, array or dict
        A scalar (every synapse), a dense ``(n_source, n_target)`` matrix
        (synapse ``i->j`` gets ``W[i, j]``; exact zeros mean "no synapse"), a
        1-D array with one weight per generated synapse in CSR order, or a
        distribution spec ``{"dist": "normal", "mean": m, "std": s}``,
        ``{"dist": "uniform", "low": a, "high": b}``,
        ``{"dist": "lognormal", "mean": m, "sigma": s}``.
    probability : float
        Connection probability of the ``"random"`` topology (independent
        Bernoulli per pair; for ``p < 0.25`` sampled as geometric gaps along
        the row-major pair index, O(synapses)).  Other topologies require 1.0.
    delay : int
        Extra delay in whole steps on top of the one-step latency (see module
        docstring).  A float must be a whole number.
    topology : {"random", "all_to_all", "one_to_one"}
    plasticity : None, STDP or dict
        ``None`` (static weights) or pair-based STDP: an
        :class:`~engine.network.plasticity.STDP` or
        ``{"rule": "stdp", "tau_plus": ..., ...}``.  Other rules raise
        ``NotImplementedError`` naming them.
    seed : int
        Seed of the connectivity (and weight) sampling: same seed, same CSR.
    weight_threshold : float
        Synapses with ``|w| < weight_threshold`` are pruned.
    allow_self_connections : bool
        When ``source is target``, whether ``i -> i`` synapses may exist.
    tau_syn : float or None
        Exponential synaptic current time constant in ms, or None for the
        instantaneous (one-step) current of the reference.
    label : str, optional
    """

    def __init__(self, source, target, weight, probability=1.0, delay=0.0, topology="random",
                 plasticity=None, seed=42, weight_threshold=0.0, *, allow_self_connections=True,
                 tau_syn=None, label=None):
        for name, pop in (("source", source), ("target", target)):
            if not isinstance(pop, Population):
                raise TypeError(f"{name} must be a Population, got {type(pop).__name__}")
        self.source, self.target = source, target
        if topology not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}, got {topology!r}")
        self.topology = topology
        self.probability = _real(probability, "probability", minimum=0.0, maximum=1.0)
        if topology != "random" and self.probability != 1.0:
            raise ValueError(f"probability applies to the 'random' topology only; "
                             f"topology {topology!r} needs probability=1.0, got {probability!r}")
        self.delay = check_delay(delay)
        self.plasticity: STDP | None = make_plasticity(plasticity)
        self.plasticity_state = None  # traces of the plasticity rule, created by the simulator
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self.weight_threshold = _real(weight_threshold, "weight_threshold", minimum=0.0)
        if not isinstance(allow_self_connections, (bool, np.bool_)):
            raise TypeError(f"allow_self_connections must be a bool, got {allow_self_connections!r}")
        self.allow_self_connections = bool(allow_self_connections)
        self.tau_syn = check_tau_syn(tau_syn)
        self.label = label
        self.weight_spec = None  # JSON-able description of ``weight`` when it is not an array
        self._build(weight)

    # -- construction ----------------------------------------------------------
    def _build(self, weight) -> None:
        n_src, n_tgt = self.source.n, self.target.n
        rng = np.random.default_rng(self.seed)
        no_self = self.source is self.target and not self.allow_self_connections
        if self.topology == "one_to_one":
            if n_src != n_tgt:
                raise ValueError(f"one_to_one topology needs equal sizes, got source n={n_src} "
                                 f"and target n={n_tgt}")
            if no_self:
                raise ValueError("one_to_one onto the same population with allow_self_connections=False "
                                 "would have no synapses")
            rows = np.arange(n_src, dtype=np.int64)
            cols = rows.copy()
        else:
            expected = n_src * n_tgt * (self.probability if self.topology == "random" else 1.0)
            if expected > MAX_EDGES:
                raise ValueError(f"projection would hold about {expected:.3g} synapses, more than the "
                                 f"limit of {MAX_EDGES}; lower probability or sizes")
            if self.topology == "all_to_all":
                rows = np.repeat(np.arange(n_src, dtype=np.int64), n_tgt)
                cols = np.tile(np.arange(n_tgt, dtype=np.int64), n_src)
            else:
                rows, cols = self._sample_random(rng, n_src, n_tgt)
            if no_self:
                keep = rows != cols
                rows, cols = rows[keep], cols[keep]
        data = self._weights(weight, rows, cols, rng)
        # a dense matrix's exact zeros mean "no synapse"; the threshold prunes weak ones
        drop_zeros = isinstance(weight, (np.ndarray, list, tuple)) and np.ndim(weight) == 2
        if self.weight_threshold > 0.0 or drop_zeros:
            keep = np.abs(data) >= self.weight_threshold
            if drop_zeros:
                keep &= data != 0.0
            rows, cols, data = rows[keep], cols[keep], data[keep]
        # rows come out sorted (row-major generation), so CSR is a counting pass
        self.indptr = np.zeros(n_src + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_src), out=self.indptr[1:])
        self.indices = np.ascontiguousarray(cols, dtype=np.int64)
        self.data = np.ascontiguousarray(data, dtype=np.float64)

    def _sample_random(self, rng, n_src, n_tgt):
        """Independent Bernoulli(p) for every (source, target) pair, row-major."""
        p = self.probability
        if p == 0.0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        total = n_src * n_tgt
        if p < 1e-9:
            # geometric gaps would overflow int64 here; draw the (tiny) binomial
            # count and a uniform subset of pairs instead -- the same distribution
            k = int(rng.binomial(total, p))
            flat = np.sort(rng.choice(total, k, replace=False)).astype(np.int64)
            return flat // n_tgt, flat % n_tgt
        if p < _SPARSE_P:
            # sparse: gaps between successes of a Bernoulli process are geometric,
            # so walking the flattened pair index costs O(synapses), not O(pairs)
            parts, last = [], -1
            while True:
                expected = (total - last) * p
                size = int(expected + 6 * math.sqrt(expected + 1) + 64)
                pos = last + np.cumsum(rng.geometric(p, size))
                if pos[-1] >= total:
                    parts.append(pos[pos < total])
                    break
                parts.append(pos)
                last = int(pos[-1])
            flat = np.concatenate(parts)
            return flat // n_tgt, flat % n_tgt
        rows_out, cols_out = [], []
        block = max(1, _BLOCK_CELLS // n_tgt)
        for start in range(0, n_src, block):
            stop = min(n_src, start + block)
            r, c = np.nonzero(rng.random((stop - start, n_tgt)) < p)
            rows_out.append(r.astype(np.int64) + start)
            cols_out.append(c.astype(np.int64))
        return np.concatenate(rows_out), np.concatenate(cols_out)

    def _weights(self, weight, rows, cols, rng) -> np.ndarray:
        nnz = rows.size
        if isinstance(weight, dict):
            spec = check_weight_spec(weight)
            self.weight_spec = spec
            dist = spec["dist"]
            if dist == "normal":
                return rng.normal(spec["mean"], spec["std"], nnz)
            if dist == "uniform":
                return rng.uniform(spec["low"], spec["high"], nnz)
            if dist == "lognormal":
                return rng.lognormal(spec["mean"], spec["sigma"], nnz)
            return np.full(nnz, spec["value"])
        if weight is None:
            raise TypeError("weight is required: a number, an array or a distribution dict")
        if isinstance(weight, (bool, np.bool_)):
            raise TypeError("weight must be a number, an array or a distribution dict, got a bool")
        if isinstance(weight, numbers.Real):
            w = _real(weight, "weight")
            self.weight_spec = w
            return np.full(nnz, w)
        try:
            arr = np.asarray(weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"weight must be a number, an array or a distribution dict, "
                            f"got {type(weight).__name__}") from None
        if not np.all(np.isfinite(arr)):
            raise ValueError("weight array contains non-finite values")
        n_src, n_tgt = self.source.n, self.target.n
        if arr.ndim == 0:
            self.weight_spec = float(arr)
            return np.full(nnz, float(arr))
        if arr.shape == (n_src, n_tgt):
            return arr[rows, cols]
        if arr.ndim == 1 and arr.size == nnz:
            return arr.copy()
        raise ValueError(f"weight array must have shape ({n_src}, {n_tgt}) (dense) or ({nnz},) "
                         f"(one per synapse), got {arr.shape}")

    @classmethod
    def from_csr(cls, source, target, indptr, indices, data, *, weight=None, topology="random",
                 probability=1.0, **kwargs) -> "Projection":
        """A projection with explicit (validated) CSR arrays.  ``weight``,
        ``topology`` and ``probability`` are kept as metadata only; the other
        keywords are those of the constructor."""
        # build an empty projection (probability 0: no sampling) to validate the
        # scalar arguments, then install the arrays
        proj = cls(source, target, 0.0, probability=0.0, topology="random", **kwargs)
        if topology not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}, got {topology!r}")
        proj.topology = topology
        proj.probability = _real(probability, "probability", minimum=0.0, maximum=1.0)
        if isinstance(weight, dict):
            proj.weight_spec = check_weight_spec(weight)
        elif weight is None:
            proj.weight_spec = None
        else:
            proj.weight_spec = _real(weight, "weight")
        proj.set_csr(indptr, indices, data)
        return proj

    def set_csr(self, indptr, indices, data) -> None:
        """Replace the connectivity by validated CSR arrays."""
        n_src, n_tgt = self.source.n, self.target.n
        indptr = np.asarray(indptr)
        indices = np.asarray(indices)
        data = np.asarray(data, dtype=np.float64)
        for name, arr in (("indptr", indptr), ("indices", indices)):
            if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
                raise ValueError(f"{name} must be a 1-D integer array")
        if indptr.shape != (n_src + 1,):
            raise ValueError(f"indptr must have length n_source + 1 = {n_src + 1}, got {indptr.shape[0]}")
        if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
            raise ValueError("indptr must start at 0 and be non-decreasing")
        nnz = int(indptr[-1])
        if indices.shape != (nnz,) or data.shape != (nnz,):
            raise ValueError(f"indices and data must have length indptr[-1] = {nnz}, "
                             f"got {indices.shape[0]} and {data.shape[0] if data.ndim else 0}")
        if nnz and (indices.min() < 0 or indices.max() >= n_tgt):
            raise ValueError(f"indices must lie in [0, {n_tgt})")
        if not np.all(np.isfinite(data)):
            raise ValueError("data (weights) contains non-finite values")
        rows = np.repeat(np.arange(n_src), np.diff(indptr))
        if nnz > 1:
            same_row = rows[1:] == rows[:-1]
            if np.any(same_row & (indices[1:] <= indices[:-1])):
                raise ValueError("indices must be strictly increasing within each row (no duplicate synapses)")
        self.indptr = indptr.astype(np.int64)
        self.indices = indices.astype(np.int64)
        self.data = data.copy()

    # -- validated, live-editable settings (read by simulators at each advance) -------
    @property
    def delay(self) -> int:
        return self._delay

    @delay.setter
    def delay(self, value):
        self._delay = check_delay(value)

    @property
    def tau_syn(self):
        return self._tau_syn

    @tau_syn.setter
    def tau_syn(self, value):
        self._tau_syn = check_tau_syn(value)

    def reset_plasticity(self) -> None:
        """Zero the plasticity traces (weights are left as they are)."""
        if self.plasticity_state is not None:
            for arr in self.plasticity_state.values():
                arr.fill(0.0)

    # -- queries ------------------------------------------------------------------
    @property
    def nnz(self) -> int:
        """Number of synapses."""
        return int(self.indices.size)

    n_synapses = nnz

    def to_dense(self) -> np.ndarray:
        """Weight matrix of shape ``(n_source, n_target)`` (zeros where no synapse)."""
        w = np.zeros((self.source.n, self.target.n))
        rows = np.repeat(np.arange(self.source.n), np.diff(self.indptr))
        w[rows, self.indices] = self.data
        return w

    def propagate(self, source_spikes) -> np.ndarray:
        """Target input current produced by ``source_spikes`` (length ``n_source``;
        0/1 spikes or graded outputs, each row scaled by its value)."""
        s = np.asarray(source_spikes, dtype=np.float64)
        if s.shape != (self.source.n,):
            raise ValueError(f"source_spikes must have shape ({self.source.n},), got {s.shape}")
        if not np.all(np.isfinite(s)):
            raise ValueError("source_spikes contains non-finite values")
        out = np.zeros(self.target.n)
        active = np.flatnonzero(s)
        if active.size:
            counts = self.indptr[active + 1] - self.indptr[active]
            sel = _row_ranges(self.indptr, active, counts)
            w = self.data[sel] * np.repeat(s[active], counts)
            out += np.bincount(self.indices[sel], weights=w, minlength=self.target.n)
        return out

    def __repr__(self) -> str:
        return (f"Projection({self.source.label!r} -> {self.target.label!r}, {self.topology}, "
                f"nnz={self.nnz}, delay={self.delay}, tau_syn={self.tau_syn})")


def _row_ranges(indptr: np.ndarray, rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Positions ``indptr[r] .. indptr[r+1]-1`` of every row in ``rows``, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = indptr[rows]
    # position k of the output belongs to row j: start_j + (k - offset_j)
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)
