"""Figures of the Training and conversion lab (issue 14), measured through the
lab's own view-model (no browser):

* surrogate figure update after a slider change (ms, median of 20 changes,
  the lab rendered into a Bokeh document), with and without all six shown;
* the proposed two-pattern network: time until the test accuracy first
  reaches 95 %, and the accuracy after the lab's default 10 epochs;
* digits ANN -> SNN: for each model (MLP/CNN x ReLU/QCFS, 30 epochs) the
  time of the conversion curve after the ANN is trained (convert + six T
  values on the 360 test images) and the accuracy-vs-T table the page shows.

Prints the machine's load average beside the numbers (the machine is shared).
Run:  .venv/bin/python bench/training_lab.py [--quick]   (--quick: MLP ReLU only)
"""
from __future__ import annotations

import os
import sys
import time

import holoviews as hv
import numpy as np
import panel as pn
from bokeh.document import Document

hv.extension("bokeh", logo=False)

from neurocore_gui.labs.training import TrainingLab  # noqa: E402
from neurocore_gui.store import SessionStore  # noqa: E402


def main(quick: bool = False) -> None:
    print(f"load average before: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} CPUs")
    lab = TrainingLab(store=SessionStore())
    # rendered into a Bokeh document, so an update includes the figure models' changes
    doc = Document()
    doc.add_root(pn.panel(lab).get_root(doc))
    for all_six in (False, True):
        lab.sg_all.value = all_six
        times = []
        for i in range(20):
            lab.sg_name.value = ["fast_sigmoid", "atan_surrogate", "triangular", "sigmoid_surrogate"][i % 4]
            lab.sg_shape.value = float(lab.sg_shape.start + (i % 5) * lab.sg_shape.step)
            lab.update_surrogates()
            times.append(lab.last_update_s)
        print(f"surrogate figure update after a slider change{' (all six shown)' if all_six else ''}: median "
              f"{np.median(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms (target <= 100 ms)")

    lab.propose_network()
    t0 = time.perf_counter()
    job = lab.start_training()
    reached = None
    while not job.done.is_set():
        acc = job.snapshot()[2].get("test_acc") or []
        if reached is None and acc and acc[-1] >= 95:
            reached = time.perf_counter() - t0
        time.sleep(0.02)
    lab.poll()
    data = job.snapshot()[2]
    acc = data["test_acc"]
    if reached is None and acc and acc[-1] >= 95:
        reached = time.perf_counter() - t0
    first = next((i + 1 for i, a in enumerate(acc) if a >= 95), None)
    print(f"two-pattern (proposed network, T=25, batch 32, lr 0.05): >= 95 % test accuracy after epoch {first}, "
          f"{reached:.1f} s; {len(acc)} epochs in {data['elapsed_s']:.1f} s, final {acc[-1]:.1f} %, "
          f"loss {data['loss'][0]:.3f} -> {data['loss'][-1]:.3f} (target: >= 95 % in < 60 s)")

    lab.cv_models.value = ["mlp/relu"] if quick else ["mlp/relu", "mlp/qcfs", "cnn/relu", "cnn/qcfs"]
    lab.cv_epochs.value = 30
    t0 = time.perf_counter()
    job = lab.start_conversion()
    job.wait()
    lab.poll()
    print(f"conversion job: {time.perf_counter() - t0:.1f} s in all (ANN training included)")
    for c in job.result:
        trained = lab.cache.ann(c.ann)
        print(f"  {c.ann.name}: ANN trained in {trained.train_s:.1f} s; curve (convert {c.convert_s:.2f} s + 6 T, "
              f"{c.n_test} images) {c.curve_s:.2f} s (target <= 10 s)")
    print(lab.cv_table.object)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
