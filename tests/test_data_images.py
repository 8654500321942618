"""Pure-NumPy image decoding for image folders: baseline JPEG (no Pillow, no Qt)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import data_helpers as H  # noqa: E402

from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import DatasetError, load_dataset  # noqa: E402
from engine.datasets.imageio import ImageError, read_image  # noqa: E402
from engine.datasets.jpeg import decode_jpeg  # noqa: E402

RNG = np.random.default_rng(0)
NOISY = RNG.integers(0, 256, (13, 18, 3), dtype=np.uint8)
GREY = RNG.integers(0, 256, (9, 17, 1), dtype=np.uint8)
_yy, _xx = np.mgrid[0:21, 0:29]
SMOOTH = np.stack([_yy * 10, _xx * 8, 255 - _yy * 5 - _xx * 3], -1).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("img,kw,max_err", [
    (NOISY, {}, 3), (GREY, {}, 2), (NOISY, {"restart": 2}, 3),
    (SMOOTH, {"subsample": True}, 10), (SMOOTH, {"subsample": True, "restart": 1}, 10),
    (SMOOTH, {"q": 8}, 6),
])
def test_jpeg_decodes_what_was_encoded(img, kw, max_err):
    got = decode_jpeg(H.encode_jpeg(img, **kw))
    assert got.shape == img.shape and got.dtype == np.uint8
    err = np.abs(got.astype(int) - img.astype(int))
    assert err.max() <= max_err and err.mean() < 3.5


def test_jpeg_unsupported_and_corrupt():
    blob = bytearray(H.encode_jpeg(NOISY))
    sof = blob.index(b"\xff\xc0")
    prog = bytes(blob[:sof + 1]) + b"\xc2" + bytes(blob[sof + 2:])
    with pytest.raises(ImageError, match="progressive JPEG is not supported"):
        decode_jpeg(prog)
    with pytest.raises(ImageError, match="truncated"):
        decode_jpeg(bytes(blob[: len(blob) // 2]))
    with pytest.raises(ImageError, match="truncated"):
        decode_jpeg(bytes(blob[:sof + 6]))


def test_folder_of_jpegs_and_pngs(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            img = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
            if i == 0:
                (tmp_path / cls / f"{i}.JPG").write_bytes(H.encode_jpeg(img))
            else:
                (tmp_path / cls / f"{i}.png").write_bytes(H.png_with_filters(img, [1, 4]))
    ds = load_dataset(DatasetConfig(name="folder", data_dir=str(tmp_path), image_size=8,
                                    val_fraction=0.0, test_fraction=0.0))
    assert ds.input_shape == (8, 8, 3) and len(ds.y_train) == 6 and ds.class_names == ["a", "b"]
    bad = tmp_path / "b" / "0.JPG"
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(DatasetError, match=r"0\.JPG.*truncated"):
        load_dataset(DatasetConfig(name="folder", data_dir=str(tmp_path), image_size=8))


def test_unknown_format_is_named(tmp_path):
    p = tmp_path / "x.png"
    p.write_bytes(b"GIF89a....")
    with pytest.raises(DatasetError, match=r"x\.png: unrecognised image format"):
        read_image(p)
