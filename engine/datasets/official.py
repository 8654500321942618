"""CIFAR-10, MNIST and Fashion-MNIST as :class:`Dataset`: find the files (the given
directory / archive, else the per-user cache), download them when asked, split off
validation from the official training split, keep the official test split."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from . import cifar, download, idx
from .base import Dataset, DatasetError
from .preprocess import build_dataset


def _hint(what: str, where: Path) -> str:
    return (f"{what} not found in {where}; use --download (or tick Download in the app) to fetch it "
            f"into the cache, or point --data-dir at a copy")


def _extract_cifar(archive: Path, fmt: str, target: Path) -> Path:
    """Unpack the official archive's batch files into ``target/cifar-10-batches-*`` atomically."""
    src = cifar._Source(fmt, archive=archive)
    layout = cifar.LAYOUT[fmt]
    final = target / layout[0]
    tmp = Path(tempfile.mkdtemp(prefix=f".{layout[0]}.", dir=target))
    try:
        for name in layout[1] + [layout[2], layout[3]]:
            data = src.read(name, required=name != layout[3])
            if data is not None:
                (tmp / name).write_bytes(data)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def cifar10_location(cfg, progress=None, cache_dir=None, base_url=None) -> Path:
    """Where CIFAR-10 will be read from, downloading it first if ``cfg.download`` and it is missing."""
    if cfg.data_file:
        return Path(cfg.data_file).expanduser()
    base = Path(cfg.data_dir).expanduser() if cfg.data_dir else download.data_cache_dir(cache_dir)
    try:
        cifar.find_cifar10(base, cfg.cifar_format)
        return base
    except DatasetError as e:
        if not cfg.download:
            if cfg.data_dir:
                raise DatasetError(f"{e}; use --download to fetch it") from None
            raise DatasetError(_hint("CIFAR-10", base)) from None
    remote = download.CIFAR10[cfg.cifar_format]
    archive = download.download(remote, base, progress, base_url)
    if progress:
        progress(0.0, f"unpacking {archive.name}")
    _extract_cifar(archive, cfg.cifar_format, base)
    return base


def load_cifar10(cfg, progress=None, cache_dir=None, base_url=None) -> Dataset:
    where = cifar10_location(cfg, progress, cache_dir, base_url)
    X, y, X_test, y_test, names = cifar.read_cifar10(where, cfg.cifar_format, progress)
    return build_dataset("cifar10", X, y, names, (32, 32, 3), cfg, X_test=X_test, y_test=y_test,
                         scale=255.0, progress=progress)


def mnist_location(cfg, progress=None, cache_dir=None, base_url=None) -> Path:
    """The directory holding the four IDX files, downloading them first if asked and missing."""
    base = (Path(cfg.data_dir).expanduser() if cfg.data_dir
            else download.data_cache_dir(cache_dir) / cfg.name)
    try:
        idx.find_idx_files(base)
        return base
    except DatasetError as e:
        if not cfg.download:
            if cfg.data_dir:
                raise DatasetError(f"{e}; use --download to fetch it") from None
            raise DatasetError(_hint(cfg.name, base)) from None
    remotes = download.REMOTES[cfg.name]
    for i, remote in enumerate(remotes):
        sub = None
        if progress:
            sub = (lambda i: lambda f, m: progress((i + f) / len(remotes), m))(i)
        download.download(remote, base, sub, base_url)
    return base


def load_mnist(cfg, progress=None, cache_dir=None, base_url=None) -> Dataset:
    where = mnist_location(cfg, progress, cache_dir, base_url)
    X, y, X_test, y_test = idx.read_mnist(where, progress)
    names = idx.FASHION_NAMES if cfg.name == "fashion-mnist" else idx.MNIST_NAMES
    return build_dataset(cfg.name, X, y, names, (28, 28, 1), cfg, X_test=X_test, y_test=y_test,
                         scale=255.0, progress=progress)
