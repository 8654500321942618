"""Loading all 60,000 CIFAR-10 images from both official layouts, against a bare read.

Writes a full-size synthetic CIFAR-10 to a temporary directory in both layouts
(cifar-10-batches-py: protocol-2 pickled dicts with 'data' uint8 (10000, 3072) and
'labels', byte for byte in the layout of the official files, which Python 2 wrote;
cifar-10-batches-bin: records of 1 label byte + 3072 pixel bytes), then times
``engine.datasets.cifar.read_cifar10`` (files → uint8 (N, 32, 32, 3) images + labels) against
reading the same files' bytes and ``numpy.frombuffer`` on them, in the same run (median of runs).
Also prints the time of the whole ``load_dataset`` (split + float32 rows) for reference, and
of the same batches written by Python 3's ``pickle.dump(..., protocol=2)``: Python 3 stores
bytes in protocol 2 as ``_codecs.encode(text, 'latin1')``, and decoding that 46 MB text per
batch is pickle's own cost (about 0.25 s a batch here), not present in the official files.

Image folder case: writes a few hundred photo-sized files with Pillow (two thirds 2016x1512
JPEGs, one third 1000x800 PNGs, smooth colour fields plus noise, in class sub-folders),
times ``read_image_folder(dir, 32)`` (each file decoded straight to 32x32: libjpeg's 1/8
DCT scaling, then area averaging), and in the same run times the old pure-Python decoders
(``engine/datasets/jpeg.py`` and ``imageio.py`` from the commit before the one that deleted
``jpeg.py``, read with ``git show`` into a temporary package; skipped without git) on one
file of each kind, decode + resize to 32x32 as the old ``read_image_folder`` did. Files are in
the page cache for both.

    python benchmarks/bench_data.py [--case all|images|cifar] [--runs 5] [--images 300]

Last lines: ``image folder: N files in X s (Y ms/image); old decoders Z ms/image; speed-up R×``
and ``cifar10 load time ratio vs raw read: ...``.
"""
from __future__ import annotations

import argparse
import importlib
import pickle
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import load_dataset  # noqa: E402
from engine.datasets.cifar import read_cifar10  # noqa: E402
from engine.datasets.imageio import read_image, read_image_scaled  # noqa: E402
from engine.datasets.userdata import read_image_folder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _s(b: bytes) -> bytes:
    return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b


def official_batch_pickle(name: str, labels: list[int], data: np.ndarray) -> bytes:
    """A protocol-2 pickle laid out as the official (Python 2) data_batch files are."""
    n = len(labels)
    return b"".join([
        b"\x80\x02}(", _s(b"batch_label"), _s(name.encode()),
        _s(b"labels"), b"](", b"".join(b"K" + bytes([v]) for v in labels), b"e",
        _s(b"data"), b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01",
        b"M" + struct.pack("<H", n), b"M\x00\x0c\x86",
        b"cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb",
        b"\x89", _s(data.tobytes()), b"tb",
        _s(b"filenames"), b"](", _s(b"img.png") * n, b"e", b"u."])


