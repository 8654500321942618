"""Downloads into a per-user cache: progress, a temporary file published only when complete
and verified against the published MD5, and a clear one-line :class:`DatasetError` otherwise.

Cache directory, first that applies: the ``cache_dir`` argument (the GUI passes its
setting), the ``BACKPROP_STUDIO_DATA`` environment variable, then the platform standard
(Linux ``$XDG_CACHE_HOME/backprop-studio`` or ``~/.cache/backprop-studio``, macOS
``~/Library/Caches/backprop-studio``, Windows ``%LOCALAPPDATA%\\backprop-studio``).

``BACKPROP_STUDIO_MIRROR`` (or the ``base_url`` argument) replaces the server part of every
address, e.g. for a classroom mirror or a test server; the file name is appended to it.
Only ``http://`` and ``https://`` addresses with a host name are accepted.

Rules every download keeps:

- **Nothing is ever deleted or replaced.** A file already standing at the target name is
  used when its MD5 is the official one; otherwise the download stops with an error naming
  it (move or delete it, then try again). The finished file is published with a no-replace
  link (or rename on Windows), so a file that appears meanwhile is not overwritten either.
- **It always ends.** Besides the silence timeout (``timeout``: no data for that long), each
  file has a total ``deadline`` (default :func:`default_deadline`: ``max(120 s, size at
  50 KB/s)`` plus the silence timeout). It is checked between reads, each read's socket
  timeout is cut to the time left, and a watchdog shuts the socket when it passes, so a
  server trickling one byte at a time (even in its headers) cannot hold on.
- **The size is capped.** Each :class:`Remote` carries its exact byte size: a
  ``Content-Length`` that differs, a body that runs past it, or one that stops short, ends
  the download at once; the temporary file never grows beyond that size.
- **No partial files.** Bytes go to ``.<filename>.<8 characters>.part`` in the target
  directory, removed on any failure. Such files left by a killed run are removed by the next
  call once they have not been written for :data:`STALE_PART_AGE` seconds (a live download
  writes its part file at least every ``timeout`` seconds, so it is never taken for one).
- Redirects are followed only to ``http``/``https``, never from ``https`` down to ``http``;
  a redirect loop, a non-200 answer, or a malformed header ends in a one-line error.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import os
import re
import secrets
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from ..safeio import one_line
from .base import DatasetError

ProgressFn = Callable[[float, str], None]

ENV_DATA = "BACKPROP_STUDIO_DATA"
ENV_MIRROR = "BACKPROP_STUDIO_MIRROR"
APP_DIR = "backprop-studio"
TIMEOUT = 30.0              # seconds without data before giving up
MIN_DEADLINE = 120.0        # the shortest default total time allowed for one file
MIN_RATE = 50_000.0         # bytes/s: the slowest connection the default deadline allows for
STALE_PART_AGE = 300.0      # seconds a .part file must have been left alone to count as abandoned
CHUNK = 1 << 16


@dataclass(frozen=True)
class Remote:
    filename: str
    base_url: str
    md5: str
    size: int               # the official file's exact size in bytes

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/" + self.filename


CIFAR10 = {
    "python": Remote("cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz",
                     "c58f30108f718f92721af3b95e74349a", 170498071),
    "binary": Remote("cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz",
                     "c32a1d4ab5d03f1284b67883e8d87530", 170052171),
}
# The original address (http://yann.lecun.com/exdb/mnist/) is offline; PyTorch's mirror
# serves the identical files (same MD5s).
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist"
# Zalando's bucket: the documented address (http://fashion-mnist.s3-website.eu-central-1...)
# is S3's website endpoint, which has no https; the same bucket's REST endpoint serves the
# same files (same MD5s) over https.
FASHION_URL = "https://fashion-mnist.s3.eu-central-1.amazonaws.com"
MNIST = [
    Remote("train-images-idx3-ubyte.gz", MNIST_URL, "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
    Remote("train-labels-idx1-ubyte.gz", MNIST_URL, "d53e105ee54ea40749a09fcbcd1e9432", 28881),
    Remote("t10k-images-idx3-ubyte.gz", MNIST_URL, "9fb629c4189551a2d022fa330f9573f3", 1648877),
    Remote("t10k-labels-idx1-ubyte.gz", MNIST_URL, "ec29112dd5afa0611ce80d1b7f02629c", 4542),
]
FASHION_MNIST = [
    Remote("train-images-idx3-ubyte.gz", FASHION_URL, "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880),
    Remote("train-labels-idx1-ubyte.gz", FASHION_URL, "25c81989df183df01b3e8a0aad5dffbe", 29515),
    Remote("t10k-images-idx3-ubyte.gz", FASHION_URL, "bef4ecab320f06d8554ea6380940ec79", 4422102),
    Remote("t10k-labels-idx1-ubyte.gz", FASHION_URL, "bb300cfdad3c16e7a12a480ee83cd310", 5148),
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


def default_deadline(size: int, timeout: float = TIMEOUT) -> float:
    """Seconds allowed for a whole file of ``size`` bytes: ``max(120, size / 50 KB/s) + timeout``."""
    return max(MIN_DEADLINE, size / MIN_RATE) + timeout


def _seconds(x: float) -> str:
    return f"{x:.0f}" if x >= 10 else f"{x:.2g}"


def _fail(url: str, problem: str) -> DatasetError:
    return DatasetError(one_line(f"download of {url} {problem}"))


# ---------------------------------------------------------------------------------------------
# addresses

def check_base_url(base: str, origin: str = "the download address") -> str:
    """``base`` without surrounding blanks if it is an ``http(s)://host[:port][/path]`` address,
    else a :class:`DatasetError` saying why not (``origin`` names where it came from)."""
    text = base.strip()
    why = None
    try:
        parts = urlsplit(text)
        parts.port                        # raises ValueError on a malformed port
    except ValueError as e:
        why = f"it is not a valid address ({e})"
    else:
        if parts.scheme.lower() not in ("http", "https"):
            why = "only http:// and https:// addresses are allowed"
        elif not parts.hostname:
            why = "it names no host"
        elif any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
            why = "it contains blanks or control characters"
        elif parts.query or parts.fragment or "@" in parts.netloc:
            why = "it may not carry a query, fragment or user name"
    if why:
        raise DatasetError(one_line(f"{origin} {text!r} cannot be used: {why}"))
    return text


def _address(remote: Remote, base_url: str | None) -> str:
    if base_url:
        base = check_base_url(base_url, "the mirror address")
    elif os.environ.get(ENV_MIRROR, "").strip():
        base = check_base_url(os.environ[ENV_MIRROR], ENV_MIRROR)
    else:
        return remote.url
    return base.rstrip("/") + "/" + remote.filename


# ---------------------------------------------------------------------------------------------
# the connection: its sockets are watched so the deadline can cut a blocked read short

def _shutdown(sock) -> None:
    try:   # the plain socket call: for TLS too it wakes a blocked read without touching TLS state
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError, ValueError):
        pass


class _Watch:
    """The sockets one download opens (one per redirect), and its deadline."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._socks: list = []
        self._expired = False
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()

    def add(self, sock) -> None:
        with self._lock:
            self._socks.append(sock)
            if self._expired:
                _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            self._expired = True
            for s in self._socks:
                _shutdown(s)

    @property
    def expired(self) -> bool:
        return self._expired or time.monotonic() >= self.end

    def left(self) -> float:
        return self.end - time.monotonic()

    def limit_read(self, timeout: float) -> None:
        """Let the next read on the current socket wait at most ``min(timeout, time left)``."""
        with self._lock:
            sock = self._socks[-1] if self._socks else None
        if sock is not None:
            try:
                sock.settimeout(max(0.01, min(timeout, self.left())))
            except OSError:
                pass


