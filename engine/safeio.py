"""Reading what a user hands over, with every size checked before it is allocated.

Every loader of the application (experiments, walkthroughs, datasets) reads files a
student or a stranger may have made by hand, by mistake or on purpose. The functions here
are the one place that bounds them:

- :func:`read_capped` reads a *regular* file of at most ``limit`` bytes (a FIFO or a device
  such as ``/dev/zero`` is refused instead of hanging or filling memory);
- :func:`parse_json` refuses nesting deeper than :data:`MAX_JSON_DEPTH`, integers of more
  than :data:`MAX_INT_DIGITS` digits and non-finite numbers (``NaN``, ``Infinity``,
  ``1e999``), naming the field;
- :func:`gunzip_capped` and :func:`gzip_prefix` stream gzip data with a cap on the output;
- :func:`read_npz` reads an NPZ archive member by member: the ``.npy`` header each member
  declares is checked against the member's size and the caps before anything is allocated,
  object arrays are refused (as ``allow_pickle=False`` does), and a member whose declared
  size is out of all proportion to its compressed size is refused as a decompression bomb.

Each function takes the error class of its caller (``DatasetError``, ``ExperimentError``,
``WalkthroughError``...) and raises it with a one-line message that starts with the file.
"""
from __future__ import annotations

import json
import math
import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

MAX_JSON_DEPTH = 64          # experiments nest 3 levels, walkthrough tensors a few more
MAX_INT_DIGITS = 30          # a 64-bit seed has 20 digits
BOMB_RATIO = 200             # declared / compressed size above which a large member is refused
BOMB_MIN_BYTES = 16 << 20    # ... once it declares more than this (small members may compress well)
MAX_NPZ_MEMBERS = 10_000


def one_line(text) -> str:
    """``text`` with every run of white space (newlines too) folded to one space."""
    return " ".join(str(text).split())


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n:,} bytes"


def regular_file_size(path: str | os.PathLike, error: type[Exception], what: str = "file") -> int:
    """The size of ``path`` if it is a regular file; otherwise raise ``error`` saying what it is."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise error(f"{p}: no such file") from None
    except OSError as e:
        raise error(f"{p}: cannot open ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{p}: is a folder, expected {what}")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{p}: not a regular file (a pipe, socket or device), expected {what}")
    return st.st_size


def read_capped(path: str | os.PathLike, limit: int, error: type[Exception], what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refused when it holds more than ``limit``."""
    p = Path(path)
    size = regular_file_size(p, error, what)
    if size > limit:
        raise error(f"{p}: too large for {what} ({_mb(size)}; at most {_mb(limit)})")
    try:
        with open(p, "rb") as f:
            data = f.read(size + 1)     # not limit + 1: Python allocates what it is asked for
    except OSError as e:
        raise error(f"{p}: cannot read ({e.strerror or e})") from None
    if len(data) > min(size, limit):    # the file grew while we looked
        raise error(f"{p}: changed while it was read (it grew past {_mb(size)})")
    return data


