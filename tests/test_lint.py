"""The lint gate: ruff's pyflakes rules (pyproject.toml [tool.ruff.lint]) over the whole project —
no unused imports or names, no undefined names, no redefinitions."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_pyflakes_rules_pass_on_the_whole_project():
    try:
        import ruff  # noqa: F401  (the test extras install it)
        cmd = [sys.executable, "-m", "ruff"]
    except ImportError:
        exe = shutil.which("ruff")
        assert exe, 'ruff is missing: install the test extras (pip install -e ".[test]")'
        cmd = [exe]
    r = subprocess.run(cmd + ["check", "--output-format", "concise", "--no-cache", str(ROOT)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
