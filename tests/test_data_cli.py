"""The command line with real datasets: a fast digits run, and bad files end in one line, status 2."""
from __future__ import annotations

import io
import pickle
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import data_helpers as H  # noqa: E402

cli = pytest.importorskip("engine.cli")


def run(args):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_train_digits_and_fake_cifar(tmp_path):
    code, out, _ = run(["train", "--dataset", "digits", "--epochs", "1", "--preprocess", "scale", "--quiet"])
    assert code == 0 and '"dataset": "digits"' in out
    H.write_cifar_binary(tmp_path)
    code, out, err = run(["train", "--dataset", "cifar10", "--data-dir", str(tmp_path), "--epochs", "1",
                          "--preprocess", "mean"])
    assert code == 0 and '"dataset": "cifar10"' in out and "[data]" in err


def test_bad_files_exit_2_with_one_line(tmp_path):
    bad_csv = tmp_path / "ragged.csv"
    bad_csv.write_text("label,a,b\n0,1,2\n1,2\n")
    d, *_ = H.write_cifar_python(tmp_path / "c")
    (d / "data_batch_1").write_bytes(pickle.dumps({b"data": eval, b"labels": [0]}, protocol=2))
    cases = [
        (["--dataset", "csv", "--data-file", str(bad_csv)], "ragged.csv: line 3: ragged row"),
        (["--dataset", "cifar10", "--data-dir", str(tmp_path / "c")], "data_batch_1: unsafe or corrupt pickle"),
        (["--dataset", "npz", "--data-file", str(tmp_path / "none.npz")], "none.npz: no such file"),
    ]
    for args, needle in cases:
        code, out, err = run(["train", *args, "--quiet"])
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], err
