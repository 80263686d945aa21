"""Training and conversion lab (SPEC 3, issue 14): surrogate gradients, training
the session's network through ``Network.to_torch``, ANN-to-SNN conversion.

Three parts, each a thin view over an engine module:

* **Surrogates** (:mod:`engine.training.surrogate`): the Heaviside forward and
  the surrogate gradient over ``x = v - threshold``, with the shape parameter
  as a slider, all six on demand; both autograd paths are run on the same
  points and their largest difference shown, with each path's time per call.
* **Train the network** (:mod:`engine.training.tasks`): the store's network,
  built as a ``TorchNetwork``, trained on a built-in task in a worker thread
  (live loss and accuracy, pause, stop); "write weights back" puts the learned
  CSR weights into the store's document with one ``store.replace``.
* **ANN -> SNN conversion** (:mod:`engine.conversion.curves`): digits ANNs
  trained, converted and measured per T in a worker thread, cached per
  configuration in this lab (one lab per session).

Worker threads never touch widgets: they write into a :class:`Job` (under its
lock) and a periodic callback on the page's thread (:meth:`TrainingLab.poll`)
draws what is new.  :class:`SurrogatePicker` is the small network-level /
per-population surrogate choice the builder can place in its sidebar.
"""

from __future__ import annotations

import copy
import math
import threading
import time

import holoviews as hv
import numpy as np
import panel as pn
import panel_material_ui as pmui

from engine.training.spec import SHAPE_PARAMS, SURROGATE_NAMES, SURROGATE_PATHS, normalize_training

__all__ = ["TrainingLab", "SurrogatePicker", "Job", "surrogate_curves", "SLIDER_RANGES",
           "weights_of_document", "write_back_document"]

#: slider range (start, end, step) of each surrogate's shape parameter
SLIDER_RANGES = {"fast_sigmoid": (1.0, 100.0, 1.0), "superspike": (1.0, 50.0, 0.5),
                 "atan_surrogate": (0.25, 10.0, 0.25), "sigmoid_surrogate": (0.5, 25.0, 0.5),
                 "triangular": (0.1, 3.0, 0.05)}
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
X_RANGE = (-2.0, 2.0)
N_POINTS = 801
POLL_MS = 250
#: torch threads per worker: on a shared machine, spin-waiting intra-op threads
#: oversubscribe the cores (measured 3-16x slower with 2 threads at load 10)
WORKER_THREADS = 1


# -- surrogates (pure) -------------------------------------------------------------------
def _time_per_call(fn, x, reps: int = 15) -> float:
    """Median seconds of one forward + backward call of ``fn`` on ``x``."""
    import torch

    times = []
    for _ in range(reps):
        xi = x.detach().requires_grad_(True)
        t0 = time.perf_counter()
        fn(xi).backward(torch.ones_like(xi))
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def surrogate_curves(name: str, shape: float | None = None, *, all_six: bool = False,
                     x_range=X_RANGE, n: int = N_POINTS, timing: bool = True) -> dict:
    """Forward and gradient of surrogate ``name`` over ``x`` on both paths.

    Returns ``x``, ``forward``, ``grad`` (from autograd on the custom-op path),
    ``max_diff`` (largest |difference| of forward and gradient between the
    two paths), ``time_s`` per path (median of one forward+backward call on
    10 000 points) and, with ``all_six``, ``others``: name -> gradient of
    every surrogate (this one with ``shape``, the rest at their defaults)."""
    import torch

    from engine.training.surrogate import get_surrogate, surrogate_derivative

    if name not in SHAPE_PARAMS:
        raise ValueError(f"surrogate: unknown surrogate {name!r}; choose one of {', '.join(SURROGATE_NAMES)}")
    pname, default = SHAPE_PARAMS[name]
    kw = {} if pname is None else {pname: default if shape is None else float(shape)}
    x = torch.linspace(*x_range, n, dtype=torch.float64)
    out = {"x": x.numpy(), "name": name, "params": kw}
    fwd, grads = {}, {}
    fns = {path: get_surrogate(name, path=path, **kw) for path in SURROGATE_PATHS}
    for path, fn in fns.items():
        xi = x.clone().requires_grad_(True)
        y = fn(xi)
        y.backward(torch.ones_like(xi))
        fwd[path], grads[path] = y.detach().numpy(), xi.grad.numpy()
    a, b = SURROGATE_PATHS
    out["forward"], out["grad"] = fwd[a], grads[a]
    out["max_diff"] = float(max(np.max(np.abs(fwd[a] - fwd[b])), np.max(np.abs(grads[a] - grads[b]))))
    if timing:
        big = torch.linspace(-3, 3, 10_000, dtype=torch.float32)
        out["time_s"] = {path: _time_per_call(fn, big) for path, fn in fns.items()}
    if all_six:
        others = {}
        for other in SURROGATE_NAMES:
            p = kw.get(SHAPE_PARAMS[other][0]) if other == name else None
            others[other] = surrogate_derivative(other, x, p).numpy()
        out["others"] = others
    return out


