"""How long ``python main.py`` takes to show the window (target: within 2 s).

Starts ``main.py`` as a fresh process five times (offscreen, with its own empty settings, as on
a first start), and measures from just before the process is started to the moment the main
window has painted for the first time (the app prints the time and quits when
``BACKPROP_STUDIO_STARTUP_PROBE`` is set).  Python writes no bytecode cache when
``PYTHONDONTWRITEBYTECODE`` is set (as on this development machine), so then every start
compiles the project's modules again; the script says which case it measured.

Usage: python benchmarks/bench_startup.py [--runs 5]
Last line: ``window shown in: median X.XX s (min A.AA, max B.BB)``
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def once() -> float:
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   BACKPROP_STUDIO_STARTUP_PROBE="1", BACKPROP_STUDIO_NO_DIALOGS="1",
                   BACKPROP_STUDIO_SETTINGS=os.path.join(tmp, "settings.ini"))
        t0 = time.time()
        out = subprocess.run([sys.executable, os.path.join(ROOT, "main.py")], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        for line in out.stdout.splitlines():
            if line.startswith("painted "):
                return float(line.split()[1]) - t0
        raise SystemExit(f"main.py did not report a painted window:\n{out.stdout}\n{out.stderr}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args(argv)
    cache = "no bytecode cache (PYTHONDONTWRITEBYTECODE)" if sys.flags.dont_write_bytecode else "bytecode cached"
    print(f"cores: {os.cpu_count()}, {cache}")
    once()                                   # warm the file cache (and the bytecode cache, if written)
    times = [once() for _ in range(a.runs)]
    print("runs: " + ", ".join(f"{t:.2f}" for t in times) + " s")
    print(f"window shown in: median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
