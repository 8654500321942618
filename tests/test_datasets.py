"""Real datasets: bundled digits, CIFAR-10 (both formats), MNIST IDX, user folders/CSV/NPZ,
preprocessing, and bad input. No Qt, no network (downloads: tests/test_data_download.py)."""
from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import data_helpers as H  # noqa: E402

from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import DatasetError, apply_preprocess, load_dataset  # noqa: E402
from engine.datasets.cifar import read_cifar10  # noqa: E402
from engine.datasets.idx import read_idx, read_mnist  # noqa: E402
from engine.datasets.imageio import read_image, resize  # noqa: E402
from engine.datasets.safe_pickle import safe_loads  # noqa: E402


def cfg(**kw) -> DatasetConfig:
    c = DatasetConfig(**kw)
    c.validate()
    return c


# ----------------------------------------------------------------------------- digits
def test_digits_loads_offline_fast_and_complete():
    t = time.perf_counter()
    ds = load_dataset(cfg(name="digits", val_fraction=0.2, test_fraction=0.2))
    assert time.perf_counter() - t < 1.0
    n = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    assert n == 1797
    assert ds.input_shape == (8, 8, 1) and ds.num_features == 64
    assert ds.class_names == [str(k) for k in range(10)]
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.X_train.min() >= 0 and ds.X_train.max() == 16
    assert ds.raw_train.shape == (len(ds.y_train), 8, 8, 1) and ds.raw_train.dtype == np.uint8
    assert ds.raw_train.max() == 255
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_val, ds.y_test]))) == set(range(10))


def test_digits_resource_is_small():
    p = Path(__file__).resolve().parents[1] / "resources" / "digits.npz"
    assert p.stat().st_size < 100_000


def test_splits_are_seeded_and_disjoint():
    a = load_dataset(cfg(name="digits", seed=3))
    b = load_dataset(cfg(name="digits", seed=3))
    c = load_dataset(cfg(name="digits", seed=4))
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.X_train, c.X_train)
    rows = {r.tobytes() for r in a.X_train}
    # identical digit images may occur, so compare counts only
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 1797 and len(rows) > 0


def test_subsample_is_seeded():
    a = load_dataset(cfg(name="digits", subsample=100, seed=1))
    b = load_dataset(cfg(name="digits", subsample=100, seed=1))
    assert len(a.y_train) == 100 and np.array_equal(a.X_train, b.X_train)
    assert len(a.y_val) == 359  # validation untouched


# ----------------------------------------------------------------------- preprocessing
@pytest.mark.parametrize("pre", ["none", "mean", "scale", "standardize"])
def test_preprocess_stats_from_training_split_and_reapplicable(pre):
    ds = load_dataset(cfg(name="digits", preprocess=pre, bias_trick=True))
    assert ds.num_features == 65 and np.all(ds.X_train[:, -1] == 1) and np.all(ds.X_test[:, -1] == 1)
    raw_train = (ds.raw_train.astype(np.float64) * 16 / 255).round().reshape(len(ds.y_train), -1)
    again = apply_preprocess(raw_train, pre, ds.stats, bias_trick=True)
    np.testing.assert_allclose(again, ds.X_train, atol=1e-5)
    body = ds.X_train[:, :-1]
    if pre == "mean":
        np.testing.assert_allclose(body.mean(axis=0), 0, atol=1e-4)
        assert ds.stats["mean"].shape == (64,)
    elif pre == "scale":
        assert float(ds.stats["scale"]) == 16 and body.max() == 1.0
    elif pre == "standardize":
        std = body.std(axis=0)
        varying = raw_train.std(axis=0) > 0
        np.testing.assert_allclose(std[varying], 1, atol=1e-4)
        assert np.all(np.isfinite(body))  # constant pixels guarded
    else:
        assert ds.stats == {}


def test_apply_preprocess_accepts_images_and_rows():
    stats = {"mean": np.arange(12, dtype=np.float32)}
    imgs = np.full((2, 2, 2, 3), 20, np.uint8)
    out = apply_preprocess(imgs, "mean", stats)
    assert out.shape == (2, 12) and out.dtype == np.float32
    assert np.allclose(out[0], 20 - np.arange(12))