# -- weights of a document ----------------------------------------------------------------
def weights_of_document(doc: dict) -> dict:
    """Projection label (or ``source->target``) -> its weights as an array
    (from the document's ``csr`` when present, else the engine's build)."""
    out = {}
    need_build = any("csr" not in p for p in doc.get("projections", []))
    net = None
    if need_build:
        from engine.network import Network

        net = Network.from_dict(copy.deepcopy(doc))
    for i, p in enumerate(doc.get("projections", [])):
        key = p.get("label") or f"{p['source']}->{p['target']}"
        if "csr" in p:
            out[key] = np.asarray(p["csr"]["data"], dtype=float)
        else:
            out[key] = np.array(net.projections[i].data, dtype=float)
    return out


def write_back_document(doc: dict, network) -> dict:
    """A copy of ``doc`` whose projections carry ``network``'s CSR arrays
    (the network ``doc`` was built from, after ``sync_to_network``); every
    other entry (meta, layout, training, parameters) is kept."""
    new = copy.deepcopy(doc)
    projs = new.get("projections", [])
    if len(projs) != len(network.projections):
        raise ValueError("the network's projections changed since training started; train again")
    for entry, proj in zip(projs, network.projections):
        entry["csr"] = {"indptr": proj.indptr.tolist(), "indices": proj.indices.tolist(),
                        "data": [float(v) for v in proj.data]}
    return new


# -- background work -------------------------------------------------------------------------
class Job:
    """A worker thread with stop / pause, progress and a result, read by the
    page's thread under :attr:`lock`."""

    def __init__(self, name: str, target, *args, **kwargs):
        self.name = name
        self.stop_event = threading.Event()
        self.run_event = threading.Event()  # cleared = paused
        self.run_event.set()
        self.lock = threading.Lock()
        self.progress, self.message = 0.0, ""
        self.data: dict = {}
        self.result = self.error = None
        self.cancelled = False
        self.done = threading.Event()
        self._target, self._args, self._kwargs = target, args, kwargs
        self.thread = threading.Thread(target=self._main, name=f"neurocore-{name}", daemon=True)

    def start(self) -> "Job":
        self.thread.start()
        return self

    def _main(self):
        try:
            import torch

            torch.set_num_threads(WORKER_THREADS)
            self.result = self._target(self, *self._args, **self._kwargs)
        except Exception as exc:  # noqa: BLE001 - reported in the page
            from engine.conversion.curves import Cancelled

            if isinstance(exc, Cancelled):
                self.cancelled = True
            else:
                self.error = exc
        finally:
            self.done.set()

    def report(self, fraction: float, message: str, **data) -> None:
        with self.lock:
            self.progress, self.message = float(fraction), message
            self.data.update(data)

    def snapshot(self):
        with self.lock:
            return self.progress, self.message, dict(self.data)

    def should_stop(self) -> bool:
        # a paused job waits here; stop wins over pause
        while not self.run_event.is_set() and not self.stop_event.is_set():
            self.run_event.wait(0.1)
        return self.stop_event.is_set()

    def stop(self) -> None:
        self.stop_event.set()
        self.run_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


def _train_worker(job: Job, module, task_name: str, T: int, epochs: int, lr: float, batch: int, seed: int):
    from engine.training.tasks import make_task, train_network

    job.report(0.0, f"preparing the task ({task_name}, T = {T})")
    task = make_task(task_name, T=T, input_dim=module.input_dim, seed=seed)
    total = epochs

    def cb(rec):
        h = rec.history
        done = rec.epoch + (rec.batch + 1) / rec.n_batches
        msg = (f"epoch {rec.epoch + 1}/{total}, batch {rec.batch + 1}/{rec.n_batches}: loss {rec.loss:.3f}"
               + (f", test accuracy {rec.test_acc:.1f} %" if rec.test_acc is not None else ""))
        job.report(done / total, msg, loss=list(h["loss"]), train_acc=list(h["train_acc"]),
                   test_acc=list(h["test_acc"]), n_batches=rec.n_batches, elapsed_s=rec.elapsed_s)
        return not job.should_stop()

    return train_network(module, task, epochs=epochs, lr=lr, batch_size=batch, seed=seed, callback=cb)


def _convert_worker(job: Job, cache, configs, percentile):
    curves = []
    for i, cfg in enumerate(configs):
        def progress(f, msg, i=i, name=cfg.name):
            job.report((i + f) / len(configs), f"{name}: {msg}")
        curves.append(cache.get_curve(cfg, percentile, progress=progress, should_stop=job.should_stop))
    return curves


