"""Downloads against a local HTTP server on 127.0.0.1 (never the real internet)."""
from __future__ import annotations

import hashlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import data_helpers as H  # noqa: E402

from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import DatasetError, load_dataset  # noqa: E402
from engine.datasets import download as dl  # noqa: E402


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[bytes, str]] = {}

    def do_GET(self):  # noqa: N802
        name = self.path.rsplit("/", 1)[-1]
        if name not in self.routes:
            self.send_error(404, "Not Found")
            return
        body, mode = self.routes[name]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "cut":   # promise more than we send, then hang up
            self.send_header("Content-Length", str(len(body) + 5000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    routes: dict[str, tuple[bytes, str]] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    try:
        yield routes, f"http://127.0.0.1:{httpd.server_address[1]}/files"
    finally:
        httpd.shutdown()
        httpd.server_close()


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def test_download_success_checks_md5_and_reports_progress(server, tmp_path):
    routes, url = server
    body = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    routes["thing.bin"] = (body, "ok")
    seen = []
    path = dl.download(dl.Remote("thing.bin", "http://invalid.example", md5(body)), tmp_path / "cache",
                       progress=lambda f, m: seen.append((f, m)), base_url=url)
    assert path == tmp_path / "cache" / "thing.bin" and path.read_bytes() == body
    assert seen[-1][0] == 1.0 and any(0 < f < 1 for f, _ in seen)
    assert sorted(p.name for p in path.parent.iterdir()) == ["thing.bin"]
    # already there and valid: no second request needed
    routes.clear()
    assert dl.download(dl.Remote("thing.bin", "http://invalid.example", md5(body)), tmp_path / "cache",
                       base_url=url) == path


def test_download_wrong_checksum_leaves_nothing(server, tmp_path):
    routes, url = server
    routes["x.tar.gz"] = (b"not what you expected" * 100, "ok")
    with pytest.raises(DatasetError) as e:
        dl.download(dl.Remote("x.tar.gz", url, "0" * 32), tmp_path, base_url=url)
    assert "checksum mismatch" in str(e.value) and "x.tar.gz" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_download_cut_off_leaves_nothing(server, tmp_path):
    routes, url = server
    body = b"\x00" * 100_000
    routes["cut.gz"] = (body, "cut")
    with pytest.raises(DatasetError) as e:
        dl.download(dl.Remote("cut.gz", url, md5(body)), tmp_path, base_url=url)
    assert "cut off" in str(e.value) and "cut.gz" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_download_http_error_and_refused(server, tmp_path):
    routes, url = server
    with pytest.raises(DatasetError, match=r"missing\.gz.*404"):
        dl.download(dl.Remote("missing.gz", url, "0" * 32), tmp_path, base_url=url)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(DatasetError, match=r"127\.0\.0\.1.*refused"):
        dl.download(dl.Remote("a.gz", "x", "0" * 32), tmp_path, base_url=f"http://127.0.0.1:{port}", timeout=2)
    assert list(tmp_path.iterdir()) == []


def test_mirror_env_var(server, tmp_path, monkeypatch):
    routes, url = server
    routes["m.bin"] = (b"abc", "ok")
    monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
    assert dl.download(dl.Remote("m.bin", "http://invalid.example", md5(b"abc")), tmp_path).read_bytes() == b"abc"


def test_cache_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_DATA", str(tmp_path / "env"))
    assert dl.data_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert dl.data_cache_dir() == tmp_path / "env"
    monkeypatch.delenv("BACKPROP_STUDIO_DATA")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert dl.data_cache_dir() == tmp_path / "xdg" / "backprop-studio"


def test_official_addresses():
    assert dl.CIFAR10["python"].url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert dl.CIFAR10["binary"].md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert dl.MNIST[0].url == "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    assert dl.FASHION_MNIST[3].md5 == "bb300cfdad3c16e7a12a480ee83cd310"


@pytest.mark.parametrize("fmt", ["python", "binary"])
def test_load_dataset_downloads_cifar_into_cache(server, tmp_path, monkeypatch, fmt):
    routes, url = server
    src = tmp_path / "src"
    d, data, labels = (H.write_cifar_python if fmt == "python" else H.write_cifar_binary)(src)
    name = dl.CIFAR10[fmt].filename
    blob = H.make_targz(d, tmp_path / name).read_bytes()
    routes[name] = (blob, "ok")
    monkeypatch.setitem(dl.CIFAR10, fmt, dl.Remote(name, "http://invalid.example", md5(blob)))
    cache = tmp_path / "cache"
    msgs = []
    ds = load_dataset(DatasetConfig(name="cifar10", download=True, cifar_format=fmt, val_fraction=0.2),
                      progress=lambda f, m: msgs.append(m), cache_dir=str(cache), base_url=url)
    assert np.array_equal(ds.y_test, labels[5]) and len(ds.y_train) == 24
    assert (cache / d.name / ("test_batch" + (".bin" if fmt == "binary" else ""))).is_file()
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]
    assert any("download" in m for m in msgs)
    routes.clear()   # second time: from the cache, no server needed
    ds2 = load_dataset(DatasetConfig(name="cifar10", cifar_format=fmt), cache_dir=str(cache))
    assert np.array_equal(ds2.y_test, labels[5])


def test_load_dataset_downloads_mnist_and_reports_bad_checksum(server, tmp_path, monkeypatch):
    routes, url = server
    H.write_mnist(tmp_path / "src")
    remotes = []
    for f in sorted((tmp_path / "src").iterdir()):
        routes[f.name] = (f.read_bytes(), "ok")
        remotes.append(dl.Remote(f.name, "http://invalid.example", md5(f.read_bytes())))
    monkeypatch.setitem(dl.REMOTES, "mnist", remotes)
    ds = load_dataset(DatasetConfig(name="mnist", download=True), cache_dir=str(tmp_path / "c"), base_url=url)
    assert len(ds.y_test) == 5
    bad = [dl.Remote(r.filename, r.base_url, "f" * 32) for r in remotes]
    monkeypatch.setitem(dl.REMOTES, "fashion-mnist", bad)
    with pytest.raises(DatasetError, match="checksum mismatch"):
        load_dataset(DatasetConfig(name="fashion-mnist", download=True), cache_dir=str(tmp_path / "c"),
                     base_url=url)
    assert list((tmp_path / "c" / "fashion-mnist").iterdir()) == []
