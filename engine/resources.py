"""A memory budget checked *before* the engine allocates.

Every large allocation of the engine -- a population's state, a
projection's synapses (CSR, and the temporaries of building them), a run's
chunk buffers and what its monitors will record, a loaded document -- is
estimated from sizes alone and compared with the budget first; over budget
it raises :class:`ResourceError` (a ``ValueError``) giving the estimate and
the limit, instead of letting the allocator fail minutes later.

The budget is, in order of precedence:

1. :func:`set_memory_budget` (``None`` goes back to the default);
2. the environment variable ``NEUROCORE_MEMORY_BUDGET``: bytes, or a number
   with a ``K``/``M``/``G``/``T`` suffix (powers of 1024), e.g. ``"2G"``;
3. :data:`DEFAULT_FRACTION` of the memory currently available to the
   process (``MemAvailable`` from ``/proc/meminfo``, else physical memory),
   read at each check -- so objects allocated one after the other are each
   held to half of what is left.  A fixed budget (1. or 2.) applies to each
   object, network, run and document separately.

Estimates are deliberately simple (8 bytes per float or index, plus the
construction peak of the sparse sampler); they are meant to refuse what
cannot fit, not to account for every byte.  Spike monitors are not
estimated: what they record depends on activity, not on sizes.

Besides memory, :func:`check_step` bounds the work of one step: a model
may declare ``max_dt`` (ms, largest stable step) and models integrating with
internal substeps (a ``max_substep`` parameter) are refused a ``dt`` that
would take more than :data:`MAX_SUBSTEPS` substeps per step.
"""

from __future__ import annotations

import math
import os
import re

__all__ = ["ResourceError", "ENV_VAR", "DEFAULT_FRACTION", "MAX_SUBSTEPS", "memory_budget",
           "set_memory_budget", "available_memory", "format_bytes", "check", "population_bytes",
           "projection_bytes", "network_bytes", "chunk_bytes", "check_projection", "check_population",
           "check_network", "check_chunk", "check_run", "check_step"]

ENV_VAR = "NEUROCORE_MEMORY_BUDGET"
#: share of the available memory the engine may plan to use by default
DEFAULT_FRACTION = 0.5
#: most internal substeps one step of one population may take
MAX_SUBSTEPS = 10_000
#: bytes per synapse while a projection is built (rows, cols, weights, masks)
#: and once it is built (int64 index + float64 weight)
_SYN_PEAK, _SYN_FINAL = 40, 16

_override: int | None = None


class ResourceError(ValueError):
    """Refused before allocating: the estimate exceeds the memory budget."""

    def __init__(self, what: str, estimate: int, limit: int):
        super().__init__(f"{what} needs about {format_bytes(estimate)}, more than the memory budget of "
                         f"{format_bytes(limit)} (raise it with {ENV_VAR} or "
                         f"engine.resources.set_memory_budget)")
        self.estimate, self.limit = int(estimate), int(limit)


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def available_memory() -> int:
    """Bytes of memory available to new allocations now (read afresh each
    time: what the engine allocated a moment ago is no longer available, so a
    budget derived from it also bounds many allocations in a row)."""
    avail = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        avail = 0
    if not avail:
        try:
            avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            avail = 4 << 30  # unknown platform: assume a small machine
    return avail


_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _parse_budget(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"{ENV_VAR}={text!r} is not a size (e.g. 2000000000, 512M or 2G)")
    value = float(m.group(1)) * _SUFFIX[m.group(2).upper()]
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{ENV_VAR}={text!r} must be a positive size")
    return int(value)


def memory_budget() -> int:
    """The current budget in bytes (see the module docstring)."""
    if _override is not None:
        return _override
    env = os.environ.get(ENV_VAR)
    if env:
        return _parse_budget(env)
    return int(available_memory() * DEFAULT_FRACTION)


def set_memory_budget(nbytes) -> None:
    """Set the budget in bytes (an int, or a string such as ``"2G"``); ``None``
    restores the default."""
    global _override
    if nbytes is None:
        _override = None
        return
    if isinstance(nbytes, str):
        _override = _parse_budget(nbytes)
        return
    from engine.validation import integer

    _override = integer(nbytes, "memory budget", bounds=(1, None))


