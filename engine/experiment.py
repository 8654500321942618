"""Experiment files: a JSON file (with a format version) holding the whole configuration,
and beside it an NPZ with the trained weights and the preprocessing statistics.

``save_experiment("run.json", ...)`` writes ``run.npz`` then ``run.json``, each atomically
(a temporary file in the same folder, then ``os.replace``), so a crash never leaves a
half-written experiment.  Loading validates the JSON (unknown keys and wrong types are
rejected with the field's name) and reads the NPZ with ``allow_pickle=False``.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import ConfigError, ExperimentConfig

FORMAT = "backprop-studio-experiment"
VERSION = 1


class ExperimentError(ValueError):
    """An experiment file could not be read or written; the message names the file."""


@dataclass
class Experiment:
    config: ExperimentConfig
    weights: dict[str, np.ndarray] | None = None
    stats: dict[str, np.ndarray] = field(default_factory=dict)   # preprocessing statistics
    results: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import io
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def save_experiment(path: str | os.PathLike, exp: Experiment) -> Path:
    """Write ``path`` (JSON) and, when there are weights, ``path`` with suffix .npz."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        path = path.with_suffix(path.suffix + ".json") if path.suffix else path.with_suffix(".json")
    if not path.parent.exists():
        raise ExperimentError(f"{path}: the folder {path.parent} does not exist")
    doc = {"format": FORMAT, "version": VERSION, "config": exp.config.to_dict(),
           "results": exp.results, "history": exp.history}
    try:
        if exp.weights is not None:
            npz = path.with_suffix(".npz")
            arrays = {f"param/{k}": np.asarray(v) for k, v in exp.weights.items()}
            arrays.update({f"stats/{k}": np.asarray(v) for k, v in exp.stats.items()})
            atomic_write_bytes(npz, _npz_bytes(arrays))
            doc["weights"] = npz.name
        text = json.dumps(doc, indent=2, allow_nan=False, default=_json_default)
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as e:
        raise ExperimentError(f"{path}: could not be written ({e.strerror or e})") from e
    return path


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(f"cannot store {type(o).__name__} in an experiment file")


def load_experiment(path: str | os.PathLike) -> Experiment:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExperimentError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ExperimentError(f"{path}: could not be read ({e})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ExperimentError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None
    if not isinstance(doc, dict):
        raise ExperimentError(f"{path}: an experiment file must hold a JSON object")
    known = {"format", "version", "config", "weights", "results", "history"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ExperimentError(f"{path}: unknown field {unknown[0]}")
    if doc.get("format", FORMAT) != FORMAT:
        raise ExperimentError(f"{path}: format is {doc.get('format')!r}, expected {FORMAT!r}")
    version = doc.get("version", VERSION)
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise ExperimentError(f"{path}: format version {version!r} is not supported (this program reads {VERSION})")
    if "config" not in doc:
        raise ExperimentError(f"{path}: the field config is missing")
    try:
        cfg = ExperimentConfig.from_dict(doc["config"])
    except ConfigError as e:
        raise ExperimentError(f"{path}: {e}") from None
    for key in ("results", "history"):
        if not isinstance(doc.get(key, {}), dict):
            raise ExperimentError(f"{path}: the field {key} must be an object")
    exp = Experiment(cfg, results=doc.get("results", {}), history=doc.get("history", {}))
    wname = doc.get("weights")
    if wname is not None:
        if not isinstance(wname, str) or not wname:
            raise ExperimentError(f"{path}: the field weights must be a file name")
        wpath = path.parent / wname
        exp.weights, exp.stats = _load_weights(wpath)
    return exp


def _load_weights(wpath: Path) -> tuple[dict, dict]:
    weights, stats = {}, {}
    try:
        with np.load(wpath, allow_pickle=False) as z:
            for key in z.files:
                arr = z[key]
                kind, _, name = key.partition("/")
                if kind == "param":
                    if not np.issubdtype(arr.dtype, np.floating):
                        raise ExperimentError(f"{wpath}: weight {name} has dtype {arr.dtype}, expected floats")
                    weights[name] = arr
                elif kind == "stats":
                    stats[name] = arr
                else:
                    raise ExperimentError(f"{wpath}: unexpected array {key}")
    except FileNotFoundError:
        raise ExperimentError(f"{wpath}: the weights file is missing") from None
    except ExperimentError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise ExperimentError(f"{wpath}: not a readable NPZ weights file ({e})") from None
    return weights, stats
