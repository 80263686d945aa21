"""Neuron lab (teaching, SPEC 3): one neuron of any registered model under an
injected current (step, ramp, noise or pulses) — v(t), every state variable,
the phase plane with nullclines for 2-D models — and its F-I curve.

The public helpers are pure (numbers in, numpy arrays out) and every
simulated number comes from the engine: a ``Network`` of one population
driven by a ``TimedArray`` and run with ``engine.backends.compile``; the
nullclines are zero contours of the model's own ``step`` kernel evaluated on a
grid.  The :class:`NeuronLab` viewer only reads widgets and draws results.
"""

from __future__ import annotations

import asyncio
import math
import numbers

import holoviews as hv
import numpy as np
import panel as pn
import panel_material_ui as pmui
import param

from engine.models import NeuronModel, get_model, model_names

__all__ = [
    "PROTOCOLS",
    "LabInputError",
    "NeuronLab",
    "fi_curve",
    "nullclines",
    "phase_plane_note",
    "phase_plane_variables",
    "protocol_current",
    "run_lab",
    "simulate",
    "simulate_step",
]

PROTOCOLS = ("step", "ramp", "noise", "pulses")
MAX_STEPS = 1_000_000        # ~20 s of engine time for one neuron; keeps the lab responsive
MAX_PLOT_POINTS = 20_000     # what Bokeh draws per trace; longer runs are strided for display

# field name -> the label the page shows, so a message names what the user sees
FIELDS = {
    "model": "Model", "duration_ms": "duration (ms)", "protocol": "Protocol",
    "amplitude": "amplitude", "onset_ms": "onset (ms)", "offset_ms": "offset (ms)",
    "start": "ramp start", "end": "ramp end", "mean": "noise mean", "sd": "noise SD",
    "seed": "seed", "width_ms": "pulse width (ms)", "period_ms": "pulse period (ms)",
    "count": "pulse count", "i_max": "F-I: max current", "nullcline_current": "nullclines at I",
}


class LabInputError(ValueError):
    """Bad lab input; ``field`` is the page label of the offending input."""

    def __init__(self, field: str, message: str):
        self.field = FIELDS.get(field, field)
        super().__init__(f"{self.field}: {message}")


