"""The labeling page's rasterisation rules in numpy, to compute the exact mask a scripted session
must produce (static/js/labeling/raster.js states the same rules).

A pointer on pixel (X, Y) with brush size s paints every pixel (x, y) of the task region with
(x - X)^2 + (y - Y)^2 <= s^2 / 4 (pixel centres within s/2 of the centre of the pixel under the
pointer); a stroke stamps at every pixel of the Bresenham line between consecutive pointer pixels.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

UNLABELED = 255
Region = tuple[int, int, int, int]  # x, y, width, height


def blank(width: int, height: int) -> np.ndarray:
    return np.full((height, width), UNLABELED, np.uint8)


def _clip(region: Region | None, mask: np.ndarray) -> tuple[int, int, int, int]:
    if region is None:
        return 0, 0, mask.shape[1], mask.shape[0]
    x, y, w, h = region
    return max(0, x), max(0, y), min(mask.shape[1], x + w), min(mask.shape[0], y + h)


def footprint(mask: np.ndarray, X: int, Y: int, size: float, region: Region | None = None) -> np.ndarray:
    """Boolean image of the pixels one stamp covers."""
    x0, y0, x1, y1 = _clip(region, mask)
    yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    inside = (xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1)
    return inside & ((xx - X) ** 2 + (yy - Y) ** 2 <= size * size / 4)


def bresenham(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err, out = dx + dy, []
    while True:
        out.append((x0, y0))
        if x0 == x1 and y0 == y1:
            return out
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy


def stroke(mask: np.ndarray, points: list[tuple[int, int]], size: float, value: int,
           region: Region | None = None) -> np.ndarray:
    """Paint a stroke through these pointer pixels (a single point is one stamp)."""
    pixels = [points[0]]
    for a, b in zip(points, points[1:], strict=False):
        pixels += bresenham(*a, *b)
    for X, Y in dict.fromkeys(pixels):
        mask[footprint(mask, X, Y, size, region)] = value
    return mask


def polygon(mask: np.ndarray, pts: list[tuple[int, int]], value: int, region: Region | None = None) -> np.ndarray:
    """Vertices at pixel centres; centres inside (even-odd, half-open scanline) plus the outline."""
    x0r, y0r, x1r, y1r = _clip(region, mask)
    cx = [p[0] + 0.5 for p in pts]
    cy = [p[1] + 0.5 for p in pts]
    n = len(pts)
    for y in range(max(y0r, math.floor(min(cy))), min(y1r - 1, math.ceil(max(cy))) + 1):
        yc = y + 0.5
        xs = []
        for k in range(n):
            xa, ya, xb, yb = cx[k], cy[k], cx[(k + 1) % n], cy[(k + 1) % n]
            if ya == yb:
                continue
            if (ya <= yc < yb) or (yb <= yc < ya):
                xs.append(xa + ((yc - ya) * (xb - xa)) / (yb - ya))
        xs.sort()
        for k in range(0, len(xs) - 1, 2):
            lo, hi = max(x0r, math.ceil(xs[k] - 0.5)), min(x1r, math.ceil(xs[k + 1] - 0.5))
            if lo < hi:
                mask[y, lo:hi] = value
    for k in range(n):
        for x, y in bresenham(*pts[k], *pts[(k + 1) % n]):
            if x0r <= x < x1r and y0r <= y < y1r:
                mask[y, x] = value
    return mask


def fill(mask: np.ndarray, X: int, Y: int, value: int, region: Region | None = None) -> np.ndarray:
    """4-connected region of (X, Y)'s label, inside the task region."""
    x0, y0, x1, y1 = _clip(region, mask)
    target = mask[Y, X]
    if target == value:
        return mask
    todo = deque([(X, Y)])
    while todo:
        x, y = todo.popleft()
        if not (x0 <= x < x1 and y0 <= y < y1) or mask[y, x] != target:
            continue
        mask[y, x] = value
        todo.extend([(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)])
    return mask


def superpixel_stroke(mask: np.ndarray, ids: np.ndarray, points: list[tuple[int, int]], size: float, value: int,
                      region: Region | None = None) -> np.ndarray:
    """Every superpixel with a pixel under the stroke's footprint, painted whole (within the region)."""
    covered = np.zeros(mask.shape, bool)
    stroke_mask = blank(mask.shape[1], mask.shape[0])
    stroke(stroke_mask, points, size, 1, region)
    covered |= stroke_mask == 1
    x0, y0, x1, y1 = _clip(region, mask)
    inside = np.zeros(mask.shape, bool)
    inside[y0:y1, x0:x1] = True
    mask[np.isin(ids, np.unique(ids[covered])) & inside] = value
    return mask
