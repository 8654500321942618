"""Image files for image folders, decoded by Pillow (engine.datasets.imageio): what comes out
matches the pixels written (or Pillow's own decode for JPEG), EXIF orientation is applied,
JPEGs are decoded at a reduced scale when only a small image is wanted, and bombs, truncated,
garbage and non-regular files end in one DatasetError naming the file, without decoding."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, JpegImagePlugin

sys.path.insert(0, str(Path(__file__).parent))
import data_helpers as H  # noqa: E402

from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import DatasetError, load_dataset  # noqa: E402
from engine.datasets import imageio  # noqa: E402
from engine.datasets.imageio import MAX_IMAGE_PIXELS, read_image, read_image_scaled, resize  # noqa: E402
from engine.datasets.userdata import read_image_folder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)
NOISY = RNG.integers(0, 256, (13, 18, 3), dtype=np.uint8)
_yy, _xx = np.mgrid[0:48, 0:64]
SMOOTH = np.stack([_yy * 5, _xx * 4, 255 - _yy * 2 - _xx * 2], -1).clip(0, 255).astype(np.uint8)


def write(tmp_path: Path, name: str, blob: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(blob)
    return p


# ------------------------------------------------------------------------------- PNG
def _png_cases():
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    ga = rng.integers(0, 256, (9, 11, 2), dtype=np.uint8)
    rgb = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)
    g16 = rng.integers(0, 65536, (9, 11), dtype=np.uint16)
    bits = rng.integers(0, 2, (9, 11), dtype=np.uint8)
    palette = rng.integers(0, 256, (7, 3), dtype=np.uint8)
    index = rng.integers(0, 7, (9, 11), dtype=np.uint8)
    pal = Image.new("P", (11, 9))
    pal.putpalette(palette.reshape(-1).tolist())
    pal.putdata(index.reshape(-1).tolist())
    yield "grey", H.encode_png(grey), grey[:, :, None]
    yield "grey+alpha", H.encode_png(ga), ga[:, :, :1]
    yield "rgb", H.encode_png(rgb), rgb
    yield "rgba", H.encode_png(rgba), rgba[:, :, :3]
    yield "grey 16-bit", H.encode_png(g16), (g16 >> 8).astype(np.uint8)[:, :, None]
    yield "1-bit", H.encode_png(Image.fromarray(bits * 255).convert("1")), (bits * 255)[:, :, None]
    yield "palette", H.encode_png(pal), palette[index]
    yield "palette+tRNS", H.encode_png(pal, transparency=2), palette[index]
    yield "palette 4-bit", H.encode_png(pal, bits=4), palette[index]
    # what Pillow does not write: Adam7 interlacing, 16-bit colour (with and without alpha), 2-bit grey
    adam7 = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]
    passes = [rgb[r0::rs, c0::cs] for r0, c0, rs, cs in adam7]
    yield "interlaced", H.png_by_hand(b"".join(b"\x00" + row.tobytes() for sub in passes if sub.size for row in sub),
                                      11, 9, 8, 2, interlace=1), rgb
    rgb16 = rng.integers(0, 65536, (9, 11, 3), dtype=np.uint16)
    yield "rgb 16-bit", H.png_by_hand(b"".join(b"\x00" + r.astype(">u2").tobytes() for r in rgb16), 11, 9, 16, 2), \
        (rgb16 >> 8).astype(np.uint8)
    rgba16 = rng.integers(0, 65536, (9, 11, 4), dtype=np.uint16)
    yield "rgba 16-bit", H.png_by_hand(b"".join(b"\x00" + r.astype(">u2").tobytes() for r in rgba16), 11, 9, 16, 6), \
        (rgba16[:, :, :3] >> 8).astype(np.uint8)
    ga16 = rng.integers(0, 65536, (9, 11, 2), dtype=np.uint16)
    yield "grey+alpha 16-bit", H.png_by_hand(b"".join(b"\x00" + r.astype(">u2").tobytes() for r in ga16), 11, 9, 16, 4), \
        (ga16[:, :, :1] >> 8).astype(np.uint8)
    g2 = rng.integers(0, 4, (9, 12), dtype=np.uint8)
    packed = (g2[:, 0::4] << 6) | (g2[:, 1::4] << 4) | (g2[:, 2::4] << 2) | g2[:, 3::4]
    yield "grey 2-bit", H.png_by_hand(b"".join(b"\x00" + r.tobytes() for r in packed), 12, 9, 2, 0), \
        (g2 * 85)[:, :, None]


@pytest.mark.parametrize("name,blob,expected", list(_png_cases()), ids=[c[0] for c in _png_cases()])
def test_png_every_colour_type_gives_the_pixels_written(tmp_path, name, blob, expected):
    got = read_image(write(tmp_path, "x.png", blob))
    assert got.dtype == np.uint8 and got.flags.c_contiguous
    assert got.shape == expected.shape, name
    assert np.array_equal(got, expected), name


# ------------------------------------------------------------------------------ JPEG
@pytest.mark.parametrize("kw", [
    {}, {"quality": 95, "subsampling": 0}, {"quality": 60, "subsampling": 2, "optimize": True},
    {"progressive": True}, {"progressive": True, "quality": 95, "subsampling": 0},
])
@pytest.mark.parametrize("img", [SMOOTH, NOISY, SMOOTH[:, :, 1]], ids=["smooth", "noisy", "grey"])
def test_jpeg_baseline_and_progressive_equal_pillows_decode(tmp_path, img, kw):
    p = write(tmp_path, "x.jpg", H.encode_jpeg(img, **kw))
    if kw.get("progressive"):
        assert b"\xff\xc2" in p.read_bytes()     # really a progressive (SOF2) file
    got = read_image(p)
    ref = np.asarray(Image.open(p))
    ref = ref[:, :, None] if ref.ndim == 2 else ref
    assert got.shape == ref.shape == (img.shape[0], img.shape[1], 1 if img.ndim == 2 else 3)
    assert np.array_equal(got, ref)
    if img is not NOISY:                          # and it is the picture (lossy, so roughly)
        assert np.abs(got.reshape(img.shape).astype(int) - img.astype(int)).mean() < 4


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    p = write(tmp_path, "c.jpg", H.encode_jpeg(Image.fromarray(SMOOTH).convert("CMYK"), quality=95))
    got = read_image(p)
    assert got.shape == SMOOTH.shape
    assert np.array_equal(got, np.asarray(Image.open(p).convert("RGB")))


@pytest.mark.parametrize("orientation,turn", [(6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1)),
                                              (3, lambda a: np.rot90(a, 2)), (2, lambda a: a[:, ::-1])])
def test_exif_orientation_is_applied(tmp_path, orientation, turn):
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = write(tmp_path, "r.jpg", H.encode_jpeg(SMOOTH, quality=95, exif=exif.tobytes()))
    stored = np.asarray(Image.open(p))           # Pillow does not turn it by itself
    assert stored.shape == SMOOTH.shape
    got = read_image(p)
    assert np.array_equal(got, turn(stored))
    if orientation in (6, 8):
        assert got.shape == (64, 48, 3)          # stored 64 wide, 48 high: shown 48 wide, 64 high
    small, full = read_image_scaled(p, 8, 16)
    assert small.shape == (8, 16, 3) and full == got.shape[:2]
    assert np.abs(small.astype(int) - resize(got, 8, 16).astype(int)).mean() < 6


def test_png_exif_orientation_is_applied_too(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    p = write(tmp_path, "r.png", H.encode_png(NOISY, exif=exif.tobytes()))
    assert np.array_equal(read_image(p), np.rot90(NOISY, -1))


def test_scaled_jpeg_is_decoded_at_the_smallest_dct_scale_still_big_enough(tmp_path, monkeypatch):
    yy, xx = np.mgrid[0:1200, 0:1600]
    photo = np.stack([yy % 256, xx % 256, (yy + xx) // 11 % 256], -1).astype(np.uint8)
    p = write(tmp_path, "big.jpg", H.encode_jpeg(photo, quality=90))
    decoded_sizes = []
    real_load = JpegImagePlugin.JpegImageFile.load

    def spy_load(self):
        decoded_sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy_load)
    for target, scaled in [((32, 32), (200, 150)), ((150, 200), (200, 150)), ((151, 200), (400, 300)),
                           ((300, 400), (400, 300)), ((600, 800), (800, 600)), ((700, 900), (1600, 1200))]:
        decoded_sizes.clear()
        small, full = read_image_scaled(p, *target)
        assert decoded_sizes and decoded_sizes[0] == scaled, target
        assert small.shape == (*target, 3) and full == (1200, 1600)
    decoded_sizes.clear()
    whole = read_image(p)
    assert decoded_sizes[0] == (1600, 1200) and whole.shape == (1200, 1600, 3)
    # the reduced decode averages like the full one: 1/8 scale + box filter ~ box filter of all pixels
    small, _ = read_image_scaled(p, 30, 40)
    assert np.abs(small.astype(int) - resize(whole, 30, 40).astype(int)).mean() < 3


# ------------------------------------------------------------------------------- PPM/PGM
def test_pnm_variants(tmp_path):
    assert np.array_equal(read_image(write(tmp_path, "a.ppm", H.encode_pnm(NOISY))), NOISY)
    assert np.array_equal(read_image(write(tmp_path, "a.pgm", H.encode_pnm(NOISY[:, :, :1]))), NOISY[:, :, :1])
    assert np.array_equal(read_image(write(tmp_path, "b.pgm", b"P2\n# c\n2 1\n10\n0 10\n"))[..., 0], [[0, 255]])
    assert np.array_equal(read_image(write(tmp_path, "c.pgm", b"P5\n2 1\n65535\n\x01\x00\xff\xff"))[..., 0],
                          [[1, 255]])
    assert np.array_equal(read_image(write(tmp_path, "d.ppm", b"P3 1 1 255 7 8 9"))[0, 0], [7, 8, 9])


# --------------------------------------------------------------------------- resizing
def test_resize_area_when_shrinking_bilinear_when_enlarging():
    big = np.repeat(np.repeat(NOISY, 2, 0), 2, 1)
    assert np.array_equal(resize(big, 13, 18), NOISY)           # exact 2x2 block means
    blocks = NOISY[:12, :18].reshape(4, 3, 6, 3, 3).astype(float).mean(axis=(1, 3))
    assert np.abs(resize(NOISY[:12], 4, 6).astype(float) - blocks).max() <= 1.0    # 8-bit between passes
    up = resize(SMOOTH, 96, 128)
    assert up.shape == (96, 128, 3) and np.abs(up[1::2, 1::2].astype(int) - SMOOTH.astype(int)).max() <= 3
    mixed = resize(NOISY, 26, 9)                                # taller, narrower
    assert mixed.shape == (26, 9, 3)
    assert np.abs(mixed[::2].astype(float) - NOISY.reshape(13, 9, 2, 3).mean(axis=2)).max() <= 64
    assert resize(NOISY[:, :, :1], 5, 7).shape == (5, 7, 1)
    assert resize(NOISY, 13, 18) is not None and np.array_equal(resize(NOISY, 13, 18), NOISY)


# ----------------------------------------------------------------- bombs and bad files
def test_pixel_bombs_are_refused_from_the_header_fast_and_small(tmp_path):
    png = write(tmp_path, "bomb.png", H.bomb_png(20000, 20000))
    jpg = write(tmp_path, "bomb.jpg", H.bomb_jpeg(65000, 65000))
    assert png.stat().st_size < 500_000 and jpg.stat().st_size < 200
    for p, w, h in ((png, 20000, 20000), (jpg, 65000, 65000)):
        t = time.perf_counter()
        with pytest.raises(DatasetError) as e:
            read_image(p)
        assert time.perf_counter() - t < 1.0
        msg = str(e.value)
        assert msg.startswith(str(p)) and "\n" not in msg
        assert f"declares {w}x{h} pixels ({w * h:,})" in msg and f"limit of {MAX_IMAGE_PIXELS:,}" in msg
        with pytest.raises(DatasetError, match="declares"):
            read_image_scaled(p, 32, 32)
    # peak memory and time, measured in a fresh process (Pillow allocates outside Python's heap)
    code = (
        "import resource, sys, time\n"
        "from engine.datasets.imageio import read_image\n"
        "from engine.datasets import DatasetError\n"
        "import PIL.PngImagePlugin, PIL.JpegImagePlugin\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t = time.perf_counter()\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        read_image(p)\n"
        "    except DatasetError:\n"
        "        pass\n"
        "    else:\n"
        "        sys.exit('no error for ' + p)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    pytest.importorskip("resource")
    r = subprocess.run([sys.executable, "-c", code, str(png), str(jpg)], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    seconds, grown = map(float, r.stdout.split())
    grown_mb = grown / (1 << 20) if sys.platform == "darwin" else grown / 1024   # ru_maxrss: bytes on macOS
    assert seconds < 5 and grown_mb < 50, (seconds, grown_mb)


def test_pixel_limit_boundary(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio, "MAX_IMAGE_PIXELS", 13 * 18)
    ok = write(tmp_path, "ok.png", H.encode_png(NOISY))
    assert read_image(ok).shape == (13, 18, 3)
    over = write(tmp_path, "over.jpg", H.encode_jpeg(NOISY[:, :17].repeat(2, 0)))
    with pytest.raises(DatasetError, match=r"over\.jpg: image declares 17x26 pixels \(442\), more than the limit of 234"):
        read_image(over)


def test_file_size_limit(tmp_path, monkeypatch):
    p = write(tmp_path, "a.png", H.encode_png(NOISY))
    monkeypatch.setattr(imageio, "MAX_FILE_BYTES", p.stat().st_size - 1)
    with pytest.raises(DatasetError, match=rf"a\.png: the file is {p.stat().st_size:,} bytes, more than the limit"):
        read_image(p)


def _truncations():
    png = H.encode_png(NOISY)
    base = H.encode_jpeg(SMOOTH, quality=90)
    prog = H.encode_jpeg(SMOOTH, quality=90, progressive=True)
    ppm = H.encode_pnm(NOISY)
    for name, blob in (("png", png), ("jpeg", base), ("progressive", prog)):
        yield f"{name} half", blob[: len(blob) // 2]
        yield f"{name} header only", blob[:40]
        yield f"{name} last bytes cut", blob[:-30]
    yield "ppm pixels short", ppm[:-1]
    yield "ppm header only", ppm[:8]


@pytest.mark.parametrize("name,blob", list(_truncations()), ids=[c[0] for c in _truncations()])
def test_truncated_files_are_an_error_not_padding(tmp_path, name, blob):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    p = write(tmp_path, "cut.img", blob)
    with pytest.raises(DatasetError, match=r"cut\.img: .*(truncated|corrupt)"):
        read_image(p)
    with pytest.raises(DatasetError, match=r"cut\.img: "):
        read_image_scaled(p, 4, 4)


@pytest.mark.parametrize("blob,problem", [
    (b"\x89PNG\r\n\x1a\n" + bytes(RNG.integers(0, 256, 300, dtype=np.uint8)), "corrupt or truncated PNG"),
    (b"\xff\xd8" + bytes(RNG.integers(0, 256, 300, dtype=np.uint8)), "corrupt or truncated JPEG"),
    (b"P6\n-3 2\n255\n" + bytes(18), "corrupt or truncated PPM/PGM"),
    (b"P6\n3 2\n0\n" + bytes(18), "corrupt or truncated PPM/PGM"),
    (b"GIF89a....", "unrecognised image format"),
    (bytes(RNG.integers(0, 256, 1000, dtype=np.uint8)), "unrecognised image format"),
    (b"", "empty file"),
], ids=["png", "jpeg", "pnm-size", "pnm-maxval", "gif", "noise", "empty"])
def test_garbage_is_named(tmp_path, blob, problem):
    p = write(tmp_path, "x.png", blob)
    with pytest.raises(DatasetError, match=r"x\.png: " + problem):
        read_image(p)


def test_broken_png_data_is_named(tmp_path):
    blob = bytearray(H.encode_png(NOISY))
    i = blob.index(b"IDAT") + 20
    blob[i:i + 8] = b"\x00" * 8                   # corrupt the deflate stream
    with pytest.raises(DatasetError, match=r"x\.png: corrupt or truncated PNG"):
        read_image(write(tmp_path, "x.png", bytes(blob)))
    zero = H.png_by_hand(b"", 0, 5, 8, 0)
    with pytest.raises(DatasetError, match=r"z\.png: "):
        read_image(write(tmp_path, "z.png", zero))


def test_non_regular_files_are_refused_without_blocking(tmp_path):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(DatasetError, match=r"dir\.png: not an image file but a directory"):
        read_image(tmp_path / "dir.png")
    with pytest.raises(DatasetError, match=r"missing\.png: cannot read"):
        read_image(tmp_path / "missing.png")
    if not hasattr(os, "mkfifo"):
        return
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    t = time.perf_counter()
    with pytest.raises(DatasetError, match=r"pipe\.png: not an image file but a FIFO"):
        read_image(fifo)
    assert time.perf_counter() - t < 1.0
    if os.path.exists("/dev/zero"):
        with pytest.raises(DatasetError, match=r"/dev/zero: not an image file but a device"):
            read_image("/dev/zero")


# ---------------------------------------------------------------------------- folders
def _folder(tmp_path: Path) -> dict:
    written = {}
    for c, cls in enumerate(("a", "b")):
        (tmp_path / cls).mkdir()
        for i in range(3):
            img = np.roll(SMOOTH, 7 * i + 20 * c, axis=1)
            if i == 0:
                name, blob = f"{i}.JPG", H.encode_jpeg(img, quality=95, progressive=c == 1)
            else:
                name, blob = f"{i}.png", H.encode_png(img)
            (tmp_path / cls / name).write_bytes(blob)
            written[(cls, name)] = img
    return written


def test_folder_of_jpegs_and_pngs_decodes_straight_to_size(tmp_path):
    written = _folder(tmp_path)
    X, y, names = read_image_folder(tmp_path, 16)
    assert X.shape == (6, 16, 16, 3) and names == ["a", "b"] and list(y) == [0, 0, 0, 1, 1, 1]
    for k, ((cls, name), img) in enumerate(written.items()):
        full = read_image(tmp_path / cls / name)
        if name.endswith(".png"):
            assert np.array_equal(X[k], resize(full, 16, 16))   # same decode, same filter
        else:
            assert np.abs(X[k].astype(int) - resize(full, 16, 16).astype(int)).mean() < 3
        assert np.abs(X[k].astype(int) - resize(img, 16, 16).astype(int)).mean() < 4
    ds = load_dataset(DatasetConfig(name="folder", data_dir=str(tmp_path), image_size=8,
                                    val_fraction=0.0, test_fraction=0.0))
    assert ds.input_shape == (8, 8, 3) and len(ds.y_train) == 6 and ds.class_names == ["a", "b"]


@pytest.mark.parametrize("bad,blob", [
    ("0.JPG", lambda b: b[:300]),
    ("2.png", lambda b: b[:len(b) // 2]),
    ("1.png", lambda b: H.bomb_png(20000, 20000)),
    ("0.JPG", lambda b: H.bomb_jpeg(65000, 65000)),
])
def test_folder_with_one_bad_file_names_it(tmp_path, bad, blob):
    _folder(tmp_path)
    p = tmp_path / "b" / bad
    p.write_bytes(blob(p.read_bytes()))
    with pytest.raises(DatasetError) as e:
        load_dataset(DatasetConfig(name="folder", data_dir=str(tmp_path), image_size=8))
    assert str(e.value).startswith(str(p) + ": ")
    assert any(w in str(e.value) for w in ("truncated", "declares"))


def test_folder_mixed_sizes_are_the_displayed_sizes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    (tmp_path / "a" / "0.jpg").write_bytes(H.encode_jpeg(SMOOTH))
    (tmp_path / "b" / "0.jpg").write_bytes(H.encode_jpeg(SMOOTH, exif=exif.tobytes()))   # shown 48x64
    with pytest.raises(DatasetError, match=r"0\.jpg: images of mixed sizes: this one is 48x64 but .*0\.jpg is 64x48"):
        read_image_folder(tmp_path, 8)
    X, _, _ = read_image_folder(tmp_path, 8, mixed_sizes="resize")
    assert X.shape == (2, 8, 8, 3)


def test_grey_and_colour_mixed_in_a_folder_become_rgb(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "0.png").write_bytes(H.encode_png(SMOOTH[:, :, 0]))
    (tmp_path / "a" / "1.jpg").write_bytes(H.encode_jpeg(SMOOTH))
    X, _, _ = read_image_folder(tmp_path, 4)
    assert X.shape == (2, 4, 4, 3)
    assert np.array_equal(X[0, :, :, 0], X[0, :, :, 2])
    assert np.array_equal(X[0, :, :, 0], resize(SMOOTH[:, :, :1], 4, 4)[:, :, 0])
