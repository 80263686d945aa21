"""Networks to and from NIR, the Neuromorphic Intermediate Representation.

NIR (Pedersen et al. 2024, Nat. Commun. 15:8122; the ``nir`` package) is a
graph of continuous-time nodes that snnTorch, Norse, SpikingJelly, Lava,
Rockpool and hardware tool chains read and write.

NIR's conventions (as documented in ``nir.ir.neuron``), in NIR time units:

* ``LIF``:     ``tau dv/dt = (v_leak - v) + r I``; spike when ``v > v_threshold``,
  then ``v = v_reset``.
* ``CubaLIF``: ``tau_syn dI/dt = -I + w_in S`` feeding the LIF above.
* ``IF``:      ``dv/dt = r I``; spike when ``v > v_threshold``, then ``v = v_reset``.
* ``Linear``:  ``y = W x`` with ``W`` of shape ``(n_out, n_in)``; ``Affine``
  adds a bias; ``Delay`` delays by a time.
* Nodes hold no step size: we write ours into ``graph.metadata["dt"]``
  (seconds of NIR time per simulation step) and ``"neurocore_dt"`` (our step
  in seconds).  Every parameter is written as an array of the population's
  shape, never a 0-d array (0-d arrays break NIR's type inference:
  snnTorch #410, NIR #176).
* Reset: NIR resets *to a value* (``v_reset``); reset by subtraction cannot be
  expressed and is refused.

Our side.  Mapping (time constants in ms on our side, NIR time in seconds
times ``peer_dt / dt``):

=========================== ==========================================================
ours                        NIR
=========================== ==========================================================
LapicqueNeuron              ``LIF(tau, r=resistance, v_leak=v_rest)``; exact
                            exponential step ``v <- v_inf + (v - v_inf) e^{-dt/tau}``
StochasticLIFNeuron         ``LIF(tau=tau_mem, r=resistance*tau_mem, v_leak=v_rest)``
(noise_std == 0)            forward Euler ``v += dt/tau (v_leak - v) + dt/tau r I``
PerfectIntegratorNeuron     ``IF(r = 1/C)`` (per ms; ``v += r I dt``)
Projection                  ``Linear`` (dense; absent CSR synapses are 0 and come back
                            absent), plus ``Delay(delay * dt)`` when ``delay > 0``
Projection with ``tau_syn`` the target becomes ``CubaLIF`` (all its inputs must share
                            one ``tau_syn``); ``w_in = tau_syn / dt`` so that one spike
                            adds its weight to ``I`` as in our exponential synapse
populations driven by a      ``Input`` nodes (a stimulus is external input for NIR;
stimulus or with no input    the stimulus itself travels in the metadata)
populations with no output   ``Output`` nodes
=========================== ==========================================================

Refused with :class:`NIRUnsupported` (a ``ValueError`` naming the culprit):
a ``ConvertedSNN`` (reset by subtraction, initial potentials), other neuron
models, noise, refractory periods, plasticity, an exponential
synapse into an IF neuron, targets mixing synapse kinds, and on import any
node type not listed above, per-neuron parameters that differ inside one
population, and graph shapes we cannot map.  Nothing is approximated
silently.

Discretisation on import: NIR is continuous, so the importer chooses how to
step it.  ``discretisation="euler"`` (the default, what snnTorch and Norse
do) maps ``LIF`` to ``StochasticLIFNeuron`` (forward Euler) and an exponential
synapse to our exact decay with ``tau_syn`` chosen so that
``exp(-dt/tau_syn) = 1 - dt/tau_syn_nir`` (the Euler decay);
``"exact"`` maps ``LIF`` to ``LapicqueNeuron`` and keeps ``tau_syn``.
A graph we wrote names its models in node metadata and comes back exactly.
Nested ``NIRGraph`` nodes (snnTorch's recurrent layers) are inlined first.

Timing.  Our projections deliver a spike one step later (previous-spike
semantics, ``engine.backends.base``); NIR's ``Linear`` is instantaneous and
discrete peers (snnTorch) apply a layer's input in the same step, while a
recurrent edge there also waits a step.  For a feed-forward graph (or one
whose cycles are self-loops through one weight node) our spike trains are
the peer's shifted by each population's depth (number of projections from
the input): :attr:`NIRImport.latency`.  An ``Affine`` bias starts at that
depth so the shift stays exact.  Thresholds: ours fire at ``v >= v_threshold``,
NIR says ``v > v_threshold``; they differ only when ``v`` lands exactly on it.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from dataclasses import dataclass, field

import numpy as np

__all__ = ["NIRUnsupported", "NIRImport", "to_nir", "from_nir", "write_nir", "read_nir",
           "SNNTORCH_1_0_DT"]

#: snnTorch 1.0.0 writes and reads NIR with this step hard-coded (seconds)
SNNTORCH_1_0_DT = 1e-4
#: graph metadata key holding our JSON document (labels, stimuli, monitors, seeds)
DOC_KEY = "neurocore_document"
_RESERVED = {"input", "output"}


class NIRUnsupported(ValueError):
    """Something NIR (or our side of the mapping) cannot express; the message names it."""


def _nir():
    try:
        import nir
    except ImportError as exc:  # pragma: no cover - nir is a declared dependency
        raise ImportError("NIR support needs the 'nir' package (pip install nir)") from exc
    return nir


def _positive(value, name) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number of seconds, got {value!r}")
    return float(value)


def _vec(value, n) -> np.ndarray:
    # one entry per neuron: NIR's type inference reads shapes from these arrays
    return np.full(n, float(value), dtype=np.float64)


def _key(label: str, taken: set) -> str:
    # HDF5 group names and torch module names: letters, digits, underscores
    base = re.sub(r"[^A-Za-z0-9_]", "_", label) or "node"
    if base in _RESERVED or base.startswith(("input_", "output_")):
        base = f"n_{base}"
    key, i = base, 1
    while key in taken:
        key, i = f"{base}_{i}", i + 1
    taken.add(key)
    return key


# -- export --------------------------------------------------------------------------------------------
def to_nir(network, dt: float = 0.001, *, peer_dt: float | None = None):
    """The network as a ``nir.NIRGraph``.

    ``dt`` is the step (s) the network is run with; ``peer_dt`` (default
    ``dt``) is the step the graph's reader will use: time constants are scaled
    by ``peer_dt / dt`` so one of our steps is one of theirs (snnTorch 1.0.0
    reads with ``dt = 1e-4`` hard-coded: pass ``peer_dt=SNNTORCH_1_0_DT``).
    Raises :class:`NIRUnsupported` naming what NIR cannot express."""
    from engine.network import Network

    if not isinstance(network, Network):
        from engine.conversion.converter import ConvertedSNN

        if isinstance(network, ConvertedSNN):
            extra = ", and signed spikes" if network.signed else ""
            raise NIRUnsupported("ConvertedSNN: its integrate-and-fire layers reset by subtraction and start "
                                 f"at v_init * threshold{extra}, which NIR's IF node (reset to v_reset, "
                                 "no initial state) cannot express")
        raise TypeError(f"to_nir needs a Network, got {type(network).__name__}")
    dt = _positive(dt, "dt")
    peer_dt = dt if peer_dt is None else _positive(peer_dt, "peer_dt")
    nir = _nir()
    scale = peer_dt / dt  # NIR seconds per our second
    if not network.populations:
        raise ValueError("network has no population to export")
    incoming = {id(p): [] for p in network.populations}
    outgoing = {id(p): [] for p in network.populations}
    for pr in network.projections:
        if pr.plasticity is not None:
            raise NIRUnsupported(f"projection {pr.label!r}: {type(pr.plasticity).__name__} plasticity "
                                 f"cannot be expressed in NIR")
        incoming[id(pr.target)].append(pr)
        outgoing[id(pr.source)].append(pr)
    taken: set = set()
    keys = {id(p): _key(p.label, taken) for p in network.populations}
    nodes, edges = {}, []
    for p in network.populations:
        taus = {pr.tau_syn for pr in incoming[id(p)]}
        if len(taus) > 1:
            raise NIRUnsupported(f"population {p.label!r}: its inputs mix synapse kinds (tau_syn "
                                 f"{sorted(taus, key=str)}); NIR's CubaLIF has one synaptic current")
        tau_syn = taus.pop() if taus else None
        nodes[keys[id(p)]] = _neuron_node(nir, p, tau_syn, scale, peer_dt)
    for pr in network.projections:
        pk = _key(pr.label, taken)
        nodes[pk] = nir.Linear(weight=pr.to_dense().T.copy(), metadata={"label": pr.label})
        edges.append((keys[id(pr.source)], pk))
        if pr.delay:
            dk = _key(f"{pr.label}_delay", taken)
            nodes[dk] = nir.Delay(delay=_vec(pr.delay * peer_dt, pr.target.n),
                                  metadata={"delay_steps": float(pr.delay)})
            edges += [(pk, dk), (dk, keys[id(pr.target)])]
        else:
            edges.append((pk, keys[id(pr.target)]))
    first = network.populations[0]
    driven = {id(s.target if s.target is not None else first) for s in network.stimuli}
    inputs = [p for p in network.populations if id(p) in driven or not incoming[id(p)]]
    outputs = [p for p in network.populations if not outgoing[id(p)]] or list(network.populations)
    for role, pops in (("input", inputs), ("output", outputs)):
        for p in pops:
            k = role if len(pops) == 1 else f"{role}_{keys[id(p)]}"
            shape = np.array([p.n])
            nodes[k] = nir.Input(input_type=shape) if role == "input" else nir.Output(output_type=shape)
            edges.append((k, keys[id(p)]) if role == "input" else (keys[id(p)], k))
    doc = network.to_dict(include_state=True)
    for entry in doc["projections"]:
        entry.pop("csr", None)  # the weights travel in the Linear nodes
    meta = {"dt": peer_dt, "neurocore_dt": dt, "time_unit": "s", "source": "neurocore",
            DOC_KEY: json.dumps(doc, allow_nan=False)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def _neuron_node(nir, pop, tau_syn, scale, peer_dt):
    m, n, name = pop.model, pop.n, pop.model_name
    if name not in ("LapicqueNeuron", "StochasticLIFNeuron", "PerfectIntegratorNeuron"):
        raise NIRUnsupported(f"population {pop.label!r}: model {name} has no NIR equivalent "
                             f"(NIR has LIF, CubaLIF and IF; ours map from LapicqueNeuron, "
                             f"StochasticLIFNeuron and PerfectIntegratorNeuron)")
    if m.refractory_period:
        raise NIRUnsupported(f"population {pop.label!r}: refractory_period={m.refractory_period} "
                             f"cannot be expressed in NIR (no refractory period)")
    own_dt = getattr(m, "dt", None)  # the reference's per-population step (ms), None = the run's
    if own_dt is not None and not math.isclose(float(own_dt), peer_dt / scale * 1e3, rel_tol=1e-9):
        raise NIRUnsupported(f"population {pop.label!r}: integrates with its own dt={own_dt:g} ms, not the "
                             f"exported step {peer_dt / scale * 1e3:g} ms; a NIR graph has one step")
    meta = {"label": pop.label, "neurocore_model": name}
    if name == "PerfectIntegratorNeuron":
        if tau_syn is not None:
            raise NIRUnsupported(f"population {pop.label!r}: an exponential synapse (tau_syn) into an "
                                 f"integrate-and-fire neuron has no NIR node (no CubaIF)")
        # ours: v += I dt_ms / C ; NIR: v += r I dt_nir, dt_nir = dt_s * scale
        return nir.IF(r=_vec(1e3 / (m.capacitance * scale), n), v_threshold=_vec(m.v_threshold, n),
                      v_reset=_vec(m.v_reset, n), metadata=meta)
    if name == "StochasticLIFNeuron":
        if m.noise_std:
            raise NIRUnsupported(f"population {pop.label!r}: noise_std={m.noise_std} (NIR's LIF is "
                                 f"deterministic)")
        tau, r, v_leak = m.tau_mem, m.resistance * m.tau_mem, m.v_rest
        meta["discretisation"] = "euler"
    else:
        tau, r, v_leak = m.tau, m.resistance, m.v_rest
        meta["discretisation"] = "exact"
    common = dict(r=_vec(r, n), v_leak=_vec(v_leak, n), v_threshold=_vec(m.v_threshold, n),
                  v_reset=_vec(m.v_reset, n), metadata=meta)
    if tau_syn is None:
        return nir.LIF(tau=_vec(tau * 1e-3 * scale, n), **common)
    ts = tau_syn * 1e-3 * scale
    return nir.CubaLIF(tau_mem=_vec(tau * 1e-3 * scale, n), tau_syn=_vec(ts, n), w_in=_vec(ts / peer_dt, n),
                       **common)


def write_nir(network, path, dt: float = 0.001, **kwargs) -> None:
    """Write the network as a ``.nir`` (HDF5) file (see :func:`to_nir`)."""
    _nir().write(path, to_nir(network, dt, **kwargs))


# -- import --------------------------------------------------------------------------------------------
@dataclass
class InputEdge:
    """External input ``name`` reaching population ``target``: current
    ``x @ weight.T + bias`` (identity when ``weight`` is None)."""

    target: str
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None


@dataclass
class NIRImport:
    """What :func:`from_nir` built: the network, its step, and how the graph's
    inputs reach it.

    ``inputs``: ``{input node: [InputEdge]}``; ``outputs``: ``{output node:
    population label}``; ``latency``: ``{population label: steps}`` by which
    our spikes trail a discrete peer's (see the module docstring)."""

    network: object
    dt: float
    inputs: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)
    synapse_decay: dict = field(default_factory=dict)

    def drive(self, x, input_name: str | None = None, network=None) -> list:
        """Add ``TimedArray`` stimuli feeding ``x`` (shape ``(T, n_in)``, one
        row per step) into input ``input_name`` (default: the only one).
        Targets with an exponential synapse get the current filtered by it,
        as NIR's CubaLIF filters its input.  ``network`` (default
        :attr:`network`) is the network to add them to.  Returns the stimuli
        added."""
        from engine.network import TimedArray

        if not self.inputs:
            raise ValueError("this graph has no Input node to drive")
        if input_name is None:
            if len(self.inputs) != 1:
                raise ValueError(f"input_name: the graph has several inputs ({', '.join(self.inputs)})")
            input_name = next(iter(self.inputs))
        if input_name not in self.inputs:
            raise ValueError(f"input_name {input_name!r} is not an input of this graph "
                             f"({', '.join(self.inputs)})")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[0] == 0 or not np.all(np.isfinite(x)):
            raise ValueError(f"x must be a finite (T, n_in) array, got shape {x.shape}")
        net = self.network if network is None else network
        added = []
        for edge in self.inputs[input_name]:
            pop = net.population(edge.target)
            cur = x if edge.weight is None else x @ edge.weight.T
            if cur.shape[1] != pop.n:
                raise ValueError(f"x has {x.shape[1]} columns; input {input_name!r} expects "
                                 f"{pop.n if edge.weight is None else edge.weight.shape[1]}")
            if edge.bias is not None:
                cur = cur + edge.bias
            decay = self.synapse_decay.get(edge.target)
            if decay is not None:
                factor, d = decay
                cur = cur * factor
                filt = np.empty_like(cur)
                acc = np.zeros(cur.shape[1])
                for t in range(cur.shape[0]):  # the same update as our synaptic buffer
                    acc *= d
                    acc += cur[t]
                    filt[t] = acc
                cur = filt
            # hold zero after the end (TimedArray holds its last row)
            values = np.vstack([cur, np.zeros((1, pop.n))])
            stim = TimedArray(values, dt=self.dt, target=pop, label=f"nir_{input_name}_{edge.target}")
            net.add(stim)
            added.append(stim)
        return added

    def run(self, x, input_name: str | None = None, backend: str = "numpy") -> dict:
        """On a copy of the network from step 0, drive with ``x`` (``T``
        steps) and run ``T + max latency`` steps; returns ``{population label: uint8 (T, n)}`` spike rasters
        aligned to the peer's steps (each shifted back by its latency)."""
        from engine.network import Network

        # a private copy from step 0, so the imported network keeps no input stimuli
        net = Network.from_dict(self.network.to_dict())
        stims = self.drive(x, input_name, network=net)
        T = stims[0].values.shape[0] - 1
        extra = max(self.latency.values(), default=0)
        chunk = net.simulator(backend, self.dt).advance(T + extra)
        out = {}
        for p in net.populations:
            steps, ids = chunk.spikes[p.label]
            raster = np.zeros((T + extra, p.n), dtype=np.uint8)
            raster[steps - chunk.start_step, ids] = 1
            lat = self.latency.get(p.label, 0)
            out[p.label] = raster[lat:lat + T]
        return out


