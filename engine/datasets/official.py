"""CIFAR-10, MNIST and Fashion-MNIST as :class:`Dataset`: find the files (the given
directory / archive, else the per-user cache), download them when asked, split off
validation from the official training split, keep the official test split.

Downloads go only into the app's cache (:func:`download.data_cache_dir`), never into a
``--data-dir``/``--data-file`` the user gave: when the data is not there and a download is
asked for, it is fetched into the cache and read from there (the progress messages say where).
Nothing the app did not create in the same call is ever deleted or replaced: a file or a
``cifar-10-batches-*`` folder already standing where the download or the unpacking would put
its own, and that is not the official one (or is incomplete), stops it with an error naming
it."""
from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from . import cifar, download, idx
from .base import Dataset, DatasetError
from .preprocess import build_dataset


def _hint(what: str, where: Path) -> str:
    return (f"{what} not found in {where}; use --download (or tick Download in the app) to fetch it "
            f"into the cache, or point --data-dir at a copy")


def _say(progress, msg: str) -> None:
    if progress:
        progress(0.0, msg)


# Files the app created and a killed run may have left: ``.cifar-10-batches-*.<token>.part``
# folders holding (some of) the layout's files. Removed only when every file in them is one the
# app writes there and none was written for download.STALE_PART_AGE seconds.
def _remove_stale_extractions(cache: Path) -> None:
    now = time.time()
    for fmt, layout in cifar.LAYOUT.items():
        pattern = re.compile(re.escape(f".{layout[0]}.") + r"[a-z0-9_]{8}\.part")
        ours = set(layout[1]) | {layout[2], layout[3]}
        try:
            entries = [e for e in os.scandir(cache) if pattern.fullmatch(e.name)]
        except OSError:
            return
        for entry in entries:
            try:
                if not entry.is_dir(follow_symlinks=False):
                    continue
                inside = list(os.scandir(entry.path))
                if any(i.name not in ours or not i.is_file(follow_symlinks=False) for i in inside):
                    continue
                stamps = [entry.stat(follow_symlinks=False).st_mtime]
                stamps += [i.stat(follow_symlinks=False).st_mtime for i in inside]
                if now - max(stamps) <= download.STALE_PART_AGE:
                    continue
                for i in inside:
                    os.unlink(i.path)
                os.rmdir(entry.path)
            except OSError:
                pass


def _tidy_cifar_cache(cache: Path) -> None:
    download.remove_stale_parts(cache, [r.filename for r in download.CIFAR10.values()])
    _remove_stale_extractions(cache)


def _missing_cifar_files(folder: Path, fmt: str) -> list[str]:
    _, train, test, _ = cifar.LAYOUT[fmt]
    return [n for n in train + [test] if not (folder / n).is_file()]


def _extract_cifar(archive: Path, fmt: str, target: Path) -> Path:
    """Unpack the official archive's batch files into a new ``target/cifar-10-batches-*``.

    Never replaces anything: if that folder already exists the extraction stops with an error
    naming it. The files go to a fresh ``.cifar-10-batches-*.<token>.part`` folder first, which
    is renamed once complete; on failure only what this call wrote is removed."""
    layout = cifar.LAYOUT[fmt]
    final = target / layout[0]
    if os.path.lexists(final):
        raise DatasetError(f"{final} already exists; it was left as it is (move or delete it, then try again)")
    src = cifar._Source(fmt, archive=archive)
    members = {}
    for name in layout[1] + [layout[2], layout[3]]:
        data = src.read(name, required=name != layout[3])
        if data is not None:
            members[name] = data
    tmp = None
    for _ in range(100):
        candidate = target / f".{layout[0]}.{secrets.token_hex(4)}.part"
        try:
            candidate.mkdir()
            tmp = candidate
            break
        except FileExistsError:
            continue
        except OSError as e:
            raise DatasetError(f"{target}: cannot unpack {archive.name} here ({e.strerror or e})") from None
    if tmp is None:
        raise DatasetError(f"{target}: cannot create a temporary folder to unpack {archive.name}")
    written: list[Path] = []
    try:
        for name, data in members.items():
            path = tmp / name
            with open(path, "xb") as f:
                written.append(path)
                f.write(data)
        if os.path.lexists(final):   # appeared meanwhile: leave it alone
            raise DatasetError(f"{final} already exists; it was left as it is (move or delete it, then try again)")
        os.rename(tmp, final)        # fails if a non-empty folder or a file appeared at ``final``
    except BaseException as e:
        for path in written:
            try:
                path.unlink()
            except OSError:
                pass
        try:
            tmp.rmdir()
        except OSError:
            pass
        if isinstance(e, OSError):
            raise DatasetError(f"{final}: cannot unpack {archive.name} ({e.strerror or e})") from None
        raise
    return final


