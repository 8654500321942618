"""GUI training throughput and responsiveness, measured against headless training in the same run.

Runs the real main window offscreen (1600×1000) on the default live demo (spiral + small MLP)
and trains it for about 10 s: half on the Loss view, half on the Decision regions view, in four
segments.  It reports

(a) steps per second with the window against a plain ``trainer.step()`` loop (headless),
(b) p50 / p99 delay of a 5 ms QTimer in the GUI thread while training,
(c) redraws per second (frames in which the shown plot changed).

This machine's speed drifts (a shared virtual machine: the same headless loop runs anywhere
between ~1,800 and ~3,200 steps/s within an hour, and two 3 s headless runs in a row differ by
up to 8%), so the headless reference is measured next to each window segment, in time order
H · Loss · H · Regions · H · Loss · H · Regions · H, the headless loop in a process of its own
as long-lived as the window's training process, and each window segment is compared with the mean of the
headless segments on either side of it.

Usage: python benchmarks/bench_gui.py [--seconds 10]
Last line: ``gui/headless throughput ratio: X.XX, p99 latency ms: Y.Y, redraws/s: Z``
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["BACKPROP_STUDIO_NO_DIALOGS"] = "1"
os.environ["BACKPROP_STUDIO_SETTINGS"] = os.path.join(tempfile.mkdtemp(prefix="bench_gui_"), "settings.ini")

import gui  # noqa: E402,F401  (first, as main.py does: it sets the BLAS thread count before NumPy loads)
import numpy as np  # noqa: E402


def _headless_child(conn) -> None:
    from engine.datasets import load_dataset
    from engine.trainer import Trainer
    from gui.main_window import default_config
    cfg = default_config()
    tr = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 1.0:      # warm up, as the training process is
        tr.step()
    conn.send("ready")
    while True:
        seconds = conn.recv()
        if seconds is None:
            return
        n0, t0 = tr.steps, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            tr.step()
        conn.send((tr.steps - n0) / (time.perf_counter() - t0))


class Headless:
    """A plain trainer.step() loop in a long-lived process of its own (as the window's training
    process is), measured on request while the window is paused."""

    def __init__(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_headless_child, args=(child,), daemon=True)
        self.proc.start()
        assert self.conn.recv() == "ready"

    def measure(self, seconds: float) -> float:
        self.conn.send(seconds)
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(5)


def run(seconds: float) -> dict:
    from PySide6.QtCore import Qt, QTimer
    from gui.app import create_window, ensure_app
    app = ensure_app()
    w = create_window(restore=False)
    w.resize(1600, 1000)
    w.show()
    app.processEvents()
    seg_s = seconds / 4
    views = [("Loss", w.loss_view), ("Decision regions", w.regions_view)] * 2
    res = {"headless": [], "segments": []}
    delays: list[float] = []
    rates: list[float] = []
    last = [None]

    def tick():
        now = time.perf_counter()
        snap = w._newest
        if snap is not None and snap.running and len(delays) % 100 == 50:
            rates.append(snap.steps_per_sec)
        if last[0] is not None:
            delays.append(max(0.0, (now - last[0]) * 1000.0 - 5.0))
        last[0] = now

    probe = QTimer()
    probe.setTimerType(Qt.PreciseTimer)
    probe.setInterval(5)
    probe.timeout.connect(tick)

    ref = Headless()

    def measure_headless():
        res["headless"].append(ref.measure(2.0))

    def start_segment(i):
        name, view = views[i]
        w.tabs.setCurrentWidget(view)
        app.processEvents()
        seg = {"view": name, "steps0": w.controller.trainer.steps, "r0": w.redraw_count,
               "cpu0": time.thread_time(), "pcpu0": time.process_time(), "t0": time.perf_counter()}
        res["segments"].append(seg)
        w.start_training()
        last[0] = None
        probe.start()
        QTimer.singleShot(int(seg_s * 1000), lambda: end_segment(i))

    def end_segment(i):
        probe.stop()
        seg = res["segments"][i]
        seg.update(t1=time.perf_counter(), r1=w.redraw_count, cpu1=time.thread_time(),
                   pcpu1=time.process_time())
        w.pause_training()
        w.controller.stop_and_wait()
        seg["steps"] = w.controller.trainer.steps - seg["steps0"]
        measure_headless()
        if i + 1 < len(views):
            QTimer.singleShot(100, lambda: start_segment(i + 1))
        else:
            w.close()
            app.quit()

    def warm_up():   # 1 s of training first, as the headless loop had (the first steps are slow)
        w.tabs.setCurrentWidget(w.loss_view)
        w.start_training()
        QTimer.singleShot(1000, begin)

    def begin():
        w.pause_training()
        w.controller.stop_and_wait()
        measure_headless()
        start_segment(0)

    QTimer.singleShot(200, warm_up)
    app.exec()
    ref.close()
    res["delays"] = np.array(delays)
    res["rates"] = rates
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args(argv)
    res = run(a.seconds)
    h, segs, delays = res["headless"], res["segments"], res["delays"]
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print("headless trainer.step() before, between and after: " + ", ".join(f"{r:,.0f}" for r in h) + " steps/s")
    if res["rates"]:
        print("training process steps/s while the window runs (every ~0.5 s): "
              + " ".join(f"{r:,.0f}" for r in res["rates"]))
    steps = dt = ref_steps = redraws = 0.0
    for i, s in enumerate(segs):
        t = s["t1"] - s["t0"]
        ref = (h[i] + h[i + 1]) / 2
        r = s["r1"] - s["r0"]
        print(f"{s['view']:>17} view: {s['steps'] / t:,.0f} steps/s = {s['steps'] / t / ref:.2f} × headless "
              f"{ref:,.0f}; {r / t:.1f} redraws/s; window process busy {(s['pcpu1'] - s['pcpu0']) / t:.0%} "
              f"of a core, GUI thread {(s['cpu1'] - s['cpu0']) / t:.0%} "
              f"({(s['cpu1'] - s['cpu0']) / max(1, r) * 1000:.1f} ms CPU per redraw)")
        steps += s["steps"]
        dt += t
        ref_steps += ref * t
        redraws += r
    ratio = steps / ref_steps
    p50, p99 = (np.percentile(delays, [50, 99]) if len(delays) else (float("nan"),) * 2)
    print(f"with the window: {steps / dt:,.0f} steps/s over {dt:.1f} s")
    print(f"5 ms QTimer delay in the GUI thread: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {delays.max():.1f} ms "
          f"({len(delays)} ticks)")
    print(f"redraws: {redraws / dt:.1f}/s")
    print(f"gui/headless throughput ratio: {ratio:.2f}, p99 latency ms: {p99:.1f}, redraws/s: {redraws / dt:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