def _number(value, field: str, *, minimum: float | None = None, strict: bool = False) -> float:
    if value is None:
        raise LabInputError(field, "is empty; enter a number")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise LabInputError(field, f"must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise LabInputError(field, f"must be a finite number, got {value!r}")
    if minimum is not None and (x <= minimum if strict else x < minimum):
        raise LabInputError(field, f"must be {'>' if strict else '>='} {minimum:g}, got {x:g}")
    return x


def _integer(value, field: str, minimum: int) -> int:
    x = _number(value, field, minimum=minimum)
    if not x.is_integer():
        raise LabInputError(field, f"must be a whole number, got {x:g}")
    return int(x)


def _model(name) -> type[NeuronModel]:
    try:
        return get_model(name)
    except (TypeError, ValueError) as exc:
        raise LabInputError("model", str(exc)) from None


def _dt_ms(model_name: str) -> float:
    return _model(model_name).default_dt


def _n_steps(duration_ms, dt_ms: float) -> int:
    duration = _number(duration_ms, "duration_ms", minimum=0.0, strict=True)
    n = int(round(duration / dt_ms))
    if n < 1:
        raise LabInputError("duration_ms", f"is shorter than one step (dt = {dt_ms:g} ms)")
    if n > MAX_STEPS:
        raise LabInputError("duration_ms", f"{duration:g} ms is {n} steps of {dt_ms:g} ms; "
                                           f"the lab runs at most {MAX_STEPS} (≤ {MAX_STEPS * dt_ms:g} ms)")
    return n


# -- current protocols -------------------------------------------------------------

def protocol_current(protocol: str, duration_ms, dt_ms: float, *, amplitude=1.0, onset_ms=0.0,
                     offset_ms=None, start=0.0, end=1.0, mean=0.0, sd=0.0, seed=0,
                     width_ms=5.0, period_ms=20.0, count=5) -> np.ndarray:
    """The injected current, one value per step: entry ``k`` drives step ``k``
    (time ``k * dt_ms``), as a ``TimedArray`` indexes it.

    * ``step``: ``amplitude`` for ``onset_ms <= t < offset_ms``;
    * ``ramp``: linear from ``start`` at ``onset_ms`` towards ``end`` at ``offset_ms``;
    * ``noise``: ``mean + sd * N(0, 1)`` drawn independently each step in the
      window, from ``numpy.random.default_rng(seed)`` (so the same seed gives the
      same current).  ``sd`` is per step, not a density: the drive's effect
      scales with dt, which is fixed per model in the lab;
    * ``pulses``: ``count`` pulses of ``amplitude`` and ``width_ms``, one every
      ``period_ms`` from ``onset_ms`` (cut at the end of the run).

    Zero outside the window.  ``offset_ms`` defaults to the end of the run.
    """
    if protocol not in PROTOCOLS:
        raise LabInputError("protocol", f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    dt_ms = float(dt_ms)
    n = _n_steps(duration_ms, dt_ms)
    duration = n * dt_ms
    onset = _number(onset_ms, "onset_ms", minimum=0.0)
    on = min(n, int(round(onset / dt_ms)))
    out = np.zeros(n)
    if protocol == "pulses":
        amp = _number(amplitude, "amplitude")
        width = _number(width_ms, "width_ms", minimum=0.0, strict=True)
        period = _number(period_ms, "period_ms", minimum=0.0, strict=True)
        if width > period:
            raise LabInputError("width_ms", f"({width:g}) must not exceed the pulse period ({period:g} ms)")
        k = _integer(count, "count", 1)
        w = max(1, int(round(width / dt_ms)))
        for j in range(k):
            a = on + int(round(j * period / dt_ms))
            if a >= n:
                break
            out[a:a + w] = amp
        return out
    offset = duration if offset_ms is None else _number(offset_ms, "offset_ms", minimum=0.0)
    if offset < onset:
        raise LabInputError("offset_ms", f"({offset:g}) must be >= onset ({onset:g} ms)")
    off = min(n, int(round(offset / dt_ms)))
    if protocol == "step":
        out[on:off] = _number(amplitude, "amplitude")
    elif protocol == "ramp":
        i0, i1 = _number(start, "start"), _number(end, "end")
        span = max(1, int(round(offset / dt_ms)) - on)  # full ramp length even if the run ends first
        out[on:off] = i0 + (i1 - i0) * np.arange(off - on) / span
    else:  # noise
        mu = _number(mean, "mean")
        sigma = _number(sd, "sd", minimum=0.0)
        s = _integer(seed, "seed", 0)
        out[on:off] = mu + sigma * np.random.default_rng(s).standard_normal(off - on)
    return out


# -- simulation (the engine) -------------------------------------------------------------

def simulate(model_name: str, current, params: dict | None = None) -> dict:
    """Run one neuron of ``model_name`` with ``current[k]`` injected at step ``k``
    (at the model's ``default_dt``).

    Returns ``{"t": s, "current", "states": {var: array}, "spike_times": s,
    "dt_ms"}`` with every state variable recorded after each step."""
    from engine.backends import compile as compile_network
    from engine.network import Network, Population, StateMonitor, TimedArray

    cls = _model(model_name)
    cur = np.asarray(current, dtype=np.float64)
    if cur.ndim != 1 or cur.size == 0:
        raise LabInputError("protocol", f"the current must be a non-empty 1-D array, got shape {cur.shape}")
    if not np.all(np.isfinite(cur)):
        raise LabInputError("protocol", "the current contains non-finite values")
    dt_s = cls.default_dt * 1e-3
    pop = Population(cls, 1, params or {}, label="neuron")
    variables = list(pop.state)
    mon = StateMonitor(pop, variables, record=[0], label="state")
    net = Network(pop, TimedArray(cur, dt=dt_s, target=pop), mon)
    chunk = compile_network(net, "numpy", dt_s).advance(cur.size)
    steps, _ = chunk.spikes["neuron"]
    return {"t": chunk.t, "current": cur,
            "states": {var: chunk.traces["state"][var][:, 0].astype(np.float64) for var in variables},
            "spike_times": steps * dt_s, "spike_steps": steps, "dt_ms": cls.default_dt}


def simulate_step(model_name: str, amplitude: float, onset_ms: float, offset_ms: float,
                  duration_ms: float, params: dict | None = None):
    """``(t_s, v, spike_times_s)`` of one neuron under a step current."""
    dt = _dt_ms(model_name)
    cur = protocol_current("step", duration_ms, dt, amplitude=amplitude, onset_ms=onset_ms,
                           offset_ms=offset_ms)
    r = simulate(model_name, cur, params)
    return r["t"], r["states"][_model(model_name).voltage_variable], r["spike_times"]


def fi_curve(model_name: str, i_max: float, n_points: int = 25, duration_ms: float = 500.0,
             params: dict | None = None):
    """``(currents, rates_hz)``: one neuron per current, constant input, rate over the run."""
    from engine.backends import compile as compile_network
    from engine.network import Network, Population, TimedArray

    cls = _model(model_name)
    i_max = _number(i_max, "i_max")
    dt = cls.default_dt * 1e-3
    n_steps = _n_steps(duration_ms, cls.default_dt)
    currents = np.linspace(0.0, i_max, n_points)
    pop = Population(cls, n_points, params or {}, label="neurons")
    net = Network(pop, TimedArray(currents[None, :], dt=dt, target=pop))
    chunk = compile_network(net, "numpy", dt).advance(n_steps)
    _, ids = chunk.spikes["neurons"]
    counts = np.bincount(ids, minlength=n_points)
    return currents, counts / (n_steps * dt)


# -- phase plane ---------------------------------------------------------------------

def phase_plane_variables(model_name: str, params: dict | None = None) -> tuple[str, str] | None:
    """The two variables of the model's phase plane, or ``None`` where a plane
    with nullclines makes no sense (see :func:`phase_plane_note`)."""
    return None if phase_plane_note(model_name, params) else tuple(_model(model_name).phase_plane)


def phase_plane_note(model_name: str, params: dict | None = None) -> str:
    """Why ``model_name`` has no phase plane ("" when it has one).

    A plane needs a declared pair of variables (``phase_plane``) that flow in
    continuous time: maps (``uses_dt = False``) jump once per step and integer
    hardware models move on a lattice, so neither has nullclines; a noisy
    kernel has no deterministic vector field to take zero contours of."""
    cls = _model(model_name)
    n_vars = len(cls.state_variables)
    if cls.integer:
        return (f"{cls.registry_name()} is an integer (bit-true hardware) model: its state moves on a "
                f"lattice, so there is no continuous phase plane.")
    if not cls.uses_dt:
        return (f"{cls.registry_name()} is a map (one jump per step, dt ignored): it has no flow, "
                f"so no nullclines.")
    if cls.phase_plane is None:
        names = ", ".join(cls.state_variables)
        why = ("one state variable: its dynamics live on a line" if n_vars == 1 else
               f"{n_vars} state variables ({names}) and no declared 2-D plane")
        return f"No phase plane: {cls.registry_name()} has {why}."
    if cls(**(params or {})).draws_random():
        return f"{cls.registry_name()} is stochastic with these parameters: no deterministic nullclines."
    return ""


def nullclines(model_name: str, current: float, x_range, y_range, n: int = 161,
               params: dict | None = None) -> dict:
    """Nullclines of a 2-D model at constant ``current``, from its own kernel.

    Every grid point is one neuron of a ``Population``; one engine step of a
    short ``h`` gives the flow by finite difference, f(x) ≈ (step_h(x) − x)/h
    (forward-Euler consistency: for any one-step method of order ≥ 1,
    step_h(x) = x + h f(x) + O(h²), e.g. Hairer, Nørsett & Wanner, *Solving
    ODEs I*, §II.1), and the nullclines are the zero-level contours of each
    component (marching squares, contourpy).  Grid points where the kernel
    fires are masked: there the step is a reset, not the flow.  Other state
    variables (refractory counters...) stay at their initial values.

    Returns ``{"variables": (x, y), "x": [segments], "y": [segments]}``, each
    segment an ``(m, 2)`` array of (x, y) points; "x" is the x-nullcline (dx/dt = 0).
    """
    import contourpy

    from engine.network import Population

    cls = _model(model_name)
    pair = phase_plane_variables(model_name, params)
    if pair is None:
        raise LabInputError("model", phase_plane_note(model_name, params))
    i = _number(current, "nullcline_current")
    xv, yv = pair
    (x0, x1), (y0, y1) = (tuple(map(float, x_range)), tuple(map(float, y_range)))
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"empty phase-plane range: {x_range}, {y_range}")
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)  # shape (n_y, n_x), as contourpy expects
    pop = Population(cls, gx.size, params or {}, label="grid")
    pop.state[xv][...] = gx.ravel()
    pop.state[yv][...] = gy.ravel()
    h = cls.default_dt * 1e-3  # short enough that the O(h) error is far below a grid cell
    out = pop.step_all(i, dt=h)
    fx = ((pop.state[xv] - gx.ravel()) / h).reshape(gx.shape)
    fy = ((pop.state[yv] - gy.ravel()) / h).reshape(gx.shape)
    bad = ~(np.isfinite(fx) & np.isfinite(fy))
    if cls.output == "spikes":
        bad |= (np.asarray(out) != 0).reshape(gx.shape)
    result = {"variables": pair}
    for key, f in (("x", fx), ("y", fy)):
        z = np.ma.masked_array(np.where(bad, 0.0, f), mask=bad)
        lines = contourpy.contour_generator(xs, ys, z).lines(0.0)
        result[key] = [np.asarray(seg, dtype=np.float64) for seg in lines if len(seg) > 1]
    return result


