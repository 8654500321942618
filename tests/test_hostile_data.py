"""Hostile dataset files: every loader refuses them in one line naming the file, quickly and
within bounded memory.

Each malformed input is generated here, small, on the fly (zero-filled "bombs" are built
from one repeated deflate block, so a gzip stream of gigabytes costs a few KB to write).
The loaders are called directly (``DatasetError`` naming the file; ``tracemalloc`` for the
peak where a size was believed before), and a representative subset runs through the CLI
in a child process whose address space is limited to 300 MB above what a trivial
``train --dataset spiral --epochs 0`` needs: exit status 2, exactly one line on stderr
naming the file, within 5 seconds.
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import sys
import tarfile
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import cli_harness  # noqa: E402
import data_helpers as H  # noqa: E402

from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import DatasetError, load_dataset  # noqa: E402
from engine.datasets import cifar, digits, idx, safe_pickle, userdata  # noqa: E402
from engine.datasets.base import MAX_CLASSES, check_arrays  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MB = 1 << 20
resource = pytest.importorskip("resource")


def cfg(**kw) -> DatasetConfig:
    c = DatasetConfig(**kw)
    c.validate()
    return c


def refused(fn, name: str, *needles: str) -> str:
    """``fn()`` raises DatasetError whose one-line message names ``name`` and holds ``needles``."""
    with pytest.raises(DatasetError) as e:
        fn()
    msg = str(e.value)
    assert "\n" not in msg and name in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def peak_mb(fn) -> float:
    """Peak traced allocation (Python and NumPy) while ``fn()`` runs, in MB; fn's error is swallowed."""
    tracemalloc.start()
    try:
        try:
            fn()
        except DatasetError:
            pass
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------- building bombs
_ZERO_MB = bytes(MB)


def deflate_parts(parts, wbits: int = -15) -> bytes:
    """Raw deflate of ``parts``: bytes, or an int = that many zero bytes. Zero megabytes are
    one full-flushed block repeated, so gigabytes of zeros cost about 1 KB per MB."""
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    out = []
    block = None
    for part in parts:
        if isinstance(part, int):
            whole, rest = divmod(part, MB)
            if whole:
                out.append(c.flush(zlib.Z_FULL_FLUSH))    # a reset state: the block repeats exactly
                if block is None:
                    block = c.compress(_ZERO_MB) + c.flush(zlib.Z_FULL_FLUSH)
                    out.append(block)
                    whole -= 1
                out.append(block * whole)
            if rest:
                out.append(c.compress(bytes(rest)))
        else:
            out.append(c.compress(part))
    out.append(c.flush())
    return b"".join(out)


def gzip_parts(parts, crc: bool = True) -> bytes:
    """A gzip member of ``parts`` (see :func:`deflate_parts`); ``crc=False`` skips the CRC of
    huge streams (readers that are refused early never check it)."""
    size, check = 0, 0
    for part in parts:
        n = part if isinstance(part, int) else len(part)
        size += n
        if crc:
            if isinstance(part, int):
                for _ in range(part // MB):
                    check = zlib.crc32(_ZERO_MB, check)
                check = zlib.crc32(bytes(part % MB), check)
            else:
                check = zlib.crc32(part, check)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + deflate_parts(parts)
            + struct.pack("<II", check, size & 0xFFFFFFFF))


def tar_header(name: str, size: int, type_=tarfile.REGTYPE) -> bytes:
    ti = tarfile.TarInfo(name)
    ti.size, ti.type, ti.mode = size, type_, 0o644
    return ti.tobuf(format=tarfile.GNU_FORMAT)


def tar_member(name: str, data: bytes) -> bytes:
    return tar_header(name, len(data)) + data + bytes(-len(data) % 512)


