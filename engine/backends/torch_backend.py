"""PyTorch backend: ``Network.run(backend="torch")``.

The graph logic (stimuli, previous-spike propagation through the CSR
projections, delays, ``tau_syn`` synapses, monitors) is the shared
:class:`~engine.backends.base.Simulator`'s.  The neuron kernels are not
written here: each model's one form (``dynamics``, see
:mod:`engine.models._form`) is re-bound to :data:`TORCH_NP`, a namespace that
answers the NumPy ufunc names the forms use with torch operations, and runs
under ``torch.no_grad()`` on the simulator's device (CUDA when available,
else CPU; pass ``device=`` to choose).  Every registered model with a form
runs here, with no torch code of its own.

Floats are float64 and each form performs the same IEEE operations in the
same order as under NumPy, so the spikes are NumPy's; only transcendental
functions of arrays (``exp``, ``tanh``, ...) may differ by an ulp between the
two libraries.  Parameter-only constants (decay factors) are computed by
NumPy for both.  Noise is drawn from the population's own NumPy generator,
exactly as the NumPy backend draws it.

On CPU the state tensors share memory with ``population.state``; on CUDA the
state is copied to the device at the start of each ``advance`` and back at
its end, and each step's input currents travel to the device and the spike
indices back (the propagation stays in NumPy), so CUDA pays off only for large
populations.
"""

from __future__ import annotations

import types

import numpy as np
import torch

from engine.backends import register_backend
from engine.backends.base import Simulator

__all__ = ["TorchSimulator", "factory", "TORCH_NP", "torch_form", "default_device"]


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


# -- the NumPy names the forms use, answered by torch ---------------------------------------
def _like(x, ref):
    """``x`` as a tensor matching ``ref``'s device (and dtype for scalars)."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, bool):
        return torch.tensor(x, device=ref.device)
    dtype = ref.dtype if ref.dtype != torch.bool else (torch.int64 if isinstance(x, (int, np.integer))
                                                       else torch.float64)
    if isinstance(x, (float, np.floating)) and not dtype.is_floating_point:
        dtype = torch.float64  # a float scalar is never truncated to an integer tensor's dtype
    return torch.as_tensor(x, dtype=dtype, device=ref.device)


def _first_tensor(args):
    for a in args:
        if isinstance(a, torch.Tensor):
            return a
    return None


def _ufunc(np_func, torch_func):
    """Call NumPy when no argument is a tensor (scalars stay bit-identical),
    else torch with scalars promoted to tensors on the same device."""
    def call(*args):
        ref = _first_tensor(args)
        if ref is None:
            return np_func(*args)
        return torch_func(*[_like(a, ref) for a in args])
    call.__name__ = np_func.__name__
    return call


def _where(cond, a, b):
    ref = _first_tensor((a, b, cond))
    if ref is None:
        return np.where(cond, a, b)
    if not isinstance(cond, torch.Tensor):
        cond = torch.as_tensor(cond, device=ref.device)
    if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
        dtype = torch.float64 if isinstance(a, float) or isinstance(b, float) else torch.int64
        a = torch.as_tensor(a, dtype=dtype, device=cond.device)
    ref = _first_tensor((a, b))
    # torch.where promotes mixed dtypes (int64 with float64 -> float64) as np.where does
    return torch.where(cond, _like(a, ref), _like(b, ref))


def _int64(x):
    return x.to(torch.int64) if isinstance(x, torch.Tensor) else np.int64(x)


def _asarray(x, dtype=None):
    return torch.as_tensor(np.asarray(x, dtype=dtype))


TORCH_NP = types.SimpleNamespace(
    where=_where, int64=_int64, asarray=_asarray, pi=np.pi, inf=np.inf,
    exp=_ufunc(np.exp, torch.exp), expm1=_ufunc(np.expm1, torch.expm1), sqrt=_ufunc(np.sqrt, torch.sqrt),
    abs=_ufunc(np.abs, torch.abs), sign=_ufunc(np.sign, torch.sign), floor=_ufunc(np.floor, torch.floor),
    rint=_ufunc(np.rint, torch.round), cos=_ufunc(np.cos, torch.cos), sin=_ufunc(np.sin, torch.sin),
    cosh=_ufunc(np.cosh, torch.cosh), sinh=_ufunc(np.sinh, torch.sinh), tanh=_ufunc(np.tanh, torch.tanh),
    arctan2=_ufunc(np.arctan2, torch.atan2), mod=_ufunc(np.mod, torch.remainder),
    minimum=_ufunc(np.minimum, torch.minimum), maximum=_ufunc(np.maximum, torch.maximum),
    logical_not=_ufunc(np.logical_not, torch.logical_not),
    left_shift=_ufunc(np.left_shift, torch.bitwise_left_shift),
    right_shift=_ufunc(np.right_shift, torch.bitwise_right_shift),
)
"""Namespace bound to ``np`` in the torch form of every model."""

_forms: dict = {}


def torch_form(dynamics):
    """The torch form of a model's ``dynamics`` (cached)."""
    from engine.models._form import rebind

    fn = _forms.get(dynamics)
    if fn is None:
        fn = _forms[dynamics] = rebind(dynamics, TORCH_NP)
    return fn