def write_layouts(root: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(0)
    py, bn, py3 = root / "cifar-10-batches-py", root / "cifar-10-batches-bin", root / "py3" / "cifar-10-batches-py"
    for d in (py, bn, py3):
        d.mkdir(parents=True)
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data = rng.integers(0, 256, (10000, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, 10000)
        (py / name).write_bytes(official_batch_pickle(f"batch {i}", labels.tolist(), data))
        with open(py3 / name, "wb") as f:
            pickle.dump({b"batch_label": f"batch {i}".encode(), b"labels": labels.tolist(), b"data": data,
                         b"filenames": [b"img.png"] * 10000}, f, protocol=2)
        rec = np.concatenate([labels.astype(np.uint8)[:, None], data], axis=1)
        (bn / (name + ".bin")).write_bytes(rec.tobytes())
    for d in (py, py3):
        with open(d / "batches.meta", "wb") as f:
            pickle.dump({b"label_names": [n.encode() for n in NAMES], b"num_vis": 3072}, f, protocol=2)
    (bn / "batches.meta.txt").write_text("\n".join(NAMES) + "\n")
    return py, bn, py3


def raw_read(directory: Path) -> int:
    n = 0
    for f in sorted(directory.iterdir()):
        n += np.frombuffer(f.read_bytes(), dtype=np.uint8).size
    return n


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ------------------------------------------------------------------------- image folder
def _smooth_field(rng, h: int, w: int) -> np.ndarray:
    """A photo-like float32 (h, w, 3) picture: colour gradients plus a few soft blobs."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy /= h
    xx /= w
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        a, b, p = rng.uniform(-120, 120, 3)
        img[..., c] = 128 + a * xx + b * yy + 30 * np.sin(6.3 * (xx * rng.uniform(1, 3) + yy * rng.uniform(1, 3)) + p)
    for _ in range(4):
        cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-90, 90, 3).astype(np.float32)
    return img


def write_image_folder(root: Path, n: int, seed: int = 0) -> dict:
    """``n`` files in three class folders: two thirds 2016x1512 JPEG (quality 90), one third
    1000x800 PNG; each a class picture shifted at random plus its own noise."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    kinds = {"jpeg": ((1512, 2016), ".jpg"), "png": ((800, 1000), ".png")}
    bases = {(k, c): _smooth_field(rng, *kinds[k][0]) for k in kinds for c in range(3)}
    noise = rng.normal(0, 6, (1512, 2016, 3)).astype(np.float32)
    written = {"jpeg": [], "png": []}
    for c in range(3):
        (root / f"class{c}").mkdir(parents=True)
    for i in range(n):
        kind = "png" if i % 3 == 2 else "jpeg"
        (h, w), ext = kinds[kind]
        c = i % 3
        dy, dx = (int(v) for v in rng.integers(0, 200, 2))
        img = np.roll(bases[(kind, c)], (dy, dx), axis=(0, 1)) + np.roll(noise, (dx, dy), axis=(0, 1))[:h, :w]
        im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
        path = root / f"class{c}" / f"img{i:04d}{ext}"
        if kind == "jpeg":
            im.save(path, "JPEG", quality=90)
        else:
            im.save(path, "PNG", compress_level=1)   # level 1 to write fast; inflating costs the same
        written[kind].append(path)
    return written


def paeth_png(img: np.ndarray) -> bytes:
    """The same pixels as an 8-bit RGB PNG with every row Paeth-filtered, as libpng's adaptive
    filtering mostly writes photos (Pillow picks Sub/Up, which the old decoder did in NumPy;
    Paeth and Average rows it did byte by byte in Python)."""
    import zlib
    x = img.reshape(img.shape[0], -1).astype(np.int16)
    up = np.vstack([np.zeros((1, x.shape[1]), np.int16), x[:-1]])
    a = np.hstack([np.zeros((x.shape[0], 3), np.int16), x[:, :-3]])
    c = np.hstack([np.zeros((x.shape[0], 3), np.int16), up[:, :-3]])
    p = a + up - c
    pa, pb, pc = np.abs(p - a), np.abs(p - up), np.abs(p - c)
    pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, up, c))
    rows = np.hstack([np.full((x.shape[0], 1), 4, np.uint8), ((x - pred) % 256).astype(np.uint8)])

    def chunk(t: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", img.shape[1], img.shape[0], 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def old_decoders(tmp: Path):
    """The pure-Python ``read_image`` and ``resize`` this repository used before Pillow, or None."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    try:
        deleted = git("log", "--diff-filter=D", "-1", "--format=%H", "--", "engine/datasets/jpeg.py").strip()
        rev = git("rev-parse", "--short", f"{deleted}^" if deleted else "HEAD").strip()
        sources = {name: git("show", f"{rev}:engine/datasets/{name}") for name in ("imageio.py", "jpeg.py")}
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"old decoders: not compared (git: {e})")
        return None
    pkg = tmp / "old_pure_python_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "base.py").write_text("class DatasetError(ValueError):\n    pass\n")
    for name, text in sources.items():
        (pkg / name).write_text(text)
    sys.path.insert(0, str(tmp))
    try:
        mod = importlib.import_module("old_pure_python_decoders.imageio")
    finally:
        sys.path.remove(str(tmp))
    print(f"old decoders: engine/datasets/{{imageio,jpeg}}.py at {rev}")
    return mod


def bench_images(args) -> None:
    size = 32
    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        written = write_image_folder(tmp / "photos", args.images)
        n = sum(len(v) for v in written.values())
        nbytes = sum(p.stat().st_size for v in written.values() for p in v)
        print(f"wrote {n} files ({len(written['jpeg'])} JPEG 2016x1512, {len(written['png'])} PNG 1000x800, "
              f"{nbytes / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        X, y, names = read_image_folder(tmp / "photos", size, mixed_sizes="resize")   # also warms the cache
        assert X.shape == (n, size, size, 3) and len(names) == 3
        t_new = median_time(lambda: read_image_folder(tmp / "photos", size, mixed_sizes="resize"), args.runs)
        per_new = {k: median_time(lambda: [read_image_scaled(p, size, size) for p in v[:20]], args.runs) / len(v[:20])
                   for k, v in written.items()}
        ms_new = 1000 * t_new / n
        print(f"new decoders: JPEG {1000 * per_new['jpeg']:.1f} ms, PNG {1000 * per_new['png']:.1f} ms a file")
        old = None if args.no_old else old_decoders(tmp)
        if old is None:
            print(f"image folder: {n} files in {t_new:.2f} s ({ms_new:.1f} ms/image, {n / t_new:.0f} images/s); "
                  "old decoders not timed")
            return
        per_old = {}
        for kind, paths in written.items():
            t = time.perf_counter()
            for p in paths[:args.old_files]:
                small = old.resize(old.read_image(p), size, size)
            per_old[kind] = (time.perf_counter() - t) / args.old_files
            ref, _ = read_image_scaled(paths[args.old_files - 1], size, size)
            diff = np.abs(small.astype(int) - ref.astype(int)).mean()
            print(f"old decoders: {kind.upper()} {per_old[kind]:.2f} s a file "
                  f"(its 32x32 differs from the new by {diff:.2f} grey levels on average)")
        paeth = tmp / "paeth.png"
        paeth.write_bytes(paeth_png(read_image(written["png"][0])))
        t = time.perf_counter()
        old.resize(old.read_image(paeth), size, size)
        t_old_paeth = time.perf_counter() - t
        t_paeth = median_time(lambda: read_image_scaled(paeth, size, size), args.runs)
        print(f"the first PNG re-encoded with Paeth rows (as libpng writes photos): old {t_old_paeth:.2f} s, "
              f"new {1000 * t_paeth:.1f} ms ({t_old_paeth / t_paeth:.0f}×); not in the folder figure below")
        ms_old = 1000 * sum(per_old[k] * len(v) for k, v in written.items()) / n
        print(f"image folder: {n} files in {t_new:.2f} s ({ms_new:.1f} ms/image, {n / t_new:.0f} images/s); "
              f"old decoders {ms_old:.0f} ms/image; speed-up {ms_old / ms_new:.0f}×")


# -------------------------------------------------------------------------------- CIFAR
def bench_cifar(args) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cifar-") as tmp:
        py, bn, py3 = write_layouts(Path(tmp))
        X, y, Xt, yt, _ = read_cifar10(py)
        Xb, yb, Xtb, ytb, _ = read_cifar10(bn)
        assert len(X) + len(Xt) == 60000 and X.shape[1:] == (32, 32, 3)
        assert np.array_equal(X, Xb) and np.array_equal(yt, ytb)
        results = {}
        for label, d in (("python", py), ("binary", bn), ("python, written by Python 3 pickle.dump", py3)):
            raw_read(d)  # warm the page cache for both contenders
            t_raw = median_time(lambda: raw_read(d), args.runs)
            t_load = median_time(lambda: read_cifar10(d), args.runs)
            full = DatasetConfig(name="cifar10", data_dir=str(d))
            t_full = median_time(lambda: load_dataset(full), max(1, args.runs // 2))
            results[label] = t_load / t_raw
            print(f"{label}: raw read + frombuffer {t_raw:.3f} s, read_cifar10 (60,000 images) "
                  f"{t_load:.3f} s, load_dataset to float32 rows {t_full:.3f} s")
    print(f"cifar10 load time ratio vs raw read: {results['python']:.2f} (python), {results['binary']:.2f} (binary)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=("all", "images", "cifar"), default="all")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--images", type=int, default=300, help="files in the image folder (default 300)")
    ap.add_argument("--old-files", type=int, default=1, help="files of each kind the old decoders read (default 1)")
    ap.add_argument("--no-old", action="store_true", help="do not time the old pure-Python decoders")
    args = ap.parse_args(argv)
    if args.case in ("all", "cifar"):
        bench_cifar(args)
    if args.case in ("all", "images"):
        bench_images(args)


if __name__ == "__main__":
    main()
