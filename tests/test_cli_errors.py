"""The command line's own contract: one line on stderr for every failure, nothing else with --quiet."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import cli

ROOT = Path(__file__).resolve().parents[1]


def _run(*args):
    p = subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_quiet_prints_nothing_on_stderr_even_when_numpy_overflows():
    code, out, err = _run("train", "--loss", "svm", "--margin", "1e300", "--epochs", "1", "--quiet")
    assert code == 1 and err == ""
    assert "SVM margin" in json.loads(out.splitlines()[-1])["reason"]


def test_an_expression_may_start_with_a_minus():
    code, out, err = _run("walkthrough", "--expr", "-x^2", "--values", "x=3")
    assert code == 0, err
    assert json.loads(out.splitlines()[-1]) == {"x": -6.0}


def test_an_unexpected_error_is_one_line_with_status_3(monkeypatch):
    def boom(a, out, err):
        raise TypeError("something\nspread over lines")
    monkeypatch.setattr(cli, "cmd_train", boom)
    monkeypatch.delenv("BACKPROP_STUDIO_DEBUG", raising=False)
    err = io.StringIO()
    assert cli.main(["train"], io.StringIO(), err) == 3
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and "internal error (TypeError: something spread over lines)" in lines[0]
    monkeypatch.setenv("BACKPROP_STUDIO_DEBUG", "1")
    with pytest.raises(TypeError):
        cli.main(["train"], io.StringIO(), io.StringIO())


@pytest.mark.parametrize("path", ["/dev/zero", "/"])
def test_a_device_or_folder_as_data_file_is_one_line(path):
    code, out, err = _run("train", "--dataset", "npz", "--data-file", path, "--epochs", "0", "--quiet")
    assert code == 2 and len(err.splitlines()) == 1 and path in err
