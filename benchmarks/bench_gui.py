"""GUI training throughput and responsiveness, measured against headless training in the same run.

Runs the real main window offscreen (1600×1000) on the default live demo (spiral + small MLP)
and trains it for about 10 s, alternating the Loss view and the Decision regions view in eight
segments.  It reports

(a) steps per second with the window against a plain ``trainer.step()`` loop (headless),
(b) p50 / p99 delay of a 5 ms QTimer in the GUI thread while training,
(c) redraws per second (frames in which the shown plot changed).

How (a) is measured.  This machine's speed drifts (a shared virtual machine: the same headless
loop runs anywhere between ~1,800 and ~3,200 steps/s within an hour, and two loops a few
seconds apart differ by up to 8%), and two processes running the very same loop differ by a
few percent as well.  So:

- The headless loop runs in the window's own training process, between the window's
  segments, while the window is paused (``TrainingHost.time_headless``): the same process, the
  same engine, on a copy of the same weights; no window drawing and no snapshots.
- The order is H · Loss · H · Regions · H · … · H, and each window segment is compared with
  the mean of the headless measurements on either side of it.
- Both are steady-state rates, counted from 0.2 s after their loop starts: the window's from
  the step counts and clocks of the training process's own snapshots, the headless loop's from
  its own counter.  (Starting a run — sending the weights, building the trainer — costs a few
  tens of milliseconds, once per Space press; in 1.25 s segments it would weigh several
  percent.)

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

import gui  # noqa: E402,F401  (first, as main.py does: it sets the BLAS thread count before NumPy loads)
import numpy as np  # noqa: E402

SETTLE = 0.2          # seconds from the start of a loop before its steps are counted
HEADLESS_S = 1.0      # seconds of each headless measurement


def open_window():
    """``(app, window)``: the real main window, as ``python main.py`` opens it, 1600×1000, shown."""
    from gui.app import create_window, ensure_app
    app = ensure_app()
    w = create_window(restore=False)
    w.resize(1600, 1000)
    w.show()
    app.processEvents()
    return app, w


def run(seconds: float) -> dict:
    from PySide6.QtCore import Qt, QTimer
    from gui import training_host
    app, w = open_window()
    host = training_host.get_host()
    if host is None:
        raise SystemExit("bench_gui needs the training process (BACKPROP_STUDIO_TRAINING=thread is set)")
    views = [("Loss", w.loss_view), ("Decision regions", w.regions_view)] * 4
    seg_s = seconds / len(views)
    res = {"headless": [], "segments": []}
    delays: list[float] = []
    last = [None]

    def tick():
        now = time.perf_counter()
        if last[0] is not None:
            delays.append(max(0.0, (now - last[0]) * 1000.0 - 5.0))
        last[0] = now

    probe = QTimer()
    probe.setTimerType(Qt.PreciseTimer)
    probe.setInterval(5)
    probe.timeout.connect(tick)

    def measure_headless():
        res["headless"].append(host.time_headless(w.controller.trainer, HEADLESS_S))

    def newest():
        s = w._newest
        return (s.time, s.step) if s is not None and s.running else None

    def start_segment(i):
        name, view = views[i]
        w.tabs.setCurrentWidget(view)
        app.processEvents()
        seg = {"view": name, "r0": w.redraw_count, "cpu0": time.thread_time(),
               "pcpu0": time.process_time(), "t0": time.perf_counter()}
        res["segments"].append(seg)
        w.start_training()
        last[0] = None
        probe.start()
        QTimer.singleShot(int(SETTLE * 1000), lambda: seg.__setitem__("first", newest()))
        QTimer.singleShot(int(seg_s * 1000), lambda: end_segment(i))

    def end_segment(i):
        probe.stop()
        seg = res["segments"][i]
        seg.update(t1=time.perf_counter(), r1=w.redraw_count, cpu1=time.thread_time(),
                   pcpu1=time.process_time(), last=newest())
        w.pause_training()
        w.controller.stop_and_wait()
        measure_headless()
        if i + 1 < len(views):
            QTimer.singleShot(100, lambda: start_segment(i + 1))
        else:
            w.close()
            app.quit()

    def begin():
        measure_headless()
        start_segment(0)

    QTimer.singleShot(200, begin)
    app.exec()
    res["delays"] = np.array(delays)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args(argv)
    res = run(a.seconds)
    h, segs, delays = res["headless"], res["segments"], res["delays"]
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print("headless trainer.step() before, between and after: " + ", ".join(f"{r:,.0f}" for r in h) + " steps/s")
    steps = dt = ref_steps = redraws = wall = 0.0
    paired = []
    for i, s in enumerate(segs):
        t = s["t1"] - s["t0"]
        (ta, na), (tb, nb) = s["first"], s["last"]
        rate = (nb - na) / (tb - ta)
        ref = (h[i] + h[i + 1]) / 2
        r = s["r1"] - s["r0"]
        print(f"{s['view']:>17} view: {rate:,.0f} steps/s = {rate / ref:.2f} × headless "
              f"{ref:,.0f}; {r / t:.1f} redraws/s; window process busy {(s['pcpu1'] - s['pcpu0']) / t:.0%} "
              f"of a core, GUI thread {(s['cpu1'] - s['cpu0']) / t:.0%} "
              f"({(s['cpu1'] - s['cpu0']) / max(1, r) * 1000:.1f} ms CPU per redraw)")
        paired.append(rate / ref)
        steps += nb - na
        dt += tb - ta
        ref_steps += ref * (tb - ta)
        redraws += r
        wall += t
    ratio = steps / ref_steps
    p50, p99 = (np.percentile(delays, [50, 99]) if len(delays) else (float("nan"),) * 2)
    print(f"with the window: {steps / dt:,.0f} steps/s over {dt:.1f} s (of {wall:.1f} s of training)")
    print(f"segment ratios: median {np.median(paired):.2f}, range {min(paired):.2f}–{max(paired):.2f} "
          f"(the figure below is all the window's steps over all the headless reference's)")
    print(f"5 ms QTimer delay in the GUI thread: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {delays.max():.1f} ms "
          f"({len(delays)} ticks)")
    print(f"redraws: {redraws / wall:.1f}/s")
    print(f"gui/headless throughput ratio: {ratio:.2f}, p99 latency ms: {p99:.1f}, redraws/s: {redraws / wall:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
