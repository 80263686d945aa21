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

import numpy as np
import param

from engine.models.base import Count, Real
from engine.network.declare import Declared, Field, as_array, finish
from engine.network.plasticity import STDP, make_plasticity
from engine.network.population import Population
from engine.validation import ArgumentTypeError, describe, real

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
#: parameters that decide which synapses exist: changing one regenerates them
_STRUCTURAL = ("weight", "probability", "topology", "seed", "weight_threshold", "allow_self_connections")

_DISTRIBUTIONS = {
    "normal": ("mean", "std"),
    "uniform": ("low", "high"),
    "lognormal": ("mean", "sigma"),
    "constant": ("value",),
}


def check_weight_spec(spec: dict, where: str = "weight") -> dict:
    """Validate a distribution spec such as ``{"dist": "normal", "mean": 1, "std": 0.1}``."""
    if "dist" not in spec:
        raise ValueError(f"{where} distribution spec needs a 'dist' key, one of {', '.join(_DISTRIBUTIONS)}")
    dist = spec["dist"]
    if not isinstance(dist, str) or dist not in _DISTRIBUTIONS:
        raise ValueError(f"{where}['dist'] must be one of {', '.join(_DISTRIBUTIONS)}, got {describe(dist)}")
    needed = _DISTRIBUTIONS[dist]
    unknown = [k for k in spec if k not in ("dist", *needed)]
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(map(repr, unknown))} in {where} spec "
                         f"for {dist!r}; expected {', '.join(needed)}")
    missing = [k for k in needed if k not in spec]
    if missing:
        raise ValueError(f"{where} spec for {dist!r} is missing {', '.join(map(repr, missing))}")
    out = {"dist": dist}
    for k in needed:
        out[k] = real(spec[k], f"{where}[{k!r}]")
    if dist == "normal" and out["std"] < 0:
        raise ValueError(f"{where}['std'] must be >= 0, got {out['std']}")
    if dist == "lognormal" and out["sigma"] < 0:
        raise ValueError(f"{where}['sigma'] must be >= 0, got {out['sigma']}")
    if dist == "lognormal" and out["mean"] + out["sigma"] ** 2 > 700:
        raise ValueError(f"{where} lognormal weights would overflow (mean + sigma^2 > 700)")
    if dist == "uniform" and out["high"] < out["low"]:
        raise ValueError(f"{where}['high'] ({out['high']}) must be >= {where}['low'] ({out['low']})")
    return out