def _padded(a: np.ndarray, frac: float = 0.15) -> tuple[float, float]:
    lo, hi = float(np.min(a)), float(np.max(a))
    # a resting trajectory is (nearly) a point: give the box a size of its own
    pad = max(frac * (hi - lo), 0.05 * max(abs(lo), abs(hi)), 0.05)
    return lo - pad, hi + pad


def _phase_box(model_name, current, x, y, params=None, grow: float = 2.0, tries: int = 12):
    """Plot box of the phase plane: the trajectory's box, widened until a
    coarse grid finds both nullclines — at rest the trajectory is a point, and
    the nullclines at the chosen current may lie far from it.  A missing
    x-nullcline is first sought by widening y (it is usually a graph y(x)) and
    a missing y-nullcline by widening x, then the other way round, then both,
    keeping the smallest box that works; a nullcline that is nowhere (e.g.
    wholly inside the firing region) leaves the trajectory's box."""
    base = (_padded(x), _padded(y))

    def widen(r, g):
        c, h = 0.5 * (r[0] + r[1]), 0.5 * g * (r[1] - r[0])
        return (c - h, c + h)

    found = []
    for mode in ("natural", "swapped", "both"):
        xr, yr = base
        for _ in range(tries + 1):
            nc = nullclines(model_name, current, xr, yr, n=61, params=params)
            if nc["x"] and nc["y"]:
                found.append((xr, yr))
                break
            missing_x, missing_y = not nc["x"], not nc["y"]
            if mode == "swapped":
                missing_x, missing_y = missing_y, missing_x
            g = grow if mode != "both" else 0.75 * grow  # finer steps when both sides grow
            if mode == "both" or missing_y:
                xr = widen(xr, g)
            if mode == "both" or missing_x:
                yr = widen(yr, g)
        if found and found[-1] == base:
            break
    # the least widened box that shows both (smallest area)
    return min(found, key=lambda b: (b[0][1] - b[0][0]) * (b[1][1] - b[1][0]), default=base)


