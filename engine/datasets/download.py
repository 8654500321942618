"""Downloads into a per-user cache: progress, a temporary file renamed only when complete
and verified against the published MD5, and a clear :class:`DatasetError` otherwise.

Cache directory, first that applies: the ``cache_dir`` argument (the GUI passes its
setting), the ``BACKPROP_STUDIO_DATA`` environment variable, then the platform standard
(Linux ``$XDG_CACHE_HOME/backprop-studio`` or ``~/.cache/backprop-studio``, macOS
``~/Library/Caches/backprop-studio``, Windows ``%LOCALAPPDATA%\\backprop-studio``).

``BACKPROP_STUDIO_MIRROR`` (or the ``base_url`` argument) replaces the server part of every
address, e.g. for a classroom mirror or a test server; the file name is appended to it.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .base import DatasetError

ProgressFn = Callable[[float, str], None]

ENV_DATA = "BACKPROP_STUDIO_DATA"
ENV_MIRROR = "BACKPROP_STUDIO_MIRROR"
APP_DIR = "backprop-studio"
TIMEOUT = 30.0  # seconds without data before giving up


@dataclass(frozen=True)
class Remote:
    filename: str
    base_url: str
    md5: str

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/" + self.filename


CIFAR10 = {
    "python": Remote("cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz",
                     "c58f30108f718f92721af3b95e74349a"),
    "binary": Remote("cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz",
                     "c32a1d4ab5d03f1284b67883e8d87530"),
}
# The original address (http://yann.lecun.com/exdb/mnist/) is offline; PyTorch's mirror
# serves the identical files (same MD5s).
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist"
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"
MNIST = [
    Remote("train-images-idx3-ubyte.gz", MNIST_URL, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    Remote("train-labels-idx1-ubyte.gz", MNIST_URL, "d53e105ee54ea40749a09fcbcd1e9432"),
    Remote("t10k-images-idx3-ubyte.gz", MNIST_URL, "9fb629c4189551a2d022fa330f9573f3"),
    Remote("t10k-labels-idx1-ubyte.gz", MNIST_URL, "ec29112dd5afa0611ce80d1b7f02629c"),
]
FASHION_MNIST = [
    Remote("train-images-idx3-ubyte.gz", FASHION_URL, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    Remote("train-labels-idx1-ubyte.gz", FASHION_URL, "25c81989df183df01b3e8a0aad5dffbe"),
    Remote("t10k-images-idx3-ubyte.gz", FASHION_URL, "bef4ecab320f06d8554ea6380940ec79"),
    Remote("t10k-labels-idx1-ubyte.gz", FASHION_URL, "bb300cfdad3c16e7a12a480ee83cd310"),
]
REMOTES = {"mnist": MNIST, "fashion-mnist": FASHION_MNIST}


def data_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The directory downloads go to (not created here)."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_DIR
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_DIR
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_DIR


def md5_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _mirror(remote: Remote, base_url: str | None) -> str:
    base = base_url or os.environ.get(ENV_MIRROR)
    return (base.rstrip("/") + "/" + remote.filename) if base else remote.url


def download(remote: Remote, target_dir: str | os.PathLike, progress: ProgressFn | None = None,
             base_url: str | None = None, timeout: float = TIMEOUT) -> Path:
    """Fetch ``remote`` into ``target_dir`` and return its path; skip it if already there and valid.

    The bytes go to a temporary file in ``target_dir`` that is renamed only when the transfer
    is complete and its MD5 matches; on any failure it is removed and a :class:`DatasetError`
    says what went wrong.
    """
    target_dir = Path(target_dir)
    final = target_dir / remote.filename
    url = _mirror(remote, base_url)
    if final.is_file():
        if md5_of(final) == remote.md5:
            return final
        final.unlink()          # a stale or damaged copy: fetch it again
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatasetError(f"{target_dir}: cannot create the download directory ({e.strerror or e})") from None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{remote.filename}.", suffix=".part", dir=target_dir)
    tmp = Path(tmp_name)
    ok = False
    try:
        with os.fdopen(fd, "wb") as out:
            h = hashlib.md5()
            got = total = 0
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    total = int(resp.headers.get("Content-Length") or 0)
                    if progress:
                        progress(0.0, f"downloading {url}")
                    while True:
                        block = resp.read(1 << 16)
                        if not block:
                            break
                        out.write(block)
                        h.update(block)
                        got += len(block)
                        if progress and total:
                            progress(min(got / total, 1.0),
                                     f"downloading {remote.filename}: {got / 1e6:.1f} of {total / 1e6:.1f} MB")
            except urllib.error.HTTPError as e:
                raise DatasetError(f"download of {url} failed: the server answered {e.code} {e.reason}") from None
            except urllib.error.URLError as e:
                reason = e.reason
                if isinstance(reason, ConnectionRefusedError):
                    why = "the connection was refused"
                elif isinstance(reason, socket.gaierror):
                    why = "the server name could not be resolved (no network?)"
                elif isinstance(reason, (socket.timeout, TimeoutError)):
                    why = "the connection timed out"
                else:
                    why = str(reason)
                raise DatasetError(f"download of {url} failed: {why}") from None
            except http.client.IncompleteRead as e:
                raise DatasetError(f"download of {url} was cut off after {len(e.partial) + got} bytes "
                                   f"(expected {total}); nothing was kept, try again") from None
            except (socket.timeout, TimeoutError):
                raise DatasetError(f"download of {url} stalled (no data for {timeout:.0f} s); "
                                   "nothing was kept, try again") from None
            except (http.client.HTTPException, ConnectionError, OSError) as e:
                raise DatasetError(f"download of {url} failed: {e}") from None
            if total and got != total:
                raise DatasetError(f"download of {url} was cut off after {got} of {total} bytes; "
                                   "nothing was kept, try again")
            digest = h.hexdigest()
        if digest != remote.md5:
            raise DatasetError(f"download of {url}: checksum mismatch (MD5 {digest}, expected "
                               f"{remote.md5}); the file was discarded")
        os.replace(tmp, final)
        ok = True
        if progress:
            progress(1.0, f"downloaded {remote.filename}")
        return final
    finally:
        if not ok:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
