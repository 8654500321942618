"""Hostile and clumsy experiment files through ``train --config``, each in a subprocess under an
address-space limit 300 MB above a trivial run: exit 2, one stderr line naming the file, < 5 s."""
from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cli_harness
from engine.config import ExperimentConfig
from engine.experiment import Experiment, save_experiment

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_AS and /proc")


def _good(tmp_path: Path) -> Path:
    cfg = ExperimentConfig()
    cfg.model.hidden, cfg.model.activations = [4], ["relu"]
    w = {"W1": np.ones((2, 4), np.float32), "b1": np.zeros(4, np.float32),
         "W2": np.ones((4, 3), np.float32), "b2": np.zeros(3, np.float32)}
    return save_experiment(tmp_path / "run.json", Experiment(cfg, w))


def _edit_json(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _set(path: Path, dotted: str, literal: str) -> Path:
    """Put a raw JSON literal (NaN, 1e999, a 5,000-digit number...) at a config field."""
    doc = json.loads(path.read_text())
    part, name = dotted.split(".")
    doc["config"][part][name] = "@@"
    return _edit_json(path, json.dumps(doc).replace('"@@"', literal))


def _weights(path: Path) -> Path:
    return path.parent / json.loads(path.read_text())["weights"]


def _npz_member(path: Path, header: dict, body: bytes, name="param/W1.npy") -> None:
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, header)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, hdr.getvalue() + body)


def _case(kind: str, tmp_path: Path) -> tuple[Path, str, str]:
    """Make one hostile input; returns (the path given to --config, the name the message must
    hold, another needle)."""
    p = _good(tmp_path)
    if kind == "nan":
        return _set(p, "optim.lr", "NaN"), "run.json", "config.optim.lr is NaN"
    if kind == "infinity":
        return _set(p, "loss.margin", "-Infinity"), "run.json", "config.loss.margin is infinite"
    if kind == "1e999":
        return _set(p, "dataset.noise", "1e999"), "run.json", "config.dataset.noise is infinite"
    if kind == "huge-int":
        return _set(p, "optim.epochs", "9" * 5000), "run.json", "5000 digits"
    if kind == "negative-seed":
        doc = json.loads(p.read_text())
        doc["config"]["seed"] = -1
        return _edit_json(p, json.dumps(doc)), "run.json", "seed"
    if kind == "too-many-samples":
        return _set(p, "dataset.samples", "1000000000"), "run.json", "samples"
    if kind == "deep":
        return _edit_json(p, "[" * 200_000 + "]" * 200_000), "run.json", "nested"
    if kind == "wrong-type":
        return _set(p, "optim.lr", '"fast"'), "run.json", "optim.lr must be a number"
    if kind == "not-json":
        p.write_bytes(os.urandom(4096))
        return p, "run.json", ""
    if kind == "dev-zero":
        return Path("/dev/zero"), "/dev/zero", "not a regular file"
    if kind == "fifo":
        f = tmp_path / "pipe.json"
        os.mkfifo(f)
        return f, "pipe.json", "not a regular file"
    if kind == "folder":
        return tmp_path, str(tmp_path), "folder"
    if kind == "sparse-huge":
        f = tmp_path / "huge.json"
        with open(f, "wb") as fh:
            fh.truncate(3 << 30)
        return f, "huge.json", "too large"
    if kind == "escaping-weights":
        doc = json.loads(p.read_text())
        doc["weights"] = "../../etc/passwd"
        return _edit_json(p, json.dumps(doc)), "run.json", "weights"
    if kind == "weights-fifo":
        w = _weights(p)
        w.unlink()
        os.mkfifo(w)
        return p, w.name, "not a regular file"
    if kind == "weights-declares-1e12":
        w = _weights(p)
        _npz_member(w, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}, b"\0" * 64)
        return p, w.name, "declares shape"
    if kind == "weights-object":
        w = _weights(p)
        _npz_member(w, {"descr": "|O", "fortran_order": False, "shape": (1,)}, b"\0" * 8)
        return p, w.name, "Python objects"
    if kind == "weights-bomb":
        w = _weights(p)
        buf = io.BytesIO()
        np.save(buf, np.zeros(200_000_000, np.float32))
        with zipfile.ZipFile(w, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("param/W1.npy", buf.getvalue())
        return p, w.name, "bomb"
    if kind == "weights-nan":
        w = _weights(p)
        np.savez(w, **{"param/W1": np.full((2, 4), np.nan, np.float32)})
        return p, w.name, "W1"
    if kind == "weights-truncated":
        w = _weights(p)
        w.write_bytes(w.read_bytes()[:100])
        return p, w.name, ""
    if kind == "weights-wrong-shape":
        w = _weights(p)
        np.savez(w, **{"param/W1": np.ones((2, 9), np.float32), "param/b1": np.zeros(4, np.float32),
                       "param/W2": np.ones((4, 3), np.float32), "param/b2": np.zeros(3, np.float32)})
        return p, w.name, "(2, 9)"
    raise AssertionError(kind)


KINDS = ["nan", "infinity", "1e999", "huge-int", "negative-seed", "too-many-samples", "deep", "wrong-type",
         "not-json", "dev-zero", "fifo", "folder", "sparse-huge", "escaping-weights", "weights-fifo",
         "weights-declares-1e12", "weights-object", "weights-bomb", "weights-nan", "weights-truncated",
         "weights-wrong-shape"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_experiment_is_one_line_bounded_in_memory_and_time(tmp_path, kind):
    path, name, needle = _case(kind, tmp_path)
    result = cli_harness.run_cli("train", "--config", str(path), "--epochs", "0", "--quiet")
    cli_harness.assert_one_line(result, name, needle)


def test_the_good_experiment_itself_loads_under_the_same_limit(tmp_path):
    result = cli_harness.run_cli("train", "--config", str(_good(tmp_path)), "--epochs", "0", "--quiet")
    assert result.code == 0, result.stderr
