"""PNG masks: `masks/<stem>.png` (mode L, pixel = class index, 255 = unlabeled), `previews/<stem>.png`
(RGBA, each class in its colour over the image, unlabeled pixels show the image), `images/<stem>.png`
and `classes.json` ([{"index", "name", "color"}]). The same layout imports back (images/ + masks/)."""

from __future__ import annotations

import json

import numpy as np

from app import imaging
from app.formats import IGNORE, ClassDef, LabeledImage, hex_rgb

CLASSES = "classes.json"


def preview(image: np.ndarray, mask: np.ndarray, classes: list[ClassDef], alpha: float = 0.55) -> np.ndarray:
    """The image with each labeled pixel blended towards its class colour (uint8 RGB)."""
    out = image[..., :3].astype(np.float32)
    for c in classes:
        where = mask == c.index
        if where.any():
            out[where] = (1 - alpha) * out[where] + alpha * np.asarray(hex_rgb(c.color), dtype=np.float32)
    return out.round().clip(0, 255).astype(np.uint8)


def write(classes: list[ClassDef], images: list[LabeledImage]) -> dict[str, bytes]:
    out: dict[str, bytes] = {
        CLASSES: json.dumps([{"index": c.index, "name": c.name, "color": c.color} for c in classes], indent=1).encode()
    }
    for img in images:
        stem = img.file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        pixels = imaging.decode_png_array(img.image_png)
        out[f"images/{stem}.png"] = img.image_png
        out[f"masks/{stem}.png"] = imaging.encode_png(img.mask.astype(np.uint8))
        out[f"previews/{stem}.png"] = imaging.encode_png(preview(pixels, img.mask, classes))
    return out


__all__ = ["IGNORE", "write", "preview", "CLASSES"]