def _check_weight(value, where):
    """A scalar, a distribution spec, or an array (dense matrix or one weight
    per synapse; its shape is checked against the sizes when synapses are built)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return check_weight_spec(value, where)
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = as_array(value, where, ndims=(0, 1, 2), max_len=MAX_EDGES)
        return float(arr) if arr.ndim == 0 else arr
    return real(value, where)


def _weight_json(value):
    # an array is stored through the CSR arrays, not as a spec
    return None if isinstance(value, np.ndarray) else value


def _check_plasticity(value, where):
    try:
        return make_plasticity(value)
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


@finish
class Projection(Declared):
    """Synapses from ``source`` to ``target`` in CSR form.

    ``Projection(source, target, weight, probability=1.0, delay=0,
    topology="random", plasticity=None, seed=42, weight_threshold=0.0, *,
    allow_self_connections=True, tau_syn=None, label=None)``; the parameters
    are declared in ``Projection.Params`` (read them with
    ``engine.network.declarations("Projection")``):

    weight
        A scalar (every synapse), a dense ``(n_source, n_target)`` matrix
        (synapse ``i->j`` gets ``W[i, j]``; exact zeros mean "no synapse"), a
        1-D array with one weight per generated synapse in CSR order, or a
        distribution spec ``{"dist": "normal", "mean": m, "std": s}``,
        ``{"dist": "uniform", "low": a, "high": b}``,
        ``{"dist": "lognormal", "mean": m, "sigma": s}``,
        ``{"dist": "constant", "value": w}``.
    probability
        Connection probability of the ``"random"`` topology (independent
        Bernoulli per pair; for ``p < 0.25`` sampled as geometric gaps along
        the row-major pair index, O(synapses)).  Other topologies require 1.0.
    delay
        Extra delay in whole steps on top of the one-step latency (see module
        docstring).  A float must be a whole number.
    topology
        ``"random"``, ``"all_to_all"`` or ``"one_to_one"``.
    plasticity
        ``None`` (static weights) or pair-based STDP: an
        :class:`~engine.network.plasticity.STDP` or
        ``{"rule": "stdp", "tau_plus": ..., ...}``.
    seed
        Seed of the connectivity (and weight) sampling: same seed, same CSR.
    weight_threshold
        Synapses with ``|w| < weight_threshold`` are pruned.
    allow_self_connections
        When ``source is target``, whether ``i -> i`` synapses may exist.
    tau_syn
        Exponential synaptic current time constant in ms, or None for the
        instantaneous (one-step) current of the reference.

    Assigning ``weight``, ``probability``, ``topology``, ``seed``,
    ``weight_threshold`` or ``allow_self_connections`` regenerates the
    synapses; ``delay``, ``tau_syn`` and ``plasticity`` apply as they are.
    """

    class Params(param.Parameterized):
        weight = Field(1.0, check=_check_weight, to_json=_weight_json, allow_None=True, unit="input units",
                       doc="synaptic weight: a number, a distribution {'dist': ...} or an array")
        probability = Real(1.0, bounds=(0.0, 1.0), doc="connection probability (random topology)")
        delay = Count(0, bounds=(0, MAX_DELAY_STEPS), unit="steps", doc="extra delay on top of one step")
        topology = param.Selector(objects=list(TOPOLOGIES), default="random", doc="connection pattern")
        plasticity = Field(None, check=_check_plasticity, allow_None=True,
                           to_json=lambda p: None if p is None else p.to_dict(),
                           doc="None, or STDP as {'rule': 'stdp', ...}")
        seed = Count(42, unit="", doc="seed of the connectivity and weight sampling")
        weight_threshold = Real(0.0, bounds=(0.0, None), unit="input units",
                                doc="synapses with |w| below this are pruned")
        allow_self_connections = param.Boolean(True, doc="allow i -> i synapses onto the same population")
        tau_syn = Real(None, allow_None=True, bounds=(0.0, None), inclusive_bounds=(False, True), unit="ms",
                       doc="exponential synaptic time constant; empty = one-step current")

    _positional = ("weight", "probability", "delay", "topology", "plasticity", "seed", "weight_threshold")
    _leading = ("source", "target")
    _trailing = ("label",)

    def __init__(self, source, target, *args, label=None, **kwargs):
        for name, pop in (("source", source), ("target", target)):
            if not isinstance(pop, Population):
                raise TypeError(f"{name} must be a Population, got {type(pop).__name__}")
        self.source, self.target = source, target
        self.label = label
        self.plasticity_state = None  # traces of the plasticity rule, created by the simulator
        if not args and "weight" not in kwargs:
            raise TypeError(f"{self._what()} needs a weight: a number, an array or a distribution dict")
        self._init_declared(args, kwargs)
        if self.weight is None:
            raise TypeError(f"{self._what()} weight is required: a number, an array or a distribution dict")
        self._build(self.weight)

    def _what(self) -> str:
        label = self.__dict__.get("label") or f"{self.source.label}->{self.target.label}"
        return f"Projection {label!r}"

    def _check_consistency(self):
        if self.topology != "random" and self.probability != 1.0:
            raise ValueError(f"{self._what()} probability applies to the 'random' topology only; "
                             f"topology {self.topology!r} needs probability=1.0, got {self.probability!r}")

    def set_param(self, name, value):
        if name not in _STRUCTURAL:
            super().set_param(name, value)
            return
        old = self.get_param(name)
        super().set_param(name, value)
        try:
            if self.weight is None:
                raise ValueError(f"{self._what()} has no weight spec to regenerate its synapses from; "
                                 f"set weight first")
            self._build(self.weight)
        except Exception:
            object.__setattr__(self, name, old)
            raise

    @property
    def weight_spec(self):
        """JSON-able description of ``weight`` (``None`` when it is an array)."""
        return _weight_json(self.__dict__.get("weight"))

    # -- construction ----------------------------------------------------------
    def _build(self, weight) -> None:
        n_src, n_tgt = self.source.n, self.target.n
        rng = np.random.default_rng(self.seed)
        no_self = self.source is self.target and not self.allow_self_connections
        if self.topology == "one_to_one":
            if n_src != n_tgt:
                raise ValueError(f"{self._what()} one_to_one topology needs equal sizes, got source n={n_src} "
                                 f"and target n={n_tgt}")
            if no_self:
                raise ValueError("one_to_one onto the same population with allow_self_connections=False "
                                 "would have no synapses")
            rows = np.arange(n_src, dtype=np.int64)
            cols = rows.copy()
        else:
            expected = n_src * n_tgt * (self.probability if self.topology == "random" else 1.0)
            if expected > MAX_EDGES:
                raise ValueError(f"{self._what()} would hold about {expected:.3g} synapses, more than the "
                                 f"limit of {MAX_EDGES}; lower probability or sizes")
            from engine.resources import check_projection

            check_projection(self._what(), n_src, n_tgt, self.topology, self.probability)
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
            spec = weight
            dist = spec["dist"]
            if dist == "normal":
                return rng.normal(spec["mean"], spec["std"], nnz)
            if dist == "uniform":
                return rng.uniform(spec["low"], spec["high"], nnz)
            if dist == "lognormal":
                return rng.lognormal(spec["mean"], spec["sigma"], nnz)
            return np.full(nnz, spec["value"])
        if not isinstance(weight, np.ndarray):
            return np.full(nnz, float(weight))
        arr = weight
        n_src, n_tgt = self.source.n, self.target.n
        if arr.shape == (n_src, n_tgt):
            return arr[rows, cols]
        if arr.ndim == 1 and arr.size == nnz:
            return arr.copy()
        raise ValueError(f"{self._what()} weight array must have shape ({n_src}, {n_tgt}) (dense) or "
                         f"({nnz},) (one per synapse), got {arr.shape}")

    @classmethod
    def from_csr(cls, source, target, indptr, indices, data, *, weight=None, topology="random",
                 probability=1.0, **kwargs) -> "Projection":
        """A projection with explicit (validated) CSR arrays.  ``weight``,
        ``topology`` and ``probability`` are kept as metadata only; the other
        keywords are those of the constructor."""
        # build an empty projection (probability 0: no sampling) to validate the
        # other arguments, then install the metadata and the arrays
        proj = cls(source, target, 0.0, probability=0.0, topology="random", **kwargs)
        decl = cls.declarations()
        from engine.validation import check_param

        meta = {"topology": check_param(decl["topology"], topology, f"{proj._what()} topology"),
                "probability": check_param(decl["probability"], probability, f"{proj._what()} probability"),
                "weight": check_param(decl["weight"], weight, f"{proj._what()} weight")}
        if isinstance(meta["weight"], np.ndarray):
            meta["weight"] = None  # the arrays are the weights
        proj.__dict__.update(meta)
        proj._check_consistency()
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
