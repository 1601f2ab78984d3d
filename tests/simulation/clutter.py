"""Data of another kind than the well-log charts, for checking that the training recipe carries over:
small filled shapes (discs and squares, the two foreground classes) on a cluttered background of
lines, hollow outlines and blobs drawn in the same colours, about 2% foreground.

Only the shapes' geometry tells them from the clutter: a recipe tuned to curves on paper has
nothing to lean on here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = ["background", "disc", "square"]
PALETTE = [(200, 40, 40), (40, 160, 60), (40, 60, 200), (220, 180, 30), (30, 30, 30)]


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    base = np.array(PALETTE[int(rng.integers(len(PALETTE)))], float)
    return tuple(int(v) for v in np.clip(base + rng.normal(0, 20, 3), 0, 255))  # type: ignore[return-value]


def clutter_image(rng: np.random.Generator, size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """-> (uint8 [size,size,3], uint8 [size,size] with 0 background, 1 disc, 2 square)."""
    bg = tuple(int(v) for v in rng.integers(150, 240, 3))
    img = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 5))):  # large pale blobs
        cx, cy = (int(v) for v in rng.integers(0, size, 2))
        r = int(rng.integers(size // 8, size // 3))
        shade = tuple(int(c * 0.85 + 30) for c in _colour(rng))
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=shade)
    for _ in range(int(rng.integers(8, 16))):  # thin lines in the shapes' colours
        x0, y0, x1, y1 = (int(v) for v in rng.integers(0, size, 4))
        draw.line([x0, y0, x1, y1], fill=_colour(rng), width=int(rng.integers(1, 3)))
    for _ in range(int(rng.integers(3, 7))):  # hollow outlines: the shapes' outline, not their fill
        cx, cy = (int(v) for v in rng.integers(4, size - 4, 2))
        r = int(rng.integers(3, 7))
        box = [cx - r, cy - r, cx + r, cy + r]
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, outline=_colour(rng), width=1)
    mask = np.zeros((size, size), np.uint8)
    mimg = Image.fromarray(mask)
    mdraw = ImageDraw.Draw(mimg)
    for _ in range(int(rng.integers(2, 5))):
        cls = int(rng.integers(1, 3))
        cx, cy = (int(v) for v in rng.integers(6, size - 6, 2))
        r = int(rng.integers(3, 5))
        box = [cx - r, cy - r, cx + r, cy + r]
        colour = _colour(rng)
        if cls == 1:
            draw.ellipse(box, fill=colour)
            mdraw.ellipse(box, fill=1)
        else:
            draw.rectangle(box, fill=colour)
            mdraw.rectangle(box, fill=2)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    arr = np.asarray(img, np.float32) + rng.normal(0, 8, (size, size, 3))
    return np.clip(arr, 0, 255).astype(np.uint8), np.asarray(mimg, np.uint8)


def write_clutter_folder(root: Path, n: int, *, seed: int = 0, size: int = 96) -> Path:
    """images/NNNN.png + masks/NNNN.png + classes.json, the folder layout `labelwise simulate --data` reads."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image, mask = clutter_image(rng, size)
        Image.fromarray(image).save(root / "images" / f"{i:04d}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i:04d}.png")
    (root / "classes.json").write_text(json.dumps(CLASSES))
    return root
