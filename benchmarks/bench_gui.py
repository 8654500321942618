"""GUI training throughput and responsiveness, measured against headless training in the same run.

Runs the real main window offscreen on the default live demo (spiral + small MLP), trains it for
about 10 s (half on the Loss view, half on the Decision regions view) and reports:

(a) steps per second with the window against a plain ``trainer.step()`` loop (headless),
(b) p50 / p99 delay of a 5 ms QTimer in the GUI thread while training,
(c) redraws per second.

Usage: python benchmarks/bench_gui.py [--seconds 10]
Last line: ``gui/headless throughput ratio: X.XX, p99 latency ms: Y.Y, redraws/s: Z``
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["BACKPROP_STUDIO_NO_DIALOGS"] = "1"
os.environ["BACKPROP_STUDIO_SETTINGS"] = os.path.join(tempfile.mkdtemp(prefix="bench_gui_"), "settings.ini")

import numpy as np  # noqa: E402


def headless(seconds: float) -> float:
    from engine.datasets import load_dataset
    from engine.trainer import Trainer
    from gui.main_window import default_config
    cfg = default_config()
    tr = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    for _ in range(50):
        tr.step()
    n0, t0 = tr.steps, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        tr.step()
    return (tr.steps - n0) / (time.perf_counter() - t0)


def with_window(seconds: float):
    from PySide6.QtCore import QTimer
    from gui.app import create_window, ensure_app
    app = ensure_app()
    w = create_window(restore=False)
    w.resize(1600, 1000)
    w.show()
    app.processEvents()
    delays: list[float] = []
    last = [None]

    rates: list[float] = []

    def tick():
        now = time.perf_counter()
        snap = w._newest
        if snap is not None and snap.running and len(delays) % 100 == 50:
            rates.append(snap.steps_per_sec)
        if last[0] is not None:
            delays.append(max(0.0, (now - last[0]) * 1000.0 - 5.0))
        last[0] = now

    probe = QTimer()
    probe.setTimerType(probe.timerType().PreciseTimer)
    probe.setInterval(5)
    probe.timeout.connect(tick)
    res = {}

    def begin():
        w.tabs.setCurrentWidget(w.loss_view)
        w.start_training()
        res["t0"] = time.perf_counter()
        res["s0"] = 0
        res["r0"] = w.redraw_count
        res["cpu0"] = time.thread_time()
        res["pcpu0"] = time.process_time()
        probe.start()
        QTimer.singleShot(int(seconds * 500), lambda: w.tabs.setCurrentWidget(w.regions_view))
        QTimer.singleShot(int(seconds * 1000), end)

    def end():
        probe.stop()
        res["t1"] = time.perf_counter()
        res["r1"] = w.redraw_count
        res["cpu1"] = time.thread_time()
        res["pcpu1"] = time.process_time()
        w.pause_training()
        w.controller.stop_and_wait()
        res["steps"] = w.controller.trainer.steps
        w.close()
        app.quit()

    QTimer.singleShot(200, begin)
    app.exec()
    dt = res["t1"] - res["t0"]
    if rates:
        print("training process steps/s while the window runs (every ~0.5 s): "
              + " ".join(f"{r:,.0f}" for r in rates))
    print(f"window process busy: {(res['pcpu1'] - res['pcpu0']) / dt:.0%} of a core, of which the "
          f"GUI thread {(res['cpu1'] - res['cpu0']) / dt:.0%} "
          f"({(res['cpu1'] - res['cpu0']) / max(1, res['r1'] - res['r0']) * 1000:.1f} ms CPU per redraw)")
    return res["steps"] / dt, np.array(delays), (res["r1"] - res["r0"]) / dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args(argv)
    h = headless(min(5.0, a.seconds / 2))
    g, delays, redraws = with_window(a.seconds)
    h2 = headless(min(5.0, a.seconds / 2))   # again, so load changes during the run show up
    href = (h + h2) / 2
    p50, p99 = (np.percentile(delays, [50, 99]) if len(delays) else (float("nan"),) * 2)
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(f"headless trainer.step(): {h:,.0f} and {h2:,.0f} steps/s (before / after)")
    print(f"with the window:         {g:,.0f} steps/s over {a.seconds:g} s")
    print(f"5 ms QTimer delay in the GUI thread: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {delays.max():.1f} ms "
          f"({len(delays)} ticks)")
    print(f"redraws: {redraws:.1f}/s")
    print(f"gui/headless throughput ratio: {g / href:.2f}, p99 latency ms: {p99:.1f}, redraws/s: {redraws:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
