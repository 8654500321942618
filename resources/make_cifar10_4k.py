"""Convert the CIFAR-10 first-4,000 sprite sheets to ``resources/cifar10_4k.npz`` (run once).

Usage: ``python resources/make_cifar10_4k.py SOURCE_FOLDER``, the folder holding
``cifar10_batch_0.png`` .. ``cifar10_batch_3.png`` (1024 x 1000 RGB; row r of sheet k is image
1000*k + r, pixel (i, j) of the 32x32 image at column 32*i + j), ``labels.txt`` (one class index a
line) and ``MD5SUMS``. Every checksum is verified before anything is written. Output: ``images``
uint8 (4000, 32, 32, 3) HWC and ``labels`` uint8 (4000,), ``np.savez_compressed``.

Sprite sheets: ConvNetJS CIFAR-10 demo (Andrej Karpathy); CIFAR-10: A. Krizhevsky, 2009.
Needs Pillow (a development tool only: the application reads the NPZ with NumPy).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "cifar10_4k.npz"
SHEETS, ROWS, SIDE = 4, 1000, 32


def verify(src: Path) -> None:
    lines = [ln.split() for ln in (src / "MD5SUMS").read_text().splitlines() if ln.strip()]
    for digest, name in lines:
        got = hashlib.md5((src / name.lstrip("*")).read_bytes()).hexdigest()
        if got != digest:
            sys.exit(f"{src / name}: MD5 {got}, expected {digest}")
    needed = {f"cifar10_batch_{k}.png" for k in range(SHEETS)} | {"labels.txt"}
    missing = needed - {name.lstrip("*") for _, name in lines}
    if missing:
        sys.exit(f"{src / 'MD5SUMS'}: no checksum for {sorted(missing)}")


def convert(src: Path) -> tuple[np.ndarray, np.ndarray]:
    sheets = []
    for k in range(SHEETS):
        with Image.open(src / f"cifar10_batch_{k}.png") as im:
            a = np.asarray(im.convert("RGB"), dtype=np.uint8)
        if a.shape != (ROWS, SIDE * SIDE, 3):
            sys.exit(f"sheet {k}: shape {a.shape}, expected {(ROWS, SIDE * SIDE, 3)}")
        sheets.append(a.reshape(ROWS, SIDE, SIDE, 3))
    images = np.concatenate(sheets)
    labels = np.array([int(s) for s in (src / "labels.txt").read_text().split()], dtype=np.uint8)
    if labels.shape != (SHEETS * ROWS,) or labels.max() > 9:
        sys.exit(f"labels.txt: {labels.shape[0]} labels (max {labels.max()}), expected 4000 in 0..9")
    return images, labels


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python resources/make_cifar10_4k.py SOURCE_FOLDER (the sprite sheets, labels.txt, MD5SUMS)")
    src = Path(sys.argv[1])
    verify(src)
    images, labels = convert(src)
    np.savez_compressed(OUT, images=images, labels=labels)
    print(f"{OUT}: images {images.shape} {images.dtype}, labels {labels.shape}, "
          f"class counts {np.bincount(labels, minlength=10).tolist()}, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