def run_lab(model_name: str, protocol: str, duration_ms, *, nullcline_current=None,
            params: dict | None = None, **protocol_kw) -> dict:
    """Everything one click of Run shows: the :func:`simulate` result plus
    ``"phase"`` (nullclines over the trajectory's box, or ``None``) and
    ``"phase_note"``."""
    cls = _model(model_name)
    cur = protocol_current(protocol, duration_ms, cls.default_dt, **protocol_kw)
    res = simulate(model_name, cur, params)
    res["phase_note"] = phase_plane_note(model_name, params)
    res["phase"] = None
    if not res["phase_note"]:
        xv, yv = cls.phase_plane
        i = protocol_kw.get("amplitude", 0.0) if nullcline_current is None else nullcline_current
        box = _phase_box(model_name, i, res["states"][xv], res["states"][yv], params)
        res["phase"] = nullclines(model_name, i, *box, params=params)
        res["phase"]["box"] = box
        res["phase"]["current"] = float(i)
    return res


# -- the view ------------------------------------------------------------------------------

# lab defaults for models whose declaration keeps the generic current range:
# Morris-Lecar's "hopf" set starts firing near 89 µA/cm² (its docstring)
_LAB_IMAX = {"MorrisLecarNeuron": 200.0}


def _default_imax(model_name: str) -> float:
    cls = get_model(model_name)
    if cls.registry_name() in _LAB_IMAX:
        return _LAB_IMAX[cls.registry_name()]
    if tuple(cls.current_range) != tuple(NeuronModel.current_range):  # declared by the model
        return float(cls.current_range[1])
    unit = cls.current_unit.lower()
    if "pa" in unit:
        return 1000.0
    if "ua" in unit or "µa" in unit:
        return 20.0
    return 3.0


