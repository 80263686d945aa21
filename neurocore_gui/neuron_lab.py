"""Neuron lab (teaching): one neuron of any registered model under a step
current — v(t) — and its F-I curve.  Every number comes from the engine
(a ``Network`` of one population run with ``engine.backends.compile``)."""

from __future__ import annotations

import asyncio

import holoviews as hv
import numpy as np
import panel as pn
import panel_material_ui as pmui
import param

from engine.models import get_model, model_names

__all__ = ["NeuronLab", "simulate_step", "fi_curve"]


def _dt_s(model_name: str) -> float:
    return get_model(model_name).default_dt * 1e-3


def simulate_step(model_name: str, amplitude: float, onset_ms: float, offset_ms: float,
                  duration_ms: float, params: dict | None = None):
    """``(t_s, v, spike_times_s)`` of one neuron under a step current."""
    from engine.backends import compile as compile_network
    from engine.network import Network, Population, StateMonitor, StepCurrent

    dt = _dt_s(model_name)
    n_steps = max(1, int(round(duration_ms * 1e-3 / dt)))
    pop = Population(model_name, 1, params or {}, label="neuron")
    on, off = int(round(onset_ms * 1e-3 / dt)), int(round(offset_ms * 1e-3 / dt))
    mon = StateMonitor(pop, [pop.model.voltage_variable], record=[0], label="v")
    net = Network(pop, StepCurrent(on, max(on, off), amplitude, target=pop), mon)
    chunk = compile_network(net, "numpy", dt).advance(n_steps)
    v = chunk.traces["v"][pop.model.voltage_variable][:, 0]
    steps, _ = chunk.spikes["neuron"]
    return chunk.t, v, steps * dt


def fi_curve(model_name: str, i_max: float, n_points: int = 25, duration_ms: float = 500.0,
             params: dict | None = None):
    """``(currents, rates_hz)``: one neuron per current, constant input, rate over the run."""
    from engine.backends import compile as compile_network
    from engine.network import Network, Population, TimedArray

    dt = _dt_s(model_name)
    n_steps = max(1, int(round(duration_ms * 1e-3 / dt)))
    currents = np.linspace(0.0, i_max, n_points)
    pop = Population(model_name, n_points, params or {}, label="neurons")
    net = Network(pop, TimedArray(currents[None, :], dt=dt, target=pop))
    chunk = compile_network(net, "numpy", dt).advance(n_steps)
    _, ids = chunk.spikes["neurons"]
    counts = np.bincount(ids, minlength=n_points)
    return currents, counts / (n_steps * dt)


def _default_imax(model_name: str) -> float:
    unit = get_model(model_name).current_unit.lower()
    if "pa" in unit:
        return 1000.0
    if "ua" in unit or "µa" in unit:
        return 20.0
    return 3.0


