"""Live runner: advances a compiled simulator in a background thread.

The worker thread is the same loop as ``Network.run`` (a loop over
``Simulator.advance``), chunked, feeding a bounded queue.  The GUI drains the
queue from a periodic callback.  Everything here is plain Python (no Panel),
so it is unit-tested without a browser.

Commands (start / pause / step / reset / apply) may be called from any thread.
Changes queued with :meth:`Runner.apply` run in the worker between two chunks,
so a parameter change takes effect at the next chunk.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from typing import Any, Callable

__all__ = ["Runner"]


class Runner:
    """Chunked background runner.

    Parameters
    ----------
    make_simulator:
        zero-argument callable returning an object with ``advance(n) -> chunk``
        and ``dt`` (seconds) or passing ``dt`` here.  Called on the first
        :meth:`start`/:meth:`step` after construction or :meth:`reset`.
    dt:
        simulation step in seconds (for the speed throttle and progress).
    chunk_steps:
        initial steps per chunk; adapted so one chunk takes about
        ``target_chunk_s`` of wall time (bounded by ``min_chunk``/``max_chunk``).
    speed:
        simulated seconds per wall-clock second; ``None`` runs flat out.
    on_chunk:
        zero-argument callable run in the worker thread after each chunk is
        queued (the page uses it to draw the chunk at once instead of at its
        next periodic check).  Must be cheap and thread-safe.
    """

    def __init__(self, make_simulator: Callable[[], Any], dt: float, *, chunk_steps: int = 50,
                 min_chunk: int = 1, max_chunk: int = 5000, target_chunk_s: float = 0.03,
                 speed: float | None = None, max_queue: int = 4, adaptive: bool = True,
                 on_chunk: Callable[[], None] | None = None):
        self._make = make_simulator
        self.dt = float(dt)
        self.chunk_steps = int(chunk_steps)
        self.min_chunk = int(min_chunk)
        self.max_chunk = int(max_chunk)
        self.target_chunk_s = float(target_chunk_s)
        self.speed = speed
        self.adaptive = adaptive
        self.on_chunk = on_chunk
        self.queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self.sim = None
        self.error: str | None = None
        self.state = "idle"  # idle | running | paused | error
        self.steps_done = 0  # steps advanced by the worker since the last reset
        self.generation = 0  # bumped by reset; stale chunks are dropped by drain()
        self._pending: list[Callable[[Any], None]] = []
        self._step_request = 0
        self._lock = threading.RLock()  # guards the simulator
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wall0 = None
        self._sim0 = 0

    # -- commands -----------------------------------------------------------
    def _ensure_sim(self) -> bool:
        with self._lock:
            if self.sim is None:
                try:
                    self.sim = self._make()
                except Exception as exc:  # noqa: BLE001 - shown to the user
                    self.error = f"{type(exc).__name__}: {exc}"
                    self.state = "error"
                    return False
                self.error = None
        return True

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="neurocore-runner", daemon=True)
            self._thread.start()

    def start(self) -> bool:
        """Run continuously (compiles on first use).  False if compiling failed."""
        if not self._ensure_sim():
            return False
        with self._cond:
            self.state = "running"
            self._wall0, self._sim0 = time.perf_counter(), self.steps_done
            self._cond.notify_all()
        self._ensure_thread()
        return True

    def pause(self) -> None:
        with self._cond:
            if self.state == "running":
                self.state = "paused"
            self._cond.notify_all()

    def step(self, n: int | None = None) -> bool:
        """Advance exactly ``n`` steps (default: one chunk) then stay paused."""
        if not self._ensure_sim():
            return False
        with self._cond:
            if self.state == "running":
                self.state = "paused"
            elif self.state in ("idle", "error"):
                self.state = "paused"
            self._step_request += int(n or self.chunk_steps)
            self._cond.notify_all()
        self._ensure_thread()
        return True

    def apply(self, fn: Callable[[Any], None]) -> None:
        """Queue ``fn(simulator)`` to run before the next chunk.  When no
        simulator exists yet the change only matters at compile time, so it is
        dropped (the caller has already changed the network description)."""
        with self._lock:
            if self.sim is None:
                return
            if self._thread is None or not self._thread.is_alive():
                fn(self.sim)
                return
        with self._cond:
            self._pending.append(fn)
            self._cond.notify_all()

    def reset(self) -> None:
        """Stop, drop the simulator (the next start recompiles from the current
        network) and clear the queue."""
        self.stop()
        with self._lock:
            self.sim = None
        with self._cond:
            self.generation += 1
            self.steps_done = 0
            self._step_request = 0
            self._pending.clear()
            self.state = "idle"
            self.error = None
        self._clear_queue()

    def stop(self) -> None:
        """End the worker thread (used on reset and session destruction)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._clear_queue()
        t = self._thread
        if t is not None and t.is_alive() and t is not threading.current_thread():
            t.join(timeout=5)
        self._thread = None
        if self.state == "running":
            self.state = "paused"

    close = stop

    def drain(self, max_items: int | None = None) -> list:
        """All chunks waiting in the queue (current generation only)."""
        out = []
        while max_items is None or len(out) < max_items:
            try:
                gen, chunk = self.queue.get_nowait()
            except queue.Empty:
                break
            if gen == self.generation:
                out.append(chunk)
        return out

    @property
    def t(self) -> float:
        return self.steps_done * self.dt

    # -- worker ---------------------------------------------------------------
    def _clear_queue(self) -> None:
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._stop.is_set() and not (
                        self.state == "running" or self._step_request > 0 or self._pending):
                    self._cond.wait(0.5)
                if self._stop.is_set():
                    return
                pending, self._pending = self._pending, []
                if self._step_request > 0:
                    n = min(self._step_request, self.max_chunk)
                    self._step_request -= n
                elif self.state == "running":
                    n = self.chunk_steps
                else:
                    n = 0
                gen = self.generation
            try:
                with self._lock:
                    for fn in pending:
                        fn(self.sim)
                    if n == 0:
                        continue
                    t0 = time.perf_counter()
                    chunk = self.sim.advance(n)
                    elapsed = time.perf_counter() - t0
            except Exception as exc:  # noqa: BLE001 - reported in the page
                with self._cond:
                    self.error = f"{type(exc).__name__}: {exc}"
                    self.state = "error"
                    self._step_request = 0
                traceback.print_exc()
                return
            self.steps_done += n
            if self.adaptive and elapsed > 0 and self._step_request == 0:
                ideal = n * self.target_chunk_s / elapsed
                self.chunk_steps = int(max(self.min_chunk, min(self.max_chunk, 0.5 * n + 0.5 * ideal)))
            queued = False
            while not self._stop.is_set():
                try:
                    self.queue.put((gen, chunk), timeout=0.1)
                    queued = True
                    break
                except queue.Full:
                    continue
            if queued and self.on_chunk is not None:
                try:
                    self.on_chunk()
                except Exception:  # noqa: BLE001 - a closed page must not stop the run
                    traceback.print_exc()
            self._throttle()

    def _throttle(self) -> None:
        speed = self.speed
        if not speed or self.state != "running" or self._wall0 is None:
            return
        sim_elapsed = (self.steps_done - self._sim0) * self.dt
        wall_due = sim_elapsed / speed
        delay = wall_due - (time.perf_counter() - self._wall0)
        if delay > 0:
            # a queued change (or pause/stop) ends the wait: the chunk that
            # shows the change starts at once instead of after the pause
            with self._cond:
                self._cond.wait_for(lambda: self._stop.is_set() or bool(self._pending)
                                    or self.state != "running", timeout=min(delay, 0.5))

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self._wall0, self._sim0 = time.perf_counter(), self.steps_done
        if speed:
            # keep chunks short (20 ms of wall time): a parameter change waits
            # for the queued-ahead chunks, so this bounds the change's latency
            self.max_chunk = max(self.min_chunk, int(round(speed * 0.02 / self.dt)) or 1)
        else:
            self.max_chunk = 5000