def read_nir(path, dt: float | None = None, **kwargs) -> NIRImport:
    """Read a ``.nir`` file (see :func:`from_nir`)."""
    return from_nir(_nir().read(path), dt=dt, **kwargs)


def _uniform(node_key, arr, pname) -> float:
    a = np.asarray(arr, dtype=np.float64).ravel()
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise NIRUnsupported(f"node {node_key!r}: {pname} is empty or not finite")
    if np.any(a != a[0]):
        raise NIRUnsupported(f"node {node_key!r}: {pname} differs between neurons; a NeuroCore "
                             f"population has one value per parameter")
    return float(a[0])


def _size(node_key, node) -> int:
    ref = node.v_threshold if hasattr(node, "v_threshold") else node.r
    shape = np.shape(ref)
    if len(shape) > 1:
        raise NIRUnsupported(f"node {node_key!r}: {len(shape)}-D neuron shape {shape}; only 1-D "
                             f"populations are supported")
    return int(shape[0]) if shape else 1


def _meta_str(meta, key):
    v = (meta or {}).get(key)
    if isinstance(v, bytes):
        v = v.decode("utf8")
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v.item()
    return v


def _meta_float(meta, key):
    v = (meta or {}).get(key)
    if v is None:
        return None
    try:
        return float(np.asarray(v).ravel()[0])
    except (TypeError, ValueError, IndexError):
        return None


