"""A baseline JPEG decoder in pure Python + NumPy (ITU T.81, Huffman, 8-bit).

Supports what cameras, phones and image editors write by default: baseline and extended
sequential Huffman frames (SOF0/SOF1), greyscale or YCbCr, any chroma subsampling,
interleaved or per-component scans, restart markers. Progressive, lossless, arithmetic-coded,
12-bit and CMYK files give a clear :class:`ImageError`. The entropy decoding is a Python loop,
so it suits the small images of a teaching dataset (a 256x256 photo takes a fraction of a second).
Chroma is upsampled by pixel replication; colour conversion is JFIF's YCbCr → RGB.
"""
from __future__ import annotations

import re

import numpy as np

from .imageio import ImageError

# natural (row-major) index of the k-th coefficient in zig-zag order
ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
    21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53,
    60, 61, 54, 47, 55, 62, 63])
_u = np.arange(8)
_C = np.cos((2 * _u[None, :] + 1) * _u[:, None] * np.pi / 16) * np.where(_u == 0, np.sqrt(0.125), 0.5)[:, None]
_UNSUPPORTED = {0xC2: "progressive", 0xC3: "lossless", 0xC5: "differential", 0xC6: "differential progressive",
                0xC7: "differential lossless", 0xC9: "arithmetic-coded", 0xCA: "arithmetic-coded progressive",
                0xCB: "arithmetic-coded lossless", 0xCD: "arithmetic-coded", 0xCE: "arithmetic-coded",
                0xCF: "arithmetic-coded"}
_RST = re.compile(rb"\xff[\xd0-\xd7]")


def _huffman(seg: bytes, pos: int) -> tuple[int, int, dict[str, int], int]:
    """Parse one table of a DHT segment: (class, id, {code bits: symbol}, next position)."""
    tc, th = seg[pos] >> 4, seg[pos] & 15
    counts = seg[pos + 1:pos + 17]
    if len(counts) < 16:
        raise ImageError("corrupt JPEG (truncated Huffman table)")
    symbols = seg[pos + 17:pos + 17 + sum(counts)]
    if len(symbols) < sum(counts):
        raise ImageError("corrupt JPEG (truncated Huffman table)")
    table, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            table[format(code, f"0{length}b")] = symbols[k]
            code += 1
            k += 1
        code <<= 1
    return tc, th, table, pos + 17 + sum(counts)