# ------------------------------------------------------------------------------- JSON
class _JsonLimit(ValueError):
    pass


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _JsonLimit(f"an integer of {digits} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _where(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def check_tree(doc: Any, source: str, error: type[Exception], max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse a parsed JSON tree that nests deeper than ``max_depth`` or holds a non-finite number."""
    stack: list[tuple[Any, list]] = [(doc, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                what = "NaN" if math.isnan(value) else "infinite"
                raise error(f"{source}: {_where(path)} is {what}; every number must be finite")
        elif isinstance(value, (dict, list)):
            if len(path) >= max_depth:
                raise error(f"{source}: nested more than {max_depth} levels deep (at {_where(path)})")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((v, path + [k]) for k, v in items)


def parse_json(data: str | bytes, source: str, error: type[Exception],
               max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON text; nesting, integer length and non-finite numbers are bounded (see module doc)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise error(f"{source}: not UTF-8 text (byte {e.start})") from None
    try:
        doc = json.loads(data, parse_int=_parse_int)
    except _JsonLimit as e:
        raise error(f"{source}: {e}") from None
    except json.JSONDecodeError as e:
        raise error(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise error(f"{source}: nested more than {max_depth} levels deep") from None
    except ValueError as e:     # e.g. Python's own limit on integer digits
        raise error(f"{source}: not valid JSON ({e})") from None
    check_tree(doc, source, error, max_depth)
    return doc


# ------------------------------------------------------------------------------- gzip
def _inflater():
    return zlib.decompressobj(wbits=47)     # 32 + 15: gzip or zlib header, detected


def gzip_prefix(data: bytes, n: int, source: str, error: type[Exception]) -> bytes:
    """The first ``n`` decompressed bytes of gzip ``data`` (fewer if it holds fewer)."""
    try:
        return _inflater().decompress(data, n)
    except zlib.error as e:
        raise error(f"{source}: corrupt gzip data ({e})") from None


def gunzip_capped(data: bytes, limit: int, source: str, error: type[Exception]) -> bytes:
    """Decompress gzip ``data`` (all members), refusing more than ``limit`` bytes of output.

    The output grows only as far as the data really expands, so a bomb is stopped at
    ``limit`` bytes, never allocated whole.
    """
    out = bytearray()
    rest = data
    try:
        while rest:
            d = _inflater()
            buf = rest
            while True:
                chunk = d.decompress(buf, min(1 << 22, limit + 1 - len(out)))
                out += chunk
                if len(out) > limit:
                    raise error(f"{source}: decompresses to more than {_mb(limit)}, more than it can hold")
                buf = d.unconsumed_tail
                if d.eof or (not buf and not chunk):
                    break
            if not d.eof:
                raise error(f"{source}: truncated gzip data")
            rest = d.unused_data.lstrip(b"\0")
    except zlib.error as e:
        raise error(f"{source}: corrupt gzip data ({e})") from None
    return bytes(out)


# -------------------------------------------------------------------------------- NPZ
def read_npz(path: str | os.PathLike, error: type[Exception], *, max_bytes: int,
             what: str = "an NPZ file") -> dict[str, np.ndarray]:
    """All arrays of the NPZ at ``path``, with sizes checked before anything is decompressed.

    ``max_bytes`` bounds the arrays' total size. Each member's ``.npy`` header must describe
    exactly the bytes the member holds; object (pickled) arrays are refused.
    """
    p = Path(path)
    size = regular_file_size(p, error, what)
    try:
        with open(p, "rb") as f:
            if f.read(6) == b"\x93NUMPY":
                raise error(f"{p}: a .npy file (one array); expected {what}: an NPZ archive of named "
                            "arrays, as numpy.savez writes")
            f.seek(0)
            with zipfile.ZipFile(f) as zf:
                infos = zf.infolist()
                if len(infos) > MAX_NPZ_MEMBERS:
                    raise error(f"{p}: {len(infos):,} arrays in one file (at most {MAX_NPZ_MEMBERS:,})")
                total = sum(i.file_size for i in infos)
                if total > max_bytes:
                    raise error(f"{p}: its arrays declare {_mb(total)}, more than the {_mb(max_bytes)} "
                                f"{what} may hold")
                return {_key(i.filename): _read_member(zf, i, p, error) for i in infos}
    except zipfile.LargeZipFile as e:
        raise error(f"{p}: not a readable NPZ archive ({e})") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as e:
        raise error(f"{p}: corrupt or truncated NPZ archive ({e})") from None
    except OSError as e:
        raise error(f"{p}: cannot read ({e.strerror or e})") from None
    except MemoryError:
        raise error(f"{p}: not enough memory for its arrays ({_mb(size)} on disk)") from None


def _key(name: str) -> str:
    return name[:-4] if name.endswith(".npy") else name


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, p: Path, error) -> np.ndarray:
    name = _key(info.filename)
    if info.file_size > BOMB_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
        raise error(f"{p}: array {name} declares {_mb(info.file_size)} from {_mb(info.compress_size)} "
                    "compressed (a decompression bomb?)")
    with zf.open(info) as m:
        try:
            version = np.lib.format.read_magic(m)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(m)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(m)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, SyntaxError, TypeError, EOFError) as e:
            raise error(f"{p}: array {name} has no valid .npy header ({e})") from None
        if dtype.hasobject:
            raise error(f"{p}: array {name} holds Python objects (pickled arrays), which are refused; "
                        "save plain numeric arrays")
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        header = m.tell()
        if header + nbytes != info.file_size:
            raise error(f"{p}: array {name} declares shape {tuple(shape)} ({_mb(nbytes)}) but holds "
                        f"{_mb(max(info.file_size - header, 0))}")
        buf = np.empty(nbytes, dtype=np.uint8)
        got = 0
        while got < nbytes:
            chunk = m.read(min(1 << 22, nbytes - got))
            if not chunk:
                raise error(f"{p}: array {name} is truncated ({got:,} of {nbytes:,} bytes)")
            buf[got:got + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            got += len(chunk)
    return buf.view(dtype).reshape(shape, order="F" if fortran else "C")
