"""Experiment files: a JSON file (with a format version) holding the whole configuration,
and beside it an NPZ with the trained weights and the preprocessing statistics.

Saving ``run.json`` is whole or not at all, and replaces nothing that is not this
application's own:

1. everything is serialised in memory first; the target is checked: a folder, a missing
   folder, a file that is not an experiment file of this application (format
   ``backprop-studio-experiment``) or an input of the run (``protect``) is refused;
2. the weights go to a new file under a unique name, ``run.<8 hex digits>.weights.npz``,
   created with ``O_EXCL`` (it never replaces anything), written and flushed to disk;
3. the JSON, which names that weights file, is written to a temporary file, flushed, and
   renamed over ``run.json`` (``os.replace``, atomic), then the folder is flushed;
4. only then is the previous experiment's weights file removed, and only when it is
   ours: named ``run.<8 hex>.weights.npz`` in the same folder and holding nothing but
   ``param/`` and ``stats/`` arrays.

A kill at any instant leaves ``run.json`` naming a complete weights file: the old
experiment or the new one (at worst an unreferenced weights or ``.tmp`` file stays behind).
New files get the usual permissions (``0o666`` less the umask); a replaced experiment keeps
its mode, and its weights file gets the same.

Loading reads the JSON with a size cap and refuses ``NaN``/``Infinity`` and unknown keys,
naming the field; the weights file must be a plain file name in the JSON's own folder and is
read with :func:`engine.safeio.read_npz` (no pickles, sizes checked first). Old experiments
(``run.json`` naming ``run.npz``) still load.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import secrets
import stat
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from . import safeio
from .config import ConfigError, ExperimentConfig

FORMAT = "backprop-studio-experiment"
VERSION = 1
MAX_JSON_BYTES = 64 << 20          # an experiment's JSON (config, results, history)
MAX_WEIGHTS_BYTES = 2 << 30        # all arrays of its weights file together
WEIGHTS_SUFFIX = ".weights.npz"
_TEST_PAUSE = "BACKPROP_STUDIO_TEST_SAVE_PAUSE"        # tests: marker file to write, then sleep
_TEST_PAUSE_AT = "BACKPROP_STUDIO_TEST_SAVE_PAUSE_AT"  # ... at: weights | temp | replaced


class ExperimentError(ValueError):
    """An experiment file could not be read or written; the message names the file."""


@dataclass
class Experiment:
    config: ExperimentConfig
    weights: dict[str, np.ndarray] | None = None
    stats: dict[str, np.ndarray] = field(default_factory=dict)   # preprocessing statistics
    results: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    weights_file: Path | None = None     # where load_experiment read the weights from


def experiment_of_run(cfg: ExperimentConfig, trainer=None, results: dict | None = None) -> Experiment:
    """The one way a run becomes an Experiment (the command line's --save, the window's Save):
    the configuration, the trainer's weights, its dataset's preprocessing statistics, its history
    and ``results`` (default: the trainer's summary once it has taken a step)."""
    if trainer is None:
        return Experiment(cfg.copy(), results=dict(results or {}))
    if results is None:
        results = trainer.summary() if trainer.steps else {}
    return Experiment(cfg.copy(), weights=trainer.model.copy_params(), stats=dict(trainer.data.stats),
                      results=dict(results), history=trainer.history.to_dict())


def inputs_of(*dataset_cfgs) -> list[str]:
    """The files and folders a run reads (a save never replaces them)."""
    return [p for d in dataset_cfgs if d is not None for p in (d.data_file, d.data_dir) if p]


# ------------------------------------------------------------------------------ file helpers
_O_BINARY = getattr(os, "O_BINARY", 0)


def _create_new(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to the new file ``path`` (never an existing one) and flush it to disk.

    Created ``0o666`` so the umask applies, as for any new file; ``mode`` overrides that.
    On any failure the partial file is removed.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
    try:
        try:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink_quietly(path)
        raise


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_folder(folder: Path) -> None:
    """Make renames and new names in ``folder`` durable, where the OS allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return                      # e.g. Windows: folders cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _new_temp(path: Path, data: bytes, mode: int | None) -> Path:
    """A new, flushed temporary file ``.<name>.<8 hex>.tmp`` beside ``path`` holding ``data``."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            _create_new(tmp, data, mode)
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")  # pragma: no cover


def _replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_folder(path.parent)


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all: a flushed temporary file beside it, renamed
    over it (an export, a CSV): an interrupted write never leaves half a file under the name."""
    path = Path(path)
    _replace(_new_temp(path, data, None), path)
    return path


def _test_pause(stage: str) -> None:
    """Tests only: with BACKPROP_STUDIO_TEST_SAVE_PAUSE set, write that marker file and sleep
    at ``stage`` (BACKPROP_STUDIO_TEST_SAVE_PAUSE_AT, default "weights") so a test can kill
    the process at that exact point of a save."""
    marker = os.environ.get(_TEST_PAUSE)
    if not marker or os.environ.get(_TEST_PAUSE_AT, "weights") != stage:
        return
    Path(marker).write_text(stage)
    time.sleep(60)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def json_safe(obj):
    """``obj`` with every non-finite float (NaN, ±inf: a diverged run's losses) as ``None`` — JSON's
    null, which loading reads back as NaN — so a run is saved whole whatever its numbers."""
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(f"cannot store {type(o).__name__} in an experiment file")


# ------------------------------------------------------------------------------ naming
def experiment_path(path: str | os.PathLike) -> Path:
    """The JSON path ``save_experiment`` writes for ``path``: the path itself when something
    is there (it is checked, never silently bypassed) or it ends in ``.json``; otherwise
    ``.json`` is appended (``run`` → ``run.json``)."""
    p = Path(path)
    if p.suffix.lower() == ".json" or os.path.lexists(p):
        return p
    return p.with_name(p.name + ".json")


def _stem(json_path: Path) -> str:
    name = json_path.name
    return name[:-5] if name.lower().endswith(".json") and len(name) > 5 else name


def _weights_name(json_path: Path) -> str:
    return f"{_stem(json_path)}.{secrets.token_hex(4)}{WEIGHTS_SUFFIX}"


def _is_our_weights_name(json_path: Path, name: str) -> bool:
    return re.fullmatch(re.escape(_stem(json_path)) + r"\.[0-9a-f]{8}" + re.escape(WEIGHTS_SUFFIX), name) is not None


def _plain_name(name: str) -> bool:
    """A file name with no folder part: no separators, not ``.``/``..``, not absolute."""
    if not name or name in (".", "..") or "\0" in name or "/" in name or "\\" in name:
        return False
    if os.sep in name or (os.altsep and os.altsep in name) or ":" in name and os.name == "nt":
        return False
    return not os.path.isabs(name) and Path(name).name == name


# ------------------------------------------------------------------------------ saving
@dataclass
class _Target:
    path: Path                  # the JSON to write (a symlink's target)
    shown: Path                 # the path as the user named it
    mode: int | None = None     # the replaced experiment's permission bits
    old_weights: str | None = None


def check_save_target(path: str | os.PathLike, protect: Iterable = ()) -> Path:
    """Refuse, with an ExperimentError naming the file, a path ``save_experiment`` would refuse:
    a folder, a missing folder, anything but an experiment file of this application, or one of
    the run's inputs (``protect``: data files, folders, the --config file's weights...).
    Nothing is written. Returns the JSON path that would be written."""
    return _check_target(path, protect).shown


def _locate(path: str | os.PathLike) -> tuple[Path, Path]:
    """The JSON path as the user named it, and the file to replace (a symlink's target)."""
    shown = experiment_path(path)
    return shown, (Path(os.path.realpath(shown)) if os.path.islink(shown) else shown)


def same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (the same file through a link counts)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def writable_target(target: Path, protect: Iterable, error: type[Exception], *, shown=None,
                    example: str = "the file to write") -> os.stat_result | None:
    """The checks before a file is written at ``target``: its folder exists, it is none of the
    run's inputs ``protect``, and if it exists it is a regular file (a folder, a pipe, a device or
    a link to a missing file is refused, with ``error`` naming it).  Its stat, None if it is new."""
    shown = target if shown is None else shown
    if not target.parent.is_dir():
        raise error(f"{shown}: the folder {target.parent} does not exist")
    for p in protect:
        if p and same_path(target, p):
            raise error(f"{shown}: is an input of this run ({p}); choose another name")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        if os.path.islink(shown):
            raise error(f"{shown}: is a link to a missing file ({target}); not followed") from None
        return None
    except OSError as e:
        raise error(f"{shown}: cannot be checked ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{shown}: is a folder; name {example}")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{shown}: is not a regular file (a pipe, socket or device); not replaced")
    return st


def _check_target(path: str | os.PathLike, protect: Iterable) -> _Target:
    shown, target = _locate(path)
    t = _Target(target, shown)
    st = writable_target(target, protect, ExperimentError, shown=shown,
                         example="the experiment file to write (e.g. run.json)")
    if st is None:
        return t
    try:
        data = safeio.read_capped(target, MAX_JSON_BYTES, ExperimentError, "an experiment file")
        doc = safeio.parse_json(data, str(shown), ExperimentError)
    except ExperimentError:
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ExperimentError(f"{shown}: already exists and is not a Backprop Studio experiment file; "
                              "not replaced (choose another name)")
    t.mode = stat.S_IMODE(st.st_mode)
    w = doc.get("weights")
    if isinstance(w, str) and _plain_name(w):
        t.old_weights = w
    return t


def save_experiment(path: str | os.PathLike, exp: Experiment, protect: Iterable = ()) -> Path:
    """Write the experiment to ``path`` (JSON) and its weights beside it, whole or not at all.

    See the module docstring for the design. ``protect`` lists the run's input files and
    folders: none of them is ever replaced or removed. Raises ExperimentError naming the file.
    Returns the JSON path written.
    """
    protect = [Path(p) for p in protect if p]
    shown, target = _locate(path)
    # everything in memory first
    doc = {"format": FORMAT, "version": VERSION, "config": exp.config.to_dict(),
           "results": json_safe(exp.results), "history": json_safe(exp.history)}
    npz = name = None
    try:
        if exp.weights is not None:
            arrays = {f"param/{k}": np.asarray(v) for k, v in exp.weights.items()}
            arrays.update({f"stats/{k}": np.asarray(v) for k, v in exp.stats.items()})
            npz = _npz_bytes(arrays)
            name = doc["weights"] = _weights_name(target)
        text = json.dumps(doc, indent=2, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as e:
        raise ExperimentError(f"{shown}: cannot be saved ({e})") from None
    t = _check_target(path, protect)
    folder = t.path.parent
    new_weights = None
    replaced = False
    try:
        if npz is not None:
            for _ in range(100):
                try:
                    _create_new(folder / name, npz, t.mode)
                    new_weights = folder / name
                    break
                except FileExistsError:     # never replace: another name (and the JSON naming it)
                    name = doc["weights"] = _weights_name(t.path)
                    text = json.dumps(doc, indent=2, allow_nan=False, default=_json_default)
            else:  # pragma: no cover - 100 collisions of 32 random bits
                raise ExperimentError(f"{shown}: no free name for its weights file")
            _fsync_folder(folder)           # the weights' name is on disk before the JSON names it
            _test_pause("weights")
        tmp = _new_temp(t.path, text.encode("utf-8"), t.mode)
        _test_pause("temp")
        try:
            os.replace(tmp, t.path)
            replaced = True
        except BaseException:
            _unlink_quietly(tmp)
            raise
        _fsync_folder(folder)
    except BaseException as e:
        if new_weights is not None and not replaced:
            _unlink_quietly(new_weights)
        if isinstance(e, OSError):
            raise ExperimentError(f"{shown}: could not be written ({e.strerror or e})") from None
        raise
    _test_pause("replaced")
    if t.old_weights and t.old_weights != name:
        _remove_old_weights(t.path, folder / t.old_weights, protect)
    return shown


def _remove_old_weights(json_path: Path, old: Path, protect: list[Path]) -> None:
    """Remove the replaced experiment's weights file, only if it is certainly ours."""
    if not _is_our_weights_name(json_path, old.name) or any(same_path(old, p) for p in protect):
        return
    try:
        st = os.lstat(old)
        if not stat.S_ISREG(st.st_mode):
            return
        with zipfile.ZipFile(old) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return
    if len(names) > safeio.MAX_NPZ_MEMBERS or not all(
            re.fullmatch(r"(param|stats)/[^/]+\.npy", n) for n in names):
        return
    if _named_by_another(json_path, old.name):
        return
    _unlink_quietly(old)


_MAX_SIBLINGS = 200              # JSON files looked at before keeping an old weights file anyway
_MAX_SIBLING_BYTES = 256 << 20


def _named_by_another(json_path: Path, name: str) -> bool:
    """Whether another JSON file in the folder names the weights file ``name`` (a copy of the
    experiment under another name, say); when unsure (too many files to read), True."""
    needle = json.dumps(name).encode()
    seen = budget = 0
    try:
        with os.scandir(json_path.parent) as it:
            for entry in it:
                if not entry.name.lower().endswith(".json") or entry.name == json_path.name:
                    continue
                try:
                    if not entry.is_file():
                        continue
                    size = entry.stat().st_size
                    seen += 1
                    budget += size
                    if seen > _MAX_SIBLINGS or budget > _MAX_SIBLING_BYTES:
                        return True
                    with open(entry.path, "rb") as f:
                        if needle in f.read(size + 1):
                            return True
                except OSError:
                    continue
    except OSError:
        return True
    return False


# ------------------------------------------------------------------------------ loading
def load_experiment(path: str | os.PathLike) -> Experiment:
    path = Path(path)
    data = safeio.read_capped(path, MAX_JSON_BYTES, ExperimentError, "an experiment file (JSON)")
    doc = safeio.parse_json(data, str(path), ExperimentError)
    if not isinstance(doc, dict):
        raise ExperimentError(f"{path}: an experiment file must hold a JSON object")
    known = {"format", "version", "config", "weights", "results", "history"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ExperimentError(f"{path}: unknown field {unknown[0]}")
    if doc.get("format", FORMAT) != FORMAT:
        raise ExperimentError(f"{path}: format is {doc.get('format')!r}, expected {FORMAT!r}")
    version = doc.get("version", VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION or version < 1:
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
        if not _plain_name(wname):
            raise ExperimentError(f"{path}: the field weights must name a file in the experiment's own "
                                  f"folder (a plain file name), not {wname[:200]!r}")
        wpath = path.parent / wname
        exp.weights, exp.stats = _load_weights(wpath, path)
        exp.weights_file = wpath
    return exp


def _load_weights(wpath: Path, json_path: Path) -> tuple[dict, dict]:
    if not os.path.lexists(wpath):
        raise ExperimentError(f"{wpath}: the weights file that {json_path.name} names is missing")
    arrays = safeio.read_npz(wpath, ExperimentError, max_bytes=MAX_WEIGHTS_BYTES,
                             what="an experiment's weights file")
    weights, stats = {}, {}
    for key, arr in arrays.items():
        kind, _, name = key.partition("/")
        if kind not in ("param", "stats") or not name:
            raise ExperimentError(f"{wpath}: unexpected array {key[:100]!r} (expected param/… and stats/… arrays)")
        if kind == "param" and arr.dtype.kind != "f":
            raise ExperimentError(f"{wpath}: weight {name} has dtype {arr.dtype}, expected floats")
        if kind == "stats" and arr.dtype.kind not in "fiu":
            raise ExperimentError(f"{wpath}: statistic {name} has dtype {arr.dtype}, expected numbers")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ExperimentError(f"{wpath}: {'weight' if kind == 'param' else 'statistic'} {name} "
                                  "holds NaN or infinite values")
        (weights if kind == "param" else stats)[name] = arr
    return weights, stats


def weights_mismatch(exp: Experiment, error: ConfigError) -> ExperimentError:
    """The one-line error for weights that do not fit the model, naming the experiment's weights file."""
    msg = str(error)
    msg = msg[len("weights: "):] if msg.startswith("weights: ") else msg
    where = exp.weights_file if exp.weights_file is not None else "the experiment's weights"
    return ExperimentError(f"{where}: the saved weights do not fit the model: {msg}")
