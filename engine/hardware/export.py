"""Export a network's hardware parameters for the RTL in ``hdl/``.

:func:`export_network` writes, into one directory:

``network_params.vh``
    a Verilog header (``include``-d inside a module): ```define`` guards and
    ``localparam``\\ s for the Q-format and, per population, its size and
    neuron constants (``POP_<LABEL>_N``, ``_V_REST``, ``_V_RESET``,
    ``_V_THRESHOLD``, ``_REFRACTORY_PERIOD``, ``_LEAK_K``, ``_GAIN_K`` and the
    datapath options ``_REFRACTORY_HOLD``, ``_SATURATE``, ``_ROUND``); for a
    two-population feed-forward network also the ``A_*``/``B_*`` names,
    ``NCYC`` and the file names that ``hdl/tb_network2.v`` reads.
``weights_<projection>.mem``
    one per projection: the dense ``n_source x n_target`` matrix of weight
    codes, row-major (entry ``i*n_target + j`` = weight ``i -> j``, absent
    synapses 0), one two's-complement hex word per line, for ``$readmemh``.
``constants.mem``
    the run-time constants, i.e. those that are *ports* of the RTL
    (``leak_k``, ``gain_k``): two words per population in network order.  The
    elaboration-time constants (``V_*``, ``REFRACTORY_PERIOD``) are parameters
    and live in the header.
``weights.mem``
    (two-layer networks) the summed A->B matrix that ``sc_lif_layer`` loads.
``stimulus.mem``
    (when ``n_steps`` is given, two-layer networks) per cycle one word
    ``{ext_B, ext_A}``: every neuron's stimulus code ``sat_W(q(I))`` exactly as
    the ``fixed_point`` backend forms it (neuron 0 in the low bits).

Codes come from :mod:`engine.backends.fixed_point`, so the exported hardware
and the Python fixed-point run use identical numbers by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import fixedpoint as fx
from engine.hardware.cosim import rtl_option_params, to_hex

__all__ = ["ExportedNetwork", "export_network", "two_layer_shape", "stimulus_codes", "verilog_name"]


def verilog_name(label: str) -> str:
    """A label as an upper-case Verilog identifier (``exc-1`` -> ``EXC_1``)."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", label).upper()
    if not name or name[0].isdigit():
        name = "P_" + name
    return name


@dataclass
class ExportedNetwork:
    directory: Path
    header: Path
    qformat: fx.QFormat
    weight_files: dict = field(default_factory=dict)   # projection label -> path
    two_layer: tuple | None = None                     # (label A, label B) when the bench can run it
    layer_weights: Path | None = None
    stimulus: Path | None = None
    n_steps: int = 0
    output: Path | None = None
    constants: Path | None = None


def two_layer_shape(network) -> tuple | None:
    """``(A, B)`` populations when the network is what ``tb_network2`` runs:
    two populations, every projection A->B without delay and all with the
    same ``tau_syn`` (or all without); else None."""
    pops = network.populations
    if len(pops) != 2 or not network.projections:
        return None
    a, b = pops
    taus = {p.tau_syn for p in network.projections}
    if len(taus) != 1:
        return None  # the layer has one synapse type: all instantaneous or one tau_syn
    for p in network.projections:
        if p.source is not a or p.target is not b or p.delay != 0:
            return None
    return a, b


def stimulus_codes(sim, n_steps: int) -> list[np.ndarray]:
    """Per population a ``(n_steps, n)`` int64 array of stimulus codes
    (``sat_W(q(stimulus))``), replaying the network's stimuli from their reset state."""
    for stim in sim.stimuli:
        stim.reset()
    first = sim.populations[0]
    out = [np.zeros((n_steps, p.n), dtype=np.int64) for p in sim.populations]
    bufs = [np.zeros(p.n) for p in sim.populations]
    zero = [np.zeros(p.n) for p in sim.populations]
    for t in range(n_steps):
        for b in bufs:
            b.fill(0.0)
        for stim in sim.stimuli:
            tgt = stim.target if stim.target is not None else first
            stim.apply(t, bufs[sim._index[id(tgt)]])
        for k in range(len(bufs)):
            out[k][t] = sim.input_codes(k, bufs[k], zero[k])[0]
    for stim in sim.stimuli:
        stim.reset()
    return out


def _dense_codes(proj, codes) -> np.ndarray:
    dense = np.zeros((proj.source.n, proj.target.n), dtype=np.int64)
    rows = np.repeat(np.arange(proj.source.n), np.diff(proj.indptr))
    np.add.at(dense, (rows, proj.indices), codes)
    return dense


