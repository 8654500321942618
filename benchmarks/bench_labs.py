"""Time from first showing each lab to its first meaningful frame (target: within 3 s).

Opens the main window as at a first start (offscreen, its own empty settings: the spiral
loaded), switches to the Labs tab, and shows each lab's sub-tab in the lecture's order.  For
each, the clock runs from the moment the sub-tab is shown (the lab is built then) to its first
meaningful frame:

- ``has_result`` / ``first_result`` (``gui/labs/base.py``: the lab marks its default result drawn);
- for a lab that does not call ``_mark_result`` (yet): no pending background job and some plot
  holding data (the fallback is printed as such).

Before the next lab is shown the previous one's background work (the labs' whole thread pool,
cancelled jobs included) is let finish (up to ``--settle`` seconds), so each lab is timed on an
idle pool; the first lab that needs the bundled CIFAR-10 pays its one-time load (about 0.2–0.9 s).
With ``--training`` the window's demo trains while the labs are timed (sharing the two cores).

The figures are noisy when other work runs on the machine: run it on a quiet machine for the
record.

Usage: python benchmarks/bench_labs.py [--timeout 30] [--settle 60] [--training]
Last line: ``labs within 3 s: K of N``
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

TARGET_S = 3.0


def _plot_has_data(lab) -> bool:
    import pyqtgraph as pg
    for p in getattr(lab, "plots", {}).values():
        for it in p.getPlotItem().items:
            if isinstance(it, pg.PlotDataItem) and it.xData is not None and len(it.xData):
                return True
            if isinstance(it, pg.BarGraphItem) and it.opts.get("height") is not None and len(it.opts["height"]):
                return True
            if isinstance(it, pg.ImageItem) and it.image is not None:
                return True
    return False


def _busy(lab) -> bool:
    return any(r.busy for r in getattr(lab, "runners", []))


def _marks_result(lab) -> bool:
    """Does the lab's class call ``_mark_result`` (so ``has_result`` means something)?"""
    import inspect
    try:
        return "_mark_result" in inspect.getsource(type(lab))
    except (OSError, TypeError):
        return False


def _ready(lab) -> tuple[bool, str]:
    if hasattr(lab, "has_result") and _marks_result(lab):
        return bool(lab.has_result), "has_result"
    return (not _busy(lab) and _plot_has_data(lab)), "fallback: idle + plot data"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=30.0, help="give up on a lab after this many seconds")
    ap.add_argument("--settle", type=float, default=60.0, help="wait at most this long for a lab's jobs to finish")
    ap.add_argument("--training", action="store_true", help="time the labs while the window's demo trains")
    a = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_labs_") as tmp:
        os.environ["BACKPROP_STUDIO_SETTINGS"] = os.path.join(tmp, "settings.ini")
        import gui  # noqa: F401  (first, as main.py: one BLAS thread)
        from PySide6.QtWidgets import QApplication
        from gui.app import create_window
        from gui.jobs import JobRunner
        app = QApplication.instance() or QApplication([sys.argv[0]])

        def pump_until(cond, limit: float) -> bool:
            end = time.perf_counter() + limit
            while time.perf_counter() < end:
                app.processEvents()
                if cond():
                    return True
                time.sleep(0.002)
            return False

        w = create_window()
        w.resize(1600, 1000)
        w.show()
        if not pump_until(lambda: w.current_dataset() is not None and w.controller.trainer is not None, 30):
            print("the window did not load its dataset")
            return 2
        print(f"cores: {os.cpu_count()}; loaded: {w.current_dataset().summary()}; "
              f"training: {'yes' if a.training else 'no'}; load average: {os.getloadavg()[0]:.2f}")
        if a.training:
            w.toggle_training()
            pump_until(lambda: False, 1.0)
        lw = w.labs_widget
        w.tabs.setCurrentWidget(lw)
        pump_until(lambda: False, 0.2)
        rows = []
        for i, cls in enumerate(lw._classes):
            t0 = time.perf_counter()
            lw.tabs.setCurrentIndex(i)
            if lw._built[i] is None:        # (the first sub-tab is built when Labs is shown)
                lw._build(i)
            lab = lw._built[i]
            how = _ready(lab)[1]
            ok = pump_until(lambda: _ready(lab)[0], a.timeout)
            t_first = time.perf_counter() - t0
            pump_until(lambda: not _busy(lab) and JobRunner.pool().activeThreadCount() == 0, a.settle)
            t_idle = time.perf_counter() - t0
            rows.append((cls.title, t_first if ok else None, t_idle, how))
            first = f"{t_first:6.2f} s" if ok else f"  none after {a.timeout:.0f} s"
            verdict = "ok" if ok and t_first <= TARGET_S else "OVER TARGET"
            print(f"{cls.title:26s} first meaningful frame {first}   (jobs done {t_idle:6.2f} s)  "
                  f"[{how}]  {verdict}", flush=True)
        within = sum(1 for r in rows if r[1] is not None and r[1] <= TARGET_S)
        if a.training:
            w.toggle_training()
        lw.shutdown()
        w.controller.stop_and_wait()
        w.close()
        app.processEvents()
        print(f"target: {TARGET_S:.0f} s; load average now {os.getloadavg()[0]:.2f}")
        print(f"labs within {TARGET_S:.0f} s: {within} of {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