class _Watched:
    def __init__(self, *args, watch: _Watch, **kwargs):
        super().__init__(*args, **kwargs)
        self._watch = watch

    def connect(self):
        super().connect()
        self._watch.add(self.sock)


class _HTTPConnection(_Watched, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watch: _Watch):
        super().__init__()
        self._watch = watch

    def http_open(self, req):
        return self.do_open(_HTTPConnection, req, watch=self._watch)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watch: _Watch):
        super().__init__()
        self._watch = watch

    def https_open(self, req):
        return self.do_open(_HTTPSConnection, req, context=self._context, watch=self._watch)


class _RefusedRedirect(Exception):
    def __init__(self, old: str, new: str):
        super().__init__(new)
        self.old, self.new = old, new


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only, and never from https down to http."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old = urlsplit(req.full_url).scheme.lower()
        new = urlsplit(newurl).scheme.lower()
        if new not in ("http", "https") or (old == "https" and new != "https"):
            fp.close()
            raise _RefusedRedirect(req.full_url, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(watch: _Watch) -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(),
                    _HTTPHandler(watch), _HTTPSHandler(watch), urllib.request.HTTPDefaultErrorHandler(),
                    _Redirects(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def _check_answer(resp, url: str, remote: Remote) -> None:
    status = getattr(resp, "status", None) or resp.getcode()
    if status != 200:
        raise _fail(url, f"failed: the server answered {status} {getattr(resp, 'reason', '')} "
                         "(expected 200 OK); nothing was kept")
    values = [v.strip() for v in (resp.headers.get_all("Content-Length") or [])]
    if not values:
        return
    if len(set(values)) != 1 or not re.fullmatch(r"[0-9]{1,19}", values[0]):
        shown = ", ".join(values)
        raise _fail(url, f"failed: the server sent a malformed Content-Length header ({shown[:60]!r}); "
                         "nothing was kept")
    announced = int(values[0])
    if announced != remote.size:
        raise _fail(url, f"failed: the server announced {announced} bytes but the official "
                         f"{remote.filename} has {remote.size}; nothing was kept")


def _explain(e: BaseException, timeout: float) -> str:
    """Why a transfer failed, as the end of a one-line message."""
    if isinstance(e, _RefusedRedirect):
        if urlsplit(e.new).scheme.lower() in ("http", "https"):
            return (f"was redirected from https to the insecure {e.new}; refused, nothing was kept "
                    "(use an https mirror)")
        return f"was redirected to {e.new}, which is not an http(s) address; refused"
    if isinstance(e, urllib.error.HTTPError):
        reason = one_line(str(e.reason))
        if 300 <= e.code < 400:
            if "infinite loop" in reason:
                return f"failed: redirect loop (the server answered {e.code} over and over)"
            return f"failed: the server answered {e.code} with a redirect that cannot be followed ({reason})"
        return f"failed: the server answered {e.code} {reason}"
    if isinstance(e, urllib.error.URLError):
        reason = e.reason
        if isinstance(reason, ConnectionRefusedError):
            return "failed: the connection was refused"
        if isinstance(reason, socket.gaierror):
            return "failed: the server name could not be resolved (no network?)"
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return f"failed: the connection timed out (no answer for {_seconds(timeout)} s)"
        return f"failed: {reason}"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return f"stalled (no data for {_seconds(timeout)} s); nothing was kept, try again"
    if isinstance(e, http.client.IncompleteRead):
        return "was cut off; nothing was kept, try again"
    if isinstance(e, (http.client.HTTPException, ValueError)):
        return f"failed: the server's answer is not valid HTTP ({type(e).__name__}: {e})"
    if isinstance(e, ConnectionError):
        return f"failed: the connection broke ({e}); nothing was kept, try again"
    return f"failed: {e}"


# ---------------------------------------------------------------------------------------------
# part files

def _part_pattern(filename: str) -> re.Pattern:
    # ours: ".<filename>.<token>.part"; older versions' tempfile names had the same shape
    return re.compile(r"\." + re.escape(filename) + r"\.[a-z0-9_]{8}\.part")


def remove_stale_parts(directory: str | os.PathLike, filenames: Iterable[str],
                       age: float = STALE_PART_AGE) -> list[Path]:
    """Remove this app's abandoned temporary files for ``filenames`` from ``directory``: regular
    files named ``.<filename>.<8 characters>.part`` not written for ``age`` seconds. Returns them."""
    patterns = [_part_pattern(f) for f in filenames]
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not any(p.fullmatch(entry.name) for p in patterns):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > age:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _new_part(target_dir: Path, filename: str) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = target_dir / f".{filename}.{secrets.token_hex(4)}.part"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise DatasetError(f"{target_dir}: cannot create a temporary file for {filename}")


def _not_official(path: Path, remote: Remote, digest: str | None) -> DatasetError:
    what = f"MD5 {digest}, expected {remote.md5}" if digest else "not a regular file"
    return DatasetError(one_line(f"{path} already exists and is not the official {remote.filename} "
                                  f"({what}); it was left as it is: move or delete it, then try again"))


def _existing(final: Path, remote: Remote) -> Path | None:
    """``final`` if it is the official file; ``None`` if nothing is there; else an error."""
    if not os.path.lexists(final):
        return None
    if not final.is_file():
        raise _not_official(final, remote, None)
    try:
        digest = md5_of(final)
    except OSError as e:
        raise DatasetError(f"{final}: cannot read ({e.strerror or e})") from None
    if digest == remote.md5:
        return final
    raise _not_official(final, remote, digest)


def _publish(tmp: Path, final: Path, remote: Remote) -> None:
    """Give the verified ``tmp`` the name ``final`` without ever replacing a file standing there."""
    try:
        if sys.platform == "win32":
            os.rename(tmp, final)         # fails when ``final`` exists
            return
        try:
            os.link(tmp, final)           # fails when ``final`` exists
        except FileExistsError:
            raise
        except OSError as e:              # a file system without hard links
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                               errno.ENOSYS):
                raise
            if os.path.lexists(final):
                raise FileExistsError(errno.EEXIST, "exists", str(final)) from None
            os.replace(tmp, final)
            return
    except FileExistsError:
        # someone else put it there meanwhile: fine if it is the same file (another download)
        if _existing(final, remote) is None:
            raise DatasetError(f"{final}: vanished while the download was being saved; try again") from None
    except OSError as e:
        raise DatasetError(f"{final}: cannot save the download ({e.strerror or e})") from None
    try:                                  # linked: the part file's name is no longer needed
        tmp.unlink()
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------

def download(remote: Remote, target_dir: str | os.PathLike, progress: ProgressFn | None = None,
             base_url: str | None = None, timeout: float = TIMEOUT,
             deadline: float | None = None) -> Path:
    """Fetch ``remote`` into ``target_dir`` and return its path; skip it if already there and valid.

    ``timeout``: seconds without data before giving up; ``deadline``: seconds for the whole file
    (default :func:`default_deadline`). The bytes go to a ``.part`` file in ``target_dir`` that
    gets the final name only when the transfer is complete and its size and MD5 match. A file
    already at the final name that is not the official one is never deleted: the download
    stops with an error naming it. Any failure: a one-line :class:`DatasetError` naming the
    address and the problem, and nothing left behind.
    """
    target_dir = Path(target_dir)
    final = target_dir / remote.filename
    remove_stale_parts(target_dir, [remote.filename])
    if _existing(final, remote) is not None:
        return final
    url = _address(remote, base_url)
    limit = float(deadline) if deadline is not None else default_deadline(remote.size, timeout)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatasetError(f"{target_dir}: cannot create the download directory ({e.strerror or e})") from None

    watch = _Watch(limit)
    tmp: Path | None = None
    ok = False
    got = 0
    watch.start()
    try:
        try:
            with _opener(watch).open(url, timeout=max(0.01, min(timeout, limit))) as resp:
                _check_answer(resp, url, remote)
                # the part file is created only now, and written at every read (unbuffered), so
                # a live download's part file is never older than the silence timeout
                fd, tmp = _new_part(target_dir, remote.filename)
                with os.fdopen(fd, "wb", buffering=0) as out:
                    h = hashlib.md5()
                    if progress:
                        progress(0.0, f"downloading {url} into {target_dir}")
                    while True:
                        if watch.expired:
                            break
                        watch.limit_read(timeout)
                        block = resp.read1(min(CHUNK, remote.size - got + 1))
                        if not block:
                            break
                        if got + len(block) > remote.size:
                            raise _fail(url, f"sent more than the {remote.size} bytes of the official "
                                             f"{remote.filename}; stopped, nothing was kept")
                        out.write(block)
                        h.update(block)
                        got += len(block)
                        if progress:
                            progress(min(got / remote.size, 1.0),
                                     f"downloading {remote.filename}: {got / 1e6:.1f} of "
                                     f"{remote.size / 1e6:.1f} MB")
        except DatasetError:
            raise
        except Exception as e:  # noqa: BLE001 - every failure becomes one line
            if watch.expired:
                raise _fail(url, f"took longer than {_seconds(limit)} s; nothing was kept, try again") from None
            raise _fail(url, _explain(e, timeout)) from None
        if watch.expired and got < remote.size:
            raise _fail(url, f"took longer than {_seconds(limit)} s; nothing was kept, try again")
        if got != remote.size:
            raise _fail(url, f"was cut off after {got} of {remote.size} bytes; nothing was kept, try again")
        digest = h.hexdigest()
        if digest != remote.md5:
            raise _fail(url, f"checksum mismatch (MD5 {digest}, expected {remote.md5}); "
                             "the file was discarded")
        _publish(tmp, final, remote)
        ok = True
        if progress:
            progress(1.0, f"downloaded {remote.filename} into {target_dir}")
        return final
    finally:
        watch.stop()
        if not ok and tmp is not None:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
