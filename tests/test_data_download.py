"""Downloads against a local HTTP server on 127.0.0.1 (never the real internet)."""
from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import data_helpers as H  # noqa: E402

from engine import cli  # noqa: E402
from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import DatasetError, load_dataset  # noqa: E402
from engine.datasets import download as dl  # noqa: E402
from engine.datasets import official  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class _Handler(BaseHTTPRequestHandler):
    """Serves ``routes[name] = (body, mode)``; ``hits`` records every requested name."""

    routes: dict[str, tuple[bytes, str]] = {}
    hits: list[str] = []
    stop: threading.Event = threading.Event()

    def _pause(self, seconds: float) -> bool:
        return not self.stop.wait(seconds)

    def do_GET(self):  # noqa: N802
        name = self.path.rsplit("/", 1)[-1]
        self.hits.append(name)
        if name not in self.routes:
            self.send_error(404, "Not Found")
            return
        body, mode = self.routes[name]
        try:
            self._serve(body, mode)
        except OSError:      # the client gave up
            pass

    def _serve(self, body: bytes, mode: str):
        if mode == "loop":
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode.startswith("redirect:"):
            self.send_response(302)
            self.send_header("Location", mode[len("redirect:"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "headtrickle":   # the status line, then the headers one byte at a time
            self.wfile.write(b"HTTP/1.0 200 OK\r\n")
            for b in b"X-Slow: " + b"a" * 1000:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                if not self._pause(0.3):
                    return
            return
        status = int(mode.split(":")[1]) if mode.startswith("status:") else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "cut":   # promise more than we send, then hang up
            self.send_header("Content-Length", str(len(body) + 5000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode.startswith("length:"):
            self.send_header("Content-Length", mode[len("length:"):])
        elif mode != "nolength":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "trickle":       # one byte every 0.3 s
            for b in body:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                if not self._pause(0.3):
                    return
            return
        if mode == "stall":         # one byte, then silence
            self.wfile.write(body[:1])
            self.wfile.flush()
            self._pause(20)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(ssl_context=None):
    routes: dict[str, tuple[bytes, str]] = {}
    hits: list[str] = []
    stop = threading.Event()
    handler = type("Handler", (_Handler,), {"routes": routes, "hits": hits, "stop": stop})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if ssl_context is not None:
        httpd.socket = ssl_context.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    scheme = "https" if ssl_context is not None else "http"
    try:
        yield routes, f"{scheme}://127.0.0.1:{httpd.server_address[1]}/files", hits
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server():
    yield from _serve()


@pytest.fixture
def tls_server(tmp_path_factory, monkeypatch):
    """The same server over TLS, with a throwaway certificate for 127.0.0.1 that the default
    context trusts through SSL_CERT_FILE (skipped where no openssl command exists)."""
    import shutil
    import ssl
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {r.stderr.strip()[:200]}")
    monkeypatch.setenv("SSL_CERT_FILE", str(d / "cert.pem"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    yield from _serve(ctx)


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def remote(name: str, body: bytes, md5sum: str | None = None) -> dl.Remote:
    return dl.Remote(name, "http://invalid.example", md5sum or md5(body), len(body))


def one_line(e: pytest.ExceptionInfo) -> str:
    text = str(e.value)
    assert "\n" not in text and "\r" not in text, text
    return text


def snapshot(directory: Path) -> dict:
    """Every file under ``directory``: its bytes and mtime (nanoseconds)."""
    return {p.relative_to(directory): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def age(path: Path, seconds: float = 3600) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


# ------------------------------------------------------------------------------ basics

def test_download_success_checks_md5_and_reports_progress(server, tmp_path):
    routes, url, _ = server
    body = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    routes["thing.bin"] = (body, "ok")
    seen = []
    path = dl.download(remote("thing.bin", body), tmp_path / "cache",
                       progress=lambda f, m: seen.append((f, m)), base_url=url)
    assert path == tmp_path / "cache" / "thing.bin" and path.read_bytes() == body
    assert seen[-1][0] == 1.0 and any(0 < f < 1 for f, _ in seen)
    assert str(tmp_path / "cache") in seen[-1][1]          # says where it was put
    assert sorted(p.name for p in path.parent.iterdir()) == ["thing.bin"]
    # already there and valid: no second request needed
    routes.clear()
    assert dl.download(remote("thing.bin", body), tmp_path / "cache", base_url=url) == path


def test_download_without_content_length_of_the_right_size(server, tmp_path):
    routes, url, _ = server
    body = b"abc" * 1000
    routes["n.bin"] = (body, "nolength")
    assert dl.download(remote("n.bin", body), tmp_path, base_url=url).read_bytes() == body


def test_download_wrong_checksum_leaves_nothing(server, tmp_path):
    routes, url, _ = server
    body = b"not what you expected" * 100
    routes["x.tar.gz"] = (body, "ok")
    with pytest.raises(DatasetError) as e:
        dl.download(remote("x.tar.gz", body, "0" * 32), tmp_path, base_url=url)
    assert "checksum mismatch" in one_line(e) and "x.tar.gz" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_download_cut_off_leaves_nothing(server, tmp_path):
    routes, url, _ = server
    body = b"\x00" * 100_000
    routes["cut.gz"] = (body, "cut")
    with pytest.raises(DatasetError) as e:   # the announced length is not the expected size
        dl.download(remote("cut.gz", body + b"\x00" * 5000), tmp_path, base_url=url)
    assert "cut off after 50000 of 105000 bytes" in one_line(e) and "cut.gz" in str(e.value)
    assert list(tmp_path.iterdir()) == []
    routes["short.gz"] = (body[:1000], "nolength")   # no length at all, and it stops short
    with pytest.raises(DatasetError, match=r"short\.gz was cut off after 1000 of 100000 bytes"):
        dl.download(remote("short.gz", body), tmp_path, base_url=url)
    assert list(tmp_path.iterdir()) == []


def test_download_http_error_and_refused(server, tmp_path):
    routes, url, _ = server
    with pytest.raises(DatasetError, match=r"missing\.gz.*404") as e:
        dl.download(dl.Remote("missing.gz", url, "0" * 32, 10), tmp_path, base_url=url)
    one_line(e)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(DatasetError, match=r"127\.0\.0\.1.*refused"):
        dl.download(dl.Remote("a.gz", "x", "0" * 32, 10), tmp_path, base_url=f"http://127.0.0.1:{port}",
                    timeout=2)
    assert list(tmp_path.iterdir()) == []


def test_mirror_env_var(server, tmp_path, monkeypatch):
    routes, url, _ = server
    routes["m.bin"] = (b"abc", "ok")
    monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
    assert dl.download(remote("m.bin", b"abc"), tmp_path).read_bytes() == b"abc"


def test_cache_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_DATA", str(tmp_path / "env"))
    assert dl.data_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert dl.data_cache_dir() == tmp_path / "env"
    monkeypatch.delenv("BACKPROP_STUDIO_DATA")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert dl.data_cache_dir() == tmp_path / "xdg" / "backprop-studio"


def test_official_addresses_sizes_and_https():
    assert dl.CIFAR10["python"].url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert dl.CIFAR10["binary"].md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert dl.MNIST[0].url == "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    assert dl.FASHION_MNIST[3].md5 == "bb300cfdad3c16e7a12a480ee83cd310"
    assert (dl.FASHION_MNIST[0].url ==
            "https://fashion-mnist.s3.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz")
    everything = list(dl.CIFAR10.values()) + dl.MNIST + dl.FASHION_MNIST
    assert all(r.url.startswith("https://") for r in everything)
    sizes = {(r.base_url == dl.FASHION_URL, r.filename): r.size for r in everything}
    assert sizes == {
        (False, "cifar-10-python.tar.gz"): 170498071, (False, "cifar-10-binary.tar.gz"): 170052171,
        (False, "train-images-idx3-ubyte.gz"): 9912422, (False, "train-labels-idx1-ubyte.gz"): 28881,
        (False, "t10k-images-idx3-ubyte.gz"): 1648877, (False, "t10k-labels-idx1-ubyte.gz"): 4542,
        (True, "train-images-idx3-ubyte.gz"): 26421880, (True, "train-labels-idx1-ubyte.gz"): 29515,
        (True, "t10k-images-idx3-ubyte.gz"): 4422102, (True, "t10k-labels-idx1-ubyte.gz"): 5148,
    }


def test_default_deadline_grows_with_the_size():
    assert dl.default_deadline(4542) == 120 + dl.TIMEOUT
    assert dl.default_deadline(170498071) == pytest.approx(170498071 / 50_000 + dl.TIMEOUT)
    assert dl.default_deadline(1000, timeout=5) == 125


# ------------------------------------------------------------------------------ it always ends

def test_trickling_server_ends_at_the_deadline(server, tmp_path):
    routes, url, _ = server
    body = bytes(range(256)) * 4
    routes["slow.bin"] = (body, "trickle")     # one byte every 0.3 s: never silent for 5 s
    t0 = time.monotonic()
    with pytest.raises(DatasetError) as e:
        dl.download(remote("slow.bin", body), tmp_path, base_url=url, timeout=5, deadline=1.0)
    took = time.monotonic() - t0
    assert one_line(e) == f"download of {url}/slow.bin took longer than 1 s; nothing was kept, try again"
    assert 0.9 < took < 2.5, took
    assert list(tmp_path.iterdir()) == []


def test_one_silent_read_cannot_outlast_the_deadline(server, tmp_path):
    routes, url, _ = server
    routes["stall.bin"] = (b"x" * 100, "stall")   # one byte, then 20 s of silence
    t0 = time.monotonic()
    with pytest.raises(DatasetError, match=r"stall\.bin took longer than 1 s"):
        dl.download(remote("stall.bin", b"x" * 100), tmp_path, base_url=url, timeout=30, deadline=1.0)
    assert time.monotonic() - t0 < 2.5
    assert list(tmp_path.iterdir()) == []


def test_trickling_headers_end_at_the_deadline(server, tmp_path):
    routes, url, _ = server
    routes["head.bin"] = (b"", "headtrickle")
    t0 = time.monotonic()
    with pytest.raises(DatasetError, match=r"head\.bin took longer than 1 s") as e:
        dl.download(remote("head.bin", b"x" * 100), tmp_path, base_url=url, timeout=5, deadline=1.0)
    one_line(e)
    assert time.monotonic() - t0 < 2.5
    assert list(tmp_path.iterdir()) == []


def test_silence_timeout_still_applies(server, tmp_path):
    routes, url, _ = server
    routes["stall.bin"] = (b"x" * 100, "stall")
    t0 = time.monotonic()
    with pytest.raises(DatasetError) as e:
        dl.download(remote("stall.bin", b"x" * 100), tmp_path, base_url=url, timeout=0.5, deadline=30)
    assert "stalled (no data for 0.5 s)" in one_line(e)
    assert time.monotonic() - t0 < 2.5
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ the size cap

def test_body_running_past_the_expected_size_stops_without_writing_it(server, tmp_path, monkeypatch):
    routes, url, _ = server
    body = b"y" * 200_000
    routes["big.bin"] = (body * 5, "nolength")     # 1 MB where 200 KB are expected
    written = []
    real_fdopen = os.fdopen

    class Counting:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

        def write(self, b):
            written.append(len(b))
            return self.f.write(b)

    monkeypatch.setattr(dl.os, "fdopen", lambda *a, **k: Counting(real_fdopen(*a, **k)))
    with pytest.raises(DatasetError) as e:
        dl.download(remote("big.bin", body), tmp_path, base_url=url)
    assert one_line(e) == (f"download of {url}/big.bin sent more than the 200000 bytes of the official big.bin; "
                           "stopped, nothing was kept")
    assert 0 < sum(written) <= 200_000
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("announced", ["5001", "4999", "0"])
def test_content_length_other_than_the_expected_size_stops(server, tmp_path, announced):
    routes, url, hits = server
    body = b"z" * 5000
    routes["cl.bin"] = (body, f"length:{announced}")
    with pytest.raises(DatasetError) as e:
        dl.download(remote("cl.bin", body), tmp_path, base_url=url)
    assert one_line(e) == (f"download of {url}/cl.bin failed: the server announced {announced} bytes but the "
                           "official cl.bin has 5000; nothing was kept")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["12abc", "-5", "+5000", "5_000", "1e3"])
def test_malformed_content_length_is_one_line(server, tmp_path, value):
    routes, url, _ = server
    routes["bad.bin"] = (b"z" * 5000, f"length:{value}")
    with pytest.raises(DatasetError, match=r"bad\.bin failed: the server sent a malformed Content-Length") as e:
        dl.download(remote("bad.bin", b"z" * 5000), tmp_path, base_url=url)
    one_line(e)
    assert list(tmp_path.iterdir()) == []


def test_answer_other_than_200_stops(server, tmp_path):
    routes, url, _ = server
    routes["p.bin"] = (b"q" * 100, "status:206")
    with pytest.raises(DatasetError) as e:
        dl.download(remote("p.bin", b"q" * 100), tmp_path, base_url=url)
    assert one_line(e) == (f"download of {url}/p.bin failed: the server answered 206 Partial Content "
                           "(expected 200 OK); nothing was kept")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ addresses and redirects

@pytest.mark.parametrize("mirror", ["ftp://x", "not a url", "http://[::1", "file:///tmp/x", "http://",
                                    "http://host:port/", "http://a b/", "http://x/\nfiles"])
def test_bad_mirror_is_one_line_and_asks_nothing(server, tmp_path, monkeypatch, mirror):
    routes, url, hits = server
    monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", mirror)
    with pytest.raises(DatasetError) as e:
        dl.download(remote("m.bin", b"abc"), tmp_path)
    assert one_line(e).startswith("BACKPROP_STUDIO_MIRROR ") and "cannot be used" in str(e.value)
    monkeypatch.delenv("BACKPROP_STUDIO_MIRROR")
    with pytest.raises(DatasetError) as e:
        dl.download(remote("m.bin", b"abc"), tmp_path, base_url=mirror)
    assert one_line(e).startswith("the mirror address ") and "cannot be used" in str(e.value)
    assert hits == [] and list(tmp_path.iterdir()) == []


def test_mirror_messages_name_the_reason():
    with pytest.raises(DatasetError, match=r"'ftp://x' cannot be used: only http:// and https://"):
        dl.check_base_url("ftp://x")
    with pytest.raises(DatasetError, match=r"'http://\[::1' cannot be used: it is not a valid address"):
        dl.check_base_url("http://[::1")
    assert dl.check_base_url(" https://mirror.example:8080/data/ ") == "https://mirror.example:8080/data/"


def test_redirect_loop_is_one_line(server, tmp_path):
    routes, url, _ = server
    routes["loop.bin"] = (b"", "loop")
    with pytest.raises(DatasetError) as e:
        dl.download(remote("loop.bin", b"abc"), tmp_path, base_url=url)
    assert one_line(e).startswith(f"download of {url}/loop.bin failed: redirect loop")
    assert list(tmp_path.iterdir()) == []


def test_redirects_are_followed_within_http_but_not_elsewhere(server, tmp_path):
    routes, url, hits = server
    routes["there.bin"] = (b"abc", "ok")
    routes["here.bin"] = (b"", f"redirect:{url}/there.bin")
    routes["ftp.bin"] = (b"", "redirect:ftp://127.0.0.1/there.bin")
    routes["file.bin"] = (b"", "redirect:file:///etc/hostname")
    good = dl.Remote("here.bin", "http://invalid.example", md5(b"abc"), 3)
    assert dl.download(good, tmp_path, base_url=url).read_bytes() == b"abc"
    assert hits == ["here.bin", "there.bin"]
    for name in ("ftp.bin", "file.bin"):
        with pytest.raises(DatasetError, match=rf"{name} .*(not an http\(s\) address|not allowed)") as e:
            dl.download(remote(name, b"abc"), tmp_path / "x", base_url=url)
        one_line(e)
    assert not (tmp_path / "x").exists() or list((tmp_path / "x").iterdir()) == []


def test_https_to_http_redirect_is_refused():
    # no TLS server here: the redirect handler itself is asked about the downgrade
    handler = dl._Redirects()
    req = urllib.request.Request("https://secure.example/a.gz")
    fp = io.BytesIO(b"")
    with pytest.raises(dl._RefusedRedirect):
        handler.redirect_request(req, fp, 302, "Found", {}, "http://plain.example/a.gz")
    assert fp.closed
    ok = handler.redirect_request(req, io.BytesIO(b""), 302, "Found", {}, "https://other.example/a.gz")
    assert ok.full_url == "https://other.example/a.gz"
    ok = handler.redirect_request(urllib.request.Request("http://plain.example/a.gz"), io.BytesIO(b""), 302,
                                  "Found", {}, "https://secure.example/a.gz")
    assert ok.full_url == "https://secure.example/a.gz"
    msg = dl._explain(dl._RefusedRedirect("https://secure.example/a.gz", "http://plain.example/a.gz"), 30)
    assert "redirected from https to the insecure http://plain.example/a.gz; refused" in msg


# ------------------------------------------------------------------------------ leftovers

def test_stale_part_files_are_removed_and_only_those(server, tmp_path):
    routes, url, _ = server
    routes["thing.bin"] = (b"abc", "ok")
    stale = tmp_path / ".thing.bin.k2j4h6g8.part"
    live = tmp_path / ".thing.bin.a1b2c3d4.part"          # another download, still being written
    other = tmp_path / ".other.bin.k2j4h6g8.part"         # another file's
    user = [tmp_path / ".thing.bin.notes.part", tmp_path / "thing.bin.k2j4h6g8.part",
            tmp_path / ".thing.bin.k2j4h6g8.part.bak"]
    for p in [stale, live, other, *user]:
        p.write_bytes(b"partial")
    for p in [stale, other, *user]:
        age(p)
    dl.download(remote("thing.bin", b"abc"), tmp_path, base_url=url)
    assert not stale.exists()
    assert live.exists() and other.exists() and all(p.exists() for p in user)
    # also when the file is already there (no download needed)
    age(live)
    dl.download(remote("thing.bin", b"abc"), tmp_path, base_url=url)
    assert not live.exists()


def test_part_file_of_a_killed_download_is_removed_on_the_next_run(server, tmp_path):
    routes, url, _ = server
    body = bytes(range(256)) * 4
    routes["slow.bin"] = (body, "trickle")
    script = ("import sys; sys.path.insert(0, sys.argv[1]);"
              "from engine.datasets import download as dl;"
              f"dl.download(dl.Remote('slow.bin', 'http://x', '{md5(body)}', {len(body)}), sys.argv[2],"
              " base_url=sys.argv[3])")
    proc = subprocess.Popen([sys.executable, "-c", script, str(ROOT), str(tmp_path), url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while not list(tmp_path.glob(".slow.bin.*.part")) and time.monotonic() - t0 < 20:
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    parts = list(tmp_path.glob(".slow.bin.*.part"))
    assert len(parts) == 1
    age(parts[0])        # killed a while ago
    routes["slow.bin"] = (body, "ok")
    assert dl.download(remote("slow.bin", body), tmp_path, base_url=url).read_bytes() == body
    assert [p.name for p in tmp_path.iterdir()] == ["slow.bin"]


# ------------------------------------------------------------------------------ users' files

def test_a_different_file_at_the_target_is_never_touched(server, tmp_path):
    routes, url, hits = server
    routes["thing.bin"] = (b"abc", "ok")
    mine = tmp_path / "thing.bin"
    mine.write_bytes(b"my own notes")
    age(mine)
    before = snapshot(tmp_path)
    with pytest.raises(DatasetError) as e:
        dl.download(remote("thing.bin", b"abc"), tmp_path, base_url=url)
    assert one_line(e) == (f"{mine} already exists and is not the official thing.bin (MD5 {md5(b'my own notes')}, "
                           f"expected {md5(b'abc')}); it was left as it is: move or delete it, then try again")
    assert snapshot(tmp_path) == before and hits == []
    (tmp_path / "dir.bin").mkdir()
    with pytest.raises(DatasetError, match=r"dir\.bin already exists and is not the official dir\.bin"):
        dl.download(remote("dir.bin", b"abc"), tmp_path, base_url=url)


def test_a_file_appearing_during_the_download_is_not_replaced(server, tmp_path, monkeypatch):
    routes, url, _ = server
    routes["race.bin"] = (b"abc", "ok")
    mine = tmp_path / "race.bin"
    real = dl._new_part

    def new_part(d, name):     # the user's file appears while the bytes arrive
        mine.write_bytes(b"arrived meanwhile")
        return real(d, name)

    monkeypatch.setattr(dl, "_new_part", new_part)
    with pytest.raises(DatasetError, match=r"race\.bin already exists and is not the official"):
        dl.download(remote("race.bin", b"abc"), tmp_path, base_url=url)
    assert mine.read_bytes() == b"arrived meanwhile"
    assert [p.name for p in tmp_path.iterdir()] == ["race.bin"]


def _serve_mnist(routes, tmp_path, monkeypatch, name="mnist"):
    arrays = H.write_mnist(tmp_path / "src")
    remotes = []
    for f in sorted((tmp_path / "src").iterdir()):
        routes[f.name] = (f.read_bytes(), "ok")
        remotes.append(remote(f.name, f.read_bytes()))
    monkeypatch.setitem(dl.REMOTES, name, remotes)
    return arrays


def test_data_dir_with_a_users_file_is_never_written_to(server, tmp_path, monkeypatch):
    routes, url, hits = server
    arrays = _serve_mnist(routes, tmp_path, monkeypatch)
    user = tmp_path / "user"
    user.mkdir()
    (user / "train-images-idx3-ubyte.gz").write_bytes(b"my own, different file")
    (user / "notes.txt").write_text("keep me")
    age(user / "train-images-idx3-ubyte.gz")
    before = snapshot(user)
    cache = tmp_path / "cache"
    cfg = DatasetConfig(name="mnist", data_dir=str(user), download=True)

    saved = routes.pop("t10k-images-idx3-ubyte.gz")        # a failed download first
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz failed: the server answered 404"):
        load_dataset(cfg, cache_dir=str(cache), base_url=url)
    assert snapshot(user) == before
    assert not [p for p in (cache / "mnist").iterdir() if p.name.startswith(".")]

    routes["t10k-images-idx3-ubyte.gz"] = saved           # then a successful one
    msgs = []
    ds = load_dataset(cfg, progress=lambda f, m: msgs.append(m), cache_dir=str(cache), base_url=url)
    assert snapshot(user) == before
    assert np.array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(routes)
    assert any(str(user) in m and str(cache / "mnist") in m for m in msgs)
    assert any("into " + str(cache / "mnist") in m for m in msgs)
    # without --download: the error says so and names the cache
    with pytest.raises(DatasetError, match=r"use --download to fetch it into the cache"):
        load_dataset(DatasetConfig(name="mnist", data_dir=str(user)), cache_dir=str(cache))
    assert snapshot(user) == before


def test_cache_file_that_is_not_official_stops_the_download(server, tmp_path, monkeypatch):
    routes, url, hits = server
    _serve_mnist(routes, tmp_path, monkeypatch)
    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)
    odd = cache / "mnist" / "train-labels-idx1-ubyte.gz"
    odd.write_bytes(b"something else")
    before = snapshot(cache)
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz already exists and is not the official"):
        load_dataset(DatasetConfig(name="mnist", download=True), cache_dir=str(cache), base_url=url)
    assert odd.read_bytes() == b"something else" and snapshot(cache)[odd.relative_to(cache)] == before[
        odd.relative_to(cache)]


def _serve_cifar(routes, tmp_path, monkeypatch, fmt="python"):
    src = tmp_path / "src"
    d, data, labels = (H.write_cifar_python if fmt == "python" else H.write_cifar_binary)(src)
    name = dl.CIFAR10[fmt].filename
    blob = H.make_targz(d, tmp_path / name).read_bytes()
    routes[name] = (blob, "ok")
    monkeypatch.setitem(dl.CIFAR10, fmt, remote(name, blob))
    return d, labels


@pytest.mark.parametrize("fmt", ["python", "binary"])
def test_load_dataset_downloads_cifar_into_cache(server, tmp_path, monkeypatch, fmt):
    routes, url, _ = server
    d, labels = _serve_cifar(routes, tmp_path, monkeypatch, fmt)
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


def test_cifar_missing_from_data_dir_or_file_is_fetched_into_the_cache(server, tmp_path, monkeypatch):
    routes, url, _ = server
    d, labels = _serve_cifar(routes, tmp_path, monkeypatch)
    user = tmp_path / "user"
    user.mkdir()
    (user / "readme.txt").write_text("mine")
    before = snapshot(user)
    cache = tmp_path / "cache"
    msgs = []
    ds = load_dataset(DatasetConfig(name="cifar10", data_dir=str(user), download=True),
                      progress=lambda f, m: msgs.append(m), cache_dir=str(cache), base_url=url)
    assert np.array_equal(ds.y_test, labels[5])
    assert snapshot(user) == before and (cache / d.name / "data_batch_5").is_file()
    assert any(str(user) in m and str(cache) in m for m in msgs)
    routes.clear()    # a --data-file that is not there: read from the cache, nothing written next to it
    ds = load_dataset(DatasetConfig(name="cifar10", data_file=str(user / "cifar-10-python.tar.gz"),
                                    download=True), cache_dir=str(cache), base_url=url)
    assert np.array_equal(ds.y_test, labels[5]) and snapshot(user) == before


def test_users_cifar_folder_is_never_removed(server, tmp_path, monkeypatch):
    routes, url, hits = server
    _serve_cifar(routes, tmp_path, monkeypatch)
    # an incomplete folder in the user's --data-dir: read (and reported), not replaced
    user = tmp_path / "user"
    (user / "cifar-10-batches-py").mkdir(parents=True)
    (user / "cifar-10-batches-py" / "notes.txt").write_text("mine")
    before = snapshot(user)
    with pytest.raises(DatasetError, match=r"user/cifar-10-batches-py/.*missing CIFAR-10 file"):
        load_dataset(DatasetConfig(name="cifar10", data_dir=str(user), download=True),
                     cache_dir=str(tmp_path / "cache"), base_url=url)
    assert snapshot(user) == before
    # an incomplete folder in the cache: the download stops before fetching anything
    cache = tmp_path / "cache2"
    (cache / "cifar-10-batches-py").mkdir(parents=True)
    (cache / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"half")
    before = snapshot(cache)
    with pytest.raises(DatasetError) as e:
        load_dataset(DatasetConfig(name="cifar10", download=True), cache_dir=str(cache), base_url=url)
    assert one_line(e) == (f"{cache / 'cifar-10-batches-py'} already exists but is incomplete (no data_batch_2); "
                           "it was left as it is: move or delete it, then try again")
    assert snapshot(cache) == before and hits == []


def test_extraction_never_replaces_a_folder(tmp_path):
    d, _, _ = H.write_cifar_python(tmp_path / "src")
    archive = H.make_targz(d, tmp_path / "cifar-10-python.tar.gz")
    target = tmp_path / "t"
    (target / "cifar-10-batches-py").mkdir(parents=True)
    (target / "cifar-10-batches-py" / "x").write_text("mine")
    with pytest.raises(DatasetError, match=r"cifar-10-batches-py already exists; it was left as it is"):
        official._extract_cifar(archive, "python", target)
    assert [p.name for p in target.iterdir()] == ["cifar-10-batches-py"]
    assert (target / "cifar-10-batches-py" / "x").read_text() == "mine"
    # a successful extraction leaves only the folder, holding only the layout's files
    (tmp_path / "u").mkdir()
    out = official._extract_cifar(archive, "python", tmp_path / "u")
    assert sorted(p.name for p in (tmp_path / "u").iterdir()) == ["cifar-10-batches-py"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in d.iterdir())


def test_stale_extraction_folders_are_removed_only_when_all_ours(server, tmp_path, monkeypatch):
    routes, url, _ = server
    _serve_cifar(routes, tmp_path, monkeypatch)
    cache = tmp_path / "cache"
    ours = cache / ".cifar-10-batches-py.ab12cd34.part"
    mixed = cache / ".cifar-10-batches-py.ef56ab78.part"
    fresh = cache / ".cifar-10-batches-bin.0a1b2c3d.part"
    for folder, files in ((ours, ["data_batch_1", "data_batch_2"]), (mixed, ["data_batch_1", "mine.txt"]),
                          (fresh, ["data_batch_1.bin"])):
        folder.mkdir(parents=True)
        for f in files:
            (folder / f).write_bytes(b"x")
            if folder is not fresh:
                age(folder / f)
        if folder is not fresh:
            age(folder)
    load_dataset(DatasetConfig(name="cifar10", download=True), cache_dir=str(cache), base_url=url)
    assert not ours.exists()
    assert (mixed / "mine.txt").exists() and (mixed / "data_batch_1").exists()
    assert (fresh / "data_batch_1.bin").exists()


def test_load_dataset_downloads_mnist_and_reports_bad_checksum(server, tmp_path, monkeypatch):
    routes, url, _ = server
    _serve_mnist(routes, tmp_path, monkeypatch)
    ds = load_dataset(DatasetConfig(name="mnist", download=True), cache_dir=str(tmp_path / "c"), base_url=url)
    assert len(ds.y_test) == 5
    bad = [dl.Remote(r.filename, r.base_url, "f" * 32, r.size) for r in dl.REMOTES["mnist"]]
    monkeypatch.setitem(dl.REMOTES, "fashion-mnist", bad)
    with pytest.raises(DatasetError, match="checksum mismatch"):
        load_dataset(DatasetConfig(name="fashion-mnist", download=True), cache_dir=str(tmp_path / "c"),
                     base_url=url)
    assert list((tmp_path / "c" / "fashion-mnist").iterdir()) == []


# ------------------------------------------------------------------------------ the command line

def _cli(args, env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_download_failures_exit_2_with_one_line(server, tmp_path):
    routes, url, hits = server
    user = tmp_path / "user"
    user.mkdir()
    (user / "train-images-idx3-ubyte.gz").write_bytes(b"the user's own file")
    age(user / "train-images-idx3-ubyte.gz")
    before = snapshot(user)
    cache = tmp_path / "cache"
    args = ["train", "--dataset", "mnist", "--data-dir", str(user), "--download", "--epochs", "0", "--quiet"]
    base = url.rsplit("/", 1)[0]
    # the official files' sizes are checked against what the (fake) server announces
    routes["train-images-idx3-ubyte.gz"] = (b"fake" * 100, "ok")
    routes["train-labels-idx1-ubyte.gz"] = (b"", "loop")
    cases = [
        (base, "download of " + base + "/train-images-idx3-ubyte.gz failed: the server announced 400 bytes "
               "but the official train-images-idx3-ubyte.gz has 9912422; nothing was kept"),
        ("ftp://x", "BACKPROP_STUDIO_MIRROR 'ftp://x' cannot be used: only http:// and https://"),
        ("http://[::1", "BACKPROP_STUDIO_MIRROR 'http://[::1' cannot be used: it is not a valid address"),
    ]
    for mirror, needle in cases:
        r = _cli(args, {"BACKPROP_STUDIO_MIRROR": mirror, "BACKPROP_STUDIO_DATA": str(cache)})
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and needle in lines[0], r.stderr
        assert lines[0].startswith("backprop-studio train: error: ")
        assert snapshot(user) == before and r.stdout == ""
    # the first file's answer was refused: nothing in the cache
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


def test_cli_download_into_the_cache_leaves_the_data_dir_alone(server, tmp_path, monkeypatch):
    routes, url, _ = server
    arrays = _serve_mnist(routes, tmp_path, monkeypatch)
    user = tmp_path / "user"
    user.mkdir()
    (user / "train-images-idx3-ubyte.gz").write_bytes(b"the user's own file")
    age(user / "train-images-idx3-ubyte.gz")
    before = snapshot(user)
    cache = tmp_path / "cache"
    monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
    monkeypatch.setenv("BACKPROP_STUDIO_DATA", str(cache))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["train", "--dataset", "mnist", "--data-dir", str(user), "--download", "--epochs", "0"],
                    out=out, err=err)
    assert code == 0, err.getvalue()
    assert '"dataset": "mnist"' in out.getvalue()
    assert f"into {cache / 'mnist'}" in err.getvalue()
    assert snapshot(user) == before
    assert (cache / "mnist" / "train-images-idx3-ubyte.gz").read_bytes() == routes["train-images-idx3-ubyte.gz"][0]
    assert len(arrays["t10k-labels-idx1-ubyte"]) == 5


# ------------------------------------------------------------------------------ over TLS

def test_https_download_deadline_and_downgrade(tls_server, server, tmp_path):
    routes, url, hits = tls_server
    plain_routes, plain_url, plain_hits = server
    body = b"secure bytes" * 1000
    routes["s.bin"] = (body, "ok")
    assert dl.download(remote("s.bin", body), tmp_path, base_url=url).read_bytes() == body
    routes["slow.bin"] = (body, "trickle")
    t0 = time.monotonic()
    with pytest.raises(DatasetError, match=r"^download of https://127\.0\.0\.1:\d+/files/slow\.bin took longer "
                                           r"than 1 s; nothing was kept, try again$"):
        dl.download(remote("slow.bin", body), tmp_path, base_url=url, timeout=5, deadline=1.0)
    assert time.monotonic() - t0 < 2.5
    plain_routes["d.bin"] = (body, "ok")
    routes["d.bin"] = (b"", f"redirect:{plain_url}/d.bin")
    with pytest.raises(DatasetError) as e:
        dl.download(remote("d.bin", body), tmp_path, base_url=url)
    assert one_line(e) == (f"download of {url}/d.bin was redirected from https to the insecure {plain_url}/d.bin; "
                           "refused, nothing was kept (use an https mirror)")
    assert plain_hits == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.bin"]
