"""Image files through Pillow's C decoders: PNG, JPEG (baseline and progressive) and
PPM/PGM/PBM, plus area/bilinear resizing.

Decoders return uint8 ``(H, W, C)`` with ``C`` = 1 (grey) or 3 (RGB); alpha is dropped
(no compositing — the colour values are kept), palettes are expanded, 16-bit samples are
reduced to 8 bits (their high byte) and an EXIF orientation tag is applied, so the array is
the picture as a photo viewer shows it.

Bounded cost: only regular files (not a FIFO or a device, which could block forever) of at
most :data:`MAX_FILE_BYTES` are opened, and the width x height an image declares in its
header is checked against :data:`MAX_IMAGE_PIXELS` before a single pixel is decoded, so a
few hundred bytes claiming a gigapixel are refused in milliseconds. Truncated files are an
error (Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` stays False), never silently padded.
Every failure is a :class:`DatasetError` that names the file.

:func:`read_image_scaled` decodes straight to a target size: a JPEG is decoded by libjpeg
at 1/2, 1/4 or 1/8 scale (``Image.draft``, the smallest scale still at least the target),
which is what makes a folder of camera photos load in milliseconds per image.

Pillow is imported on first use, so importing the engine does not pay for it.
"""
from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np

from .base import DatasetError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".pnm")

# 50 megapixels: every photo a phone or camera writes by default (12-24 MP) and the
# full-resolution modes of 48/50 MP phones (8000x6000, 8160x6120) and 45 MP cameras fit;
# anything larger is refused before decoding. At the limit a PNG holds at most 200 MB
# decoded (RGBA, 4 bytes a pixel; Pillow's own warning starts at 89 MP), a JPEG read for
# a small target size far less (libjpeg decodes it at 1/8 scale: 0.8 MP).
MAX_IMAGE_PIXELS = 50_000_000
# 200 MB: above any compressed photo within the pixel limit (a 50 MP JPEG is 10-30 MB, a
# 50 MP 8-bit PNG of noise 150 MB, an uncompressed 8-bit PPM 150 MB).
MAX_FILE_BYTES = 200_000_000

PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PNM_MAGIC = (b"P1", b"P2", b"P3", b"P4", b"P5", b"P6")

# what a malformed file makes Pillow (or the zlib/struct code under it) raise; OSError covers
# PIL.UnidentifiedImageError and "image file is truncated", SyntaxError "not a PNG file".
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError,
                  struct.error, zlib.error)


class ImageError(ValueError):
    """An image file could not be decoded (the caller adds the file name)."""