def _form_for(pop):
    model = pop.model
    dyn = type(model).dynamics
    if dyn is None:
        raise NotImplementedError(
            f"population {pop.label!r}: model {pop.model_name!r} has no dynamics form (its step is hand-written "
            f"bit-true code for the fixed_point backend); run it with backend='numpy' or 'fixed_point'")
    return torch_form(dyn)


class TorchSimulator(Simulator):
    """The shared simulator with each model's form evaluated by torch."""

    backend_name = "torch"

    def __init__(self, network, dt, device=None):
        self.device = torch.device(default_device() if device is None else device)
        super().__init__(network, dt)

    def _setup_populations(self) -> None:
        self._forms = [_form_for(p) for p in self.populations]
        super()._setup_populations()  # the base layout of the NumPy current arrays
        self._tstate = [None] * len(self.populations)
        self._plans = [None] * len(self.populations)

    def _prepare(self) -> None:
        from engine.models._form import _plan

        super()._prepare()
        self._forms = [_form_for(p) for p in self.populations]  # the model may have been replaced
        on_cpu = self.device.type == "cpu"
        for k, pop in enumerate(self.populations):
            # parameters and constants are read here: live edits apply from the next advance
            plan = _plan(pop.model, self._pop_dt[k])
            self._plans[k] = (self._torch_params(plan[0]), *plan[1:])
            st = []
            for var in self._plans[k][1]:
                arr = pop.state[var]
                if not arr.flags.c_contiguous:
                    raise NotImplementedError(f"population {pop.label!r}: state {var!r} is not contiguous")
                t = torch.from_numpy(arr)
                st.append(t if on_cpu else t.to(self.device))
            self._tstate[k] = st

    def _torch_params(self, p):
        """``p`` with float values as 0-d float64 tensors: torch computes
        ``float / tensor`` as ``reciprocal(tensor) * float`` (two roundings),
        a 0-d tensor numerator divides exactly like NumPy."""
        from engine.models._form import Constants

        return Constants({k: (torch.tensor(v, dtype=torch.float64, device=self.device) if isinstance(v, float)
                              else v) for k, v in vars(p).items()})

    def _noise(self, k, pop, plan, args):
        p, names, _, std, draws, _, integer = plan
        n = pop.n
        if integer:
            if not std:
                return 0
            return torch.from_numpy(pop.rng.integers(0, std, size=n, dtype=np.int64)).to(self.device)
        if not std:
            return 0.0
        noise = np.zeros(n)
        mask = draws(p, *args)
        if isinstance(mask, torch.Tensor):
            mask = mask.cpu().numpy()
        if mask is None:
            noise[...] = pop.rng.normal(0.0, std, size=n)
        else:
            idx = np.flatnonzero(np.broadcast_to(mask, (n,)))
            if idx.size:
                noise[idx] = pop.rng.normal(0.0, std, size=idx.size)
        return torch.from_numpy(noise).to(self.device)

    @torch.no_grad()
    def _step_populations(self):
        out = []
        for k, pop in enumerate(self.populations):
            plan = self._plans[k]
            p, _, _, _, _, checks, integer = plan
            cur_np = self._currents[k]
            if integer:
                cur_np = np.rint(cur_np).astype(np.int64)
            elif checks and not np.all(np.isfinite(cur_np)):
                raise ValueError(f"population {pop.label!r}: current must be finite")
            cur = torch.from_numpy(cur_np)
            if self.device.type != "cpu":
                cur = cur.to(self.device)
            args = self._tstate[k]
            res = self._forms[k](p, cur, self._noise(k, pop, plan, args), self._pop_dt[k], *args)
            for t, new in zip(args, res[1:]):
                if new is not t:
                    t.copy_(torch.as_tensor(new, device=t.device).expand_as(t))
            y = res[0]
            if not isinstance(y, torch.Tensor):
                y = torch.as_tensor(y, device=self.device).expand(pop.n)
            idx = torch.nonzero(y).flatten()
            if pop.model.output == "spikes":
                out.append((idx.cpu().numpy().astype(np.int64, copy=False), None))
            else:
                out.append((idx.cpu().numpy().astype(np.int64, copy=False),
                            y[idx].to(torch.float64).cpu().numpy()))
        return out

    def _read_state(self, k, var):
        if self.device.type == "cpu":
            return self.populations[k].state[var]
        names = self._plans[k][1]
        return self._tstate[k][names.index(var)].cpu().numpy()

    def _finish_advance(self) -> None:
        if self.device.type != "cpu":
            for k, pop in enumerate(self.populations):
                for var, t in zip(self._plans[k][1], self._tstate[k]):
                    pop.state[var][...] = t.cpu().numpy()


def factory(network, dt):
    return TorchSimulator(network, dt)


def _available():
    return True, ""


register_backend("torch", factory, available=_available)
