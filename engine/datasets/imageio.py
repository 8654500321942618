"""Image files in pure NumPy + standard library: PNG (decode and encode), PPM/PGM, and
area/bilinear resizing. Baseline JPEG decoding lives in :mod:`.jpeg`.

Decoders return uint8 ``(H, W, C)`` with ``C`` = 1 (grey) or 3 (RGB); alpha is dropped
(composited on black is not attempted — the colour values are kept), 16-bit samples are
reduced to their high byte, palettes are expanded.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from .base import DatasetError

PNG_SIG = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class ImageError(ValueError):
    """An image file could not be decoded (the caller adds the file name)."""


# ----------------------------------------------------------------------------------- PNG
def _unfilter(data: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    """Undo the PNG row filters; ``stride`` bytes per row, ``bpp`` bytes per pixel (>= 1)."""
    if len(data) < height * (stride + 1):
        raise ImageError(f"image data too short ({len(data)} bytes, need {height * (stride + 1)})")
    rows = np.frombuffer(data, dtype=np.uint8, count=height * (stride + 1)).reshape(height, stride + 1)
    kinds = rows[:, 0]
    if kinds.max(initial=0) > 4:
        raise ImageError(f"unknown row filter type {int(kinds.max())}")
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for r in range(height):
        line = rows[r, 1:]
        k = kinds[r]
        if k == 0:
            cur = line.copy()
        elif k == 1:       # Sub: running sum along each byte lane of the pixel
            pad = (-stride) % bpp
            lanes = np.concatenate([line, np.zeros(pad, np.uint8)]).reshape(-1, bpp)
            cur = (np.cumsum(lanes, axis=0, dtype=np.uint64) & 0xFF).astype(np.uint8).reshape(-1)[:stride]
        elif k == 2:       # Up
            cur = line + prev
        else:              # Average / Paeth depend on the byte just decoded: a Python loop
            cur_b = bytearray(line.tobytes())
            up = prev.tobytes()
            if k == 3:
                for i in range(stride):
                    left = cur_b[i - bpp] if i >= bpp else 0
                    cur_b[i] = (cur_b[i] + ((left + up[i]) >> 1)) & 0xFF
            else:
                for i in range(stride):
                    if i >= bpp:
                        a, c = cur_b[i - bpp], up[i - bpp]
                    else:
                        a = c = 0
                    b = up[i]
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
                    cur_b[i] = (cur_b[i] + pred) & 0xFF
            cur = np.frombuffer(bytes(cur_b), dtype=np.uint8)
        out[r] = cur
        prev = out[r]
    return out


def decode_png(data: bytes) -> np.ndarray:
    """Decode a non-interlaced PNG (all colour types; bit depths 1, 2, 4, 8, 16)."""
    if data[:8] != PNG_SIG:
        raise ImageError("not a PNG file (bad signature)")
    pos, header, palette, idat = 8, None, None, []
    trns = None
    while True:
        if pos + 8 > len(data):
            raise ImageError("truncated PNG (no IEND chunk)")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            raise ImageError(f"truncated PNG (chunk {ctype.decode('latin1')!r} cut off)")
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise ImageError(f"corrupt PNG (bad CRC in chunk {ctype.decode('latin1')!r})")
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif ctype == b"tRNS":
            trns = body
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None:
        raise ImageError("corrupt PNG (no IHDR chunk)")
    width, height, depth, ctype_, _comp, _filt, interlace = header
    if ctype_ not in _CHANNELS:
        raise ImageError(f"unknown PNG colour type {ctype_}")
    if depth not in (1, 2, 4, 8, 16) or (ctype_ in (2, 4, 6) and depth < 8) or (ctype_ == 3 and depth == 16):
        raise ImageError(f"invalid PNG bit depth {depth} for colour type {ctype_}")
    if interlace:
        raise ImageError("interlaced (Adam7) PNGs are not supported; save it without interlacing")
    if width == 0 or height == 0:
        raise ImageError("empty image (0 pixels)")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise ImageError(f"corrupt PNG image data ({e})") from None
    ch = _CHANNELS[ctype_]
    bits = ch * depth
    stride = (width * bits + 7) // 8
    rows = _unfilter(raw, height, stride, max(1, bits // 8))
    if depth == 16:
        img = rows.reshape(height, width, ch, 2)[..., 0]
    elif depth == 8:
        img = rows.reshape(height, width, ch)
    else:
        bitsarr = np.unpackbits(rows, axis=1).reshape(height, -1, depth)[:, :width]
        weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
        vals = (bitsarr * weights).sum(axis=2).astype(np.uint8)
        if ctype_ == 0:
            vals = (vals.astype(np.uint16) * 255 // ((1 << depth) - 1)).astype(np.uint8)
        img = vals[:, :, None]
    if ctype_ == 3:
        if palette is None:
            raise ImageError("corrupt PNG (palette image without a PLTE chunk)")
        if img.max() >= len(palette):
            raise ImageError("corrupt PNG (pixel refers past the end of the palette)")
        img = palette[img[:, :, 0]]
    elif ctype_ == 4:
        img = img[:, :, :1]
    elif ctype_ == 6:
        img = img[:, :, :3]
    return np.ascontiguousarray(img, dtype=np.uint8)


def encode_png(img: np.ndarray) -> bytes:
    """Encode uint8 ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` as a PNG (filter 0)."""
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), a.reshape(h, w * c)], axis=1).tobytes()

    def chunk(t: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xFFFFFFFF)

    return (PNG_SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


# ------------------------------------------------------------------------------- PPM/PGM
def decode_pnm(data: bytes) -> np.ndarray:
    """Decode binary (P5 grey, P6 RGB) or ASCII (P2, P3) PGM/PPM."""
    magic = data[:2]
    if magic not in (b"P2", b"P3", b"P5", b"P6"):
        raise ImageError("not a PGM/PPM file (magic must be P2, P3, P5 or P6)")
    fields, pos = [], 2
    while len(fields) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ImageError("truncated PGM/PPM header")
        try:
            fields.append(int(data[start:pos]))
        except ValueError:
            raise ImageError("corrupt PGM/PPM header") from None
    w, h, maxval = fields
    if w <= 0 or h <= 0 or not 0 < maxval < 65536:
        raise ImageError(f"invalid PGM/PPM size {w}x{h} or maximum value {maxval}")
    ch = 3 if magic in (b"P3", b"P6") else 1
    n = w * h * ch
    if magic in (b"P5", b"P6"):
        pos += 1
        dt = np.dtype(np.uint8) if maxval < 256 else np.dtype(">u2")
        if len(data) - pos < n * dt.itemsize:
            raise ImageError("truncated PGM/PPM pixel data")
        vals = np.frombuffer(data, dtype=dt, count=n, offset=pos).astype(np.uint32)
    else:
        try:
            vals = np.array(data[pos:].split()[:n], dtype=np.uint32)
        except ValueError:
            raise ImageError("corrupt PGM/PPM pixel data") from None
        if len(vals) < n:
            raise ImageError("truncated PGM/PPM pixel data")
    if vals.max(initial=0) > maxval:
        raise ImageError("corrupt PGM/PPM pixel data (value above the maximum)")
    if maxval != 255:
        vals = (vals * 255 + maxval // 2) // maxval
    return vals.astype(np.uint8).reshape(h, w, ch)


def encode_pnm(img: np.ndarray) -> bytes:
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    return (b"P6" if c == 3 else b"P5") + f"\n{w} {h}\n255\n".encode() + a.tobytes()


# --------------------------------------------------------------------------------- files
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".pnm")


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to uint8 ``(H, W, C)``; :class:`DatasetError` names the file on failure."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        if data[:8] == PNG_SIG:
            return decode_png(data)
        if data[:2] == b"\xff\xd8":
            from .jpeg import decode_jpeg
            return decode_jpeg(data)
        if data[:2] in (b"P2", b"P3", b"P5", b"P6"):
            return decode_pnm(data)
        if not data:
            raise ImageError("empty file")
        raise ImageError("unrecognised image format (supported: PNG, baseline JPEG, PPM/PGM)")
    except ImageError as e:
        raise DatasetError(f"{path}: {e}") from None
    except (ValueError, IndexError, struct.error, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt image ({e})") from None


# -------------------------------------------------------------------------------- resize
def _weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` resampling matrix: area averaging when shrinking, bilinear when enlarging."""
    W = np.zeros((n_out, n_in), dtype=np.float64)
    if n_out <= n_in:
        scale = n_in / n_out
        for o in range(n_out):
            lo, hi = o * scale, (o + 1) * scale
            for i in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
                W[o, i] = min(hi, i + 1) - max(lo, i)
    else:
        centres = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        centres = np.clip(centres, 0, n_in - 1)
        left = np.floor(centres).astype(int)
        right = np.minimum(left + 1, n_in - 1)
        frac = centres - left
        W[np.arange(n_out), left] += 1 - frac
        W[np.arange(n_out), right] += frac
    return W / W.sum(axis=1, keepdims=True)


def resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resample uint8 ``(H, W, C)`` to ``(height, width, C)`` (area when shrinking, bilinear when enlarging)."""
    h, w = img.shape[:2]
    if (h, w) == (height, width):
        return img
    tmp = np.tensordot(_weights(h, height), img.astype(np.float64), axes=(1, 0))      # (height, w, C)
    out = np.tensordot(tmp, _weights(w, width), axes=(1, 1)).transpose(0, 2, 1)       # (height, width, C)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
