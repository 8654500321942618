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

    python benchmarks/bench_data.py [--runs 5]
"""
from __future__ import annotations

import argparse
import pickle
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import load_dataset  # noqa: E402
from engine.datasets.cifar import read_cifar10  # noqa: E402

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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
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


if __name__ == "__main__":
    main()