def idx_header(type_byte: int, shape) -> bytes:
    return bytes([0, 0, type_byte, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def npz_with_header(path: Path, header: dict, body: bytes, **others) -> Path:
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, header)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", hdr.getvalue() + body)
        for k, v in others.items():
            buf = io.BytesIO()
            np.save(buf, v)
            z.writestr(k + ".npy", buf.getvalue())
    return path


def nested_labels(levels: int, width: int) -> list:
    """A list nested ``levels`` deep sharing one reference per level: width**levels leaves."""
    x: list = [0] * width
    for _ in range(levels - 1):
        x = [x] * width
    return x


def reconstruct_only(shape) -> bytes:
    """A protocol-2 pickle of {b'data': _reconstruct(ndarray, shape, b'B'), b'labels': [0]}
    with no __setstate__: an array whose contents the file never gives."""
    return (b"\x80\x02}(C\x04data" + b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
            + pickle.dumps(tuple(shape), protocol=2)[2:-1] + b"C\x01B\x87R" + b"C\x06labels]K\x00au.")


# ------------------------------------------------------------------------- the CLI harness
@pytest.fixture(scope="module")
def as_limit() -> int:
    """300 MB above the address space a trivial CLI run peaks at (VmPeak of that child)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to measure the address space")
    return cli_harness.address_limit()


def run_cli(limit: int, tmp_path: Path, *args: str, timeout: float = 10.0):
    """``main.py train ... --epochs 0 --quiet`` with RLIMIT_AS = ``limit``."""
    return cli_harness.run_cli("train", *args, "--epochs", "0", "--quiet", limit=limit, timeout=timeout,
                               env={"BACKPROP_STUDIO_DATA": str(tmp_path / "cache")})


def assert_one_line(result, name: str, *needles: str):
    cli_harness.assert_one_line(result, name, *needles)


def test_the_harness_accepts_a_good_run_and_sees_tracebacks(as_limit, tmp_path):
    r = run_cli(as_limit, tmp_path, "--dataset", "digits")
    assert r.code == 0, r.stderr
    p = tmp_path / "x.csv"
    p.write_text("0,1\n1,2\n")
    # a limit below the baseline: the harness must see the failure (not a clean one line)
    r = run_cli(as_limit - 300 * MB - 120 * MB, tmp_path, "--dataset", "csv", "--data-file", str(p))
    assert r.code != 0


# ==================================================================================== IDX
def write_mnist_with(d: Path, name: str, blob: bytes) -> Path:
    """The four MNIST files in ``d`` (valid, gzipped), then ``name`` replaced by ``blob``."""
    H.write_mnist(d, gz=True)
    for f in d.iterdir():
        if f.name.startswith(name.removesuffix(".gz")):
            f.unlink()
    (d / name).write_bytes(blob)
    return d / name


IDX_CASES = [
    # (file name, its bytes, words the message must hold)
    ("train-images-idx3-ubyte", idx_header(8, (2**32 - 1,) * 3), ["more than an IDX file may hold"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (2**32 - 1,) * 3)), ["more than an IDX file"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (2**31, 2**31, 2**31, 2**31)[:3])),
     ["more than an IDX file"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (1_400_000, 28, 28))), ["more than an IDX file"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (1_000_000, 28, 28))), ["decompression bomb"]),
    ("train-images-idx3-ubyte.gz", gzip_parts([idx_header(8, (12, 28, 28)), 12 * 784 + 40 * MB]),
     ["holds more"]),
    ("train-images-idx3-ubyte.gz", gzip_parts([idx_header(8, (12, 28, 28)), 400 * MB], crc=False),
     ["corrupt", "gzip data"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(0x0D, (12, 28, 28)) + bytes(12 * 784 * 4)),
     ["32-bit floats", "0x0D", "expected unsigned bytes"]),
    ("train-labels-idx1-ubyte.gz", gzip.compress(idx_header(0x0C, (12,)) + bytes(48)), ["0x0C"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (12, 27, 27)) + bytes(12 * 729)),
     ["27x27", "expected 28x28"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (13, 28, 28)) + bytes(13 * 784)),
     ["13 images but", "12 labels"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (12, 28, 28)) + bytes(12 * 784 - 1)),
     ["truncated"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (12, 28, 28)) + bytes(12 * 784))[:-30],
     ["truncated"]),
    ("train-images-idx3-ubyte.gz", gzip.compress(idx_header(8, (12, 28, 28))[:9]), ["truncated header"]),
    ("train-images-idx3-ubyte.gz", b"\x1f\x8b\x08\x08\0\0\0\0\0\xff" + b"n" * 100_000, ["gzip"]),
    ("train-images-idx3-ubyte.gz", b"\x1f\x8b" + os.urandom(200), ["gzip"]),
    ("train-images-idx3-ubyte", idx_header(8, (12, 28, 28)) + bytes(12 * 784 + 5), ["corrupt"]),
    ("train-images-idx3-ubyte", b"\0\0", ["wrong magic number"]),
    ("train-labels-idx1-ubyte.gz", gzip.compress(idx_header(8, (12,)) + bytes([200]) * 12),
     ["labels out of range", "200"]),
    ("train-labels-idx1-ubyte.gz", gzip.compress(idx_header(8, (12, 1)) + bytes(12)), ["wrong magic number"]),
]


@pytest.mark.parametrize("i", range(len(IDX_CASES)))
def test_idx_refuses_in_one_line(tmp_path, i):
    name, blob, needles = IDX_CASES[i]
    write_mnist_with(tmp_path, name, blob)
    refused(lambda: idx.read_mnist(tmp_path), name, *needles)


def test_idx_gzip_is_inflated_no_further_than_the_header_declares(tmp_path):
    # 12 images declared, 40 MB more in the stream: read no more than the declared bytes
    write_mnist_with(tmp_path, "train-images-idx3-ubyte.gz",
                     gzip_parts([idx_header(8, (12, 28, 28)), 12 * 784 + 40 * MB]))
    assert peak_mb(lambda: idx.read_mnist(tmp_path)) < 5
    # and a huge declared size is refused from the header, before anything is inflated
    write_mnist_with(tmp_path, "train-images-idx3-ubyte.gz", gzip_parts([idx_header(8, (1_200_000, 28, 28)),
                                                                          900 * MB], crc=False))
    assert peak_mb(lambda: idx.read_mnist(tmp_path)) < 5


def test_idx_plain_file_is_checked_against_its_size_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(idx_header(8, (10, 28, 28)) + bytes(10 * 784))
    assert idx.read_idx(p, 3).shape == (10, 28, 28)
    with open(p, "ab") as f:          # 30 MB too long: refused from the size, nothing read
        f.truncate(p.stat().st_size + 30 * MB)
    assert peak_mb(lambda: idx.read_idx(p, 3)) < 1
    refused(lambda: idx.read_idx(p, 3), p.name, "corrupt")
    monkeypatch.setattr(idx, "MAX_IDX_BYTES", 1000)
    p.write_bytes(idx_header(8, (10, 28, 28)) + bytes(10 * 784))
    refused(lambda: idx.read_idx(p, 3), p.name, "at most 1,000 bytes")


def test_idx_the_counts_are_compared_before_any_data_is_read(tmp_path):
    # 200 MB of (zero) images declared, honestly compressed, but a label file of 12: the
    # mismatch is found from the headers, the images are never inflated
    H.write_mnist(tmp_path, gz=True)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(
        gzip_parts([idx_header(8, (255_000, 28, 28)), os.urandom(2 * MB), 255_000 * 784 - 2 * MB], crc=False))
    refused(lambda: idx.read_mnist(tmp_path), "train-images-idx3-ubyte.gz", "255000 images but")
    assert peak_mb(lambda: idx.read_mnist(tmp_path)) < 1


def test_idx_still_reads_good_files(tmp_path):
    arrays = H.write_mnist(tmp_path / "a", gz=True)
    X, y, Xt, yt = idx.read_mnist(tmp_path / "a")
    assert np.array_equal(X[..., 0], arrays["train-images-idx3-ubyte"])
    # a gzip file of two members (as `cat a.gz b.gz` makes) is one stream
    blob = H.idx_bytes(arrays["train-images-idx3-ubyte"])
    (tmp_path / "a" / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(blob[:1000]) + gzip.compress(blob[1000:]))
    X2, *_ = idx.read_mnist(tmp_path / "a")
    assert np.array_equal(X2, X)


def test_idx_cli(as_limit, tmp_path):
    cases = [
        ("train-images-idx3-ubyte.gz", gzip_parts([idx_header(8, (1_000_000, 28, 28)), 784 * MB], crc=False),
         "decompression bomb"),
        ("train-images-idx3-ubyte.gz", gzip_parts([idx_header(8, (12, 28, 28)), 1024 * MB], crc=False), "corrupt"),
        ("t10k-images-idx3-ubyte", idx_header(8, (2**32 - 1,) * 3), "more than an IDX file"),
    ]
    for k, (name, blob, needle) in enumerate(cases):
        d = tmp_path / f"m{k}"
        write_mnist_with(d, name, blob)
        assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "mnist", "--data-dir", str(d)), name, needle)


# ================================================================================== CIFAR
def py_batch(data, labels, **extra) -> bytes:
    return pickle.dumps({b"data": data, b"labels": labels, **extra}, protocol=2)


GOOD = np.zeros((3, 3072), np.uint8)
PICKLE_CASES = [
    # (the data_batch_1 bytes, words the message must hold)
    (py_batch(GOOD, nested_labels(3, 3)), ["'labels'[0] is list"]),
    (py_batch(GOOD, [0, 1.5, 2]), ["'labels'[1] is float 1.5"]),
    (py_batch(GOOD, [0, True, 2]), ["'labels'[1] is bool"]),
    (py_batch(GOOD, [0, "1", 2]), ["'labels'[1] is str"]),
    (py_batch(GOOD, [0, 1, 10**30]), ["labels out of range ('labels'[2] = an integer of 100 bits"]),
    (py_batch(GOOD, [0, 1, 1 << 10**6]), ["'labels'[2] = an integer of 1,000,001 bits"]),
    (py_batch(GOOD, [0, 1, -1]), ["labels out of range ('labels'[2] = -1, expected 0..9)"]),
    (py_batch(GOOD, (0, 1, 2)), ["'labels' must be a list", "tuple"]),
    (py_batch(GOOD, b"\0\1\2"), ["'labels' must be a list"]),
    (py_batch(GOOD, [0, 1]), ["3 images but 2 labels"]),
    (py_batch(np.zeros((0, 3072), np.uint8), []), ["empty"]),
    (py_batch(np.zeros((3, 3071), np.uint8), [0, 1, 2]), ["(N, 3072)"]),
    (py_batch(np.zeros((3, 3072), np.int16), [0, 1, 2]), ["uint8"]),
    (py_batch(np.zeros(3 * 3072, np.uint8), [0, 1, 2]), ["(N, 3072)"]),
    (reconstruct_only((10, 3072)), ["refusing an array created with shape (10, 3072)"]),
    (reconstruct_only((10**9,)), ["refusing an array created with shape"]),
    (py_batch(GOOD, [0, 1, 2])[:-100], ["corrupt or truncated"]),
    # the state gives fewer bytes than the shape declares
    (py_batch(GOOD, [0, 1, 2]).replace(b"K\x03M\x00\x0c\x86", b"K\x04M\x00\x0c\x86"), ["buffer size"]),
    (b"\x80\x04\x8e" + struct.pack("<Q", 1 << 31) + b"0123456789.", ["BINBYTES8 at byte 2 declares 2,147,483,648 bytes but only 11 remain"]),
    (b"\x80\x05\x96" + struct.pack("<Q", 1 << 31) + b"0123456789.", ["BYTEARRAY8 at byte 2 declares"]),
    (b"\x80\x04\x8d" + struct.pack("<Q", 1 << 40) + b"abc.", ["BINUNICODE8 at byte 2 declares 1,099,511,627,776 bytes"]),
    (b"\x80\x02N" + b"r" + struct.pack("<I", 100_000_000) + b".", ["memo index 100000000"]),
    (b"\x80\x02Np99999999999\n.", ["memo index"]),
    (b"\x80\x02" + b"]" * (safe_pickle.MAX_PICKLE_OPS + 10) + b".", ["pickle operations"]),
    (b"\x80\x02cos\nsystem\n.", ["refusing to load os.system"]),
    (b"\x80\x02\xff.", ["corrupt"]),
]


def _pickle_case_id(i):
    return f"pickle{i}"


@pytest.mark.parametrize("i", range(len(PICKLE_CASES)), ids=_pickle_case_id)
def test_cifar_python_batch_refused_in_one_line(tmp_path, i):
    blob, needles = PICKLE_CASES[i]
    d, *_ = H.write_cifar_python(tmp_path, n_per_batch=3)
    (d / "data_batch_1").write_bytes(blob)
    refused(lambda: cifar.read_cifar10(tmp_path), "data_batch_1", *needles)


def test_the_shape_patch_in_the_truncated_state_case_hits():
    blob = py_batch(GOOD, [0, 1, 2])
    assert blob.count(b"K\x03M\x00\x0c\x86") == 1       # (3, 3072) as the pickle writes it


def test_a_pickle_cannot_allocate_more_than_it_holds():
    for blob, _ in PICKLE_CASES:
        assert peak_mb(lambda: safe_pickle.safe_loads(blob, "b.pkl")) < 16
    # nor build an array from memory the file never gave (it would be uninitialised)
    with pytest.raises(DatasetError, match=r"b\.pkl: .*refusing an array created"):
        safe_pickle.safe_loads(reconstruct_only((5, 3072)), "b.pkl")
    # the official layout still loads, in both writers' styles
    X = np.arange(2 * 3072).astype(np.uint8).reshape(2, 3072)
    for blob in (py_batch(X, [1, 2]), H.py2_pickle({"data": X, "labels": [1, 2]})):
        d = safe_pickle.safe_loads(blob, "ok.pkl")
        got = d.get(b"data", d.get("data"))
        assert np.array_equal(got, X)


def test_cifar_meta_files_are_bounded(tmp_path):
    d, *_ = H.write_cifar_python(tmp_path / "p")
    (d / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"n%d" % i for i in range(MAX_CLASSES + 1)]},
                                                  protocol=2))
    refused(lambda: cifar.read_cifar10(tmp_path / "p"), "batches.meta", "1,001 class names")
    (d / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"a", [b"b"]]}, protocol=2))
    refused(lambda: cifar.read_cifar10(tmp_path / "p"), "batches.meta", "'label_names'[1] is list")
    d, *_ = H.write_cifar_binary(tmp_path / "b")
    (d / "batches.meta.txt").write_text("\n".join(f"n{i}" for i in range(MAX_CLASSES + 5)))
    refused(lambda: cifar.read_cifar10(tmp_path / "b"), "batches.meta.txt", "1,005 class names")
    with open(d / "batches.meta.txt", "ab") as f:
        f.truncate(cifar.MAX_META_BYTES + 1)
    refused(lambda: cifar.read_cifar10(tmp_path / "b"), "batches.meta.txt", "too large")


def test_cifar_batch_files_are_capped_before_reading(tmp_path, monkeypatch):
    d, *_ = H.write_cifar_python(tmp_path / "p", n_per_batch=40)
    d2, *_ = H.write_cifar_binary(tmp_path / "b", n_per_batch=40)
    arch = H.make_targz(d, tmp_path / "cifar-10-python.tar.gz")
    monkeypatch.setattr(cifar, "MAX_BATCH_BYTES", 100_000)       # a 40-image batch is 123 KB
    refused(lambda: cifar.read_cifar10(tmp_path / "p"), "data_batch_1", "too large", "at most 100,000 bytes")
    refused(lambda: cifar.read_cifar10(tmp_path / "b"), "data_batch_1.bin", "too large")
    refused(lambda: cifar.read_cifar10(arch), "cifar-10-python.tar.gz", "data_batch_1 declares",
            "at most 100,000")
    # a sparse 1 GB batch file: refused from its size, not read
    monkeypatch.undo()
    with open(d2 / "data_batch_3.bin", "ab") as f:
        f.truncate(1 << 30)
    assert peak_mb(lambda: cifar.read_cifar10(tmp_path / "b")) < 40
    refused(lambda: cifar.read_cifar10(tmp_path / "b"), "data_batch_3.bin", "too large")


def cifar_archive(path: Path, *parts: bytes | int, crc: bool = False) -> Path:
    path.write_bytes(gzip_parts(list(parts) + [bytes(1024)], crc=crc))
    return path


def test_cifar_archive_bombs_are_refused_early(tmp_path):
    good = H.write_cifar_binary(tmp_path / "g")[0]
    members = b"".join(tar_member(f"cifar-10-batches-bin/{f.name}", f.read_bytes()) for f in sorted(good.iterdir()))
    # 1. a wanted member declaring 2 GB (of zeros): refused from its header
    a = cifar_archive(tmp_path / "a.bin.tar.gz", tar_header("cifar-10-batches-bin/data_batch_1.bin", 2 << 30), 2 << 30)
    refused(lambda: cifar.read_cifar10(a), "a.bin.tar.gz", "data_batch_1.bin declares 2,147,483,648 bytes")
    # 2. 8 GB of zeros in a member that is skipped: scanning stops at the bound
    b = cifar_archive(tmp_path / "b.bin.tar.gz", tar_header("junk", 8 << 30), 8 << 30, members)
    t0 = time.monotonic()
    refused(lambda: cifar.read_cifar10(b), "b.bin.tar.gz", "MB of members before the CIFAR-10 files")
    assert time.monotonic() - t0 < 5
    # 3. many small skipped members
    c = cifar_archive(tmp_path / "c.bin.tar.gz", *[tar_member(f"j{i}", b"x") for i in range(300)], members)
    refused(lambda: cifar.read_cifar10(c), "c.bin.tar.gz", "more than 256 members")
    # 4. a GNU long name of 1 GB (tarfile would read it whole) and a 1 GB pax header
    for k, kind in enumerate((tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE)):
        e = cifar_archive(tmp_path / f"e{k}.bin.tar.gz", tar_header("././@LongLink", 1 << 30, kind), 1 << 30, members)
        refused(lambda: cifar.read_cifar10(e), e.name, "extended tar header of 1,073,741,824 bytes")
        assert peak_mb(lambda: cifar.read_cifar10(e)) < 5
    # 5. a sparse member
    f = cifar_archive(tmp_path / "f.bin.tar.gz", tar_header("s", 10, tarfile.GNUTYPE_SPARSE), bytes(512), members)
    refused(lambda: cifar.read_cifar10(f), "f.bin.tar.gz", "sparse")
    # 6. a member shorter than its header, and a corrupt gzip stream
    g = tmp_path / "g.bin.tar.gz"
    g.write_bytes(gzip.compress(tar_header("cifar-10-batches-bin/data_batch_1.bin", 30_730_000) + bytes(5000)))
    refused(lambda: cifar.read_cifar10(g), "g.bin.tar.gz", "corrupt or truncated")
    h = tmp_path / "h.bin.tar.gz"
    h.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(3000))
    refused(lambda: cifar.read_cifar10(h), "h.bin.tar.gz")
    # 7. the same long name in a bzip2 and an xz archive: recognised without parsing it
    import bz2
    import lzma
    for ext, compress in (("bz2", lambda b: bz2.compress(b, 1)), ("xz", lambda b: lzma.compress(b, preset=0))):
        x = tmp_path / f"x.bin.tar.{ext}"
        x.write_bytes(compress(tar_header("././@LongLink", 64 * MB, tarfile.GNUTYPE_LONGNAME) + bytes(64 * MB)))
        refused(lambda: cifar.read_cifar10(x), x.name, "extended tar header of 67,108,864 bytes")
        assert peak_mb(lambda: cifar.read_cifar10(x)) < 8
    j = tmp_path / "plain.tar"
    j.write_bytes(bytes(2048))
    refused(lambda: cifar.read_cifar10(j), "plain.tar", "not gzip, bzip2, xz or tar data")
    # the same members with nothing hostile in front still load
    ok = cifar_archive(tmp_path / "ok.bin.tar.gz", members, crc=True)
    X, *_ = cifar.read_cifar10(ok)
    assert X.shape == (30, 32, 32, 3)
    plain = tmp_path / "plain.bin.tar"
    plain.write_bytes(members + bytes(1024))
    Xp, *_ = cifar.read_cifar10(plain)
    assert np.array_equal(Xp, X)


@pytest.mark.slow
def test_cifar_cli(as_limit, tmp_path):
    d, *_ = H.write_cifar_python(tmp_path / "p", n_per_batch=3)
    (d / "data_batch_2").write_bytes(py_batch(GOOD, nested_labels(19, 3)))       # 3^19 = 10^9 labels in np.asarray
    assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "cifar10", "--data-dir", str(tmp_path / "p")),
                    "data_batch_2", "'labels'[0] is list")
    (d / "data_batch_2").write_bytes(PICKLE_CASES[17][0])                        # BINBYTES8 of 2 GB
    assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "cifar10", "--data-dir", str(tmp_path / "p")),
                    "data_batch_2", "truncated")
    (d / "data_batch_2").write_bytes(reconstruct_only((100_000, 3072)))           # 300 MB never given
    assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "cifar10", "--data-dir", str(tmp_path / "p")),
                    "data_batch_2", "refusing an array")
    a = cifar_archive(tmp_path / "cifar-10-binary.tar.gz", tar_header("junk", 16 << 30), 16 << 30)
    assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "cifar10", "--data-file", str(a)),
                    "cifar-10-binary.tar.gz", "before the CIFAR-10 files")
    e = cifar_archive(tmp_path / "long.bin.tar.gz", tar_header("././@LongLink", 1 << 30, tarfile.GNUTYPE_LONGNAME),
                      1 << 30)
    assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "cifar10", "--data-file", str(e)),
                    "long.bin.tar.gz", "extended tar header")


# ==================================================================================== CSV
CSV_CASES = [
    # (content, words the message must hold)
    ("0," + "1" * 200_000 + "\n1,2\n", ["line 1", "longer than 131,072 characters"]),
    ("0,1\n1,2\n1,\"" + "9" * 200_000 + "\"\n", ["line 3", "longer than"]),
    ("0," * 3_000_000 + "0\n", ["line 1: a row of more than 1,048,576 characters"]),
    ("0,1\n" + ("0," * 400_000 + '"\n",') * 5 + "0\n", ["line 3: a row of more than 1,048,576 characters"]),
    ("1,2.5,3x\n0,1,2\n1,3,4\n", ["line 1, column 3: '3x' is not a number"]),
    ("1,2.5,3\n0,x1,2\n", ["line 2, column 2: 'x1' is not a number"]),
    ("label,2020,2021\n0,1,2\n1,3,4\n", ["line 1, column 1: 'label'", "header"]),
    ("100000000,1\n0,2\n1,3\n", ["label '100000000' (line 1)", "100,000,001 classes", "3 examples"]),
    ("0,1\n1.5,2\n1,3\n", ["label '1.5' (line 2)", "not a whole number"]),
    ("0,1\n1e300,2\n1,3\n", ["label '1e300' (line 2)", "classes"]),
    ("0,1\n-1,2\n1,3\n", ["labels out of range", "'-1' (line 2)"]),
    ("0,1\nnan,2\n1,3\n", ["label 'nan' (line 2)"]),
    ("0,1\ninf,2\n1,3\n", ["label 'inf' (line 2)"]),
    ("".join(f"{i}.5,1\n" for i in range(MAX_CLASSES + 1)), [f"line {MAX_CLASSES + 1}", "at most 1,000 classes"]),
    ("".join(f"{i},1\n" for i in range(1500)), ["line 1001: label '1000'", "at most 1,000 classes"]),
    ("".join(f"{i % 2},1\n" for i in range(1500)) + "5000,1\n", ["label '5000' (line 1501)", "5,001 classes",
                                                                  "more than the 1,000 allowed"]),
    ("0,1,2\n1,3\n", ["line 2: ragged row with 2 columns, expected 3"]),
    ("0,1\n1,1e999\n", ["line 2: NaN or infinite value in column 2"]),
    ("0,1,2\n1,2,-1e300\n", ["line 2, column 3: '-1e300' is beyond the float32 range"]),
    ("1\n2\n", ["needs a label column and at least one feature column"]),
    ("a,b\n", ["empty (only a header)"]),
    ("\n\n", ["the dataset is empty"]),
    ("0,1\n0,2\n", ["only one class ('0')"]),
    ("0,1\n1,\"2\n0,3\n", ["column 2: '2\\n0,3' is not a number"]),
]


@pytest.mark.parametrize("i", range(len(CSV_CASES)))
def test_csv_refused_in_one_line(tmp_path, i):
    content, needles = CSV_CASES[i]
    p = tmp_path / f"case{i}.csv"
    p.write_text(content, newline="")
    refused(lambda: load_dataset(cfg(name="csv", data_file=str(p))), p.name, *needles)


def test_csv_non_text_and_non_files(tmp_path, monkeypatch):
    p = tmp_path / "latin.csv"
    p.write_bytes(b"0,1\n1,\xe92\n")
    refused(lambda: userdata.read_csv(p), p.name, "not UTF-8")
    refused(lambda: userdata.read_csv(tmp_path), tmp_path.name, "folder")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    refused(lambda: userdata.read_csv(fifo), "pipe.csv", "not a regular file")
    refused(lambda: userdata.read_csv("/dev/zero"), "/dev/zero", "not a regular file")
    big = tmp_path / "big.csv"
    big.write_text("0,1\n1,2\n")
    monkeypatch.setattr(userdata, "MAX_CSV_BYTES", 5)
    refused(lambda: userdata.read_csv(big), big.name, "too large")


def test_csv_good_files_still_load(tmp_path):
    cases = {
        "names.csv": ("cat,1,2\ndog,3,4\ncat,5,6\n", ["cat", "dog"]),          # no header, string labels
        "hdr.csv": ("a,b,target\n1,2,0\n3,4,1\n", ["0", "1"]),                   # header names the label
        "cr.csv": ("0,1\r1,2\r0,3\r", ["0", "1"]),                               # old Mac line ends
        "crlf.csv": ("a,b\r\n0,1\r\n1,2\r\n", ["0", "1"]),
        "semi.csv": ("0;1.5\n1;2.5\n", ["0", "1"]),
        "quoted.csv": ('label,x\n"a",1\n"b, c","2"\n', ["a", "b, c"]),
    }
    for name, (text, names) in cases.items():
        p = tmp_path / name
        p.write_text(text, newline="")
        X, y, got = userdata.read_csv(p)
        assert got == names and X.dtype == np.float64 and len(X) == len(y), name
    X, y, _ = userdata.read_csv(tmp_path / "hdr.csv")
    assert np.array_equal(X, [[1, 2], [3, 4]]) and list(y) == [0, 1]


def test_csv_memory_is_bounded_by_the_file(tmp_path):
    p = tmp_path / "rows.csv"
    p.write_text("".join(f"{i % 3},{i},{i * 0.5}\n" for i in range(30_000)))
    size = p.stat().st_size / MB
    X, y, names = userdata.read_csv(p)
    assert X.shape == (30_000, 2) and names == ["0", "1", "2"]
    # the text, then 8 bytes a value and 2 a label: no list of strings per cell
    assert peak_mb(lambda: userdata.read_csv(p)) < 3 * size + 4


@pytest.mark.slow
def test_csv_cli(as_limit, tmp_path):
    cases = {
        "field.csv": ("0," + "1" * 200_000 + "\n", "longer than"),
        "label.csv": ("100000000,1\n0,2\n1,3\n", "100,000,001 classes"),
        "typo.csv": ("1,2.5,3x\n0,1,2\n1,3,4\n", "line 1, column 3"),
        "wide.csv": ("0," * 20_000_000 + "0\n", "a row of more than"),
    }
    for name, (text, needle) in cases.items():
        (tmp_path / name).write_text(text)
        assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "csv", "--data-file", str(tmp_path / name)),
                        name, needle)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "csv", "--data-file", str(fifo)), "fifo.csv",
                    "not a regular file")
    big = tmp_path / "sparse.csv"
    with open(big, "wb") as f:
        f.truncate(400 * MB)
    assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "csv", "--data-file", str(big)), "sparse.csv",
                    "too large")


# ==================================================================================== NPZ
def npz_cases(tmp: Path) -> list:
    """(path, words the message must hold) for every malformed NPZ."""
    out = []

    def save(name, needles, **arrays):
        np.savez(tmp / name, **arrays)
        out.append((tmp / name, needles))

    x3 = np.ones((3, 2))
    out.append((npz_with_header(tmp / "huge.npz", {"descr": "<f8", "fortran_order": False, "shape": (10**12,)},
                                bytes(64), y=np.arange(3)), ["declares shape (1000000000000,)"]))
    out.append((npz_with_header(tmp / "over.npz", {"descr": "<u1", "fortran_order": False,
                                                   "shape": (2**62, 2**62)}, bytes(64)), ["declares shape"]))
    bomb = io.BytesIO()
    np.save(bomb, np.zeros(40 * MB, np.uint8))
    with zipfile.ZipFile(tmp / "bomb.npz", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", bomb.getvalue())
    out.append((tmp / "bomb.npz", ["decompression bomb"]))
    np.save(tmp / "one.npy", x3)
    out.append((tmp / "one.npy", [".npy file", "NPZ"]))
    save("u64.npz", ["y[2] = 18446744073709551615"], x=x3, y=np.array([0, 1, 2**64 - 1], np.uint64))
    save("frac.npz", ["y[2] = 1.5", "not a whole number"], x=x3, y=np.array([0, 1, 1.5]))
    save("e300.npz", ["y[1] = 1e+300"], x=x3, y=np.array([0, 1e300, 1]))
    save("nan.npz", ["y[0] = nan"], x=x3, y=np.array([np.nan, 1, 0]))
    save("big.npz", ["y[2] = 100,000,000", "100,000,001 classes", "3 examples"], x=x3, y=np.array([0, 1, 10**8]))
    save("many.npz", ["more than the 1,000 allowed"], x=np.ones((2000, 2)), y=np.arange(2000))
    save("neg.npz", ["y[1] = -1 < 0"], x=x3, y=np.array([0, -1, 1], np.int8))
    save("names.npz", ["y[2] = 2 >= 2 classes"], x=x3, y=np.array([0, 1, 2]), class_names=np.array(["a", "b"]))
    save("manynames.npz", ["2,000 class_names"], x=x3, y=np.array([0, 1, 0]), class_names=np.arange(2000))
    save("strs.npz", ["label '1.5' (y[1])"], x=x3, y=np.array(["0", "1.5", "1"]))
    save("strbig.npz", ["label '7' (y[1])", "8 classes"], x=x3, y=np.array(["0", "7", "1"]))
    save("strmany.npz", ["1,200 different labels"], x=np.ones((1200, 2)), y=np.array([f"c{i}" for i in range(1200)]))
    save("emptyimg.npz", ["empty"], x=np.zeros((0, 5, 5), np.uint8), y=np.zeros(0, int))
    save("scalar.npz", ["one row per example"], x=np.float64(3), y=np.array([0]))
    save("nofeat.npz", ["no features"], x=np.ones((3, 0)), y=np.array([0, 1, 0]))
    save("y2d.npz", ["1-D"], x=x3, y=np.zeros((3, 1), int))
    save("cplx.npz", ["numeric"], x=np.ones((3, 2), complex), y=np.array([0, 1, 0]))
    save("oneclass.npz", ["only one class"], x=np.zeros((4, 5, 5), np.uint8), y=np.zeros(4, int))
    save("count.npz", ["3 examples but 2 labels"], x=x3, y=np.array([0, 1]))
    save("nany.npz", ["NaN or infinite", "x[1]"], x=np.array([[0, 1], [np.inf, 2], [0, 0]]), y=np.array([0, 1, 0]))
    save("f32.npz", ["x[2, 1] = 1e+300 is beyond the float32 range"], x=np.array([[0, 1], [2, 3], [4, 1e300]]),
         y=np.array([0, 1, 0]))
    save("keys.npz", ["needs arrays named x and y"], a=x3)
    save("obj.npz", ["Python objects"], x=np.array([[1, 2]], dtype=object), y=np.array([0]))
    (tmp / "junk.npz").write_bytes(b"PK\x03\x04" + os.urandom(100))
    out.append((tmp / "junk.npz", ["corrupt"]))
    (tmp / "dir.npz").mkdir()
    out.append((tmp / "dir.npz", ["folder"]))
    return out


def test_npz_refused_in_one_line(tmp_path):
    cases = npz_cases(tmp_path)
    for path, needles in cases:
        refused(lambda: load_dataset(cfg(name="npz", data_file=str(path))), path.name, *needles)
    assert len(cases) == 29


def test_npz_declared_sizes_are_not_allocated(tmp_path):
    p = npz_with_header(tmp_path / "h.npz", {"descr": "<u1", "fortran_order": False, "shape": (500 * MB,)},
                        bytes(100), y=np.arange(3))
    assert peak_mb(lambda: userdata.read_npz(p)) < 5
    p = tmp_path / "b.npz"
    np.savez(p, x=np.ones((3, 2)), y=np.array([0, 1, 10**8]))
    assert peak_mb(lambda: load_dataset(cfg(name="npz", data_file=str(p)))) < 5


def test_npz_good_files_still_load(tmp_path):
    p = tmp_path / "ok.npz"
    np.savez(p, x=np.ones((4, 2)), y=np.array([0, 1, 1, 0], np.uint64), class_names=np.array([b"cat", b"dog"]))
    X, y, names, is_image = userdata.read_npz(p)
    assert y.dtype == np.int64 and names == ["cat", "dog"] and not is_image
    np.savez(p, x=np.ones((4, 2)), y=np.array([0.0, 1.0, 2.0, 0.0]))
    assert userdata.read_npz(p)[2] == ["0", "1", "2"]
    np.savez(p, x=np.ones((4, 2)), y=np.array(["dog", "cat", "dog", "eel"]))
    X, y, names, _ = userdata.read_npz(p)
    assert names == ["cat", "dog", "eel"] and list(y) == [1, 0, 1, 2]


@pytest.mark.slow
def test_npz_cli(as_limit, tmp_path):
    cases = {p.name: (p, n) for p, n in npz_cases(tmp_path)}
    for name in ("huge.npz", "one.npy", "big.npz", "u64.npz", "e300.npz", "oneclass.npz", "emptyimg.npz"):
        p, needles = cases[name]
        assert_one_line(run_cli(as_limit, tmp_path, "--dataset", "npz", "--data-file", str(p)), name, *needles)


# ================================================================================= digits
def test_digits_refuses_a_damaged_bundled_file(tmp_path):
    good = dict(np.load(digits.DIGITS_PATH))

    def bad(name, needles, **arrays):
        p = tmp_path / name
        np.savez(p, **arrays)
        refused(lambda: digits.read_digits(p), name, *needles)

    bad("keys.npz", ["no arrays images and labels"], images=good["images"])
    bad("shape.npz", ["expected 8x8"], images=np.zeros((5, 7, 7), np.uint8), labels=np.arange(5))
    bad("float.npz", ["expected 8x8 integers"], images=np.zeros((5, 8, 8)), labels=np.arange(5))
    bad("pixels.npz", ["pixel values 0..200"], images=np.eye(8, dtype=np.uint8)[None].repeat(5, 0) * 200,
        labels=np.arange(5))
    bad("labels.npz", ["y[4] = 10 >= 10 classes"], images=np.zeros((5, 8, 8), np.uint8),
        labels=np.array([0, 1, 2, 3, 10]))
    bad("count.npz", ["5 examples but 4 labels"], images=np.zeros((5, 8, 8), np.uint8), labels=np.arange(4))
    refused(lambda: digits.read_digits(tmp_path / "none.npz"), "none.npz", "missing")
    npz_with_header(tmp_path / "huge.npz", {"descr": "<u1", "fortran_order": False, "shape": (10**12,)}, bytes(8))
    refused(lambda: digits.read_digits(tmp_path / "huge.npz"), "huge.npz", "declares")
    np.save(tmp_path / "one.npy", good["images"])
    refused(lambda: digits.read_digits(tmp_path / "one.npy"), "one.npy", ".npy file")
    images, labels = digits.read_digits()
    assert images.shape == (1797, 8, 8, 1) and labels.max() == 9


# ============================================================================ check_arrays
def test_check_arrays_checks_ranges_before_casting():
    X = np.ones((4, 2))
    cases = [
        (np.array([0, 1, 2**63], np.uint64), "y[2] = 9223372036854775808"),
        (np.array([0, 1, 1.5, 0]), "y[2] = 1.5 is not a whole number"),
        (np.array([0, 1, 1e300, 0]), "y[2] = 1e+300"),
        (np.array([0, 1, -np.inf, 0]), "y[2] = -inf"),
        (np.array([0, 1, 5, 0]), "y[2] = 5 would make 6 classes, more than the 4 examples"),
        (np.array([0, 1, -2, 0], np.int64), "y[2] = -2 < 0"),
        (np.array([True, False, True, False]), "labels must be integers"),
    ]
    for y, needle in cases:
        refused(lambda: check_arrays(X[:len(y)], y, "src.npz"), "src.npz", needle)
    refused(lambda: check_arrays(X, np.array([0, 1, 2, 3]), "src.npz", num_classes=3), "src.npz",
            "y[3] = 3 >= 3 classes")
    check_arrays(X, np.array([0, 1, 2, 3], np.uint64), "src.npz")
    check_arrays(X, np.array([0.0, 1.0, 1.0, 0.0]), "src.npz", num_classes=2)
