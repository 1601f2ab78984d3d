"""Synthetic scanned well-log charts with pixel masks (demo and test data).

A chart is a depth track with labels and ticks, a main track with a printed grid and two
plotted curves x = f(depth), then scan damage (stains, fading, blur, noise, JPEG, a small
rotation). The curves are the only foreground:

    0 background   everything else, including dark straight lines, ticks, text, distractor curves
    1 curve-1      always drawn solid
    2 curve-2      solid in a different colour, or (monochrome charts) dashed/dotted in the same ink

Half the charts are monochrome, so only the dash pattern tells the classes apart; ink fades, and
dark lines cross the curves. A first, cleaner generator was solved at 0.98 mIoU in two epochs,
so these charts are made hard on purpose: labels must matter for active learning to show.

Everything is drawn at the target size (no supersampling) so a 256x256 chart costs a few ms.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from app.learning.constants import IGNORE_INDEX

CLASSES: list[tuple[str, str]] = [
    ("background", "#202020"),
    ("curve-1", "#e6194b"),
    ("curve-2", "#1f77d4"),
]

__all__ = ["CLASSES", "IGNORE_INDEX", "HARD_STYLES", "Section", "Template", "generate_chart", "generate_dataset"]

_FONT = ImageFont.load_default()  # loaded once: font loading dominates a single text() call

_GRID_COLOURS = np.array(
    [[0.55, 0.55, 0.55], [0.85, 0.55, 0.35], [0.45, 0.68, 0.50], [0.55, 0.65, 0.85], [0.85, 0.5, 0.55]],
    dtype=np.float32,
)
_RED = np.array([0.90, 0.10, 0.29], dtype=np.float32)
_BLUE = np.array([0.12, 0.47, 0.83], dtype=np.float32)
_INK = np.array([0.10, 0.10, 0.12], dtype=np.float32)


def _smooth_field(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Low-frequency random field in [0, 1], shape [h, w] (bicubic upsampling of a coarse grid)."""
    coarse = rng.random((cells, cells)).astype(np.float32)
    field = np.asarray(Image.fromarray(coarse, mode="F").resize((w, h), Image.Resampling.BICUBIC))
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / max(hi - lo, 1e-6)