# -- the surrogate choice of the network (for the builder) ----------------------------------------
class SurrogatePicker(pn.viewable.Viewer):
    """Network-level surrogate, path and shape parameter, and a per-population
    override, written to the store's document (``"training"`` and a
    population's ``"surrogate"``, see ``engine.training.spec``)."""

    def __init__(self, store, **params):
        super().__init__(**params)
        self.store = store
        self.surrogate = pmui.Select(label="Surrogate", options=list(SURROGATE_NAMES), width=200)
        self.path = pmui.RadioButtonGroup(label="Path", options=list(SURROGATE_PATHS), value="custom_op")
        self.shape = pmui.FloatInput(label="shape parameter", width=150)
        self.population = pmui.Select(label="Override for population", options=[], width=200)
        self.override = pmui.Select(label="Population surrogate", width=200,
                                    options=["(network's)"] + list(SURROGATE_NAMES))
        self.override_shape = pmui.FloatInput(label="its shape parameter", width=150)
        self.msg = pmui.Alert(object="", severity="error", visible=False, sizing_mode="stretch_width")
        self._syncing = False
        self._from_store()
        for w in (self.surrogate, self.path, self.shape):
            w.param.watch(self._network_changed, "value")
        self.population.param.watch(lambda e: self._from_store(), "value")
        for w in (self.override, self.override_shape):
            w.param.watch(self._override_changed, "value")
        store.param.watch(lambda e: self._from_store(), "revision")

    def _from_store(self):
        if self._syncing:
            return
        self._syncing = True
        try:
            doc = self.store.document
            tr = normalize_training(doc.get("training") or {})
            self.surrogate.value, self.path.value = tr["surrogate"], tr["path"]
            self._shape_widget(self.shape, tr["surrogate"], tr["params"])
            labels = [p.get("label", p.get("model")) for p in doc.get("populations", [])]
            self.population.options = labels
            if labels and self.population.value not in labels:
                self.population.value = labels[0]
            entry = next((p for p in doc.get("populations", [])
                          if p.get("label", p.get("model")) == self.population.value), None)
            ov = (entry or {}).get("surrogate")
            self.override.value = ov["name"] if ov else "(network's)"
            self.override.disabled = entry is None
            if ov:
                self._shape_widget(self.override_shape, ov["name"], ov.get("params") or {})
            else:
                self.override_shape.visible = False
        finally:
            self._syncing = False

    @staticmethod
    def _shape_widget(widget, name, params):
        pname, default = SHAPE_PARAMS[name]
        widget.visible = pname is not None
        if pname is not None:
            widget.label = pname
            widget.value = float(params.get(pname, default))

    def _apply(self, doc):
        try:
            self.store.replace(doc)
        except ValueError as exc:
            self.msg.object, self.msg.visible = str(exc), True
            self._from_store()
            return
        self.msg.visible = False

    def _network_changed(self, event):
        if self._syncing:
            return
        name = self.surrogate.value
        pname, default = SHAPE_PARAMS[name]
        params = {}
        if pname is not None:
            # a new surrogate starts at its reference default
            value = default if event.obj is self.surrogate else self.shape.value
            params = {pname: value}
        doc = self.store.network_dict()
        doc["training"] = {"surrogate": name, "path": self.path.value, "params": params}
        self._apply(doc)

    def _override_changed(self, event):
        if self._syncing or self.population.value is None:
            return
        doc = self.store.network_dict()
        entry = next(p for p in doc["populations"] if p.get("label", p.get("model")) == self.population.value)
        name = self.override.value
        if name == "(network's)":
            entry.pop("surrogate", None)
        else:
            pname, default = SHAPE_PARAMS[name]
            value = default if event.obj is self.override else self.override_shape.value
            entry["surrogate"] = {"name": name, "params": {} if pname is None else {pname: value}}
        self._apply(doc)

    def __panel__(self):
        return pn.Column(pn.pane.Markdown("**Surrogate gradient** (used by `Network.to_torch`)"),
                         pn.FlexBox(self.surrogate, self.path, self.shape),
                         pn.FlexBox(self.population, self.override, self.override_shape), self.msg)


# -- the lab ------------------------------------------------------------------------------------------
def _lr_of(value, name):
    if value is None or isinstance(value, bool) or not math.isfinite(float(value)) or float(value) <= 0:
        raise ValueError(f"{name}: must be a finite number > 0, got {value!r}")
    return float(value)


