"""Running ``main.py`` the way a hostile file is tried: in a subprocess with an address-space
limit 300 MB above what a trivial run needs, and a timeout.

``run_cli(*args)`` returns a :class:`CliResult`; ``assert_one_line(result, *needles)`` checks
the contract every rejected input must meet: exit status 2, exactly one line on stderr holding
each needle (the file's name, the problem), within 5 s.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1 << 20
HEADROOM = 300 * MB


@functools.lru_cache(maxsize=None)
def baseline_address_space() -> int:
    """VmPeak of ``train --dataset spiral --epochs 0 --quiet`` (bytes), measured in a child."""
    code = ("import runpy, sys\nsys.argv = ['main.py', 'train', '--dataset', 'spiral', '--epochs', '0', '--quiet']\n"
            "try:\n    runpy.run_path('main.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmPeak')][0], file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return int(r.stderr.strip().splitlines()[-1]) * 1024


def address_limit() -> int:
    return baseline_address_space() + HEADROOM


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    seconds: float


def run_cli(*args: str, limit: int | None = None, env: dict | None = None, timeout: float = 10.0) -> CliResult:
    """``python main.py *args`` under RLIMIT_AS = ``limit`` (default :func:`address_limit`)."""
    limit = address_limit() if limit is None else limit
    full_env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **(env or {}))
    full_env.pop("BACKPROP_STUDIO_DEBUG", None)
    def cap():
        import resource     # POSIX only; the callers skip elsewhere
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "main.py", *args], preexec_fn=cap,
                       cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)
    return CliResult(r.returncode, r.stdout, r.stderr, time.monotonic() - t0)


def assert_one_line(result: CliResult, *needles: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.code == 2 and len(lines) == 1, result.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.seconds < 5, f"{result.seconds:.1f} s: {lines[0]}"
    return lines[0]