def _over(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Composite ink of `colour` with per-pixel `alpha` [H,W] onto `img` [H,W,3] in place."""
    img += alpha[..., None] * (colour - img)


def _layer(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    layer = Image.new("L", (size, size), 0)
    return layer, ImageDraw.Draw(layer)


def _alpha(layer: Image.Image) -> np.ndarray:
    return np.asarray(layer, dtype=np.float32) / 255.0


def _curve_points(rng: np.random.Generator, size: int, x0: float, x1: float,
                  length: int | None = None, offset: int = 0) -> np.ndarray:
    """Well-log-like trace: points [n, 2] of (x, y), x = f(y), y running top to bottom.

    Low-frequency trend (a few sinusoids) + blocky formation steps (smoothed sigmoids) +
    high-frequency wiggle (smoothed heavy-tailed noise) + rare spikes, clipped to the track
    (logs "peg" at the scale edge).

    `length` > size draws one longer trace of a well (same statistics per `size` rows) and
    returns the window [offset, offset + size) shifted to y = 0: adjacent sections of one well.
    """
    width = x1 - x0
    span = size if length is None else length
    ys = np.arange(0.0, span, 0.5)
    n = ys.size
    x = np.full(n, rng.uniform(0.25, 0.75) * width)
    for _ in range(3):
        cycles = rng.uniform(0.3, 2.5)
        x += rng.uniform(0.03, 0.14) * width * np.sin(2 * np.pi * cycles * ys / size + rng.uniform(0, 6.3))
    for _ in range(rng.poisson(4 * span / size) if length is not None else rng.poisson(4)):
        pos, sharp = rng.uniform(0, span), rng.uniform(0.5, 5.0)
        x += rng.normal(0, 0.12) * width / (1 + np.exp(-np.clip((ys - pos) / sharp, -30, 30)))
    kernel = np.ones(int(rng.integers(3, 10)))
    noise = np.convolve(rng.standard_t(5, n), kernel / kernel.sum(), mode="same")
    x += noise * rng.uniform(0.02, 0.06) * width * np.sqrt(kernel.size / 3.0)
    spikes = rng.random(n) < 0.004
    x[spikes] += rng.normal(0, 0.15, spikes.sum()) * width
    x = x0 + np.clip(x, 1.0, width - 2.0)
    pts = np.stack([x, ys], axis=1)
    if rng.random() < 0.25:  # log starts or stops part way down the sheet
        a, b = sorted(rng.integers(0, n, 2))
        if b - a > n // 3:
            pts = pts[a:b]
    if length is not None:  # one section of the well's trace
        inside = (pts[:, 1] >= offset - 1) & (pts[:, 1] <= offset + size)
        pts = pts[inside] - np.array([0.0, offset])
        if len(pts) < 2:  # the log has stopped above this section: a stub at the top edge
            pts = np.array([[x0 + width / 2, 0.0], [x0 + width / 2, 1.0]])
    return pts


def _draw_polyline(draw: ImageDraw.ImageDraw, pts: np.ndarray, width: int, style: str,
                   rng: np.random.Generator, scale: float, srng: np.random.Generator | None = None) -> None:
    """Rasterise a polyline solid, dashed or dotted (dash phase by arc length).

    The dash period comes from `srng` (the template's generator; default `rng`), the phase from `rng`.
    """
    srng = rng if srng is None else srng
    if style == "solid":
        draw.line([tuple(p) for p in pts], fill=255, width=width)
        return
    seg = np.hypot(*np.diff(pts, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if style == "dashed":
        period = srng.uniform(7, 13) * scale + width
        on_len = period * srng.uniform(0.5, 0.7)
    else:  # dotted
        period = srng.uniform(3.0, 4.5) * max(scale, 0.75) + width
        on_len = max(1.5, width * 0.9)
    on = ((arc + rng.uniform(0, period)) % period) < on_len
    # split into runs of consecutive "on" samples; draw each run as its own short polyline
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.view(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        run = pts[start:max(stop, start + 2)]
        draw.line([tuple(p) for p in run], fill=255, width=width)


def _paper(rng: np.random.Generator, size: int, srng: np.random.Generator) -> np.ndarray:
    """Off-white, uneven, yellowed paper, float32 [H,W,3] in [0,1] (its colour from `srng`)."""
    base = np.array([srng.uniform(0.93, 0.99), srng.uniform(0.90, 0.96), srng.uniform(0.80, 0.92)], np.float32)
    uneven = 1.0 + 0.07 * (_smooth_field(rng, size, size, 5) - 0.5)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    ang = rng.uniform(0, 2 * np.pi)
    ramp = np.clip(np.cos(ang) * xx + np.sin(ang) * yy, 0, None) * rng.uniform(0.0, 0.08)
    img = base * uneven[..., None]
    img -= ramp[..., None] * np.array([0.3, 0.5, 1.0], np.float32)  # yellowing: blue fades first
    img += rng.normal(0, 0.008, (size, size, 1)).astype(np.float32)
    return img


def _grid(rng: np.random.Generator, img: np.ndarray, tx0: int, tx1: int, srng: np.random.Generator) -> int:
    """Printed grid in the main track; returns the major horizontal spacing in px.

    Colour, strength, spacing and scale (linear or log) from `srng`; the phase from `rng`."""
    size = img.shape[0]
    colour = _GRID_COLOURS[srng.integers(len(_GRID_COLOURS))]
    a_minor, a_major = srng.uniform(0.12, 0.35), srng.uniform(0.35, 0.65)
    alpha = np.zeros((size, size), np.float32)
    step = max(3, int(round(size * srng.uniform(0.022, 0.04))))
    phase = int(rng.integers(step * 5))
    rows = np.arange(phase % step, size, step)
    alpha[rows, tx0:tx1] = a_minor
    alpha[rows[(rows - phase) % (5 * step) == 0], tx0:tx1] = a_major
    if srng.random() < 0.5:  # log-scale-like: 1..10 per decade, 2 or 3 decades
        decades = int(srng.integers(2, 4))
        frac = (np.arange(decades)[:, None] + np.log10(np.arange(1, 10))[None, :]).ravel() / decades
        major = np.isclose(frac * decades % 1.0, 0.0)
    else:
        frac = np.arange(10) / 10.0
        major = np.zeros(10, bool)
        major[::5] = True
    cols = (tx0 + frac * (tx1 - tx0)).astype(int)
    alpha[:, cols] = np.maximum(alpha[:, cols], a_minor)
    alpha[:, cols[major]] = a_major
    _over(img, alpha, colour)
    return step * 5


def _furniture(rng: np.random.Generator, img: np.ndarray, tx0: int, tx1: int, major: int,
               colour_chart: bool, scale: float, srng: np.random.Generator) -> None:
    """Background ink: track borders, ticks, depth labels, formation tops, ruler lines."""
    size = img.shape[0]
    layer, draw = _layer(size)
    bw = int(srng.integers(1, 3))
    for x in (tx0, tx1):
        draw.line([(x, 0), (x, size)], fill=255, width=bw)
    if srng.random() < 0.4:  # a track split: a dark vertical line the curves cross
        xm = int((tx0 + tx1) / 2 + srng.integers(-5, 6))
        draw.line([(xm, 0), (xm, size)], fill=255, width=1)
    tick = max(2, int(5 * scale))
    depth0 = int(rng.integers(10, 400)) * 10
    for i, y in enumerate(range(int(rng.integers(major)), size, major)):
        draw.line([(tx0 - tick, y), (tx0 + tick, y)], fill=255, width=1)
        draw.line([(tx1 - tick, y), (tx1 + tick, y)], fill=255, width=1)
        if i % 2 == 0 and tx0 > 14:
            draw.text((1, y - 5), str(depth0 + 10 * i), fill=255, font=_FONT)
    _over(img, _alpha(layer) * srng.uniform(0.6, 0.95), _INK)
    if rng.random() < 0.5:  # formation tops: horizontal pen lines across the track
        layer, draw = _layer(size)
        for _ in range(int(rng.integers(1, 4))):
            top = float(rng.uniform(0, size))
            draw.line([(tx0, top), (tx1, top)], fill=255, width=int(rng.integers(1, 3)))
        pen = (_RED if rng.random() < 0.5 else _BLUE) if colour_chart and rng.random() < 0.5 else _INK
        _over(img, _alpha(layer) * rng.uniform(0.5, 0.9), pen)
    if rng.random() < 0.35:  # a ruler / pencil line at an angle
        layer, draw = _layer(size)
        p = rng.uniform(0, size, 4)
        draw.line([(p[0], p[1]), (p[2], p[3])], fill=255, width=1)
        _over(img, _alpha(layer) * rng.uniform(0.4, 0.8), _INK)


def _stains(rng: np.random.Generator, img: np.ndarray) -> None:
    """Soft brown blobs and coffee rings, applied multiplicatively (they tint the ink too)."""
    size = img.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for _ in range(int(rng.integers(0, 4))):
        cx, cy = rng.uniform(0, size, 2)
        rx, ry = rng.uniform(0.05, 0.3, 2) * size
        d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
        blob = np.exp(-(d**2)) if rng.random() < 0.6 else np.exp(-(((d - 1.0) / 0.08) ** 2))
        a = blob * rng.uniform(0.08, 0.35)
        tint = np.array([0.25, 0.45, 0.75], np.float32) * rng.uniform(0.6, 1.0)
        img *= 1.0 - a[..., None] * tint


@dataclass(frozen=True)
class Template:
    """A chart style that many charts share (a printing template of an archive).

    `seed` seeds the style generator: every chart of the template draws the same paper colour,
    track edges, grid (colour, spacing, linear or log scale), border, colour or monochrome, ink
    colours, dash styles and periods, line widths, ink opacity and the scan settings (blur, noise
    level, JPEG quality). What stays per chart: the curves, depth labels, formation tops, stains,
    rotation and the noise itself. `hard` marks a rare hard style: "crossing" (both curves in the
    middle of the track, crossing often) or "faded" (weak, unevenly faded ink on a faded scan).
    """

    seed: tuple[int, ...]
    hard: str | None = None


@dataclass(frozen=True)
class Section:
    """One of `count` adjacent depth sections of one well, `shift` px apart: the curves are
    windows of one long trace drawn from `well_seed` (near-duplicates for small shifts)."""

    well_seed: tuple[int, ...]
    index: int
    count: int
    shift: int


HARD_STYLES = ("crossing", "faded")


def generate_chart(rng: np.random.Generator, size: int = 256, *, template: Template | None = None,
                   section: Section | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One chart. Returns (image uint8 [size,size,3], mask uint8 [size,size] in {0,1,2}).

    The mask is exactly the rasterised ink of each curve; where curves cross, the later-drawn
    curve wins both in the image and in the mask. Without `template` and `section` every value
    is drawn from `rng` (independent charts, the original generator, draw for draw); a template
    draws the style values from its own generator, a section the curves from its well's.
    """
    scale = size / 256.0
    srng = rng if template is None else np.random.default_rng(list(template.seed))
    crng = rng if section is None else np.random.default_rng(list(section.well_seed))
    hard = None if template is None else template.hard
    img = _paper(crng, size, srng)  # sections of one well are cut from one sheet of paper
    tx0 = int(size * srng.uniform(0.1, 0.18))
    tx1 = int(size * srng.uniform(0.9, 0.98))
    major = _grid(rng, img, tx0, tx1, srng)
    colour_chart = srng.random() < 0.5
    _furniture(rng, img, tx0, tx1, major, colour_chart, scale, srng)

    def trace(x0: float, x1: float) -> np.ndarray:
        if section is None:
            return _curve_points(crng, size, x0, x1)
        length = size + section.shift * (section.count - 1)
        return _curve_points(crng, size, x0, x1, length=length, offset=section.index * section.shift)

    if colour_chart and srng.random() < 0.35:  # a third, background curve (green or black)
        layer, draw = _layer(size)
        _draw_polyline(draw, trace(tx0, tx1), int(srng.integers(1, 3)), "solid", rng, scale, srng)
        distractor = np.array([0.2, 0.55, 0.25], np.float32) if srng.random() < 0.6 else _INK
        _over(img, _alpha(layer) * srng.uniform(0.5, 0.9), distractor)

    inks: list[np.ndarray]
    if colour_chart:
        inks = [_RED + srng.normal(0, 0.05, 3), _BLUE + srng.normal(0, 0.05, 3)]
        styles = ["solid", "dashed" if srng.random() < 0.3 else "solid"]
    else:
        ink = _INK + srng.uniform(0, 0.15)
        inks = [ink, ink]
        styles = ["solid", "dashed" if srng.random() < 0.7 else "dotted"]

    cx0, cx1 = float(tx0), float(tx1)
    if hard == "crossing":  # both curves share the middle of the track: they cross all the way down
        cx0, cx1 = tx0 + 0.3 * (tx1 - tx0), tx0 + 0.7 * (tx1 - tx0)
    mask = np.zeros((size, size), np.uint8)
    for cls in crng.permutation([1, 2]):  # random draw order: the later curve wins crossings
        layer, draw = _layer(size)
        width = max(1, int(round(srng.choice([1, 2, 3], p=[0.5, 0.4, 0.1]) * scale)))
        _draw_polyline(draw, trace(cx0, cx1), width, styles[cls - 1], rng, scale, srng)
        ink_alpha = _alpha(layer)
        mask[ink_alpha > 0] = cls
        opacity: float | np.ndarray = srng.uniform(0.6, 1.0)
        faded = srng.random() < 0.35
        if hard == "faded":
            opacity, faded = srng.uniform(0.3, 0.5), True
        if faded:  # faded ink, unevenly along the trace
            opacity = opacity * (0.45 + 0.55 * _smooth_field(rng, size, size, 4))
        _over(img, ink_alpha * opacity, np.clip(inks[cls - 1], 0, 1).astype(np.float32))

    _stains(rng, img)
    img = 1.0 - (1.0 - img) * (srng.uniform(0.45, 0.6) if hard == "faded" else srng.uniform(0.7, 1.0))
    return _scan(rng, img, mask, srng)


def _scan(rng: np.random.Generator, img: np.ndarray, mask: np.ndarray,
          srng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rotation, blur, sensor noise and JPEG; the mask only follows the geometry. Blur, noise level
    and JPEG quality are the scanner's (`srng`); rotation and the noise itself are per sheet."""
    pil = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    if rng.random() < 0.5:
        angle = float(rng.uniform(-2.0, 2.0))
        fill = tuple(int(c) for c in np.asarray(pil)[:4, :4].reshape(-1, 3).mean(0))
        pil = pil.rotate(angle, Image.Resampling.BILINEAR, fillcolor=fill)
        mask = np.asarray(Image.fromarray(mask).rotate(angle, Image.Resampling.NEAREST, fillcolor=0))
    if srng.random() < 0.7:
        pil = pil.filter(ImageFilter.GaussianBlur(float(srng.uniform(0.3, 0.8))))
    arr = np.asarray(pil, dtype=np.float32)
    arr += rng.normal(0, srng.uniform(2, 8), arr.shape).astype(np.float32)
    pil = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if srng.random() < 0.8:
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=int(srng.integers(30, 80)))
        pil = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return np.asarray(pil, dtype=np.uint8).copy(), np.ascontiguousarray(mask, dtype=np.uint8)


def generate_dataset(n: int, seed: int, size: int = 256) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n` charts; chart i uses its own child generator seeded by (seed, i), so chart i is
    identical whatever `n` is (a pool and its held-out split can grow independently)."""
    return [generate_chart(np.random.default_rng([seed, i]), size) for i in range(n)]
