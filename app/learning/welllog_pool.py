"""Pools of well-log charts like real archives: few templates, a long tail, near-duplicate sections.

Real scanned-log archives are redundant: a few printing templates (paper, grid, ink colours, dash
styles, scale) cover most charts, adjacent depth sections of one well look alike, and rare styles
form a long tail. The knobs (`Redundancy`):

    styles        number of templates (None: every chart its own style, the independent generator)
    zipf          template frequency ~ 1 / rank**zipf (0 = uniform)
    sections      adjacent depth sections per well (1 = wells are independent)
    section_shift depth between adjacent sections as a share of the chart height (small = near-duplicates)
    hard_share    share of the templates, the rarest ones, that are hard styles (crossing curves, faded ink)

`REDUNDANCY` maps the presets none|moderate|high to knob values; "none" is `generate_dataset`
exactly (same seed -> identical arrays). Templates come from `archive_seed`, charts from `seed`: a pool
and its test split drawn with different `seed`s and one `archive_seed` share the archive's templates.

Measured redundancy: `near_duplicate_rate` (share of charts whose nearest other chart, downsampled,
is within a small distance) and `style_entropy` (bits of the template-id distribution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.learning.welllog import HARD_STYLES, Section, Template, generate_chart

__all__ = ["Redundancy", "REDUNDANCY", "ChartPool", "generate_pool", "near_duplicate_rate", "nearest_distances",
           "style_entropy"]


@dataclass(frozen=True)
class Redundancy:
    styles: int | None = None
    zipf: float = 0.0
    sections: int = 1
    section_shift: float = 0.25
    hard_share: float = 0.0

    def __post_init__(self) -> None:
        if self.styles is not None and self.styles < 1:
            raise ValueError("styles must be >= 1 (or None for independent charts)")
        if self.zipf < 0:
            raise ValueError("zipf must be >= 0")
        if self.sections < 1:
            raise ValueError("sections must be >= 1")
        if not 0.0 < self.section_shift <= 1.0:
            raise ValueError("section_shift must be in (0, 1]")
        if not 0.0 <= self.hard_share <= 1.0:
            raise ValueError("hard_share must be in [0, 1]")


REDUNDANCY: dict[str, Redundancy] = {
    "none": Redundancy(),
    "moderate": Redundancy(styles=40, zipf=1.0, sections=2, section_shift=0.35, hard_share=0.1),
    "high": Redundancy(styles=12, zipf=1.2, sections=4, section_shift=0.2, hard_share=0.15),
}


@dataclass
class ChartPool:
    """images uint8 [H,W,3], masks uint8 [H,W]; per chart: style id (template; -1 = own style), well
    id, hard style ("" = none)."""

    images: list[np.ndarray]
    masks: list[np.ndarray]
    style_ids: np.ndarray
    well_ids: np.ndarray
    hard: list[str]


def _knobs(redundancy: str | Redundancy) -> Redundancy:
    if isinstance(redundancy, Redundancy):
        return redundancy
    if redundancy not in REDUNDANCY:
        raise ValueError(f"unknown redundancy {redundancy!r}; choose one of {', '.join(REDUNDANCY)}")
    return REDUNDANCY[redundancy]


def style_frequencies(knobs: Redundancy) -> np.ndarray:
    """[styles] template probabilities, Zipf-like by rank (template 0 the most common)."""
    if knobs.styles is None:
        raise ValueError("independent charts have no templates")
    p = 1.0 / np.arange(1, knobs.styles + 1, dtype=np.float64) ** knobs.zipf
    return p / p.sum()


def hard_styles(knobs: Redundancy) -> dict[int, str]:
    """The rarest round(hard_share * styles) templates (at least one when hard_share > 0), alternating
    the hard kinds."""
    if knobs.styles is None or knobs.hard_share <= 0:
        return {}
    k = max(1, int(round(knobs.hard_share * knobs.styles)))
    rare = range(knobs.styles - 1, knobs.styles - 1 - k, -1)
    return {s: HARD_STYLES[j % len(HARD_STYLES)] for j, s in enumerate(rare)}


def generate_pool(n: int, seed: int, size: int = 128, redundancy: str | Redundancy = "none", *,
                  archive_seed: int = 0) -> ChartPool:
    """`n` charts. Chart i is well i // sections, section i % sections; each well draws its template
    by the Zipf frequencies. Chart i is identical whatever `n` is. With "none" (styles None, one
    section) chart i is generate_dataset(n, seed, size)[i]."""
    knobs = _knobs(redundancy)
    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    styles = np.full(n, -1, np.int64)
    wells = np.arange(n, dtype=np.int64) // knobs.sections
    hard = [""] * n
    probs = style_frequencies(knobs) if knobs.styles is not None else None
    kinds = hard_styles(knobs)
    shift = max(1, int(round(knobs.section_shift * size)))
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        template = section = None
        well = int(wells[i])
        if probs is not None:
            s = int(np.random.default_rng([seed, 2, well]).choice(len(probs), p=probs))
            styles[i] = s
            hard[i] = kinds.get(s, "")
            template = Template(seed=(archive_seed, 1, s), hard=kinds.get(s))
        if knobs.sections > 1:
            section = Section(well_seed=(seed, 3, well), index=i % knobs.sections, count=knobs.sections, shift=shift)
        image, mask = generate_chart(rng, size, template=template, section=section)
        images.append(image)
        masks.append(mask)
    return ChartPool(images, masks, styles, wells, hard)


def _thumbnails(images: list[np.ndarray], side: int) -> np.ndarray:
    """[N, side*side*3] float32 in [0, 1]: block means (the image cropped to a multiple of side)."""
    out = []
    for im in images:
        h, w = im.shape[:2]
        bh, bw = h // side, w // side
        crop = im[:bh * side, :bw * side].astype(np.float32) / 255.0
        out.append(crop.reshape(side, bh, side, bw, -1).mean(axis=(1, 3)).ravel())
    return np.stack(out)


def nearest_distances(images: list[np.ndarray], *, side: int = 16, chunk: int = 512) -> np.ndarray:
    """[N] RMS distance (per value, in [0, 1] units) from each chart's side x side colour thumbnail to
    its nearest other chart's."""
    x = _thumbnails(images, side).astype(np.float64)
    n, d = x.shape
    sq = (x**2).sum(1)
    best = np.full(n, np.inf)
    for s in range(0, n, chunk):
        d2 = sq[s:s + chunk, None] - 2 * x[s:s + chunk] @ x.T + sq[None, :]
        idx = np.arange(s, min(s + chunk, n))
        d2[idx - s, idx] = np.inf
        best[s:s + chunk] = d2.min(axis=1)
    return np.sqrt(np.clip(best, 0.0, None) / d)


def near_duplicate_rate(images: list[np.ndarray], *, threshold: float = 0.035, side: int = 16) -> float:
    """Share of charts with another chart within `threshold` RMS on side x side thumbnails."""
    if len(images) < 2:
        return 0.0
    return float((nearest_distances(images, side=side) < threshold).mean())


def style_entropy(style_ids: np.ndarray) -> float:
    """Entropy in bits of the style-id distribution; -1 (own style) counts each chart apart."""
    ids = np.asarray(style_ids)
    own = int((ids < 0).sum())
    _, counts = np.unique(ids[ids >= 0], return_counts=True)
    counts = np.concatenate([counts, np.ones(own, np.int64)])
    if counts.sum() == 0:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())
