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


# ------------------------------------------------------------------------- image files
def _pil(img: np.ndarray):
    from PIL import Image
    a = np.ascontiguousarray(img)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    return Image.fromarray(a)


def encode_image(img, fmt: str, **save_kw) -> bytes:
    """A numpy array (uint8 (H, W[, 1|2|3|4]), uint16 (H, W) for 16-bit grey) or a PIL image,
    saved by Pillow as ``fmt`` (PNG, JPEG, PPM) with Pillow's ``save`` options."""
    im = img if hasattr(img, "save") else _pil(img)
    buf = io.BytesIO()
    im.save(buf, fmt, **save_kw)
    return buf.getvalue()


def encode_png(img, **save_kw) -> bytes:
    return encode_image(img, "PNG", **save_kw)


def encode_jpeg(img, **save_kw) -> bytes:
    """JPEG by Pillow; e.g. ``quality=95, subsampling=0, progressive=True, exif=...``."""
    return encode_image(img, "JPEG", **save_kw)


def encode_pnm(img) -> bytes:
    """Binary PGM (grey) or PPM (RGB) by Pillow."""
    return encode_image(img, "PPM")


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def png_by_hand(rows: bytes, width: int, height: int, depth: int, colour_type: int, extra: bytes = b"",
                interlace: int = 0) -> bytes:
    """A PNG from already-filtered scanlines (each row: filter byte + samples; with ``interlace``
    the rows of the seven Adam7 passes in turn), for what Pillow does not write (interlacing,
    16-bit colour, 2-bit grey); ``extra`` chunks go before IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + extra + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A valid 8-bit greyscale PNG of ``width`` x ``height`` black pixels: about 1 KB of file per
    MB of pixels (20000x20000: 400 MB of pixels in a 400 KB file). The deflate stream is
    assembled from one compressed megabyte of zeros repeated (each ends with a full flush, so
    the repeats are independent), with the Adler-32 of the whole, in milliseconds."""
    total = height * (width + 1)                       # a filter byte (0) before each row
    mb = 1 << 20
    zeros = bytes(mb)
    c = zlib.compressobj(9)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    middle = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    n, rem = divmod(total, mb)
    last = c.compress(bytes(rem)) + c.flush()
    adler = struct.pack(">I", ((total % 65521) << 16) | 1)   # Adler-32 of `total` zero bytes
    stream = first + middle * (n - 1) + last[:-4] + adler
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", stream) + png_chunk(b"IEND", b""))


def bomb_jpeg(width: int = 65000, height: int = 65000) -> bytes:
    """A baseline JPEG header (quantisation table, SOF0 declaring ``width`` x ``height``, one
    Huffman table each for DC and AC, start of scan) and a few bytes of scan data: 154 bytes."""
    def seg(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    dqt = seg(0xDB, b"\x00" + bytes([1] * 64))
    sof = seg(0xC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
    dht = seg(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00") + seg(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    sos = seg(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
    return b"\xff\xd8" + dqt + sof + dht + sos + b"\x00" * 4 + b"\xff\xd9"


def pickle_bytes(obj) -> bytes:
    buf = io.BytesIO()
    pickle.dump(obj, buf, protocol=2)
    return buf.getvalue()