def check(what: str, estimate: float) -> None:
    """Raise :class:`ResourceError` when ``estimate`` bytes exceed the budget."""
    limit = memory_budget()
    if estimate > limit:
        raise ResourceError(what, int(min(estimate, 2 ** 62)), limit)


# -- estimates ------------------------------------------------------------------------
def population_bytes(n_state: int, n: int) -> int:
    """State arrays plus input current, output and a spike-index buffer."""
    return 8 * n * (n_state + 3)


def projection_bytes(n_src: int, n_tgt: int, topology: str, probability: float) -> tuple[int, int]:
    """``(peak while building, kept afterwards)`` bytes of one projection."""
    if topology == "one_to_one":
        syn = min(n_src, n_tgt)
    elif topology == "all_to_all":
        syn = n_src * n_tgt
    else:
        syn = n_src * n_tgt * probability
    kept = _SYN_FINAL * syn + 8 * (n_src + 1)
    return int(_SYN_PEAK * syn + 8 * (n_src + 1)), int(kept)


def network_bytes(net) -> int:
    """What the objects of ``net`` hold now (state, synapses, stimulus arrays)."""
    total = 0
    for p in net.populations:
        total += population_bytes(len(p.state), p.n)
    for pr in net.projections:
        total += pr.indptr.nbytes + pr.indices.nbytes + pr.data.nbytes
    for s in net.stimuli:
        values = getattr(s, "values", None)
        total += getattr(values, "nbytes", 0)
    return total


def chunk_bytes(populations, monitors, n_steps: int) -> int:
    """Buffers of one ``advance(n_steps)``: per-step rates of every population
    and the StateMonitor traces of the chunk (which the monitors then keep)."""
    per_step = 8 * len(populations) + sum(m.bytes_per_step() for m in monitors)
    return per_step * int(n_steps)


# -- checks ----------------------------------------------------------------------------
def check_population(what: str, n_state: int, n: int) -> None:
    check(what, population_bytes(n_state, n))


def check_projection(what: str, n_src: int, n_tgt: int, topology: str, probability: float) -> None:
    peak, _ = projection_bytes(n_src, n_tgt, topology, probability)
    check(what, peak)


def check_network(net, extra: float = 0, what: str = "the network") -> None:
    check(what, network_bytes(net) + extra)


def check_chunk(sim, n_steps: int) -> None:
    """Before a simulator's ``advance(n_steps)`` allocates its buffers."""
    check(f"advance(n_steps={n_steps}) ({n_steps} steps of {len(sim.populations)} population(s) and their monitors)",
          chunk_bytes(sim.populations, sim.monitors, n_steps))


def check_run(net, n_steps: int, chunk_steps: int) -> None:
    """Before ``Network.run``: the network, one chunk, and everything its
    StateMonitors/RateMonitors will keep for ``n_steps`` steps."""
    kept = sum(m.bytes_per_step() for m in net.monitors) * int(n_steps)
    chunk = chunk_bytes(net.populations, (), min(n_steps, chunk_steps))  # traces are in ``kept``
    check(f"a run of {n_steps} steps (network, monitor recordings and one chunk)",
          network_bytes(net) + kept + chunk)


def check_step(pop, dt_ms: float) -> None:
    """Refuse a step the model cannot take in bounded time (see module docstring)."""
    model = pop.model
    max_dt = getattr(type(model), "max_dt", None)
    if max_dt is not None and dt_ms > max_dt:
        raise ValueError(f"population {pop.label!r} ({pop.model_name}): dt={dt_ms:g} ms exceeds the "
                         f"largest stable step of the model, {max_dt:g} ms")
    max_sub = getattr(model, "max_substep", None)
    if isinstance(max_sub, (int, float)) and max_sub > 0:
        n_sub = math.ceil(dt_ms / max_sub)
        if n_sub > MAX_SUBSTEPS:
            raise ValueError(f"population {pop.label!r} ({pop.model_name}): dt={dt_ms:g} ms would take "
                             f"{n_sub:.3g} internal substeps of at most {max_sub:g} ms per step (limit "
                             f"{MAX_SUBSTEPS}); use dt <= {MAX_SUBSTEPS * max_sub:g} ms")