def _same(converted: float, original) -> float:
    # our own parameter back through a unit conversion: keep the stored value
    # when only rounding separates them (lossless round trip)
    if isinstance(original, (int, float)) and math.isclose(converted, original, rel_tol=1e-12, abs_tol=0.0):
        return float(original)
    return converted


def _flatten(nir, graph, depth: int = 0):
    """The graph with nested ``NIRGraph`` nodes inlined (inner nodes named
    ``outer.inner``); edges into a subgraph go to what its Input feeds, edges
    out of it leave from what feeds its Output (snnTorch wraps recurrent
    layers this way)."""
    if not any(isinstance(n, nir.NIRGraph) for n in graph.nodes.values()):
        return graph
    if depth > 16:
        raise NIRUnsupported("NIR subgraphs nested more than 16 deep")
    nodes, edges = {}, []
    entry, exit_ = {}, {}  # subgraph key -> inner nodes its input feeds / that feed its output
    for k, node in graph.nodes.items():
        if not isinstance(node, nir.NIRGraph):
            nodes[k] = node
            continue
        inner = _flatten(nir, node, depth + 1)
        ins = [ik for ik, n in inner.nodes.items() if isinstance(n, nir.Input)]
        outs = [ik for ik, n in inner.nodes.items() if isinstance(n, nir.Output)]
        if len(ins) != 1 or len(outs) != 1:
            raise NIRUnsupported(f"subgraph {k!r}: needs exactly one Input and one Output node, has "
                                 f"{len(ins)} and {len(outs)}")
        for ik, n in inner.nodes.items():
            if ik not in (ins[0], outs[0]):
                nodes[f"{k}.{ik}"] = n
        entry[k] = [f"{k}.{b}" for a, b in inner.edges if a == ins[0]]
        exit_[k] = [f"{k}.{a}" for a, b in inner.edges if b == outs[0]]
        edges += [(f"{k}.{a}", f"{k}.{b}") for a, b in inner.edges if a != ins[0] and b != outs[0]]
    for a, b in graph.edges:
        for src in exit_.get(a, [a]):
            for dst in entry.get(b, [b]):
                edges.append((src, dst))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=graph.metadata, type_check=False)