# ----------------------------------------------------------------------------- CIFAR-10
@pytest.mark.parametrize("style", ["py3", "py2"])
def test_cifar_python_directory_round_trip(tmp_path, style):
    d, data, labels = H.write_cifar_python(tmp_path, style=style)
    X, y, Xt, yt, names = read_cifar10(tmp_path)
    assert names == H.CIFAR_NAMES
    assert X.shape == (30, 32, 32, 3) and X.dtype == np.uint8
    assert np.array_equal(X, H.chw_to_hwc(np.concatenate(data[:5])))
    assert np.array_equal(y, np.concatenate(labels[:5]))
    assert np.array_equal(Xt, H.chw_to_hwc(data[5])) and np.array_equal(yt, labels[5])
    # the same when pointed at the batches directory itself
    X2, *_ = read_cifar10(d)
    assert np.array_equal(X, X2)


def test_cifar_binary_directory_and_archives_round_trip(tmp_path):
    d, data, labels = H.write_cifar_binary(tmp_path / "b")
    X, y, Xt, yt, names = read_cifar10(tmp_path / "b")
    assert names == H.CIFAR_NAMES
    assert np.array_equal(X, H.chw_to_hwc(np.concatenate(data[:5])))
    assert np.array_equal(yt, labels[5])
    arch = H.make_targz(d, tmp_path / "cifar-10-binary.tar.gz")
    Xa, ya, Xta, yta, _ = read_cifar10(arch)
    assert np.array_equal(Xa, X) and np.array_equal(yta, yt)
    pd, pdata, _ = H.write_cifar_python(tmp_path / "p", seed=5)
    parch = H.make_targz(pd, tmp_path / "cifar-10-python.tar.gz")
    Xp, *_ = read_cifar10(parch)
    assert np.array_equal(Xp, H.chw_to_hwc(np.concatenate(pdata[:5])))


def test_cifar_dataset_uses_official_test_split(tmp_path):
    _, data, labels = H.write_cifar_python(tmp_path, n_per_batch=10)
    ds = load_dataset(cfg(name="cifar10", data_dir=str(tmp_path), val_fraction=0.2, preprocess="mean"))
    assert ds.input_shape == (32, 32, 3) and ds.num_features == 3072
    assert len(ds.y_train) == 40 and len(ds.y_val) == 10 and len(ds.y_test) == 10
    assert np.array_equal(ds.y_test, labels[5])
    mean = np.concatenate([ds.raw_train]).reshape(40, -1).mean(axis=0)
    np.testing.assert_allclose(ds.stats["mean"], mean, rtol=1e-5)
    raw_test = H.chw_to_hwc(data[5]).reshape(10, -1).astype(np.float32)
    np.testing.assert_allclose(ds.X_test, raw_test - ds.stats["mean"], atol=1e-4)
    assert ds.raw_val.shape == (10, 32, 32, 3)


def test_cifar_data_file_tar(tmp_path):
    d, *_ = H.write_cifar_binary(tmp_path)
    arch = H.make_targz(d, tmp_path / "c.bin.tar.gz")
    ds = load_dataset(cfg(name="cifar10", data_file=str(arch), subsample=7))
    assert len(ds.y_train) == 7 and ds.class_names == H.CIFAR_NAMES