def _decode_scan(data: bytes, pos: int, frame, scan, tables, restart: int, coefs) -> int:
    """Entropy-decode one scan starting at ``pos``; fill ``coefs``; return the position after it."""
    end = pos
    while True:   # the scan ends at the first marker that is neither stuffing nor a restart
        end = data.find(b"\xff", end)
        if end < 0 or end + 1 >= len(data):
            raise ImageError("truncated JPEG (image data ends without an end marker)")
        nxt = data[end + 1]
        if nxt == 0 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
            end += 2 if nxt != 0xFF else 1
            continue
        break
    intervals = _RST.split(data[pos:end])
    width, height, comps, hmax, vmax = frame
    ids = [c[0] for c in scan]
    if len(scan) == 1:
        cid = ids[0]
        _, h, v, _ = comps[cid]
        bw = -(-(-(-width * h // hmax)) // 8)
        bh = -(-(-(-height * v // vmax)) // 8)
        units = [[(cid, by, bx)] for by in range(bh) for bx in range(bw)]
    else:
        mx, my = -(-width // (8 * hmax)), -(-height // (8 * vmax))
        units = []
        for y in range(my):
            for x in range(mx):
                mcu = []
                for cid in ids:
                    _, h, v, _ = comps[cid]
                    mcu += [(cid, y * v + j, x * h + i) for j in range(v) for i in range(h)]
                units.append(mcu)
    per = restart or len(units)
    dc_tab = {cid: tables.get((0, td)) for cid, td, ta in scan}
    ac_tab = {cid: tables.get((1, ta)) for cid, td, ta in scan}
    if any(t is None for t in list(dc_tab.values()) + list(ac_tab.values())):
        raise ImageError("corrupt JPEG (scan uses an undefined Huffman table)")
    for n, start in enumerate(range(0, len(units), per)):
        if n >= len(intervals):
            raise ImageError("truncated JPEG (missing restart intervals)")
        raw = intervals[n].replace(b"\xff\x00", b"\xff")
        bits = (bin(int.from_bytes(raw, "big"))[2:].zfill(8 * len(raw)) if raw else "") + "1" * 64
        limit = 8 * len(raw) + 16
        p = 0
        pred = dict.fromkeys(ids, 0)
        for mcu in units[start:start + per]:
            for cid, by, bx in mcu:
                blk = coefs[cid][by, bx]
                dct, act = dc_tab[cid], ac_tab[cid]
                for ln in range(1, 17):
                    s = dct.get(bits[p:p + ln])
                    if s is not None:
                        break
                else:
                    raise ImageError("corrupt JPEG (bad Huffman code)")
                p += ln
                diff = 0
                if s:
                    diff = int(bits[p:p + s], 2)
                    if diff < 1 << (s - 1):
                        diff -= (1 << s) - 1
                    p += s
                pred[cid] += diff
                blk[0] = pred[cid]
                k = 1
                while k < 64:
                    for ln in range(1, 17):
                        rs = act.get(bits[p:p + ln])
                        if rs is not None:
                            break
                    else:
                        raise ImageError("corrupt JPEG (bad Huffman code)")
                    p += ln
                    r, s = rs >> 4, rs & 15
                    if s == 0:
                        if r != 15:
                            break
                        k += 16
                        continue
                    k += r
                    if k > 63:
                        raise ImageError("corrupt JPEG (coefficient index past 63)")
                    v = int(bits[p:p + s], 2)
                    if v < 1 << (s - 1):
                        v -= (1 << s) - 1
                    p += s
                    blk[k] = v
                    k += 1
            if p > limit:
                raise ImageError("truncated JPEG (image data ends early)")
    return end


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode a baseline JPEG to uint8 ``(H, W, 1)`` (grey) or ``(H, W, 3)`` (RGB)."""
    if data[:2] != b"\xff\xd8":
        raise ImageError("not a JPEG file (no start-of-image marker)")
    qt: dict[int, np.ndarray] = {}
    tables: dict[tuple[int, int], dict[str, int]] = {}
    frame = None
    coefs: dict[int, np.ndarray] = {}
    restart, pos, scans, adobe_rgb = 0, 2, 0, False
    while True:
        if pos + 4 > len(data):
            if scans:
                break   # tolerate a missing end-of-image marker after the image data
            raise ImageError("truncated JPEG (no image data)")
        if data[pos] != 0xFF:
            raise ImageError(f"corrupt JPEG (expected a marker at byte {pos})")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        pos += 2
        if marker == 0xD9:
            break
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        length = int.from_bytes(data[pos:pos + 2], "big")
        seg = data[pos + 2:pos + length]
        if length < 2 or len(seg) != length - 2:
            raise ImageError("truncated JPEG (a header segment is cut off)")
        pos += length
        if marker == 0xDB:
            i = 0
            while i < len(seg):
                pq, tq = seg[i] >> 4, seg[i] & 15
                n = 128 if pq else 64
                vals = np.frombuffer(seg, dtype=">u2" if pq else np.uint8, count=64, offset=i + 1)
                qt[tq] = vals.astype(np.float64)
                i += 1 + n
        elif marker == 0xC4:
            i = 0
            while i < len(seg):
                tc, th, table, i = _huffman(seg, i)
                tables[(tc, th)] = table
        elif marker in (0xC0, 0xC1):
            if seg[0] != 8:
                raise ImageError(f"{seg[0]}-bit JPEG is not supported (only 8-bit)")
            height, width, nc = int.from_bytes(seg[1:3], "big"), int.from_bytes(seg[3:5], "big"), seg[5]
            if height == 0 or width == 0:
                raise ImageError("JPEG without a height in its header (DNL) is not supported")
            if nc not in (1, 3):
                raise ImageError(f"JPEG with {nc} colour components (e.g. CMYK) is not supported")
            comps = {}
            for k in range(nc):
                cid, hv, tq = seg[6 + 3 * k:9 + 3 * k]
                comps[cid] = (k, hv >> 4, hv & 15, tq)
            hmax = max(c[1] for c in comps.values())
            vmax = max(c[2] for c in comps.values())
            if any(not 1 <= c[1] <= 4 or not 1 <= c[2] <= 4 for c in comps.values()):
                raise ImageError("corrupt JPEG (bad sampling factors)")
            frame = (width, height, comps, hmax, vmax)
            mx, my = -(-width // (8 * hmax)), -(-height // (8 * vmax))
            for cid, (_, h, v, _) in comps.items():
                coefs[cid] = np.zeros((my * v, mx * h, 64), dtype=np.int32)
        elif marker in _UNSUPPORTED:
            raise ImageError(f"{_UNSUPPORTED[marker]} JPEG is not supported; re-save it as a baseline "
                             "(non-progressive) JPEG or as PNG")
        elif marker == 0xDD:
            restart = int.from_bytes(seg[:2], "big")
        elif marker == 0xEE and seg[:5] == b"Adobe" and len(seg) >= 12:
            adobe_rgb = seg[11] == 0
        elif marker == 0xDA:
            if frame is None:
                raise ImageError("corrupt JPEG (image data before the frame header)")
            ns = seg[0]
            scan = [(seg[1 + 2 * k], seg[2 + 2 * k] >> 4, seg[2 + 2 * k] & 15) for k in range(ns)]
            if any(cid not in frame[2] for cid, _, _ in scan):
                raise ImageError("corrupt JPEG (scan refers to an unknown component)")
            pos = _decode_scan(data, pos, frame, scan, tables, restart, coefs)
            scans += 1
    if frame is None or not scans:
        raise ImageError("truncated JPEG (no image data)")
    width, height, comps, hmax, vmax = frame
    planes = []
    for cid, (k, h, v, tq) in sorted(comps.items(), key=lambda kv: kv[1][0]):
        if tq not in qt:
            raise ImageError("corrupt JPEG (missing quantization table)")
        zz = coefs[cid].astype(np.float64) * qt[tq]
        nat = np.empty_like(zz)
        nat[..., ZIGZAG] = zz
        blocks = nat.reshape(*nat.shape[:2], 8, 8)
        pix = np.einsum("ux,abuv,vy->abxy", _C, blocks, _C, optimize=True) + 128.0
        plane = pix.transpose(0, 2, 1, 3).reshape(pix.shape[0] * 8, pix.shape[1] * 8)
        rows, cols = np.arange(height) * v // vmax, np.arange(width) * h // hmax   # replicate chroma
        planes.append(plane[rows][:, cols])
    if len(planes) == 1:
        return np.clip(np.rint(planes[0]), 0, 255).astype(np.uint8)[:, :, None]
    if adobe_rgb:
        rgb = np.stack(planes, axis=-1)
    else:
        Y, cb, cr = planes[0], planes[1] - 128.0, planes[2] - 128.0
        rgb = np.stack([Y + 1.402 * cr, Y - 0.344136 * cb - 0.714136 * cr, Y + 1.772 * cb], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