def from_nir(graph, dt: float | None = None, *, discretisation: str = "euler") -> NIRImport:
    """Build a network from a ``nir.NIRGraph``.

    ``dt`` is the NIR time (s) of one simulation step; default the graph's
    ``metadata["dt"]`` (graphs from snnTorch 1.0.0 have none: it steps with
    ``SNNTORCH_1_0_DT``).  ``discretisation`` in ``{"euler", "exact"}`` picks
    how a foreign ``LIF``/``CubaLIF`` is stepped (module docstring); nodes we
    wrote keep their model.  Raises :class:`NIRUnsupported` naming any node
    type or graph shape we cannot map."""
    nir = _nir()
    from engine.network import Network, Population, Projection, TimedArray

    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"from_nir needs a nir.NIRGraph, got {type(graph).__name__}")
    if discretisation not in ("euler", "exact"):
        raise ValueError(f"discretisation must be 'euler' or 'exact', got {discretisation!r}")
    meta = graph.metadata if isinstance(graph.metadata, dict) else {}
    graph = _flatten(nir, graph)
    nir_dt = dt if dt is not None else _meta_float(meta, "dt")
    if nir_dt is None:
        raise ValueError("dt: the graph does not state its time step (metadata 'dt'); pass dt= in seconds "
                         f"(snnTorch 1.0.0 steps with {SNNTORCH_1_0_DT})")
    nir_dt = _positive(nir_dt, "dt")
    ours_dt = _meta_float(meta, "neurocore_dt")
    run_dt = ours_dt if (ours_dt is not None and dt is None) else nir_dt
    run_dt = _positive(run_dt, "neurocore_dt")
    scale = nir_dt / run_dt
    dt_ms = run_dt * 1e3
    doc = None
    raw = _meta_str(meta, DOC_KEY)
    if isinstance(raw, str):
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"metadata {DOC_KEY!r} is not valid JSON: {exc}") from None

    neuron_types = (nir.LIF, nir.IF, nir.CubaLIF)
    weight_types = (nir.Linear, nir.Affine)
    for k, node in graph.nodes.items():
        if not isinstance(node, (*neuron_types, *weight_types, nir.Delay, nir.Input, nir.Output)):
            raise NIRUnsupported(f"node {k!r}: NIR {type(node).__name__} is not supported (supported: "
                                 f"Input, Output, LIF, CubaLIF, IF, Linear, Affine, Delay)")
    edges = list(dict.fromkeys(tuple(e) for e in graph.edges))  # snnTorch may repeat edges
    for a, b in edges:
        for k in (a, b):
            if k not in graph.nodes:
                raise NIRUnsupported(f"edge ({a!r}, {b!r}) names an unknown node {k!r}")
    succ = {k: [] for k in graph.nodes}
    pred = {k: [] for k in graph.nodes}
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)

    doc_pops = {p.get("label"): p for p in doc.get("populations", [])} if doc else {}
    neurons = [k for k, n in graph.nodes.items() if isinstance(n, neuron_types)]
    order = {p.get("label"): i for i, p in enumerate(doc.get("populations", []))} if doc else {}
    # HDF5 lists groups by name: put populations back in our order (stimuli
    # without a target drive the first one)
    neurons.sort(key=lambda k: order.get(_meta_str(graph.nodes[k].metadata, "label"), len(order)))
    if not neurons:
        raise NIRUnsupported("the graph has no neuron node (LIF, CubaLIF or IF)")
    net = Network(seed=int(doc.get("seed", 42)) if doc else 42)
    labels, pops, cuba = {}, {}, {}
    for k in neurons:
        node = graph.nodes[k]
        label = _meta_str(node.metadata, "label") or k
        labels[k] = label
        n = _size(k, node)
        stored = doc_pops.get(label, {})
        sp = stored.get("params", {}) if stored.get("n") == n else {}
        model = _meta_str(node.metadata, "neurocore_model")
        vt = _uniform(k, node.v_threshold, "v_threshold")
        vr = _uniform(k, node.v_reset, "v_reset") if node.v_reset is not None else 0.0
        if isinstance(node, nir.IF):
            if model not in (None, "PerfectIntegratorNeuron"):
                raise NIRUnsupported(f"node {k!r}: IF node marked as model {model!r}")
            r = _uniform(k, node.r, "r")
            if r <= 0:
                raise NIRUnsupported(f"node {k!r}: IF with r={r} (needs r > 0)")
            params = {"capacitance": _same(1e3 / (r * scale), sp.get("capacitance")),
                      "v_threshold": vt, "v_reset": vr}
            model = "PerfectIntegratorNeuron"
        else:
            tau_key = "tau_mem" if isinstance(node, nir.CubaLIF) else "tau"
            tau_nir = _uniform(k, getattr(node, tau_key), tau_key)
            r = _uniform(k, node.r, "r")
            v_leak = _uniform(k, node.v_leak, "v_leak")
            if tau_nir <= 0:
                raise NIRUnsupported(f"node {k!r}: {tau_key}={tau_nir} (needs > 0)")
            tau_ms = tau_nir / scale * 1e3
            if model is None:
                model = "StochasticLIFNeuron" if discretisation == "euler" else "LapicqueNeuron"
            if model == "LapicqueNeuron":
                tau_ms = _same(tau_ms, sp.get("tau"))
                params = {"tau": tau_ms, "resistance": r, "v_rest": v_leak, "v_reset": vr, "v_threshold": vt}
            elif model == "StochasticLIFNeuron":
                tau_ms = _same(tau_ms, sp.get("tau_mem"))
                params = {"tau_mem": tau_ms, "resistance": _same(r / tau_ms, sp.get("resistance")),
                          "v_rest": v_leak, "v_reset": vr, "v_threshold": vt}
            else:
                raise NIRUnsupported(f"node {k!r}: LIF node marked as model {model!r}")
            if isinstance(node, nir.CubaLIF):
                ts_nir = _uniform(k, node.tau_syn, "tau_syn")
                w_in = _uniform(k, node.w_in, "w_in")
                if ts_nir <= 0:
                    raise NIRUnsupported(f"node {k!r}: tau_syn={ts_nir} (needs > 0)")
                ts_ms = ts_nir / scale * 1e3
                if _meta_str(node.metadata, "neurocore_model") is None and discretisation == "euler":
                    if ts_nir <= nir_dt:
                        raise NIRUnsupported(f"node {k!r}: tau_syn={ts_nir} s is not longer than dt={nir_dt} s "
                                             f"(forward Euler would not decay)")
                    # our exact decay set to the Euler one: exp(-dt/ts) = 1 - dt/ts_nir
                    ts_ms = -dt_ms / math.log1p(-nir_dt / ts_nir)
                # one spike adds w_in * dt / tau_syn to I (delta input); ours adds the weight
                factor = w_in * nir_dt / ts_nir
                cuba[label] = (ts_ms, 1.0 if math.isclose(factor, 1.0, rel_tol=1e-12) else factor)
        if sp:
            params = {**sp, **params}
        try:
            pop = Population(model, n, params=params, label=label)
        except ValueError as exc:
            raise NIRUnsupported(f"node {k!r}: {exc}") from None
        net.add(pop)
        pops[k] = pop
        state = stored.get("state") if stored.get("n") == n else None
        for var, values in (state or {}).items():
            pop.set_state(var, values)

    doc_projs = {p.get("label"): p for p in doc.get("projections", [])} if doc else {}
    result = NIRImport(network=net, dt=run_dt)
    proj_edges = []  # (source pop key, target pop key)
    new_projs = []
    biases = {}      # target label -> summed bias vector (onset set after the depths are known)

    def follow(w_key):
        """The neuron a weight node feeds, and the delay in steps on the way."""
        nxt = succ[w_key]
        if len(nxt) != 1:
            raise NIRUnsupported(f"node {w_key!r}: a weight node must feed exactly one node, feeds {len(nxt)}")
        dst, delay = nxt[0], 0
        if isinstance(graph.nodes[dst], nir.Delay):
            d = graph.nodes[dst]
            steps = _uniform(dst, d.delay, "delay") / nir_dt
            if not math.isclose(steps, round(steps), abs_tol=1e-9) or steps < 0:
                raise NIRUnsupported(f"node {dst!r}: delay {steps} steps is not a whole number of steps")
            delay = int(round(steps))
            if len(succ[dst]) != 1:
                raise NIRUnsupported(f"node {dst!r}: a Delay must feed exactly one node")
            dst = succ[dst][0]
        if dst not in pops:
            raise NIRUnsupported(f"node {w_key!r} feeds {type(graph.nodes[dst]).__name__} node {dst!r}; "
                                 f"only neuron nodes can receive weights")
        return dst, delay

    for k, node in graph.nodes.items():
        if isinstance(node, nir.Delay):
            if len(pred[k]) != 1 or not isinstance(graph.nodes[pred[k][0]], weight_types):
                raise NIRUnsupported(f"node {k!r}: a Delay must follow a Linear/Affine node")
            continue
        if isinstance(node, nir.Output):
            for src in pred[k]:
                if src not in pops:
                    raise NIRUnsupported(f"output {k!r} is fed by non-neuron node {src!r}")
                result.outputs[k] = labels[src]
            continue
        if isinstance(node, nir.Input):
            result.inputs[k] = []
            for dst in succ[k]:
                if dst in pops:
                    result.inputs[k].append(InputEdge(labels[dst]))
                elif isinstance(graph.nodes[dst], weight_types):
                    w_node = graph.nodes[dst]
                    tgt, delay = follow(dst)
                    if delay:
                        raise NIRUnsupported(f"node {dst!r}: a delay on the external input is not supported")
                    bias = np.asarray(w_node.bias, dtype=np.float64) if isinstance(w_node, nir.Affine) else None
                    result.inputs[k].append(InputEdge(labels[tgt], np.asarray(w_node.weight, np.float64), bias))
                else:
                    raise NIRUnsupported(f"input {k!r} feeds {type(graph.nodes[dst]).__name__} node {dst!r}")
            continue
        if k in pops:
            for dst in succ[k]:
                dn = graph.nodes[dst]
                if not isinstance(dn, (*weight_types, nir.Output)):
                    raise NIRUnsupported(f"edge ({k!r}, {dst!r}): a neuron must feed a Linear/Affine or "
                                         f"Output node, not {type(dn).__name__}")
            continue
        if any(isinstance(graph.nodes[src], nir.Input) for src in pred[k]):
            if len(pred[k]) != 1:
                raise NIRUnsupported(f"node {k!r}: a weight node fed by an input must have no other source")
            continue  # handled with its Input node
        # a weight node between two neurons: a projection
        if len(pred[k]) != 1 or pred[k][0] not in pops:
            raise NIRUnsupported(f"node {k!r}: a weight node between populations needs exactly one "
                                 f"neuron node as its source")
        src = pred[k][0]
        tgt, delay = follow(k)
        w = np.asarray(node.weight, dtype=np.float64)
        s_pop, t_pop = pops[src], pops[tgt]
        if w.shape != (t_pop.n, s_pop.n):
            raise NIRUnsupported(f"node {k!r}: weight shape {w.shape} does not match "
                                 f"({t_pop.n}, {s_pop.n}) = (target n, source n)")
        if not np.all(np.isfinite(w)):
            raise NIRUnsupported(f"node {k!r}: weight contains non-finite values")
        label = _meta_str(node.metadata, "label") or k
        syn = cuba.get(labels[tgt])
        dense = w.T * (syn[1] if syn else 1.0)
        stored = doc_projs.get(label, {})
        keep = {name: stored[name] for name in ("topology", "probability", "seed", "weight_threshold",
                                                "allow_self_connections") if name in stored}
        rows, cols = np.nonzero(dense)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=s_pop.n))])
        try:
            proj = Projection.from_csr(s_pop, t_pop, indptr, cols, dense[rows, cols],
                                       weight=stored.get("weight"), delay=delay,
                                       tau_syn=_same(syn[0], stored.get("tau_syn")) if syn else None,
                                       label=label, **keep)
        except (TypeError, ValueError) as exc:
            raise NIRUnsupported(f"node {k!r}: {exc}") from None
        new_projs.append((proj, src, tgt))
        proj_edges.append((src, tgt))
        if isinstance(node, nir.Affine):
            if syn:
                raise NIRUnsupported(f"node {k!r}: an Affine bias into CubaLIF node {tgt!r} (a constant "
                                     f"filtered by the synapse) is not supported")
            b = np.asarray(node.bias, dtype=np.float64)
            biases[labels[tgt]] = biases.get(labels[tgt], 0.0) + b

    porder = {p.get("label"): i for i, p in enumerate(doc.get("projections", []))} if doc else {}
    new_projs.sort(key=lambda e: porder.get(e[0].label, len(porder)))
    for proj, _, _ in new_projs:
        net.add(proj)
    # latency: shortest number of projections from an input (0 for input populations)
    depth = {}
    frontier = [e.target for edges_ in result.inputs.values() for e in edges_]
    for lab in frontier:
        depth[lab] = 0
    by_label = {labels[k]: k for k in pops}
    while frontier:
        nxt = []
        for lab in frontier:
            for s, t in proj_edges:
                if labels[s] == lab and labels[t] not in depth:
                    depth[labels[t]] = depth[lab] + 1
                    nxt.append(labels[t])
        frontier = nxt
    result.latency = {labels[k]: depth.get(labels[k], 0) for k in pops}
    for lab, b in biases.items():
        onset = result.latency[lab]
        values = np.zeros((onset + 1, pops[by_label[lab]].n))
        values[onset] = b
        net.add(TimedArray(values, dt=run_dt, target=net.population(lab), label=f"nir_bias_{lab}"))
    for lab, (ts_ms, factor) in cuba.items():
        result.synapse_decay[lab] = (factor, math.exp(-dt_ms / ts_ms))
    if doc:
        _restore_extras(net, doc)
    return result


def _restore_extras(net, doc) -> None:
    """Stimuli and monitors of a graph we wrote (NIR has no place for them)."""
    from engine.network.io import network_from_dict

    have = {p.label for p in net.populations}
    extras = {"schema_version": doc.get("schema_version"), "seed": doc.get("seed", 42),
              "populations": [p for p in doc.get("populations", []) if p.get("label") in have],
              "projections": [], "stimuli": doc.get("stimuli", []), "monitors": doc.get("monitors", [])}
    if len(extras["populations"]) != len(net.populations):
        return  # the graph was edited elsewhere: its nodes are the truth, skip the stale extras
    try:
        side = network_from_dict(extras)
    except ValueError:
        return
    for s in side.stimuli:
        label = None if s.target is None else s.target.label
        s.target = None if label is None else net.population(label)
        net.add(s)
    for m in side.monitors:
        m.population = net.population(m.population.label)
        net.add(m)
