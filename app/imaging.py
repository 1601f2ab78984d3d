"""Decoding and re-encoding of uploaded images and masks. Nothing user-supplied is stored as sent."""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import DomainError, TooLarge
from app.learning.constants import IGNORE_INDEX as IGNORE  # mask value for "not labeled"


class InvalidImage(DomainError):
    """Raised with a message fit to show the user (422)."""


READ_CHUNK = 1024 * 1024


def read_bounded(file: BinaryIO, *, limit: int, what: str) -> bytes:
    """The file's bytes, read a chunk at a time: TooLarge (413) as soon as it passes `limit`, so that no
    more than `limit` + one chunk is ever held."""
    chunks: list[bytes] = []
    size = 0
    while chunk := file.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the {what} is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _open(data: bytes, max_pixels: int, what: str) -> Image.Image:
    if not data:
        raise InvalidImage(f"the {what} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > max_pixels:
                raise InvalidImage(f"the {what} is too large ({img.width}x{img.height} pixels)")
            img.load()  # decodes every pixel: a truncated or corrupt file fails here
    except InvalidImage:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(f"the {what} is not an image in a supported format") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage(f"the {what} is corrupt or truncated ({exc})") from None
    return img


def decode_image(data: bytes, *, max_pixels: int) -> np.ndarray:
    """Any Pillow-readable image -> uint8 RGB [H, W, 3], turned upright by its EXIF orientation (a phone's
    portrait JPEG is stored as the user sees it, and masks drawn on it line up)."""
    img = _open(data, max_pixels, "image")
    try:
        img = ImageOps.exif_transpose(img)
    except (OSError, SyntaxError, ValueError, TypeError):
        pass  # a corrupt EXIF block: keep the pixels as stored
    if img.width < 8 or img.height < 8:
        raise InvalidImage(f"the image is too small ({img.width}x{img.height}); at least 8x8 is needed")
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def encode_png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", optimize=False, compress_level=3)
    return buf.getvalue()


def decode_mask(data: bytes, *, width: int, height: int, num_classes: int) -> np.ndarray:
    """A PNG of class indices (255 = unlabeled) -> uint8 [H, W].

    Accepted: grayscale, palette (the index is the class), or RGB(A) with equal channels and opaque
    alpha, which is what a browser canvas produces when it paints grey levels.
    """
    img = _open(data, max_pixels=width * height, what="mask")
    if img.size != (width, height):
        raise InvalidImage(f"the mask is {img.width}x{img.height} but the image is {width}x{height}")
    if img.mode in ("L", "P"):
        mask = np.asarray(img, dtype=np.uint8)
    elif img.mode in ("RGB", "RGBA", "LA"):
        arr = np.asarray(img.convert("RGBA"), dtype=np.uint8)
        if (arr[..., 3] != 255).any():
            raise InvalidImage(f"the mask has transparent pixels; use {IGNORE} for unlabeled pixels")
        if not ((arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all()):
            raise InvalidImage("the mask must hold class indices (grey levels), not colours")
        mask = arr[..., 0].copy()
    elif img.mode in ("I", "I;16"):
        wide = np.asarray(img)
        if wide.max(initial=0) > 255:
            raise InvalidImage(f"the mask has class id {int(wide.max())}, outside 0..{num_classes - 1}")
        mask = wide.astype(np.uint8)
    else:
        raise InvalidImage(f"unsupported mask mode {img.mode}")
    bad = np.unique(mask[(mask >= num_classes) & (mask != IGNORE)])
    if bad.size:
        raise InvalidImage(
            f"the mask has class ids {bad.tolist()[:5]} outside 0..{num_classes - 1} ({IGNORE} = unlabeled)"
        )
    return mask


def decode_png_array(data: bytes) -> np.ndarray:
    """Read back a PNG this application wrote."""
    return np.asarray(Image.open(io.BytesIO(data)))