def test_cifar_crafted_pickle_is_refused(tmp_path):
    d, *_ = H.write_cifar_python(tmp_path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    class EvilEval:
        def __reduce__(self):
            import builtins
            return (builtins.eval, ("__import__('os').getcwd()",))

    for evil in (Evil(), EvilEval()):
        (d / "data_batch_3").write_bytes(pickle.dumps({b"data": evil, b"labels": [1]}, protocol=2))
        with pytest.raises(DatasetError) as e:
            read_cifar10(tmp_path)
        msg = str(e.value)
        assert "data_batch_3" in msg and "refusing" in msg and "code" in msg
    assert not marker.exists()


def test_safe_unpickler_refuses_object_arrays_and_protocol5_globals():
    with pytest.raises(DatasetError, match="refusing"):
        safe_loads(pickle.dumps(np.array([{"a": 1}], dtype=object), protocol=2), "obj.pkl")
    with pytest.raises(DatasetError, match="obj.pkl"):
        safe_loads(b"\x80\x02}q\x00(", "obj.pkl")


def test_cifar_bad_inputs(tmp_path):
    d, *_ = H.write_cifar_binary(tmp_path / "a")
    (d / "data_batch_2.bin").write_bytes((d / "data_batch_2.bin").read_bytes()[:-100])
    with pytest.raises(DatasetError, match=r"data_batch_2\.bin.*truncated"):
        read_cifar10(tmp_path / "a")

    d, *_ = H.write_cifar_binary(tmp_path / "b")
    rec = bytearray((d / "test_batch.bin").read_bytes())
    rec[0] = 12
    (d / "test_batch.bin").write_bytes(bytes(rec))
    with pytest.raises(DatasetError, match=r"test_batch\.bin.*labels out of range"):
        read_cifar10(tmp_path / "b")

    d, *_ = H.write_cifar_binary(tmp_path / "c")
    (d / "data_batch_4.bin").unlink()
    with pytest.raises(DatasetError, match=r"data_batch_4\.bin.*missing"):
        read_cifar10(tmp_path / "c")

    d, *_ = H.write_cifar_python(tmp_path / "d")
    (d / "data_batch_1").write_bytes(pickle.dumps({b"data": np.zeros((3, 3072), np.uint8),
                                                   b"labels": [1, 2]}, protocol=2))
    with pytest.raises(DatasetError, match=r"data_batch_1.*3 images but 2 labels"):
        read_cifar10(tmp_path / "d")

    d, *_ = H.write_cifar_python(tmp_path / "e")
    (d / "test_batch").write_bytes((d / "test_batch").read_bytes()[:500])
    with pytest.raises(DatasetError, match=r"test_batch.*(corrupt|truncated)"):
        read_cifar10(tmp_path / "e")

    d, *_ = H.write_cifar_python(tmp_path / "f")
    arch = H.make_targz(d, tmp_path / "cifar-10-python.tar.gz")
    blob = arch.read_bytes()
    cut = tmp_path / "cut" / "cifar-10-python.tar.gz"
    cut.parent.mkdir()
    cut.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DatasetError, match=r"cifar-10-python\.tar\.gz.*corrupt or truncated"):
        read_cifar10(cut)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"hello, not an archive")
    with pytest.raises(DatasetError, match=r"junk\.tar\.gz"):
        read_cifar10(junk)

    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"empty.*no CIFAR-10 found"):
        read_cifar10(tmp_path / "empty")


def test_cifar_missing_from_cache_suggests_download(tmp_path):
    with pytest.raises(DatasetError) as e:
        load_dataset(cfg(name="cifar10"), cache_dir=str(tmp_path / "cache"))
    assert str(tmp_path / "cache") in str(e.value) and "--download" in str(e.value)


# ----------------------------------------------------------------------------- MNIST
@pytest.mark.parametrize("gz", [True, False])
def test_mnist_round_trip(tmp_path, gz):
    arrays = H.write_mnist(tmp_path, gz=gz)
    X, y, Xt, yt = read_mnist(tmp_path)
    assert X.shape == (12, 28, 28, 1)
    assert np.array_equal(X[..., 0], arrays["train-images-idx3-ubyte"])
    assert np.array_equal(yt, arrays["t10k-labels-idx1-ubyte"])
    ds = load_dataset(cfg(name="fashion-mnist", data_dir=str(tmp_path), val_fraction=0.25, preprocess="scale"))
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert len(ds.y_train) == 9 and len(ds.y_val) == 3 and len(ds.y_test) == 5
    assert ds.X_train.max() <= 1.0 and ds.input_shape == (28, 28, 1)
    np.testing.assert_allclose(ds.X_test * 255, arrays["t10k-images-idx3-ubyte"].reshape(5, -1), atol=1e-3)
    ds = load_dataset(cfg(name="mnist", data_dir=str(tmp_path)))
    assert ds.class_names == [str(k) for k in range(10)]


