"""PyTorch backend: ``Network.run(backend="torch")``.

The graph logic (stimuli, previous-spike propagation through the CSR
projections, delays, ``tau_syn`` synapses, monitors) is the shared
:class:`~engine.backends.base.Simulator`'s; this backend replaces the neuron
kernels with torch twins of the NumPy kernels in :mod:`engine.models`,
run under ``torch.no_grad()`` in float64 on CUDA when available, else on CPU.

Each twin performs the NumPy kernel's floating-point operations in the same
order, so for the same network and inputs the spikes are the NumPy backend's.
(Only ``exp`` of an array may differ by one ulp between the two libraries'
vectorised implementations -- it enters the ExpIF and AdEx kernels; the
Lapicque decay factor is a scalar computed with NumPy.)  Noise is drawn from
the population's own NumPy generator, exactly as the NumPy kernel draws it, so
noisy ``StochasticLIFNeuron`` populations also agree.

On CPU the torch state tensors share memory with ``population.state`` (no
copies); on CUDA the state is copied to the device at the start of each
``advance`` and back at its end, and each step's input currents travel to the
device and the spike indices back (the propagation stays in NumPy), so CUDA
pays off only for large populations.

Supported models (registry names): ``LapicqueNeuron``,
``StochasticLIFNeuron``, ``PerfectIntegratorNeuron``, ``ExpIFNeuron``,
``AdExNeuron``.  Any other model raises ``NotImplementedError`` naming the
population.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engine.backends import register_backend
from engine.backends.base import Simulator

__all__ = ["TorchSimulator", "factory", "KERNELS", "default_device"]


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


# -- kernels: torch twins of the NumPy kernels ------------------------------------------
# Each takes (p, st, cur, dt, rng) -- p a dict of parameter values, st a dict of
# float64 state tensors (updated in place), cur the input current tensor, dt in
# ms, rng the population's numpy Generator -- and returns a bool spike tensor.
def _refractory_update(ref, active, spikes, period):
    ref.copy_(torch.where(spikes, float(period), torch.where(active, ref, ref - 1.0)))


def _lapicque(p, st, cur, dt, rng):
    # engine/models/lapicque.py: v <- v_inf + (v - v_inf)*exp(-dt/tau), v_inf = v_rest + R*I
    v, ref = st["v"], st["refractory"]
    decay = float(np.exp(-dt / p["tau"]))  # the scalar NumPy computes
    v_inf = p["v_rest"] + p["resistance"] * cur
    active = ref <= 0
    v_new = v_inf + (v - v_inf) * decay
    v.copy_(torch.where(active, v_new, v))
    spikes = active & (v >= p["v_threshold"])
    ref.copy_(torch.where(active, ref, ref - 1.0))
    v.masked_fill_(spikes, p["v_reset"])
    ref.masked_fill_(spikes, float(p["refractory_period"]))
    return spikes


def _stochastic_lif(p, st, cur, dt, rng):
    # engine/models/stochastic_lif.py (Euler-Maruyama, Gerstner & Kistler 2002)
    from engine.models.stochastic_lif import gaussian_noise

    v, ref = st["v"], st["refractory"]
    active = ref <= 0
    noise = gaussian_noise(rng, p["noise_std"] * math.sqrt(dt), active.cpu().numpy())
    if not isinstance(noise, float):
        noise = torch.from_numpy(noise).to(v.device)
    dv = -(v - p["v_rest"]) * dt / p["tau_mem"] + p["resistance"] * cur * dt + noise
    v_new = torch.where(active, v + dv, p["v_rest"])
    spikes = active & (v_new >= p["v_threshold"])
    v.copy_(torch.where(spikes, p["v_reset"], v_new))
    _refractory_update(ref, active, spikes, p["refractory_period"])
    return spikes


def _perfect_integrator(p, st, cur, dt, rng):
    # engine/models/perfect_integrator.py: v += I*dt/C
    v, ref = st["v"], st["refractory"]
    active = ref <= 0
    v_new = torch.where(active, v + cur * dt / p["capacitance"], v)
    spikes = active & (v_new >= p["v_threshold"])
    v.copy_(torch.where(spikes, p["v_reset"], v_new))
    _refractory_update(ref, active, spikes, p["refractory_period"])
    return spikes


def _expif(p, st, cur, dt, rng):
    # engine/models/expif.py (Fourcaud-Trocme et al. 2003), forward Euler
    from engine.models.adex import EXP_CAP

    v, ref = st["v"], st["refractory"]
    active = ref <= 0
    spike_term = p["delta_T"] * torch.exp(torch.clamp((v - p["V_T"]) / p["delta_T"], max=EXP_CAP))
    v_new = torch.where(active, v + dt * (-(v - p["E_L"]) + spike_term + p["resistance"] * cur) / p["tau_m"], v)
    spikes = active & (v_new >= p["V_peak"])
    v.copy_(torch.where(spikes, p["V_reset"], v_new))
    _refractory_update(ref, active, spikes, p["refractory_period"])
    return spikes


def _adex(p, st, cur, dt, rng):
    # engine/models/adex.py (Brette & Gerstner 2005), forward Euler, w from the old V
    from engine.models.adex import EXP_CAP

    v, w, ref = st["v"], st["w"], st["refractory"]
    active = ref <= 0
    spike_current = p["g_L"] * p["delta_T"] * torch.exp(torch.clamp((v - p["V_T"]) / p["delta_T"], max=EXP_CAP))
    dv = (-p["g_L"] * (v - p["E_L"]) + spike_current - w + cur) / p["C"]
    w_new = w + dt * (p["a"] * (v - p["E_L"]) - w) / p["tau_w"]
    v_new = torch.where(active, v + dt * dv, v)
    spikes = active & (v_new >= p["V_peak"])
    v.copy_(torch.where(spikes, p["V_reset"], v_new))
    w.copy_(torch.where(spikes, w_new + p["b"], w_new))
    _refractory_update(ref, active, spikes, p["refractory_period"])
    return spikes


#: model registry name -> torch kernel
KERNELS = {
    "LapicqueNeuron": _lapicque,
    "StochasticLIFNeuron": _stochastic_lif,
    "PerfectIntegratorNeuron": _perfect_integrator,
    "ExpIFNeuron": _expif,
    "AdExNeuron": _adex,
}


def _kernel_for(pop):
    model = pop.model
    name = type(model).registry_name()
    kernel = KERNELS.get(name)
    if kernel is None or type(model).step is not _NUMPY_STEPS.get(name):
        raise NotImplementedError(
            f"population {pop.label!r}: the torch backend has no kernel for model {pop.model_name!r} "
            f"(supported: {', '.join(sorted(KERNELS))}); run it with backend='numpy'")
    return kernel


def _numpy_steps():
    # The torch twin mirrors one specific NumPy kernel; a subclass that
    # overrides ``step`` (e.g. HomeostaticLIF on StochasticLIF) is not covered.
    from engine.models import get_model

    out = {}
    for name in KERNELS:
        try:
            out[name] = get_model(name).step
        except ValueError:
            pass
    return out


_NUMPY_STEPS = _numpy_steps()


class TorchSimulator(Simulator):
    """The shared simulator with torch neuron kernels (see module docstring)."""

    backend_name = "torch"

    def __init__(self, network, dt, device=None):
        self.device = torch.device(default_device() if device is None else device)
        super().__init__(network, dt)

    def _setup_populations(self) -> None:
        self._kernels = [_kernel_for(p) for p in self.populations]
        super()._setup_populations()  # the base layout of the NumPy current arrays
        self._tstate = [None] * len(self.populations)
        self._params = [None] * len(self.populations)

    def _prepare(self) -> None:
        super()._prepare()
        self._kernels = [_kernel_for(p) for p in self.populations]  # the model may have been replaced
        on_cpu = self.device.type == "cpu"
        for k, pop in enumerate(self.populations):
            self._params[k] = pop.model.values()  # live edits apply from the next advance
            st = {}
            for var, arr in pop.state.items():
                if arr.dtype != np.float64 or not arr.flags.c_contiguous:
                    raise NotImplementedError(f"population {pop.label!r}: state {var!r} is not a contiguous "
                                              f"float64 array; the torch backend cannot mirror it")
                st[var] = torch.from_numpy(arr) if on_cpu else torch.from_numpy(arr).to(self.device)
            self._tstate[k] = st
        self._cur_dev = None if on_cpu else [torch.empty(p.n, dtype=torch.float64, device=self.device)
                                             for p in self.populations]

    @torch.no_grad()
    def _step_populations(self):
        out = []
        for k, pop in enumerate(self.populations):
            dt = self._pop_dt[k]
            cur = torch.from_numpy(self._currents[k])
            if self._cur_dev is not None:
                cur = self._cur_dev[k].copy_(cur, non_blocking=False)
            spikes = self._kernels[k](self._params[k], self._tstate[k], cur, dt, pop.rng)
            idx = torch.nonzero(spikes).flatten()
            out.append((idx.cpu().numpy().astype(np.int64, copy=False), None))
        return out

    def _read_state(self, k, var):
        if self.device.type == "cpu":
            return self.populations[k].state[var]
        return self._tstate[k][var].cpu().numpy()

    def _finish_advance(self) -> None:
        if self.device.type != "cpu":
            for k, pop in enumerate(self.populations):
                for var, t in self._tstate[k].items():
                    pop.state[var][...] = t.cpu().numpy()


def factory(network, dt):
    return TorchSimulator(network, dt)


def _available():
    return True, ""


register_backend("torch", factory, available=_available)