# --------------------------------------------------------------------------------- files
def _open_regular(path: Path):
    """The file opened for binary reading, after checking it is a regular file within the size limit."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode)
                    else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a socket"
                    if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise DatasetError(f"{path}: not an image file but {kind}")
        if st.st_size > MAX_FILE_BYTES:
            raise DatasetError(f"{path}: the file is {st.st_size:,} bytes, more than the limit of "
                               f"{MAX_FILE_BYTES:,} for one image")
        if st.st_size == 0:
            raise DatasetError(f"{path}: empty file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _format(head: bytes) -> str:
    """The format by its signature; only the PNG, JPEG and PNM decoders are ever reached."""
    if head[:8] == PNG_SIG:
        return "PNG"
    if head[:2] == b"\xff\xd8":
        return "JPEG"
    if head[:2] in _PNM_MAGIC:
        return "PPM/PGM"
    raise ImageError("unrecognised image format (supported: PNG, JPEG, PPM/PGM)")


def _image_file(f, fmt: str):
    """The PIL image file of ``fmt`` with only its header parsed."""
    if fmt == "PNG":
        from PIL import PngImagePlugin
        return PngImagePlugin.PngImageFile(f)
    if fmt == "JPEG":
        from PIL import JpegImagePlugin
        return JpegImagePlugin.JpegImageFile(f)
    from PIL import PpmImagePlugin
    return PpmImagePlugin.PpmImageFile(f)


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"empty image (declares {width}x{height} pixels)")
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(f"image declares {width}x{height} pixels ({width * height:,}), more than the "
                         f"limit of {MAX_IMAGE_PIXELS:,}; shrink it first")


def _to_l_or_rgb(im, grey: bool = False):
    """A loaded PIL image as mode ``L`` or ``RGB`` (alpha dropped, palette expanded, 16 → 8 bits);
    ``grey``: the file stores grey samples (Pillow reads 16-bit grey+alpha PNGs as RGBA)."""
    from PIL import Image
    mode = im.mode
    if mode in ("L", "RGB"):
        return im
    if grey and mode == "RGBA":
        return im.getchannel("R")
    if mode in ("1", "LA", "La"):
        return im.convert("L")
    if mode == "I" or mode.startswith("I;16"):
        a = np.asarray(im)
        if mode == "I":     # 32-bit: 16-bit PGM samples scaled to 0..65535
            a = np.clip(a, 0, 65535)
        return Image.fromarray((a >> 8).astype(np.uint8))
    if mode in ("P", "PA", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"):
        return im.convert("RGB")
    raise ImageError(f"unsupported pixel format {mode!r}")


def _resize_pil(im, height: int, width: int):
    """Area averaging (Pillow's BOX filter) along an axis that shrinks, bilinear along one that grows."""
    from PIL import Image
    w, h = im.size
    if (w, h) == (width, height):
        return im
    box, bilinear = Image.Resampling.BOX, Image.Resampling.BILINEAR
    if (width <= w) == (height <= h):
        # reducing_gap: first an integer box reduction (fast), then the exact resampling
        return im.resize((width, height), box if width <= w else bilinear, reducing_gap=3.0)
    im = im.resize((width, h), box if width <= w else bilinear)
    return im.resize((width, height), box if height <= h else bilinear)


def _as_array(im) -> np.ndarray:
    a = np.array(im, dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


def _decode(path: str | Path, size: tuple[int, int] | None):
    """``(image uint8 (H, W, C), (height, width) of the full picture as displayed)``; the image
    is resized to ``size`` = (height, width) when that is given."""
    from PIL import Image, ImageOps
    path = Path(path)
    with _open_regular(path) as f:
        fmt = "image"
        try:
            head = f.read(26)
            f.seek(0)
            fmt = _format(head)
            im = _image_file(f, fmt)             # reads the header only
            grey_png = fmt == "PNG" and head[12:16] == b"IHDR" and head[25] in (0, 4)   # IHDR colour type
            width, height = im.size
            _check_size(width, height)           # before a single pixel is decoded
            # EXIF orientation (a PNG's eXIf chunk may follow its pixels: Pillow loads them to look)
            turned = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)   # a 90° turn: width and height swap
            if size is not None and fmt == "JPEG":
                th, tw = size
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale, the smallest still >= the target
                im.draft(None, (th, tw) if turned else (tw, th))
            im.load()                            # decoding errors surface here, inside the try
            ImageOps.exif_transpose(im, in_place=True)
            out = _to_l_or_rgb(im, grey_png)
            if size is not None:
                out = _resize_pil(out, *size)
            return _as_array(out), ((width, height) if turned else (height, width))
        except ImageError as e:
            raise DatasetError(f"{path}: {e}") from None
        except _DECODE_ERRORS as e:
            raise DatasetError(f"{path}: corrupt or truncated {fmt} file ({e})") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            # Pillow checks its own limit (89 MP, above ours) in Image.open, which is not used here
            # so that our check and message come first; kept for a Pillow that checks elsewhere
            # (the warning arrives as an exception under ``-W error``)
            raise DatasetError(f"{path}: {e}") from None


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to uint8 ``(H, W, C)`` at full size; :class:`DatasetError` names the file on failure."""
    return _decode(path, None)[0]


def read_image_scaled(path: str | Path, height: int, width: int) -> tuple[np.ndarray, tuple[int, int]]:
    """``(uint8 (height, width, C), (H, W) of the full-size picture)``: decoded straight to the
    target size (JPEG by libjpeg's DCT scaling, then area averaging), never held at full size
    when it is a JPEG."""
    return _decode(path, (int(height), int(width)))


# -------------------------------------------------------------------------------- resize
def resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resample uint8 ``(H, W, C)`` to ``(height, width, C)`` (area when shrinking, bilinear when enlarging)."""
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.shape[:2] == (height, width):
        return a
    from PIL import Image
    if a.shape[2] == 3:
        return _as_array(_resize_pil(Image.fromarray(np.ascontiguousarray(a)), height, width))
    planes = [np.asarray(_resize_pil(Image.fromarray(np.ascontiguousarray(a[:, :, c])), height, width))
              for c in range(a.shape[2])]
    return np.stack(planes, axis=2)
