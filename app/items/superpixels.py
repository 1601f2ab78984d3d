"""SLIC superpixels of an item, for the superpixel brush: thin curves and edges snap to them."""

from __future__ import annotations

import numpy as np

from app import imaging, storage
from app.items import service as item_service
from app.items.models import Item

PIXELS_PER_SEGMENT = 60  # small segments: the curves in our charts are 1-3 px wide


def path(item: Item) -> str:
    return f"projects/{item.project_id}/superpixels/item{item.id}.png"


def encode_ids(labels: np.ndarray) -> np.ndarray:
    """int ids [H, W] -> RGB uint8 [H, W, 3] with id = R + 256 G + 65536 B (lossless in PNG)."""
    ids = labels.astype(np.uint32)
    return np.stack([ids & 255, (ids >> 8) & 255, (ids >> 16) & 255], axis=-1).astype(np.uint8)


def decode_ids(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return rgb[..., 0] | (rgb[..., 1] << 8) | (rgb[..., 2] << 16)


def superpixels_png(item: Item) -> bytes:
    """Computed once per item and kept under the data directory."""
    relative = path(item)
    target = storage.absolute(relative)
    if target.exists():
        return target.read_bytes()
    from skimage.segmentation import slic

    pixels = item_service.load_pixels(item)
    n_segments = max(16, item.width * item.height // PIXELS_PER_SEGMENT)
    labels = slic(pixels, n_segments=n_segments, compactness=8.0, start_label=0, channel_axis=-1)
    data = imaging.encode_png(encode_ids(labels))
    storage.write_atomic(relative, data)
    return data