def _error_text(exc: Exception) -> str:
    # input errors already name their field; engine errors name their parameter
    return str(exc) if isinstance(exc, LabInputError) else f"{type(exc).__name__}: {exc}"


def _joined(segments: list) -> tuple[np.ndarray, np.ndarray]:
    """Contour segments as one (x, y) polyline with NaN breaks between them."""
    if not segments:
        return np.zeros(0), np.zeros(0)
    nan = np.full((1, 2), np.nan)
    xy = np.concatenate([p for seg in segments for p in (seg, nan)][:-1])
    return xy[:, 0], xy[:, 1]


def _broken_at_resets(x: np.ndarray, y: np.ndarray, spike_steps: np.ndarray, stride: int):
    """Trajectory ``(x, y)`` sampled every ``stride`` steps, with a NaN break
    where a spike resets the state (a jump of over a fifth of the x range), so
    the reset is not drawn as a line across the plane.  Spikes that are mere
    threshold crossings of a smooth orbit (FitzHugh-Nagumo) do not jump."""
    k = spike_steps[(spike_steps > 0) & (spike_steps < x.size)]
    jump = np.abs(x[k] - x[k - 1]) > 0.2 * (float(np.ptp(x)) or 1.0)
    xs, ys = x[::stride].astype(np.float64), y[::stride].astype(np.float64)
    cut = np.unique(-(-k[jump] // stride))  # first drawn sample after each reset
    cut = cut[(cut > 0) & (cut < xs.size)]
    return np.insert(xs, cut, np.nan), np.insert(ys, cut, np.nan)


def _stride(n: int) -> int:
    return max(1, -(-n // MAX_PLOT_POINTS))


class NeuronLab(pn.viewable.Viewer):
    model = param.Selector(default="LapicqueNeuron", objects=[])

    def __init__(self, **params):
        names = model_names()
        self.param.model.objects = names
        super().__init__(**params)
        f = FIELDS
        self.model_select = pmui.Select(label=f["model"], options=names, value=self.model, width=260)
        self.protocol = pmui.RadioButtonGroup(label=f["protocol"], options=list(PROTOCOLS), value="step")
        self.duration = pmui.FloatInput(label=f["duration_ms"], value=300.0, width=130)
        self.amp = pmui.FloatInput(label=f["amplitude"], value=1.5, width=170)
        self.onset = pmui.FloatInput(label=f["onset_ms"], value=50.0, width=130)
        self.offset = pmui.FloatInput(label=f["offset_ms"], value=250.0, width=130)
        self.ramp_start = pmui.FloatInput(label=f["start"], value=0.0, width=120)
        self.ramp_end = pmui.FloatInput(label=f["end"], value=3.0, width=120)
        self.noise_mean = pmui.FloatInput(label=f["mean"], value=1.0, width=140)
        self.noise_sd = pmui.FloatInput(label=f["sd"], value=0.5, width=140)
        self.seed = pmui.IntInput(label=f["seed"], value=0, width=110)
        self.width = pmui.FloatInput(label=f["width_ms"], value=5.0, width=140)
        self.period = pmui.FloatInput(label=f["period_ms"], value=50.0, width=140)
        self.count = pmui.IntInput(label=f["count"], value=5, width=110)
        self.nc_current = pmui.FloatInput(label=f["nullcline_current"], value=1.5, width=150)
        self.imax = pmui.FloatInput(label=f["i_max"], value=3.0, width=160)
        self.run_btn = pmui.Button(label="Run", icon="play_arrow", color="success")
        self.fi_btn = pmui.Button(label="F-I curve", icon="show_chart")
        self.msg = pmui.Alert(object="", severity="error", visible=False, sizing_mode="stretch_width")
        self.info = pn.pane.Markdown("", sizing_mode="stretch_width")
        # figures stay hidden until there is something to draw (no empty axes)
        self.trace_pane = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=300, visible=False)
        self.phase_pane = pn.pane.HoloViews(None, width=460, height=460, visible=False)
        self.phase_note = pn.pane.Markdown("", width=440, visible=False)
        self.fi_pane = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=280, visible=False)
        self.hint = pn.pane.Markdown("Choose a model and a current protocol, then **Run** (v(t), state "
                                     "variables, phase plane) or **F-I curve**.", sizing_mode="stretch_width")
        self._protocol_widgets = {
            "step": [self.amp, self.onset, self.offset],
            "ramp": [self.ramp_start, self.ramp_end, self.onset, self.offset],
            "noise": [self.noise_mean, self.noise_sd, self.seed, self.onset, self.offset],
            "pulses": [self.amp, self.width, self.period, self.count, self.onset],
        }
        self.protocol_row = pn.FlexBox(*self._all_protocol_widgets(), self.nc_current)
        self.model_select.param.watch(self._model_changed, "value")
        self.protocol.param.watch(self._protocol_changed, "value")
        self.amp.param.watch(lambda e: setattr(self.nc_current, "value", e.new), "value")
        self.run_btn.on_click(self._run_clicked)
        self.fi_btn.on_click(self._fi_clicked)
        self._model_changed(None)
        self._protocol_changed(None)

    def _all_protocol_widgets(self):
        seen = []
        for ws in self._protocol_widgets.values():
            seen += [w for w in ws if w not in seen]
        return seen

    def _model_changed(self, event) -> None:
        name = self.model_select.value
        cls = get_model(name)
        self.imax.value = _default_imax(name)
        hi = self.imax.value
        self.amp.value = round(0.5 * hi, 3)
        self.ramp_start.value, self.ramp_end.value = 0.0, hi
        self.noise_mean.value, self.noise_sd.value = round(0.5 * hi, 3), round(0.25 * hi, 3)
        unit = cls.current_unit
        self.amp.label = f"amplitude ({unit})"
        self.nc_current.label = f"nullclines at I ({unit})"
        self.nc_current.visible = phase_plane_variables(name) is not None
        eq = cls.equations().split("\n\n")
        self.info.object = (f"**{name}** ({cls.category}, dt = {cls.default_dt:g} ms) — {eq[0]}\n\n"
                            f"<small>{cls.reference}</small>")

    def _protocol_changed(self, event) -> None:
        shown = self._protocol_widgets[self.protocol.value]
        for w in self._all_protocol_widgets():
            w.visible = w in shown

    def _inputs(self) -> tuple:
        kw = {"amplitude": self.amp.value, "onset_ms": self.onset.value, "offset_ms": self.offset.value,
              "start": self.ramp_start.value, "end": self.ramp_end.value, "mean": self.noise_mean.value,
              "sd": self.noise_sd.value, "seed": self.seed.value, "width_ms": self.width.value,
              "period_ms": self.period.value, "count": self.count.value}
        nc = self.nc_current.value if self.nc_current.visible else None
        return (self.model_select.value, self.protocol.value, self.duration.value), \
            dict(kw, nullcline_current=nc)

    def _fail(self, exc: Exception) -> None:
        self.msg.object, self.msg.visible = _error_text(exc), True

    # the simulations run in a worker thread: the page stays responsive and the
    # button and figures show a spinner meanwhile
    async def _run_clicked(self, event) -> None:
        self.run_btn.loading = self.trace_pane.loading = True
        try:
            args, kw = self._inputs()
            self._show_run(await asyncio.to_thread(run_lab, *args, **kw))
        except Exception as exc:  # noqa: BLE001 - shown in the page, not as a traceback
            self._fail(exc)
        finally:
            self.run_btn.loading = self.trace_pane.loading = False

    async def _fi_clicked(self, event) -> None:
        self.fi_btn.loading = True
        try:
            self._show_fi(await asyncio.to_thread(fi_curve, self.model_select.value, self.imax.value))
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
        finally:
            self.fi_btn.loading = False

    def run(self) -> None:
        """Synchronous version (scripts, tests)."""
        try:
            args, kw = self._inputs()
            result = run_lab(*args, **kw)
        except Exception as exc:  # noqa: BLE001 - shown in the page
            self._fail(exc)
            return
        self._show_run(result)

    def _show_run(self, res: dict) -> None:
        self.msg.visible = False
        name = self.model_select.value
        cls = get_model(name)
        s = _stride(res["t"].size)
        t = res["t"][::s]
        spikes = res["spike_times"]
        time_dim = hv.Dimension("time", label="time", unit="s")
        vv = cls.voltage_variable
        plots = []
        # step counters (refractory...) are bookkeeping, not dynamics: drawn only if they move
        order = [vv] + [k for k in res["states"] if k != vv
                        and not (cls.state_units.get(k) == "steps" and np.ptp(res["states"][k]) == 0)]
        for var in order:
            y = res["states"][var]
            unit = cls.state_units.get(var, "")
            dim = hv.Dimension(var, unit=unit or None)
            curve = hv.Curve((t, y[::s]), time_dim, dim).opts(
                responsive=True, height=240 if var == vv else 130, tools=["hover"], color="#1f77b4",
                line_join="round",  # miter joins of dense, jittery samples draw stray ticks
                title=(f"{name} — {self.protocol.value}: {len(spikes)} spikes"
                       + (f" (every {s}th sample drawn)" if s > 1 else "")) if var == vv else "",
                xaxis=None)
            if var == vv and len(spikes):
                span = float(np.ptp(y)) or 1.0
                curve = curve * hv.Spikes(spikes, time_dim).opts(
                    color="#d62728", spike_length=0.08 * span, position=float(np.max(y)))
            plots.append(curve)
        cur = hv.Curve((t, res["current"][::s]), time_dim, hv.Dimension("I", label="I", unit=cls.current_unit))
        plots.append(cur.opts(responsive=True, height=140, color="#2ca02c", tools=["hover"], line_join="round",
                              title="injected current", interpolation="steps-post"))
        # a pane made with None must be visible before its first figure arrives
        # (else Panel builds the Bokeh model with a stray 'design' attribute)
        self.trace_pane.visible, self.hint.visible = True, False
        self.trace_pane.object = hv.Layout(plots).cols(1).opts(shared_axes=True)
        self._show_phase(res, cls)

    def _show_phase(self, res: dict, cls) -> None:
        if res["phase"] is None:
            self.phase_note.object = f"**Phase plane** — {res['phase_note']}"
            self.phase_note.visible, self.phase_pane.visible = True, False
            return
        ph = res["phase"]
        xv, yv = ph["variables"]
        x, y = res["states"][xv], res["states"][yv]
        s = _stride(x.size)
        xd = hv.Dimension(xv, unit=cls.state_units.get(xv) or None)
        yd = hv.Dimension(yv, unit=cls.state_units.get(yv) or None)
        # Curves drawn in point order (NaN rows break segments) rather than
        # Paths: Bokeh gives Curves a legend entry
        traj = hv.Curve(_broken_at_resets(x, y, res["spike_steps"], s), xd, yd, label="trajectory").opts(
            color="#1f77b4", line_width=1.5, line_join="round")
        xn = hv.Curve(_joined(ph["x"]), xd, yd, label=f"d{xv}/dt = 0").opts(color="#ff7f0e", line_width=2.5,
                                                                             line_dash="dashed")
        yn = hv.Curve(_joined(ph["y"]), xd, yd, label=f"d{yv}/dt = 0").opts(color="#2ca02c", line_width=2.5,
                                                                             line_dash="dashed")
        start = hv.Scatter([(x[0], y[0])], xd, yd, label="start").opts(color="black", size=7)
        (x0, x1), (y0, y1) = ph["box"]
        self.phase_note.visible, self.phase_pane.visible = False, True
        self.phase_pane.object = (xn * yn * traj * start).opts(
            hv.opts.Overlay(title=f"Phase plane, nullclines at I = {ph['current']:g}", width=460, height=460,
                            legend_position="bottom", legend_cols=4, xlim=(x0, x1), ylim=(y0, y1)),
            hv.opts.Curve(tools=["hover"]))

    def run_fi(self) -> None:
        """Synchronous version (scripts, tests)."""
        try:
            result = fi_curve(self.model_select.value, self.imax.value)
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
            return
        self._show_fi(result)

    def _show_fi(self, result) -> None:
        self.msg.visible = False
        i, r = result
        cls = get_model(self.model_select.value)
        self.fi_pane.visible = True
        self.fi_pane.object = (hv.Curve((i, r), f"current ({cls.current_unit})", "rate (Hz)")
                               * hv.Scatter((i, r))).opts(
            hv.opts.Curve(responsive=True, height=280, title=f"F-I curve of {self.model_select.value}"),
            hv.opts.Scatter(size=6, tools=["hover"]))

    def __panel__(self):
        return pn.Column(
            pn.FlexBox(self.model_select, self.duration, self.protocol, self.imax),
            self.protocol_row,
            pn.Row(self.run_btn, self.fi_btn), self.msg, self.info, self.hint,
            pn.Row(pn.Column(self.trace_pane, sizing_mode="stretch_width"),
                   pn.Column(self.phase_pane, self.phase_note), sizing_mode="stretch_width"),
            self.fi_pane,
            sizing_mode="stretch_width")