def export_network(network, out_dir, *, qformat=None, dt: float = 0.001, n_steps: int | None = None,
                   require_two_layer: bool = False, options: dict | None = None) -> ExportedNetwork:
    """Write the header and memory files (see module docstring) into ``out_dir``."""
    from engine.backends.fixed_point import FixedPointSimulator

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sim = FixedPointSimulator(network, dt, qformat=qformat, options=options)
    q = sim.qformat
    W = q.data_width
    names = {}
    for pop in network.populations:
        nm = verilog_name(pop.label)
        if nm in names.values():
            raise ValueError(f"population labels {pop.label!r} and another map to the same Verilog name {nm}")
        names[pop.label] = nm
    lines = ["// Generated by engine.hardware.export -- do not edit.",
             f"// Network Q-format {q}: DATA_WIDTH={W}, FRACTION={q.fraction}.",
             "`ifndef NEUROCORE_NETWORK_PARAMS_VH", "`define NEUROCORE_NETWORK_PARAMS_VH",
             f"`define NC_DATA_WIDTH {W}", f"`define NC_FRACTION {q.fraction}", "`endif",
             f"localparam integer DATA_WIDTH = {W};", f"localparam integer FRACTION = {q.fraction};"]
    for k, pop in enumerate(network.populations):
        m, nm = sim.mappings[k], names[pop.label]
        lines.append(f"// population {pop.label!r}: {pop.model_name} ({m.kind})")
        consts = {"N": pop.n, "V_REST": m.config["v_rest"], "V_RESET": m.config["v_reset"],
                  "V_THRESHOLD": m.config["v_threshold"], "REFRACTORY_PERIOD": m.config["refractory_period"],
                  "LEAK_K": m.leak_k, "GAIN_K": m.gain_k, **rtl_option_params(m.config)}
        lines += [f"localparam integer POP_{nm}_{c} = {v};" for c, v in consts.items()]
    result = ExportedNetwork(out, out / "network_params.vh", q)
    result.constants = out / "constants.mem"
    words = [c for m in sim.mappings for c in (m.leak_k, m.gain_k)]
    result.constants.write_text("\n".join(to_hex(words, W)) + "\n")
    lines.append(f"localparam integer N_POPS = {len(network.populations)};")
    lines.append(f'localparam CONST_FILE = "{result.constants.as_posix()}";')
    for proj in network.projections:
        dense = _dense_codes(proj, sim.weight_codes(proj))
        path = out / f"weights_{verilog_name(proj.label).lower()}.mem"
        path.write_text("\n".join(to_hex(dense.ravel(), W)) + "\n")
        result.weight_files[proj.label] = path
    shape = two_layer_shape(network)
    if shape is None and require_two_layer:
        raise ValueError("the RTL bench hdl/tb_network2.v runs two populations A -> B with projections A->B "
                         "only (no delay, one common tau_syn or none); this network has "
                         f"{len(network.populations)} populations and {len(network.projections)} projections "
                         "that do not fit that shape")
    if shape is not None:
        a, b = shape
        ka, kb = sim._index[id(a)], sim._index[id(b)]
        if sim.mappings[ka].noise_amplitude or sim.mappings[kb].noise_amplitude:
            if require_two_layer:
                raise ValueError("the RTL bench drives noise_in = 0; set noise_amplitude = 0 to export")
        total = sum(_dense_codes(p, sim.weight_codes(p)) for p in network.projections)
        if total.min() < q.min_int or total.max() > q.max_int:
            raise ValueError(f"summed A->B weights do not fit {W} bits in {q}")
        result.two_layer = (a.label, b.label)
        result.layer_weights = out / "weights.mem"
        result.layer_weights.write_text("\n".join(to_hex(total.ravel(), W)) + "\n")
        lines.append("// two-layer bench (hdl/tb_network2.v): A drives B")
        for alias, pop in (("A", a), ("B", b)):
            nm = names[pop.label]
            lines += [f"localparam integer {alias}_{c} = POP_{nm}_{c};" for c in
                      ("V_REST", "V_RESET", "V_THRESHOLD", "REFRACTORY_PERIOD", "LEAK_K", "GAIN_K",
                       "REFRACTORY_HOLD", "SATURATE", "ROUND")]
            lines.append(f"localparam integer N_{alias} = POP_{nm}_N;")
            lines.append(f"localparam integer {alias}_INDEX = {sim._index[id(pop)]};")
        tau = network.projections[0].tau_syn
        syn_k = 0 if tau is None else sim._syn_groups[(kb, float(tau))]["k"]
        lines.append(f"localparam integer B_USE_SYN = {0 if tau is None else 1};")
        lines.append(f"localparam integer B_SYN_K = {syn_k};  // round(exp(-dt/tau_syn) * 2^F)")
        lines.append(f'localparam WEIGHT_FILE = "{result.layer_weights.as_posix()}";')
        if n_steps is not None:
            if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
                raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
            codes = stimulus_codes(sim, int(n_steps))
            ca, cb = codes[ka], codes[kb]
            mask = (1 << W) - 1
            digits = ((a.n + b.n) * W + 3) // 4
            rows = []
            for t in range(int(n_steps)):
                word = 0
                for j, v in enumerate(np.concatenate([ca[t], cb[t]]).tolist()):
                    word |= (int(v) & mask) << (j * W)
                rows.append(format(word, f"0{digits}x"))
            result.stimulus = out / "stimulus.mem"
            result.stimulus.write_text("\n".join(rows) + "\n")
            result.output = out / "rtl_out.txt"
            result.n_steps = int(n_steps)
            lines.append(f"localparam integer NCYC = {int(n_steps)};")
            lines.append(f'localparam STIM_FILE = "{result.stimulus.as_posix()}";')
            lines.append(f'localparam OUT_FILE = "{result.output.as_posix()}";')
    result.header.write_text("\n".join(lines) + "\n")
    return result
