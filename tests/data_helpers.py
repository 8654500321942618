"""Builders of small fake datasets in the official layouts, for the dataset tests (no Qt)."""
from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np

CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def fake_cifar_arrays(n_per_batch: int = 6, seed: int = 0):
    """Six batches (5 train + test) of uint8 CHW rows (n, 3072) and labels 0..9."""
    rng = np.random.default_rng(seed)
    data = [rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8) for _ in range(6)]
    labels = [rng.integers(0, 10, n_per_batch) for _ in range(6)]
    return data, labels


def py2_pickle(d: dict) -> bytes:
    """A protocol-2 pickle laid out like the official Python 2 files: str keys as BINSTRING,
    the array rebuilt with numpy.core.multiarray._reconstruct and its bytes a BINSTRING."""
    out = bytearray(b"\x80\x02}(")

    def s(b: bytes):
        out.extend(b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b)

    def i(v: int):
        out.extend(b"K" + bytes([v]) if 0 <= v < 256 else b"J" + struct.pack("<i", v))

    for key, v in d.items():
        s(key.encode())
        if isinstance(v, np.ndarray):
            out.extend(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01")
            for dim in v.shape:
                i(dim)
            out.extend({1: b"\x85", 2: b"\x86", 3: b"\x87"}[v.ndim])
            out.extend(b"cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
            out.extend(b"\x89")
            s(v.tobytes())
            out.extend(b"tb")
        elif isinstance(v, list):
            out.extend(b"](")
            for x in v:
                s(x.encode()) if isinstance(x, str) else i(int(x))
            out.extend(b"e")
        else:
            s(str(v).encode())
    out.extend(b"u.")
    return bytes(out)


def write_cifar_python(root: Path, n_per_batch: int = 6, seed: int = 0, style: str = "py3") -> tuple:
    """``root/cifar-10-batches-py`` with 5 train batches, test_batch and batches.meta."""
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True, exist_ok=True)
    data, labels = fake_cifar_arrays(n_per_batch, seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name, X, y in zip(names, data, labels):
        if style == "py2":
            blob = py2_pickle({"batch_label": name, "labels": [int(v) for v in y], "data": X})
        else:
            blob = pickle.dumps({b"batch_label": name.encode(), b"labels": [int(v) for v in y],
                                 b"data": X, b"filenames": [b"x.png"] * len(y)}, protocol=2)
        (d / name).write_bytes(blob)
    meta = ({"label_names": CIFAR_NAMES, "num_vis": 3072} if style == "py2" else
            {b"label_names": [n.encode() for n in CIFAR_NAMES], b"num_vis": 3072})
    (d / "batches.meta").write_bytes(py2_pickle(meta) if style == "py2" else pickle.dumps(meta, protocol=2))
    return d, data, labels


def write_cifar_binary(root: Path, n_per_batch: int = 6, seed: int = 0) -> tuple:
    d = root / "cifar-10-batches-bin"
    d.mkdir(parents=True, exist_ok=True)
    data, labels = fake_cifar_arrays(n_per_batch, seed)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for name, X, y in zip(names, data, labels):
        rec = np.concatenate([y.astype(np.uint8)[:, None], X], axis=1)
        (d / name).write_bytes(rec.tobytes())
    (d / "batches.meta.txt").write_text("\n".join(CIFAR_NAMES) + "\n\n")
    return d, data, labels


def make_targz(src_dir: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src_dir, arcname=src_dir.name)
    return archive


def chw_to_hwc(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes()


def write_mnist(d: Path, n_train: int = 12, n_test: int = 5, gz: bool = True, seed: int = 0):
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    for name, a in arrays.items():
        blob = idx_bytes(a)
        if gz:
            (d / (name + ".gz")).write_bytes(gzip.compress(blob))
        else:
            (d / name).write_bytes(blob)
    return arrays


def png_with_filters(img: np.ndarray, filters: list[int]) -> bytes:
    """Encode uint8 (H, W, C) as an 8-bit PNG using the given filter type per row (cycled)."""
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    bpp = c
    rows = a.reshape(h, w * c).astype(np.int64)
    out = bytearray()
    prev = np.zeros(w * c, dtype=np.int64)
    for r in range(h):
        f = filters[r % len(filters)]
        x = rows[r]
        left = np.concatenate([np.zeros(bpp, np.int64), x[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
        if f == 0:
            fx = x
        elif f == 1:
            fx = x - left
        elif f == 2:
            fx = x - prev
        elif f == 3:
            fx = x - (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
            fx = x - pred
        out.append(f)
        out.extend((fx % 256).astype(np.uint8).tobytes())
        prev = x
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[c]

    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b""))


def pickle_bytes(obj) -> bytes:
    buf = io.BytesIO()
    pickle.dump(obj, buf, protocol=2)
    return buf.getvalue()


# ------------------------------------------------------------------ a tiny baseline JPEG encoder
_ZZ = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
       14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39,
       46, 53, 60, 61, 54, 47, 55, 62, 63]
_AC_SYMBOLS = [0x00, 0xF0] + [(r << 4) | s for r in range(16) for s in range(1, 11)]


def encode_jpeg(img: np.ndarray, subsample: bool = False, restart: int = 0, q: int = 1) -> bytes:
    """Baseline JPEG (SOF0) of uint8 (H, W, 1|3): flat quantisation ``q``, fixed-length Huffman
    codes (DC 4 bits, AC 8 bits), optional 4:2:0 chroma and restart markers."""
    a = np.asarray(img, dtype=np.float64)
    h, w, c = a.shape
    u = np.arange(8)
    C = np.cos((2 * u[None, :] + 1) * u[:, None] * np.pi / 16) * np.where(u == 0, np.sqrt(0.125), 0.5)[:, None]
    if c == 3:
        R, G, B = a[..., 0], a[..., 1], a[..., 2]
        planes = [0.299 * R + 0.587 * G + 0.114 * B,
                  128 - 0.168736 * R - 0.331264 * G + 0.5 * B,
                  128 + 0.5 * R - 0.418688 * G - 0.081312 * B]
        factors = [(2, 2), (1, 1), (1, 1)] if subsample else [(1, 1)] * 3
    else:
        planes, factors = [a[..., 0]], [(1, 1)]
    hmax = max(f[0] for f in factors)
    mh, mw = -(-h // (8 * hmax)), -(-w // (8 * hmax))
    comps = []
    for p, (fh, fv) in zip(planes, factors):
        p = np.pad(p, ((0, mh * 8 * hmax - h), (0, mw * 8 * hmax - w)), mode="edge")
        if (fh, fv) != (hmax, hmax):
            k = hmax // fh
            p = p.reshape(p.shape[0] // k, k, p.shape[1] // k, k).mean(axis=(1, 3))
        blocks = (p - 128).reshape(p.shape[0] // 8, 8, p.shape[1] // 8, 8).transpose(0, 2, 1, 3)
        F = np.einsum("ux,abxy,vy->abuv", C, blocks, C)
        comps.append(np.rint(F / q).astype(int).reshape(*F.shape[:2], 64)[..., _ZZ])
    dc_code = {s: format(s, "04b") for s in range(12)}
    ac_code = {s: format(i, "08b") for i, s in enumerate(_AC_SYMBOLS)}

    def cat(v):
        v = int(v)
        s = abs(v).bit_length()
        bits = format(v if v >= 0 else v + (1 << s) - 1, f"0{s}b") if s else ""
        return s, bits

    out, pred, bits = bytearray(), [0] * len(comps), []

    def flush():
        s = "".join(bits)
        s += "1" * (-len(s) % 8)
        for i in range(0, len(s), 8):
            b = int(s[i:i + 8], 2)
            out.append(b)
            if b == 0xFF:
                out.append(0)
        bits.clear()

    mcus = [(y, x) for y in range(mh) for x in range(mw)]
    for n, (my, mx) in enumerate(mcus):
        if restart and n and n % restart == 0:
            flush()
            out.extend(bytes([0xFF, 0xD0 + (n // restart - 1) % 8]))
            pred = [0] * len(comps)
        for ci, (coef, (fh, fv)) in enumerate(zip(comps, factors)):
            for j in range(fv):
                for i in range(fh):
                    blk = coef[my * fv + j, mx * fh + i]
                    s, b = cat(blk[0] - pred[ci])
                    pred[ci] = blk[0]
                    bits.append(dc_code[s] + b)
                    run = 0
                    for k in range(1, 64):
                        v = blk[k]
                        if v == 0:
                            run += 1
                            continue
                        while run > 15:
                            bits.append(ac_code[0xF0])
                            run -= 16
                        s, b = cat(v)
                        bits.append(ac_code[(run << 4) | s] + b)
                        run = 0
                    if run:
                        bits.append(ac_code[0x00])
    flush()

    def seg(marker, body):
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    nc = len(comps)
    head = b"\xff\xd8" + seg(0xDB, bytes([0]) + bytes([q] * 64))
    head += seg(0xC0, struct.pack(">BHHB", 8, h, w, nc)
                + b"".join(bytes([k + 1, (f[0] << 4) | f[1], 0]) for k, f in enumerate(factors)))
    head += seg(0xC4, bytes([0x00]) + bytes([0, 0, 0, 12] + [0] * 12) + bytes(range(12)))
    head += seg(0xC4, bytes([0x10]) + bytes([0] * 7 + [162] + [0] * 8) + bytes(_AC_SYMBOLS))
    if restart:
        head += seg(0xDD, struct.pack(">H", restart))
    head += seg(0xDA, bytes([nc]) + b"".join(bytes([k + 1, 0x00]) for k in range(nc)) + bytes([0, 63, 0]))
    return head + bytes(out) + b"\xff\xd9"
