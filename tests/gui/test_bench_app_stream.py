"""The page-load bench's own logic without a browser: which interpreter runs
the nengo-gui peer, the CPU counter it reports, and its refusals."""

from __future__ import annotations

import os
import sys
import time

import pytest

from bench import app_stream


def test_nengo_interpreter_given_wins_then_the_environment(monkeypatch):
    monkeypatch.setenv("NENGO_PYTHON", "/opt/env/bin/python")
    assert app_stream.nengo_python("/x/bin/python") == "/x/bin/python"
    assert app_stream.nengo_python(None) == "/opt/env/bin/python"


def test_nengo_interpreter_found_here_only_when_importable(monkeypatch):
    monkeypatch.delenv("NENGO_PYTHON", raising=False)
    monkeypatch.setattr(app_stream.importlib.util, "find_spec",
                        lambda name: object() if name == "nengo_gui" else None)
    assert app_stream.nengo_python(None) == sys.executable
    monkeypatch.setattr(app_stream.importlib.util, "find_spec", lambda name: None)
    assert app_stream.nengo_python(None) is None


def test_cpu_seconds_counts_this_process():
    before = app_stream.cpu_seconds(os.getpid())
    x = 0
    for i in range(3_000_000):  # burn some CPU
        x += i * i
    after = app_stream.cpu_seconds(os.getpid())
    assert after > before
    assert after - before == pytest.approx(os.times().user + os.times().system - before, abs=0.5)
    assert app_stream.cpu_seconds(None) != app_stream.cpu_seconds(None)  # nan: unknown


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="--warm-loads"):
        app_stream.main(["--warm-loads", "0"])
    with pytest.raises(ValueError, match="--nengo-python"):
        app_stream.main(["--nengo-python", "/no/such/python", "--sizes", "100"])


def test_summary_reports_the_median_and_cpu():
    loads = [{"ms": m, "server_cpu": 0.5, "browser_cpu": 2.0} for m in (900.0, 1200.0, 1000.0)]
    text = app_stream.summary(loads)
    assert text.startswith("median 1000 ms") and "server 0.50 s" in text and "browser 2.00 s" in text


def test_wait_server_quiet_returns_once_the_process_is_idle():
    import threading

    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    t = threading.Thread(target=spin, daemon=True)
    t.start()
    t0 = time.perf_counter()
    threading.Timer(1.2, stop.set).start()
    app_stream.wait_server_quiet(os.getpid(), window_s=0.3, cpu_s=0.05, timeout_s=10)
    waited = time.perf_counter() - t0
    t.join()
    # busy for 1.2 s: at least that long; quiet windows of 0.3 s after it
    assert 1.2 <= waited < 5.0, waited
    t0 = time.perf_counter()
    app_stream.wait_server_quiet(None, window_s=0.1)  # unknown pid: nothing to wait for
    assert time.perf_counter() - t0 < 1.0
