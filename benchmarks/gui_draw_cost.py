"""What drawing costs the training process, measured without ever stopping it.

``bench_gui.py`` compares the window's training with silent phases of the same run (nothing
published, the window idle).  This script splits that cost: it keeps one run going and only
switches what the window does, every ~0.55 s, 20 times each:

- ``regions`` / ``loss``: the live view shown, against the Backprop tab (which draws nothing
  while training runs; snapshots still arrive and the history still grows);
- ``publish``: the training process with no window at all, publishing snapshots 40 times a
  second against not publishing (runs restarted in the same training process);
- ``items``: the Loss view's live plot items (``gui/views/fastcurve.py``) alone: the GUI thread's
  time in their ``paint`` while a run trains for 8 s, per paint (strips and whole repaints apart)
  and per second.

It prints the training process's steps/s in each state (from its own snapshot counters and
clock), the ratio of the means and the median of the paired ratios.

Usage: python benchmarks/gui_draw_cost.py [regions|loss|publish|items]
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_gui import open_window  # noqa: E402  (it sets up the offscreen, dialog-free environment)
import numpy as np  # noqa: E402

PHASES = 40
SETTLE, SPAN = 0.15, 0.4


def _report(name: str, on: list, off: list) -> None:
    on, off = np.array(on), np.array(off)
    n = min(len(on), len(off))
    print(f"{name}: {on.mean():,.0f} steps/s against {off.mean():,.0f}; ratio {on.mean() / off.mean():.3f}, "
          f"median of {n} paired ratios {np.median(on[:n] / off[:n]):.3f}")


def window_cost(view_name: str) -> None:
    from PySide6.QtCore import QTimer
    app, w = open_window()
    view = w.loss_view if view_name == "loss" else w.regions_view
    marks = []

    def mark(drawing: bool) -> None:
        s = w._newest
        marks.append((drawing, s.time, s.step))

    def phase(i: int) -> None:
        if i >= PHASES:
            w.pause_training()
            w.controller.stop_and_wait()
            w.close()
            app.quit()
            return
        drawing = i % 2 == 0
        w.tabs.setCurrentWidget(view if drawing else w.backprop_view)
        QTimer.singleShot(int(SETTLE * 1000), lambda: mark(drawing))
        QTimer.singleShot(int((SETTLE + SPAN) * 1000), lambda: (mark(drawing), phase(i + 1)))

    def begin() -> None:
        w.tabs.setCurrentWidget(view)
        w.start_training()
        QTimer.singleShot(1000, lambda: phase(0))

    QTimer.singleShot(200, begin)
    app.exec()
    rates = {True: [], False: []}
    for (d, t0, n0), (_, t1, n1) in zip(marks[0::2], marks[1::2]):
        if t1 > t0:                     # (no new snapshot within the phase: a stalled machine)
            rates[d].append((n1 - n0) / (t1 - t0))
    _report(f"{view_name} view drawn / nothing drawn", rates[True], rates[False])


def items_cost(seconds: float = 8.0) -> None:
    from PySide6.QtCore import QTimer
    from gui.views import fastcurve
    app, w = open_window()
    times: dict[tuple[str, bool], list[float]] = {}

    def timed(cls):
        paint = cls.paint

        def wrapper(item, p, opt=None, widget=None):
            whole = item._exposed_x(opt) is None
            t = time.perf_counter()
            paint(item, p, opt, widget)
            times.setdefault((cls.__name__, whole), []).append(time.perf_counter() - t)
        cls.paint = wrapper

    for cls in (fastcurve.FastCurve, fastcurve.BandItem):
        timed(cls)

    def begin() -> None:
        w.tabs.setCurrentWidget(w.loss_view)
        w.start_training()
        times.clear()
        QTimer.singleShot(int(seconds * 1000), end)

    def end() -> None:
        w.pause_training()
        w.controller.stop_and_wait()
        w.close()
        app.quit()

    QTimer.singleShot(200, begin)
    app.exec()
    total = 0.0
    for (name, whole), ts in sorted(times.items()):
        ts = np.array(ts) * 1000
        total += ts.sum()
        print(f"{name:>9} {'whole' if whole else 'strip'}: {len(ts):5d} paints, mean {ts.mean():.3f} ms, "
              f"median {np.median(ts):.3f} ms, max {ts.max():.2f} ms")
    print(f"live items' paint time: {total / seconds:.1f} ms per second")


def publish_cost() -> None:
    from engine.datasets import load_dataset
    from engine.trainer import Trainer
    from gui import training_host
    from gui.main_window import default_config
    host = training_host.get_host()
    cfg = default_config()
    trainer = Trainer.from_config(cfg, load_dataset(cfg.dataset))

    def run(publish_interval: float) -> float:
        n0 = trainer.steps
        host.start_run(trainer, 1, publish_interval)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < SETTLE + SPAN:
            host.receive(0.02)
        t1 = time.perf_counter()
        host.send(("stop",))
        while True:
            msg = host.receive(5.0)
            if msg is not None and msg[0] == "stopped":
                trainer.load_state_dict(msg[2])
                break
        return (trainer.steps - n0) / (t1 - t0)

    run(1 / 40)
    on, off = [], []
    for _ in range(PHASES // 2):
        on.append(run(1 / 40))
        off.append(run(1e9))
    _report("snapshots 40 a second / none", on, off)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "regions"
    if what == "publish":
        publish_cost()
    elif what == "items":
        items_cost()
    elif what in ("loss", "regions"):
        window_cost(what)
    else:
        sys.exit(__doc__)