def _fetch_cifar(fmt: str, cache: Path, progress, base_url) -> Path:
    """CIFAR-10 in ``cache``: its folder if complete, else the archive downloaded and unpacked."""
    folder = cache / cifar.LAYOUT[fmt][0]
    missing = _missing_cifar_files(folder, fmt)
    if not missing:
        return cache
    if os.path.lexists(folder):      # someone else's or damaged: never removed or overwritten
        raise DatasetError(f"{folder} already exists but is incomplete (no {missing[0]}); it was left as it is: "
                           f"move or delete it, then try again")
    archive = download.download(download.CIFAR10[fmt], cache, progress, base_url)
    _say(progress, f"unpacking {archive.name} into {folder}")
    _extract_cifar(archive, fmt, cache)
    return cache


def cifar10_location(cfg, progress=None, cache_dir=None, base_url=None) -> Path:
    """Where CIFAR-10 will be read from, downloading it first if ``cfg.download`` and it is missing.

    A given ``--data-file``/``--data-dir`` is only ever read: when the data is not there and
    ``cfg.download`` is set, it is fetched into (and read from) the cache instead."""
    fmt = cfg.cifar_format
    cache = download.data_cache_dir(cache_dir)
    given = cfg.data_file or cfg.data_dir
    if given:
        where = Path(given).expanduser()
        try:
            cifar.find_cifar10(where, fmt)
            return where
        except DatasetError as e:
            if not cfg.download:
                raise DatasetError(f"{e}; use --download to fetch it into the cache ({cache})") from None
        _say(progress, f"CIFAR-10 is not in {where}: using the download cache {cache}")
    else:
        try:
            cifar.find_cifar10(cache, fmt)
            found = True
        except DatasetError:
            found = False
        folder = cache / cifar.LAYOUT[fmt][0]
        if found and not (cfg.download and os.path.lexists(folder) and _missing_cifar_files(folder, fmt)):
            _tidy_cifar_cache(cache)
            return cache
        if not found and not cfg.download:
            raise DatasetError(_hint("CIFAR-10", cache))
    _tidy_cifar_cache(cache)
    return _fetch_cifar(fmt, cache, progress, base_url)


def load_cifar10(cfg, progress=None, cache_dir=None, base_url=None) -> Dataset:
    where = cifar10_location(cfg, progress, cache_dir, base_url)
    X, y, X_test, y_test, names = cifar.read_cifar10(where, cfg.cifar_format, progress)
    return build_dataset("cifar10", X, y, names, (32, 32, 3), cfg, X_test=X_test, y_test=y_test,
                         scale=255.0, progress=progress)


def mnist_location(cfg, progress=None, cache_dir=None, base_url=None) -> Path:
    """The directory holding the four IDX files, downloading them first if asked and missing.

    A given ``--data-dir`` is only ever read: when the files are not there and ``cfg.download``
    is set, they are fetched into (and read from) the cache instead."""
    cache = download.data_cache_dir(cache_dir) / cfg.name
    remotes = download.REMOTES[cfg.name]
    if cfg.data_dir:
        where = Path(cfg.data_dir).expanduser()
        try:
            idx.find_idx_files(where)
            return where
        except DatasetError as e:
            if not cfg.download:
                raise DatasetError(f"{e}; use --download to fetch it into the cache ({cache})") from None
        _say(progress, f"{cfg.name} is not in {where}: using the download cache {cache}")
    download.remove_stale_parts(cache, [r.filename for r in remotes])
    try:
        idx.find_idx_files(cache)
        return cache
    except DatasetError:
        if not cfg.download:
            raise DatasetError(_hint(cfg.name, cache)) from None
    for i, remote in enumerate(remotes):
        sub = None
        if progress:
            sub = (lambda i: lambda f, m: progress((i + f) / len(remotes), m))(i)
        download.download(remote, cache, sub, base_url)
    return cache


def load_mnist(cfg, progress=None, cache_dir=None, base_url=None) -> Dataset:
    where = mnist_location(cfg, progress, cache_dir, base_url)
    X, y, X_test, y_test = idx.read_mnist(where, progress)
    names = idx.FASHION_NAMES if cfg.name == "fashion-mnist" else idx.MNIST_NAMES
    return build_dataset(cfg.name, X, y, names, (28, 28, 1), cfg, X_test=X_test, y_test=y_test,
                         scale=255.0, progress=progress)
