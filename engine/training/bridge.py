"""``Network.to_torch``: a declarative network as a trainable ``torch.nn.Module``.

``network_to_torch(network, surrogate_fn=None, ...)`` returns a
:class:`TorchNetwork` that keeps the population/projection graph and runs the
same step as the NumPy backend, batched and differentiable:

* **Input**: a tensor of currents ``(T, batch, input_dim)``.  It drives the
  *input populations* -- by default those with no incoming projection, in
  network order, their neurons concatenated (``input_dim`` = the sum of their
  sizes); ``input_populations=[labels]`` chooses them explicitly (required
  when every population has an incoming projection).  ``inputs[t]`` is added
  to those populations' input current at step ``t``, in the model's current
  unit, exactly like a ``TimedArray`` stimulus of the same values.
* **Step** (previous-spike semantics, as every backend): population input =
  external input + for each projection ``spikes_src(t-1) @ W``; then every
  population steps its model.  A projection with ``tau_syn`` feeds an
  exponential synaptic current instead, exactly as the NumPy simulator does:
  ``I <- I*exp(-dt/tau_syn) + spikes_src(t-1) @ W`` (one ``I`` per target and
  ``tau_syn``), and ``I`` is added to the target's input.  Spikes at step -1 are zero; the state starts
  from the model's initial state (not from ``population.state``).
* **Spikes**: the forward value is the model's own spike test
  (``v >= v_threshold``, like the NumPy kernel -- the surrogate's ``x > 0``
  plus the exact tie ``x == 0``, which has no gradient); the backward is
  ``surrogate_fn``'s derivative.  The reset
  sets ``v = v_reset`` exactly and does not pass gradient to the spike.
  Without ``surrogate_fn``, each population uses the surrogate its network
  document chose (:mod:`engine.training.spec`: the population's ``surrogate``
  override, else ``network.training``, else ``atan_surrogate``);
  ``module.surrogate_specs`` lists ``(name, path, params)`` per population.
* **Weights**: each projection is a dense trainable parameter
  ``(n_source, n_target)`` (``module.weights[key]``) multiplied by a fixed 0/1
  mask of its CSR edges, so an absent edge has an exactly-zero effective
  weight and an exactly-zero gradient -- it stays 0 under any optimiser,
  weight decay included.  :meth:`TorchNetwork.sync_to_network` writes the
  learned weights back into each projection's CSR ``data``.
* **Output**: spike counts over the T steps of the *output populations* --
  those with no outgoing projection (all populations if no population
  qualifies) -- concatenated, shape ``(batch, output_dim)``;
  ``forward(inputs, return_spikes=True)`` also returns every population's
  spike train ``{label: (T, batch, n)}``.

Model parameters and the CSR pattern are read when the module is built;
rebuild it after editing them.  Computed in float64 by default, the spikes equal the NumPy backend's for the
same network and inputs (the projection sums are matrix products, whose
summation order differs from NumPy's only in the last ulp).

Supported models: ``LapicqueNeuron`` (any parameters, refractory period
included) and ``StochasticLIFNeuron`` with ``noise_std == 0``,
``refractory_period == 0``, ``v_reset == v_rest`` and no entropy source.
Everything else raises ``NotImplementedError`` with the reason: stimulus
objects inside the network (feed currents through the input tensor instead),
plastic projections, delayed projections, other models.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from engine.training.spec import resolve_spec
from engine.training.surrogate import get_surrogate

__all__ = ["network_to_torch", "TorchNetwork", "MAX_DENSE_WEIGHTS"]

#: largest dense weight matrix (entries) one projection may become
MAX_DENSE_WEIGHTS = 50_000_000


def _support_check(pop):
    """(kind, params) for a supported population, else NotImplementedError."""
    name = pop.model_name
    p = pop.model.values()
    where = f"population {pop.label!r} ({name})"
    if name == "LapicqueNeuron":
        return "lapicque", p
    if name == "StochasticLIFNeuron":
        reasons = []
        if p["noise_std"] != 0:
            reasons.append(f"noise_std={p['noise_std']} (noise has no deterministic gradient; set it to 0)")
        if p["refractory_period"] != 0:
            reasons.append(f"refractory_period={p['refractory_period']} (must be 0)")
        if p["v_reset"] != p["v_rest"]:
            reasons.append(f"v_reset={p['v_reset']} != v_rest={p['v_rest']}")
        if (getattr(pop.model, "entropy_source", None) is not None
                or getattr(pop, "entropy_source", None) is not None
                or not isinstance(pop.rng, (np.random.Generator, type(None)))):
            reasons.append("an entropy source is attached")
        if reasons:
            raise NotImplementedError(f"{where} cannot be bridged to torch: " + "; ".join(reasons))
        return "stochastic_lif", p
    raise NotImplementedError(f"{where}: the torch bridge supports LapicqueNeuron and noise-free "
                              f"StochasticLIFNeuron only; model {name!r} is not supported")


class TorchNetwork(nn.Module):
    """A network as a differentiable module; see the module docstring."""

    def __init__(self, network, surrogate_fn=None, *, dt=0.001, input_populations=None,
                 output_populations=None, dtype=torch.float64, device=None):
        super().__init__()
        if surrogate_fn is not None and not callable(surrogate_fn):
            raise TypeError(f"surrogate_fn must be callable, got {type(surrogate_fn).__name__}")
        if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not np.isfinite(dt) or dt <= 0:
            raise ValueError(f"dt must be a positive finite number of seconds, got {dt!r}")
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        self.network = network
        self.surrogate_fn = surrogate_fn
        self.dt_ms = float(dt) * 1e3
        pops = list(network.populations)
        if not pops:
            raise ValueError("the network has no population")
        if network.stimuli:
            names = ", ".join(repr(s.label) for s in network.stimuli)
            raise NotImplementedError(f"stimulus objects inside the network ({names}) are not supported by "
                                      f"to_torch: feed input currents through the (T, batch, input_dim) tensor")
        self._pops = pops
        self._kinds = [_support_check(p) for p in pops]
        # one spike function per population: the explicit surrogate_fn, else the
        # document's choice (population override, else network "training" entry)
        if surrogate_fn is None:
            training = getattr(network, "training", None)
            self.surrogate_specs = [resolve_spec(training, getattr(p, "surrogate", None)) for p in pops]
            self._surrogates = [get_surrogate(name, path=path, **params)
                                for name, path, params in self.surrogate_specs]
        else:
            self.surrogate_specs = None
            self._surrogates = [surrogate_fn] * len(pops)
        index = {id(p): k for k, p in enumerate(pops)}

        self._proj = []  # (projection, key, source index, target index)
        self._syn_keys = []  # per projection: (target index, tau_syn) or None
        self._syn_decay = {}  # (target index, tau_syn) -> decay factor per step
        self.weights = nn.ParameterDict()
        for j, proj in enumerate(network.projections):
            where = f"projection {proj.label!r}"
            if proj.plasticity is not None:
                raise NotImplementedError(f"{where}: plastic projections are not supported by to_torch")
            if proj.delay != 0:
                raise NotImplementedError(f"{where}: delay={proj.delay} steps; to_torch supports delay 0 only")
            n_src, n_tgt = proj.source.n, proj.target.n
            if n_src * n_tgt > MAX_DENSE_WEIGHTS:
                raise ValueError(f"{where}: a dense {n_src}x{n_tgt} weight matrix exceeds "
                                 f"{MAX_DENSE_WEIGHTS} entries")
            from engine.resources import check  # before allocating: matrix, mask, tensors, gradient

            check(f"{where}: dense {n_src}x{n_tgt} weights", 8 * n_src * n_tgt * 5)
            rows = np.repeat(np.arange(n_src), np.diff(proj.indptr))
            dense = np.zeros((n_src, n_tgt))
            dense[rows, proj.indices] = proj.data
            mask = np.zeros((n_src, n_tgt), dtype=bool)
            mask[rows, proj.indices] = True
            key = f"proj{j}"
            self.weights[key] = nn.Parameter(torch.as_tensor(dense, dtype=dtype))
            self.register_buffer(f"mask_{key}", torch.as_tensor(mask, dtype=dtype))
            self._proj.append((proj, key, index[id(proj.source)], index[id(proj.target)]))
            tau = getattr(proj, "tau_syn", None)
            syn_key = None if tau is None else (index[id(proj.target)], float(tau))
            if syn_key is not None and syn_key not in self._syn_decay:
                # the NumPy simulator's factor, math.exp(-dt/tau_syn)
                self._syn_decay[syn_key] = math.exp(-self.dt_ms / syn_key[1])
            self._syn_keys.append(syn_key)

        has_in = {rt[3] for rt in self._proj}
        self.input_labels = self._choose(input_populations, "input",
                                         [p for k, p in enumerate(pops) if k not in has_in])
        has_out = {rt[2] for rt in self._proj}
        default_out = [p for k, p in enumerate(pops) if k not in has_out] or pops
        self.output_labels = self._choose(output_populations, "output", default_out)
        label_index = {p.label: k for k, p in enumerate(pops)}
        self._inputs = []
        lo = 0
        for label in self.input_labels:
            k = label_index[label]
            self._inputs.append((k, lo, lo + pops[k].n))
            lo += pops[k].n
        self.input_dim = lo
        self._outputs = [label_index[label] for label in self.output_labels]
        self.output_dim = sum(pops[k].n for k in self._outputs)
        if device is not None:
            self.to(device)

    def _choose(self, given, what, default):
        labels = [p.label for p in self._pops]
        if given is None:
            if not default:
                raise ValueError(f"every population has an incoming projection; name the {what} populations "
                                 f"with {what}_populations=[labels]")
            return [p.label for p in default]
        if isinstance(given, str):
            given = [given]
        out = []
        for g in given:
            label = getattr(g, "label", g)
            if label not in labels:
                raise ValueError(f"{what}_populations: no population labelled {label!r}; have {labels}")
            if label in out:
                raise ValueError(f"{what}_populations: {label!r} is listed twice")
            out.append(label)
        if not out:
            raise ValueError(f"{what}_populations must name at least one population")
        return out

    # -- weights --------------------------------------------------------------------
    def effective_weight(self, key_or_label) -> torch.Tensor:
        """The masked weight matrix ``(n_source, n_target)`` of a projection
        (by key ``"proj<j>"`` or projection label)."""
        for proj, key, _, _ in self._proj:
            if key_or_label in (key, proj.label):
                return self.weights[key] * getattr(self, f"mask_{key}")
        raise KeyError(f"no projection {key_or_label!r}; have {[p.label for p, *_ in self._proj]}")

    @torch.no_grad()
    def sync_to_network(self) -> None:
        """Write the learned weights into each projection's CSR ``data`` (in place)."""
        for proj, key, _, _ in self._proj:
            rows = np.repeat(np.arange(proj.source.n), np.diff(proj.indptr))
            w = self.weights[key].detach().to("cpu", torch.float64).numpy()
            if w.shape != (proj.source.n, proj.target.n):
                raise ValueError(f"projection {proj.label!r} changed shape since to_torch")
            values = w[rows, proj.indices]
            if not np.all(np.isfinite(values)):
                raise ValueError(f"projection {proj.label!r}: learned weights contain non-finite values")
            proj.data[...] = values

    # -- dynamics ---------------------------------------------------------------------
    def _spike(self, v, threshold, k):
        # forward: v >= threshold (the NumPy kernels' test); backward: surrogate
        x = v - threshold
        return self._surrogates[k](x) + (x == 0).to(x.dtype)

    def _initial_state(self, batch, dtype, device):
        state = []
        for (kind, p), pop in zip(self._kinds, self._pops):
            v = torch.full((batch, pop.n), float(p["v_rest"]), dtype=dtype, device=device)
            ref = torch.zeros((batch, pop.n), dtype=dtype, device=device) if kind == "lapicque" else None
            state.append([v, ref])
        return state

    def _step_population(self, k, cur, st):
        kind, p = self._kinds[k]
        v, ref = st
        dt = self.dt_ms
        if kind == "lapicque":
            # engine/models/lapicque.py, same operation order (exact exponential integration)
            decay = float(np.exp(-dt / p["tau"]))
            v_inf = p["v_rest"] + p["resistance"] * cur
            v_new = v_inf + (v - v_inf) * decay
            if p["refractory_period"] > 0:
                active = ref <= 0
                v_new = torch.where(active, v_new, v)
                spike = self._spike(v_new, p["v_threshold"], k) * active.to(v_new.dtype)
                s = spike.detach() > 0
                ref = torch.where(s, float(p["refractory_period"]), torch.where(active, ref, ref - 1.0))
            else:
                spike = self._spike(v_new, p["v_threshold"], k)
                s = spike.detach() > 0
            v = torch.where(s, p["v_reset"], v_new)
            return spike, [v, ref]
        # StochasticLIFNeuron, noise 0 (engine/models/stochastic_lif.py, same operation order)
        dv = -(v - p["v_rest"]) * dt / p["tau_mem"] + p["resistance"] * cur * dt
        v_new = v + dv
        spike = self._spike(v_new, p["v_threshold"], k)
        v = torch.where(spike.detach() > 0, p["v_reset"], v_new)
        return spike, [v, ref]

    def forward(self, inputs, return_spikes=False):
        if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
            raise TypeError("inputs must be a floating-point tensor of shape (T, batch, input_dim)")
        if inputs.dim() != 3 or inputs.shape[2] != self.input_dim:
            raise ValueError(f"inputs must have shape (T, batch, {self.input_dim}) "
                             f"(input populations {self.input_labels}), got {tuple(inputs.shape)}")
        T, batch = inputs.shape[0], inputs.shape[1]
        dtype, device = inputs.dtype, inputs.device
        weights = [(self.weights[key] * getattr(self, f"mask_{key}")).to(dtype) for _, key, _, _ in self._proj]
        state = self._initial_state(batch, dtype, device)
        prev = [torch.zeros((batch, p.n), dtype=dtype, device=device) for p in self._pops]
        counts = [0] * len(self._pops)
        # exponential synaptic currents, one per (target, tau_syn) as in the NumPy simulator
        syn = {skey: torch.zeros((batch, self._pops[skey[0]].n), dtype=dtype, device=device)
               for skey in self._syn_decay}
        record = [[] for _ in self._pops] if return_spikes else None
        zeros = [torch.zeros((batch, p.n), dtype=dtype, device=device) for p in self._pops]
        for t in range(T):
            currents = list(zeros)
            for k, lo, hi in self._inputs:
                currents[k] = currents[k] + inputs[t, :, lo:hi]
            for skey, decay in self._syn_decay.items():
                syn[skey] = syn[skey] * decay
            for (_, _, src, tgt), skey, w in zip(self._proj, self._syn_keys, weights):
                if skey is None:
                    currents[tgt] = currents[tgt] + prev[src] @ w
                else:
                    syn[skey] = syn[skey] + prev[src] @ w
            for (tgt, _), i_syn in syn.items():
                currents[tgt] = currents[tgt] + i_syn
            new = []
            for k in range(len(self._pops)):
                spike, state[k] = self._step_population(k, currents[k], state[k])
                new.append(spike)
                counts[k] = counts[k] + spike
                if record is not None:
                    record[k].append(spike)
            prev = new
        out = torch.cat([counts[k] if torch.is_tensor(counts[k]) else zeros[k] for k in self._outputs], dim=1)
        if return_spikes:
            trains = {p.label: (torch.stack(record[k]) if record[k] else zeros[k][None][:0])
                      for k, p in enumerate(self._pops)}
            return out, trains
        return out

    def extra_repr(self):
        return (f"inputs={self.input_labels} ({self.input_dim}), outputs={self.output_labels} "
                f"({self.output_dim}), projections={[p.label for p, *_ in self._proj]}, dt={self.dt_ms} ms")


def network_to_torch(network, surrogate_fn=None, **kwargs) -> TorchNetwork:
    """``Network.to_torch``: see :class:`TorchNetwork` and the module docstring.

    Keyword arguments: ``dt`` (s, default 0.001), ``input_populations``,
    ``output_populations`` (labels), ``dtype`` (default float64), ``device``.
    """
    return TorchNetwork(network, surrogate_fn, **kwargs)