class NeuronLab(pn.viewable.Viewer):
    model = param.Selector(default="LapicqueNeuron", objects=[])

    def __init__(self, **params):
        names = model_names()
        self.param.model.objects = names
        super().__init__(**params)
        self.model_select = pmui.Select(label="Model", options=names, value=self.model, width=260)
        self.amp = pmui.FloatInput(label="Step amplitude", value=1.5, width=160)
        self.onset = pmui.FloatInput(label="onset (ms)", value=50.0, width=120)
        self.offset = pmui.FloatInput(label="offset (ms)", value=250.0, width=120)
        self.duration = pmui.FloatInput(label="duration (ms)", value=300.0, width=130)
        self.imax = pmui.FloatInput(label="F-I: max current", value=3.0, width=160)
        self.run_btn = pmui.Button(label="Run", icon="play_arrow", color="success")
        self.fi_btn = pmui.Button(label="F-I curve", icon="show_chart")
        self.msg = pmui.Alert(object="", severity="error", visible=False, sizing_mode="stretch_width")
        self.info = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.v_pane = pn.pane.HoloViews(hv.Curve([], "time (s)", "v"), sizing_mode="stretch_width",
                                        min_height=280)
        self.fi_pane = pn.pane.HoloViews(hv.Curve([], "current", "rate (Hz)"), sizing_mode="stretch_width",
                                         min_height=280)
        self.model_select.param.watch(self._model_changed, "value")
        self.run_btn.on_click(self._run_clicked)
        self.fi_btn.on_click(self._fi_clicked)
        self._model_changed(None)

    def _model_changed(self, event) -> None:
        name = self.model_select.value
        cls = get_model(name)
        self.imax.value = _default_imax(name)
        self.amp.value = round(0.5 * self.imax.value, 3)
        self.amp.label = f"Step amplitude ({cls.current_unit})"
        eq = cls.equations().split("\n\n")
        self.info.object = (f"**{name}** ({cls.category}) — {eq[0]}\n\n"
                            f"<small>{cls.reference}</small>")

    # the simulations run in a worker thread: the page stays responsive and the
    # button shows a spinner meanwhile
    async def _run_clicked(self, event) -> None:
        self.run_btn.loading = True
        try:
            args = (self.model_select.value, float(self.amp.value), float(self.onset.value),
                    float(self.offset.value), float(self.duration.value))
            self._show_step(await asyncio.to_thread(simulate_step, *args))
        except Exception as exc:  # noqa: BLE001 - shown in the page
            self.msg.object, self.msg.visible = f"{type(exc).__name__}: {exc}", True
        finally:
            self.run_btn.loading = False

    async def _fi_clicked(self, event) -> None:
        self.fi_btn.loading = True
        try:
            self._show_fi(await asyncio.to_thread(fi_curve, self.model_select.value, float(self.imax.value)))
        except Exception as exc:  # noqa: BLE001
            self.msg.object, self.msg.visible = f"{type(exc).__name__}: {exc}", True
        finally:
            self.fi_btn.loading = False

    def run(self) -> None:
        """Synchronous version (scripts, tests)."""
        self.msg.visible = False
        try:
            result = simulate_step(self.model_select.value, float(self.amp.value), float(self.onset.value),
                                   float(self.offset.value), float(self.duration.value))
        except Exception as exc:  # noqa: BLE001 - shown in the page
            self.msg.object, self.msg.visible = f"{type(exc).__name__}: {exc}", True
            return
        self._show_step(result)

    def _show_step(self, result) -> None:
        self.msg.visible = False
        t, v, spikes = result
        cls = get_model(self.model_select.value)
        unit = cls.state_units.get(cls.voltage_variable, "")
        curve = hv.Curve((t, v), "time (s)", (cls.voltage_variable, f"{cls.voltage_variable} {unit}".strip()))
        marks = hv.Spikes(spikes, "time (s)").opts(color="#d62728", spike_length=0.08 * (np.ptp(v) or 1),
                                                   position=float(np.max(v)))
        self.v_pane.object = (curve * marks).opts(
            hv.opts.Curve(responsive=True, height=280, tools=["hover"],
                          title=f"{self.model_select.value}: {len(spikes)} spikes"))

    def run_fi(self) -> None:
        """Synchronous version (scripts, tests)."""
        try:
            result = fi_curve(self.model_select.value, float(self.imax.value))
        except Exception as exc:  # noqa: BLE001
            self.msg.object, self.msg.visible = f"{type(exc).__name__}: {exc}", True
            return
        self._show_fi(result)

    def _show_fi(self, result) -> None:
        self.msg.visible = False
        i, r = result
        cls = get_model(self.model_select.value)
        self.fi_pane.object = (hv.Curve((i, r), f"current ({cls.current_unit})", "rate (Hz)")
                               * hv.Scatter((i, r))).opts(
            hv.opts.Curve(responsive=True, height=280, title=f"F-I curve of {self.model_select.value}"),
            hv.opts.Scatter(size=6, tools=["hover"]))

    def __panel__(self):
        return pn.Column(
            pn.FlexBox(self.model_select, self.amp, self.onset, self.offset, self.duration, self.imax),
            pn.Row(self.run_btn, self.fi_btn), self.msg, self.info, self.v_pane, self.fi_pane,
            sizing_mode="stretch_width")