class TrainingLab(pn.viewable.Viewer):
    """The Training and conversion lab over one session's store."""

    def __init__(self, store, **params):
        super().__init__(**params)
        from engine.conversion.curves import ConversionCache
        from engine.training.tasks import TASKS

        self.store = store
        self._periodic = None
        self.train_job: Job | None = None
        self.convert_job: Job | None = None
        self._module = self._train_net = None
        self._train_revision = None
        self._before_weights = None
        self.cache = ConversionCache()
        self.last_update_s = None

        # -- surrogates --
        self.sg_name = pmui.Select(label="Surrogate", options=list(SURROGATE_NAMES), value="fast_sigmoid",
                                   width=200)
        self.sg_shape = pmui.FloatSlider(label="slope", start=1.0, end=100.0, step=1.0, value=25.0, width=260)
        self.sg_all = pmui.Checkbox(label="overlay all six", value=False)
        self.sg_use = pmui.Button(label="Use for training", icon="check")
        self.sg_info = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._sg_pipe = hv.streams.Pipe(data=None)
        # the gradient's range changes with the surrogate (25 for fast_sigmoid, 1
        # for triangular): framewise, and not linked to the all-six figure's
        # axes (same dimensions), which would keep the widest range
        self._sg_grad_pane = pn.pane.HoloViews(
            hv.DynamicMap(self._sg_grad_view, streams=[self._sg_pipe]).opts(framewise=True),
            sizing_mode="stretch_width", min_height=320, linked_axes=False)
        # one DynamicMap per figure: a DynamicMap of a Layout redraws its axes wrongly on update
        self.sg_plot = pn.Row(
            # the forward pass is the same Heaviside step for every surrogate: drawn once
            pn.pane.HoloViews(self._sg_forward_view(surrogate_curves("straight_through", timing=False)),
                              sizing_mode="stretch_width", min_height=320, linked_axes=False),
            self._sg_grad_pane,
            sizing_mode="stretch_width")
        # a hidden pane gets its figure only once shown: a hidden pane holding a
        # DynamicMap from the start leaves the page's loading overlay up
        self.sg_all_plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=320, visible=False,
                                             linked_axes=False)
        self.sg_name.param.watch(self._sg_name_changed, "value")
        self.sg_shape.param.watch(lambda e: self.update_surrogates(), "value_throttled")
        self.sg_all.param.watch(self._sg_all_changed, "value")
        self.sg_use.on_click(lambda e: self.use_surrogate())

        # -- training --
        self.task = pmui.Select(label="Task", options={v: k for k, v in TASKS.items()}, value="two_pattern",
                                width=420)
        self.epochs = pmui.IntInput(label="epochs", value=10, width=100)
        self.lr = pmui.FloatInput(label="learning rate", value=0.05, width=120)
        self.batch = pmui.IntInput(label="batch", value=32, width=100)
        self.T = pmui.IntInput(label="T (steps)", value=25, width=100)
        self.propose_btn = pmui.Button(label="Propose a network for this task", icon="auto_fix_high")
        self.train_btn = pmui.Button(label="Train", icon="play_arrow", color="success")
        self.pause_btn = pmui.Button(label="Pause", icon="pause", disabled=True)
        self.stop_btn = pmui.Button(label="Stop", icon="stop", disabled=True)
        self.write_btn = pmui.Button(label="Write weights back", icon="save_alt", disabled=True)
        self.train_progress = pmui.LinearProgress(value=0, sizing_mode="stretch_width")
        self.train_status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.train_msg = pmui.Alert(object="", severity="error", visible=False, sizing_mode="stretch_width")
        self.net_summary = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._loss_pipe = hv.streams.Pipe(data={})
        self.loss_plot = pn.Row(
            pn.pane.HoloViews(hv.DynamicMap(self._loss_view, streams=[self._loss_pipe]).opts(framewise=True),
                              sizing_mode="stretch_width", min_height=260),
            pn.pane.HoloViews(hv.DynamicMap(self._acc_view, streams=[self._loss_pipe]).opts(framewise=True),
                              sizing_mode="stretch_width", min_height=260),
            sizing_mode="stretch_width")
        self.hist_pane = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=240, visible=False)
        self.propose_btn.on_click(lambda e: self.propose_network())
        self.train_btn.on_click(lambda e: self.start_training())
        self.pause_btn.on_click(lambda e: self.toggle_pause())
        self.stop_btn.on_click(lambda e: self.stop_training())
        self.write_btn.on_click(lambda e: self.write_back())
        store.param.watch(lambda e: self._show_network(), "revision")

        # -- conversion --
        self.cv_models = pmui.CheckButtonGroup(label="Models", value=["mlp/relu"],
                                               options={"MLP ReLU": "mlp/relu", "MLP QCFS": "mlp/qcfs",
                                                        "CNN ReLU": "cnn/relu", "CNN QCFS": "cnn/qcfs"})
        self.cv_percentile = pmui.FloatInput(label="percentile", value=99.9, start=50.0, end=100.0, step=0.1,
                                             width=120)
        self.cv_epochs = pmui.IntInput(label="ANN epochs", value=30, width=110)
        self.cv_run = pmui.Button(label="Train & convert", icon="play_arrow", color="success")
        self.cv_cancel = pmui.Button(label="Cancel", icon="stop", disabled=True)
        self.cv_progress = pmui.LinearProgress(value=0, sizing_mode="stretch_width")
        self.cv_status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.cv_msg = pmui.Alert(object="", severity="error", visible=False, sizing_mode="stretch_width")
        self.cv_plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=320, visible=False)
        self.cv_table = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.cv_show = pmui.Select(label="Digits of", options=[], width=200, visible=False)
        self.cv_T = pmui.DiscreteSlider(label="T", options=[4, 8, 16, 32, 64, 128], value=16, width=300,
                                        visible=False)
        # one small figure pair per digit (a HoloViews Layout of fixed-size
        # figures collapsed in a pane that is first hidden, then shown)
        self.digits_pane = pn.FlexBox(visible=False, sizing_mode="stretch_width")
        self.cv_run.on_click(lambda e: self.start_conversion())
        self.cv_cancel.on_click(lambda e: self.cancel_conversion())
        self.cv_percentile.param.watch(lambda e: self.show_conversion(), "value")
        self.cv_show.param.watch(lambda e: self.show_digits(), "value")
        self.cv_T.param.watch(lambda e: self.show_digits(), "value")

        self._sg_name_changed(None)
        self._show_network()

    # -- surrogates -----------------------------------------------------------------------------
    def _sg_name_changed(self, event):
        name = self.sg_name.value
        pname, default = SHAPE_PARAMS[name]
        if pname is None:
            self.sg_shape.visible = False
        else:
            start, end, step = SLIDER_RANGES[name]
            self.sg_shape.visible = True
            # programmatic changes do not set value_throttled: no second redraw
            self.sg_shape.param.update(label=pname, start=start, end=end, step=step, value=default)
        self.update_surrogates()

    def update_surrogates(self) -> dict:
        """Recompute and redraw the surrogate figure (also what the slider
        calls); returns the data and records the time it took."""
        t0 = time.perf_counter()
        name = self.sg_name.value
        shape = self.sg_shape.value if SHAPE_PARAMS[name][0] is not None else None
        data = surrogate_curves(name, shape, all_six=self.sg_all.value)
        self._sg_pipe.send(data)
        a, b = SURROGATE_PATHS
        ts = data["time_s"]
        self.last_update_s = time.perf_counter() - t0
        shape_txt = ", ".join(f"{k} = {v:g}" for k, v in data["params"].items()) or "no shape parameter"
        self.sg_info.object = (
            f"**{name}** ({shape_txt}) — forward: fires where x > 0 (x = v − threshold). "
            f"Max |{a} − {b}| over forward and gradient: **{data['max_diff']:.3g}**. "
            f"Time per call (forward + backward, 10 000 points): {a} **{ts[a] * 1e6:.0f} µs**, "
            f"{b} **{ts[b] * 1e6:.0f} µs**. Figure updated in {self.last_update_s * 1e3:.0f} ms.")
        return data

    def _sg_all_changed(self, event):
        self.sg_all_plot.visible = bool(event.new)
        self.update_surrogates()
        if event.new and self.sg_all_plot.object is None:
            self.sg_all_plot.object = hv.DynamicMap(self._sg_all_view, streams=[self._sg_pipe]).opts(
                framewise=True)

    _XD = hv.Dimension("x", label="x = v − threshold")

    _EMPTY = {"x": np.zeros(0), "forward": np.zeros(0), "grad": np.zeros(0), "name": ""}

    def _sg_forward_view(self, data):
        data = data or self._EMPTY
        return hv.Curve((data["x"], data["forward"]), self._XD, "H(x)").opts(
            color="black", line_width=2, interpolation="steps-mid", title="forward: H(x), fires where x > 0",
            height=300, responsive=True, ylim=(-0.1, 1.1), tools=["hover"])

    def _sg_grad_view(self, data):
        data = data or self._EMPTY
        return hv.Curve((data["x"], data["grad"]), self._XD, "dH/dx").opts(
            color="#d62728", line_width=3, line_join="round", title=f"surrogate gradient of {data['name']}",
            height=300, responsive=True, tools=["hover"], framewise=True)

    def _sg_all_view(self, data):
        others = (data or {}).get("others") or {}
        x = data["x"] if others else np.zeros(0)
        # always the same six curves (the DynamicMap keeps its first structure)
        curves = [hv.Curve((x if name in others else [], others.get(name, [])), self._XD, "dH/dx",
                           label=name).opts(color=COLORS[i], line_width=3 if name == data.get("name") else 1.5)
                  for i, name in enumerate(SURROGATE_NAMES)]
        return hv.Overlay(curves).opts(
            hv.opts.Overlay(title="all six surrogate gradients (the chosen one with its shape, the others at "
                                  "their defaults)", height=300, responsive=True, legend_position="top_right",
                            framewise=True),
            hv.opts.Curve(tools=["hover"]))

    def use_surrogate(self) -> None:
        """Store the explored surrogate as the network's training choice."""
        name = self.sg_name.value
        pname = SHAPE_PARAMS[name][0]
        doc = self.store.network_dict()
        doc["training"] = {"surrogate": name, "path": (doc.get("training") or {}).get("path", "custom_op"),
                           "params": {} if pname is None else {pname: float(self.sg_shape.value)}}
        self.store.replace(doc)

    # -- training ----------------------------------------------------------------------------------
    def _show_network(self):
        doc = self.store.document
        pops = doc.get("populations", [])
        if not pops:
            self.net_summary.object = "The session's network is empty: **Propose a network** for the task."
            return
        try:
            w = weights_of_document(doc)
        except Exception as exc:  # noqa: BLE001 - an invalid network is reported, not raised
            self.net_summary.object = f"Network: {exc}"
            return
        tr = normalize_training(doc.get("training") or {})
        shape = ", ".join(f"{k} = {v:g}" for k, v in tr["params"].items())
        rows = " · ".join(f"`{k}`: mean {v.mean():.4f} ({v.size} synapses)" if v.size else f"`{k}`: no synapses"
                          for k, v in w.items())
        self.net_summary.object = ("**Network**: "
                                   + ", ".join(f"{p.get('label', p['model'])} ({p['n']})" for p in pops)
                                   + f" — surrogate {tr['surrogate']} ({shape or 'no shape'}), {tr['path']}"
                                   + (f"<br>weights: {rows}" if rows else ""))

    def propose_network(self) -> None:
        from engine.training.tasks import proposed_network

        doc = proposed_network(self.task.value)
        old = self.store.document.get("meta")
        if old:
            doc["meta"] = {k: v for k, v in old.items() if k != "layout"}
        self.store.replace(doc, name=f"proposed for {self.task.value}")
        self.train_msg.visible = False

    def _fail(self, alert, exc):
        alert.object = str(exc) if isinstance(exc, (ValueError, NotImplementedError)) else f"{type(exc).__name__}: {exc}"
        alert.visible = True

    def start_training(self) -> Job | None:
        """Build the store's network as a TorchNetwork and train it in a
        worker thread.  An unsupported network shows the bridge's reason."""
        import torch

        if self.train_job is not None and not self.train_job.done.is_set():
            return self.train_job
        self.train_msg.visible = False
        try:
            epochs, batch, T = int(self.epochs.value or 0), int(self.batch.value or 0), int(self.T.value or 0)
            for v, n in ((epochs, "epochs"), (batch, "batch"), (T, "T (steps)")):
                if v < 1:
                    raise ValueError(f"{n}: must be a whole number >= 1, got {v}")
            lr = _lr_of(self.lr.value, "learning rate")
            net = self.store.build()
            if not net.projections:
                raise ValueError("the network has no projection to train: add one, or Propose a network")
            module = net.to_torch(dtype=torch.float32)
        except (ValueError, NotImplementedError, TypeError) as exc:
            self._fail(self.train_msg, exc)
            return None
        self._module, self._train_net = module, net
        self._train_revision = self.store.structure_revision
        self._before_weights = np.concatenate([np.asarray(p.data, float) for p in net.projections])
        self.hist_pane.visible = False
        self._loss_pipe.send({})
        self.write_btn.disabled = True
        self.train_job = Job("train", _train_worker, module, self.task.value, T, epochs, lr, batch, 0).start()
        self.train_btn.disabled, self.pause_btn.disabled, self.stop_btn.disabled = True, False, False
        self.pause_btn.label = "Pause"
        self._ensure_polling()
        return self.train_job

    def toggle_pause(self) -> None:
        job = self.train_job
        if job is None or job.done.is_set():
            return
        if job.run_event.is_set():
            job.run_event.clear()
            self.pause_btn.label, self.pause_btn.icon = "Resume", "play_arrow"
        else:
            job.run_event.set()
            self.pause_btn.label, self.pause_btn.icon = "Pause", "pause"

    def stop_training(self) -> None:
        if self.train_job is not None:
            self.train_job.stop()

    def write_back(self) -> bool:
        """Learned weights into the store's document (one ``replace``)."""
        if self._module is None or (self.train_job is not None and not self.train_job.done.is_set()):
            return False
        if self.store.structure_revision != self._train_revision:
            self._fail(self.train_msg, ValueError("the network changed since training started; train again"))
            return False
        try:
            self._module.sync_to_network()
            doc = write_back_document(self.store.document, self._train_net)
            self.store.replace(doc)
        except ValueError as exc:
            self._fail(self.train_msg, exc)
            return False
        self._train_revision = self.store.structure_revision
        self.train_status.object += " — **weights written back to the network.**"
        self.write_btn.disabled = True
        return True

    @staticmethod
    def _epochs_axis(data, n):
        return np.arange(1, n + 1) / max(1, data.get("n_batches") or 1)

    def _loss_view(self, data):
        loss = data.get("loss") or []
        return hv.Curve((self._epochs_axis(data, len(loss)), loss), "epoch", "loss").opts(
            color="#1f77b4", title="training loss (per batch)", height=250, responsive=True, tools=["hover"],
            framewise=True)

    def _acc_view(self, data):
        test = data.get("test_acc") or []
        tr = data.get("train_acc") or []
        ad = hv.Dimension("acc", label="accuracy (%)")
        ep = np.arange(1, len(test) + 1)
        return (hv.Curve((self._epochs_axis(data, len(tr)), tr), "epoch", ad, label="train (batch)").opts(
                    color="#aec7e8")
                * hv.Curve((ep, test), "epoch", ad, label="test (epoch)").opts(color="#2ca02c", line_width=3)
                * hv.Scatter((ep, test), "epoch", ad).opts(color="#2ca02c", size=6)).opts(
            hv.opts.Overlay(title="accuracy", height=250, responsive=True, ylim=(0, 102),
                            legend_position="bottom_right", framewise=True))

    def _finish_training(self):
        job = self.train_job
        self.train_btn.disabled, self.pause_btn.disabled, self.stop_btn.disabled = False, True, True
        self.pause_btn.label, self.pause_btn.icon = "Pause", "pause"
        if job.error is not None:
            self._fail(self.train_msg, job.error)
            self.train_status.object = "Training failed; the network is unchanged."
            return
        _, _, data = job.snapshot()
        rec = job.result
        if rec is None:
            self.train_status.object = "Stopped before the first batch; the network is unchanged."
            return
        test = data.get("test_acc") or []
        stopped = job.stop_event.is_set()
        self.train_status.object = (
            f"{'Stopped' if stopped else 'Done'} after {rec.epoch + 1} epoch(s) in {rec.elapsed_s:.1f} s: "
            f"loss {data['loss'][0]:.3f} → {data['loss'][-1]:.3f}"
            + (f", test accuracy {test[-1]:.1f} %" if test else "")
            + ". **Write weights back** to put them into the network.")
        self.write_btn.disabled = False
        after = np.concatenate([self._module.effective_weight(k).detach().numpy()[
            np.asarray(getattr(self._module, f"mask_{k}").numpy(), bool)] for k in self._module.weights])
        self.hist_pane.visible = True
        self.hist_pane.object = self._histogram(self._before_weights, after)

    @staticmethod
    def _histogram(before, after):
        allw = np.concatenate([before, after]) if before.size + after.size else np.zeros(1)
        lo, hi = float(allw.min()), float(allw.max())
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, 31)
        hb, _ = np.histogram(before, edges)
        ha, _ = np.histogram(after, edges)
        wd = hv.Dimension("w", label="weight")
        return (hv.Histogram((edges, hb), kdims=[wd], vdims=["synapses"], label="before").opts(alpha=0.5, color="#7f7f7f")
                * hv.Histogram((edges, ha), kdims=[wd], vdims=["synapses"], label="after").opts(alpha=0.5, color="#d62728")
                ).opts(title="weights before / after training", height=240, responsive=True,
                       legend_position="top_right")

    # -- conversion ------------------------------------------------------------------------------------
    def _configs(self):
        from engine.conversion.curves import AnnConfig

        epochs = int(self.cv_epochs.value or 0)
        return [AnnConfig(*v.split("/"), epochs=epochs) for v in self.cv_models.value]

    def start_conversion(self) -> Job | None:
        if self.convert_job is not None and not self.convert_job.done.is_set():
            return self.convert_job
        self.cv_msg.visible = False
        try:
            configs = self._configs()
            if not configs:
                raise ValueError("Models: choose at least one model")
            pct = float(self.cv_percentile.value)
            if not 50 <= pct <= 100:
                raise ValueError(f"percentile: must be in [50, 100], got {pct:g}")
        except ValueError as exc:
            self._fail(self.cv_msg, exc)
            return None
        self.cv_run.disabled, self.cv_cancel.disabled = True, False
        self.convert_job = Job("convert", _convert_worker, self.cache, configs, pct).start()
        self._ensure_polling()
        return self.convert_job

    def cancel_conversion(self) -> None:
        if self.convert_job is not None:
            self.convert_job.stop()

    def _finish_conversion(self):
        job = self.convert_job
        self.cv_run.disabled, self.cv_cancel.disabled = False, True
        if job.error is not None:
            self._fail(self.cv_msg, job.error)
        elif job.cancelled:
            self.cv_status.object = "Cancelled (finished models stay cached)."
        else:
            curves = job.result
            self.cv_status.object = " · ".join(
                f"{c.ann.name}: curve in {c.curve_s:.1f} s" for c in curves) + " (conversion + 6 T values, " \
                "360 test images)"
        self.show_conversion()

    def _current_curves(self):
        pct = float(self.cv_percentile.value)
        return [c for c in self.cache.curves() if c.percentile == pct]

    def show_conversion(self) -> None:
        """Draw the accuracy-vs-T figure, table and digits from the cache
        (no computation: instant)."""
        curves = self._current_curves()
        if not curves:
            self.cv_plot.visible = self.digits_pane.visible = self.cv_show.visible = self.cv_T.visible = False
            self.cv_table.object = ""
            return
        td = hv.Dimension("T", label="T (steps)")
        ad = hv.Dimension("acc", label="test accuracy (%)")
        layers = []
        for i, c in enumerate(curves):
            color = COLORS[i % len(COLORS)]
            ts = list(c.Ts)
            acc = [c.snn_acc[t] for t in ts]
            layers += [hv.Curve((ts, acc), td, ad, label=f"{c.ann.name} SNN").opts(color=color, line_width=2),
                       hv.Scatter((ts, acc), td, ad).opts(color=color, size=8, tools=["hover"]),
                       hv.HLine(c.ann_acc).opts(color=color, line_dash="dashed", line_width=1.5)]
        self.cv_plot.visible = True
        self.cv_plot.object = hv.Overlay(layers).opts(
            title=f"ANN → SNN accuracy vs T (percentile {float(self.cv_percentile.value):g}; dashed: ANN)",
            logx=True, xticks=[(t, str(t)) for t in curves[0].Ts], height=320, responsive=True,
            xlim=(0.85 * min(curves[0].Ts), 1.15 * max(curves[0].Ts)),
            legend_position="bottom_right")
        Ts = list(curves[0].Ts)
        head = "| model | ANN | " + " | ".join(f"T={t}" for t in Ts) + " |\n|---|---|" + "---|" * len(Ts) + "\n"
        rows = "".join(f"| {c.ann.name} | {c.ann_acc:.1f} | " + " | ".join(f"{c.snn_acc[t]:.1f}" for t in Ts)
                       + " |\n" for c in curves)
        self.cv_table.object = "**Test accuracy (%) on 360 digits**\n\n" + head + rows
        names = [c.ann.name for c in curves]
        self.cv_show.options = names
        if self.cv_show.value not in names:
            self.cv_show.value = names[0]
        self.cv_show.visible = self.cv_T.visible = True
        self.show_digits()

    def show_digits(self) -> None:
        curve = next((c for c in self._current_curves() if c.ann.name == self.cv_show.value), None)
        if curve is None:
            return
        T = int(self.cv_T.value)
        if T not in curve.Ts:
            return
        k = curve.Ts.index(T)
        panels = []
        for j in range(len(curve.sample_index)):
            img = hv.Image(curve.sample_images[j][::-1], bounds=(0, 0, 8, 8)).opts(
                cmap="gray_r", xaxis=None, yaxis=None, width=110, height=110,
                title=f"digit {int(curve.sample_labels[j])}")
            counts = curve.sample_counts[k, j]
            bars = hv.Bars([(str(c), float(counts[c])) for c in range(10)], "class",
                           hv.Dimension("spikes", label="output spikes")).opts(
                width=230, height=150, color="#1f77b4", ylim=(0, max(1.0, float(curve.sample_counts[-1, j].max()))),
                title=f"T = {T}: votes {int(counts.argmax())}")
            panels.append(pn.Row(pn.pane.HoloViews(img), pn.pane.HoloViews(bars)))
        self.digits_pane.visible = True
        self.digits_pane.objects = panels

    # -- polling (page thread) ------------------------------------------------------------------------
    def _ensure_polling(self):
        doc = pn.state.curdoc
        if self._periodic is None and doc is not None and doc.session_context is not None:
            self._periodic = pn.state.add_periodic_callback(self.poll, period=POLL_MS)

    def poll(self) -> None:
        """Draw what the workers produced since the last call; stops the
        periodic callback once no job is running."""
        job = self.train_job
        if job is not None and not getattr(job, "_finished", False):
            frac, msg, data = job.snapshot()
            self.train_progress.value = int(round(100 * frac))
            if data.get("loss") is not None and len(data["loss"]) != getattr(job, "_drawn", -1):
                job._drawn = len(data["loss"])
                self._loss_pipe.send(data)
            self.train_status.object = msg + (" (paused)" if not job.run_event.is_set() else "")
            if job.done.is_set():
                job._finished = True
                self._finish_training()
        job = self.convert_job
        if job is not None and not getattr(job, "_finished", False):
            frac, msg, _ = job.snapshot()
            self.cv_progress.value = int(round(100 * frac))
            self.cv_status.object = msg
            if job.done.is_set():
                job._finished = True
                self._finish_conversion()
        running = any(j is not None and not getattr(j, "_finished", False)
                      for j in (self.train_job, self.convert_job))
        if not running and self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    def wait(self, timeout: float = 120.0) -> None:
        """Block until the running jobs end, then :meth:`poll` (scripts, tests)."""
        for job in (self.train_job, self.convert_job):
            if job is not None:
                job.wait(timeout)
        self.poll()

    def close(self) -> None:
        """Stop this session's workers (called when the session ends)."""
        for job in (self.train_job, self.convert_job):
            if job is not None:
                job.stop()

    def __panel__(self):
        surrogates = pn.Column(
            pn.pane.Markdown("### Surrogate gradients\nThe spike is the Heaviside step H(x) of x = v − threshold; "
                             "training replaces its derivative by a surrogate."),
            pn.FlexBox(self.sg_name, self.sg_shape, self.sg_all, self.sg_use), self.sg_info, self.sg_plot,
            self.sg_all_plot,
            sizing_mode="stretch_width")
        training = pn.Column(
            pn.pane.Markdown("### Train the network\nThe session's network, built with `Network.to_torch`, "
                             "trained on a built-in task (input: its populations without incoming projections; "
                             "output: those without outgoing ones, one neuron per class)."),
            self.net_summary, pn.FlexBox(self.task, self.propose_btn),
            pn.FlexBox(self.epochs, self.lr, self.batch, self.T),
            pn.FlexBox(self.train_btn, self.pause_btn, self.stop_btn, self.write_btn),
            self.train_progress, self.train_status, self.train_msg, self.loss_plot, self.hist_pane,
            sizing_mode="stretch_width")
        conversion = pn.Column(
            pn.pane.Markdown("### ANN → SNN conversion (scikit-learn digits)\nTrain an ANN, convert it to "
                             "integrate-and-fire neurons (reset by subtraction, percentile threshold balancing) "
                             "and measure the SNN with Poisson input for T = 4 … 128."),
            pn.FlexBox(self.cv_models, self.cv_percentile, self.cv_epochs, self.cv_run, self.cv_cancel),
            self.cv_progress, self.cv_status, self.cv_msg, self.cv_plot, self.cv_table,
            pn.FlexBox(self.cv_show, self.cv_T), self.digits_pane, sizing_mode="stretch_width")
        return pn.Column(surrogates, pn.layout.Divider(), training, pn.layout.Divider(), conversion,
                         sizing_mode="stretch_width")