def test_mnist_bad_inputs(tmp_path):
    H.write_mnist(tmp_path / "a", gz=False)
    p = tmp_path / "a" / "train-images-idx3-ubyte"
    blob = bytearray(p.read_bytes())
    blob[2:4] = b"\x07\x09"
    p.write_bytes(bytes(blob))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.*wrong magic number"):
        read_mnist(tmp_path / "a")

    H.write_mnist(tmp_path / "b", gz=False)
    p = tmp_path / "b" / "train-labels-idx1-ubyte"
    p.write_bytes(H.idx_bytes(np.zeros(11, np.uint8)))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.*12 images but .*11 labels"):
        read_mnist(tmp_path / "b")

    H.write_mnist(tmp_path / "c", gz=True)
    p = tmp_path / "c" / "t10k-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:40])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz.*(corrupt|truncated)"):
        read_mnist(tmp_path / "c")

    H.write_mnist(tmp_path / "d", gz=False)
    p = tmp_path / "d" / "t10k-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-28])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.*truncated"):
        read_idx(p, 3)

    H.write_mnist(tmp_path / "e", gz=False)
    (tmp_path / "e" / "t10k-labels-idx1-ubyte").write_bytes(H.idx_bytes(np.full(5, 10, np.uint8)))
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte.*labels out of range"):
        read_mnist(tmp_path / "e")

    H.write_mnist(tmp_path / "f")
    (tmp_path / "f" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte.*missing"):
        read_mnist(tmp_path / "f")

    H.write_mnist(tmp_path / "g", n_train=0, gz=False)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.*no images"):
        read_mnist(tmp_path / "g")


def test_mnist_missing_from_cache_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_DATA", str(tmp_path / "envcache"))
    with pytest.raises(DatasetError) as e:
        load_dataset(cfg(name="mnist"))
    assert str(tmp_path / "envcache" / "mnist") in str(e.value) and "--download" in str(e.value)


# ----------------------------------------------------------------------------- images
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trip(tmp_path, channels):
    rng = np.random.default_rng(channels)
    img = rng.integers(0, 256, (9, 11, channels), dtype=np.uint8)
    img[3:6] = img[2]  # some smooth rows too
    (tmp_path / "x.png").write_bytes(H.encode_png(img))
    expected = img[:, :, :1] if channels == 2 else img[:, :, :3] if channels == 4 else img
    assert np.array_equal(read_image(tmp_path / "x.png"), expected)


def test_pnm_round_trip_and_resize(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    (tmp_path / "x.ppm").write_bytes(H.encode_pnm(img))
    assert np.array_equal(read_image(tmp_path / "x.ppm"), img)
    (tmp_path / "y.pgm").write_bytes(b"P2\n# c\n2 1\n10\n0 10\n")
    assert np.array_equal(read_image(tmp_path / "y.pgm")[..., 0], [[0, 255]])
    big = np.repeat(np.repeat(img, 2, 0), 2, 1)
    assert np.array_equal(resize(big, 5, 4), img)       # area averaging of 2x2 blocks
    assert resize(img, 10, 8).shape == (10, 8, 3)


def write_folder(root: Path, sizes=None, channels=3):
    rng = np.random.default_rng(0)
    imgs = {}
    for c, cls in enumerate(["cat", "ant", "bee"]):
        (root / cls).mkdir(parents=True)
        for i in range(4):
            h, w = sizes[(c * 4 + i) % len(sizes)] if sizes else (8, 8)
            img = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
            (root / cls / f"{i}.png").write_bytes(H.encode_png(img))
            imgs[(cls, i)] = img
    (root / "bee" / "notes.txt").write_text("ignored")
    return imgs


def test_image_folder(tmp_path):
    imgs = write_folder(tmp_path)
    ds = load_dataset(cfg(name="folder", data_dir=str(tmp_path), image_size=8, val_fraction=0.25,
                          test_fraction=0.25))
    assert ds.class_names == ["ant", "bee", "cat"]
    assert ds.input_shape == (8, 8, 3) and len(ds.y_train) == 6
    allraw = {r.tobytes() for r in imgs.values()}
    assert all(r.tobytes() in allraw for r in ds.raw_train)
    ds4 = load_dataset(cfg(name="folder", data_dir=str(tmp_path), image_size=4))
    assert ds4.input_shape == (4, 4, 3) and ds4.raw_train.shape[1:] == (4, 4, 3)


def test_image_folder_bad_inputs(tmp_path):
    write_folder(tmp_path / "mixed", sizes=[(8, 8), (8, 8), (6, 9)])
    with pytest.raises(DatasetError) as e:
        load_dataset(cfg(name="folder", data_dir=str(tmp_path / "mixed")))
    assert "mixed sizes" in str(e.value) and ".png" in str(e.value)

    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "b").mkdir()
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(cfg(name="folder", data_dir=str(tmp_path / "empty")))

    write_folder(tmp_path / "corrupt")
    p = tmp_path / "corrupt" / "ant" / "2.png"
    p.write_bytes(p.read_bytes()[:60])
    with pytest.raises(DatasetError, match=r"ant[/\\]2\.png.*(truncated|corrupt)"):
        load_dataset(cfg(name="folder", data_dir=str(tmp_path / "corrupt")))

    with pytest.raises(DatasetError, match="nowhere"):
        load_dataset(cfg(name="folder", data_dir=str(tmp_path / "nowhere")))


# ----------------------------------------------------------------------------- CSV / NPZ
def test_csv_with_header_and_string_labels(tmp_path):
    p = tmp_path / "d.csv"
    rows = ["x1,x2,class"] + [f"{i * 0.5},{-i},{'dog' if i % 2 else 'cat'}" for i in range(20)]
    p.write_text("\n".join(rows) + "\n")
    ds = load_dataset(cfg(name="csv", data_file=str(p), val_fraction=0.25, test_fraction=0.25))
    assert ds.class_names == ["cat", "dog"] and ds.input_shape == (2,) and ds.raw_train is None
    X = np.concatenate([ds.X_train, ds.X_val, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    order = np.argsort(X[:, 0])
    assert np.array_equal(X[order, 0], np.arange(20) * 0.5)
    assert np.array_equal(y[order], np.arange(20) % 2)


def test_csv_without_header_first_column_labels(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("\n".join(f"{i % 3},{i},{i * 2}" for i in range(30)))
    ds = load_dataset(cfg(name="csv", data_file=str(p), preprocess="standardize"))
    assert ds.class_names == ["0", "1", "2"] and ds.num_features == 2
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-5)


@pytest.mark.parametrize("content,problem", [
    ("label,a,b\n0,1,2\n1,3\n", r"line 3: ragged row with 2 columns, expected 3"),
    ("label,a,b\n0,1,2\n1,nan,4\n", r"line 3: NaN or infinite"),
    ("label,a,b\n0,1,2\n1,inf,4\n", r"line 3: NaN or infinite"),
    ("label,a,b\n0,1,2\n1,abc,4\n", r"line 3, column 2: 'abc' is not a number"),
    ("label,a,b\n0,1,2\n-1,1,4\n", r"labels out of range"),
    ("label,a,b\n", r"empty"),
    ("", r"empty"),
])
def test_csv_bad_inputs(tmp_path, content, problem):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(DatasetError, match=r"bad\.csv.*" + problem):
        load_dataset(cfg(name="csv", data_file=str(p)))


def test_npz_rows_and_images(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    y = rng.integers(0, 3, 40)
    np.savez(tmp_path / "rows.npz", x=x, y=y, class_names=np.array(["a", "b", "c"]))
    ds = load_dataset(cfg(name="npz", data_file=str(tmp_path / "rows.npz")))
    assert ds.class_names == ["a", "b", "c"] and ds.input_shape == (5,)
    allx = np.concatenate([ds.X_train, ds.X_val, ds.X_test])
    assert sorted(map(tuple, allx.round(5))) == sorted(map(tuple, x.astype(np.float32).round(5)))
    imgs = rng.integers(0, 256, (30, 6, 6), dtype=np.uint8)
    np.savez_compressed(tmp_path / "img.npz", x=imgs, y=np.arange(30) % 2)
    ds = load_dataset(cfg(name="npz", data_file=str(tmp_path / "img.npz")))
    assert ds.input_shape == (6, 6, 1) and ds.raw_train.shape[1:] == (6, 6, 1)


def test_npz_bad_inputs(tmp_path):
    def bad(name, problem, **arrays):
        p = tmp_path / name
        np.savez(p, **arrays)
        with pytest.raises(DatasetError, match=name.replace(".", r"\.") + ".*" + problem):
            load_dataset(cfg(name="npz", data_file=str(p)))

    bad("nan.npz", "NaN or infinite", x=np.array([[1.0, np.nan], [0, 1]]), y=np.array([0, 1]))
    bad("count.npz", "3 examples but 2 labels", x=np.ones((3, 2)), y=np.array([0, 1]))
    bad("range.npz", "labels out of range", x=np.ones((2, 2)), y=np.array([0, 5]),
        class_names=np.array(["a", "b"]))
    bad("empty.npz", "empty", x=np.ones((0, 2)), y=np.zeros(0, int))
    bad("keys.npz", "needs arrays named x and y", a=np.ones(2))
    bad("obj.npz", "Python objects", x=np.array([[1, 2]], dtype=object), y=np.array([0]))
    p = tmp_path / "trunc.npz"
    np.savez(p, x=np.ones((50, 4)), y=np.arange(50) % 2)
    p.write_bytes(p.read_bytes()[:200])
    with pytest.raises(DatasetError, match=r"trunc\.npz.*(corrupt|truncated)"):
        load_dataset(cfg(name="npz", data_file=str(p)))
    with pytest.raises(DatasetError, match=r"missing\.npz.*no such file"):
        load_dataset(cfg(name="npz", data_file=str(tmp_path / "missing.npz")))


def test_engine_imports_no_gui_or_pillow():
    import subprocess
    code = ("import sys, engine.datasets as d, engine.datasets.userdata, engine.datasets.official, "
            "engine.datasets.digits; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'PIL', 'gui')]; print(bad); sys.exit(bool(bad))")
    r = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
