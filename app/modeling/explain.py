"""Why a task was picked, in words: the two or three reasons that carried its score.

The ranking keeps each pick's components (app/modeling/ranking.py); this module turns the ones that
dominated into lines a person can act on, each with the part of the image it is about (highlighted on
the labeling page on hover). Which class the model doubts is read from the version's stored suggestion
(class ids) and uncertainty map (normalised entropy), inside the task's region.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app import imaging, storage
from app.modeling import suggestions

Box = tuple[int, int, int, int]  # x, y, width, height in image pixels

MIN_CLASS_PIXELS = 8  # a class with fewer suggested pixels in the region is not named
MIN_MEAN_DOUBT = 0.15  # mean normalised entropy below which the model is not called unsure about a class
SECOND_CLASS_RATIO = 0.6  # a second class is named when its doubt is at least this share of the first's
MIN_SHARE = 0.2  # a part carrying less than this share of a hybrid pick is not a reason
UNCERTAINTY_KEYS = ("entropy_weighted", "margin_weighted", "bald_weighted", "uncertainty")


@dataclass(frozen=True)
class Reason:
    kind: str  # "unsure", "unlike", "rare" or "random"
    text: str
    box: Box | None = None  # what the reason is about, highlighted on the canvas


@dataclass(frozen=True)
class ClassDoubt:
    """Per class suggested inside the region: its mean doubt (0 sure .. 1 unsure), pixel count, and
    the block where its doubt is highest."""

    mean: dict[int, float]
    pixels: dict[int, int]
    box: dict[int, Box]


def class_doubt(mask: np.ndarray, unsure: np.ndarray, region: Box) -> ClassDoubt:
    """mask [H,W] class ids, unsure [H,W] uint8 0-255 (or floats 0-1), region (x, y, w, h)."""
    x, y, w, h = region
    m = np.asarray(mask)[y:y + h, x:x + w]
    u = np.asarray(unsure, np.float64)[y:y + h, x:x + w]
    if u.size and u.max() > 1.0:
        u = u / 255.0
    rh, rw = m.shape
    block = max(4, round(min(rw, rh) / 6)) if rw and rh else 4
    ny, nx = -(-rh // block), -(-rw // block)
    mean: dict[int, float] = {}
    pixels: dict[int, int] = {}
    boxes: dict[int, Box] = {}
    for c in (int(v) for v in np.unique(m)):
        sel = m == c
        n = int(sel.sum())
        if n < MIN_CLASS_PIXELS:
            continue
        mean[c], pixels[c] = float(u[sel].mean()), n
        doubt = np.zeros((ny * block, nx * block))
        doubt[:rh, :rw] = np.where(sel, u, 0.0)
        sums = doubt.reshape(ny, block, nx, block).sum(axis=(1, 3))
        by, bx = np.unravel_index(int(np.argmax(sums)), sums.shape)
        x0, y0 = x + int(bx) * block, y + int(by) * block
        boxes[c] = (x0, y0, min(block, x + rw - x0), min(block, y + rh - y0))
    return ClassDoubt(mean=mean, pixels=pixels, box=boxes)


def load_class_doubt(*, project_id: int, model_version_id: int, item_id: int, region: Box) -> ClassDoubt | None:
    """class_doubt from the stored suggestion of a version, or None when it has none for the item."""
    try:
        mask = imaging.decode_png_array(storage.read(
            suggestions.suggestion_path(project_id, model_version_id, item_id, "mask")))
        unsure = imaging.decode_png_array(storage.read(
            suggestions.suggestion_path(project_id, model_version_id, item_id, "uncertainty")))
    except (OSError, ValueError):
        return None
    if mask.shape != unsure.shape or mask.ndim != 2:
        return None
    return class_doubt(mask, unsure, region)


def _name(names: Sequence[str], c: int) -> str:
    return names[c] if 0 <= c < len(names) else f"class {c}"


def _unsure_reasons(doubt: ClassDoubt | None, names: Sequence[str], region: Box) -> list[Reason]:
    ranked = sorted(((v, c) for c, v in doubt.mean.items() if v >= MIN_MEAN_DOUBT), reverse=True) if doubt else []
    if not ranked:
        return [Reason("unsure", "The model is unsure about this area, so this label teaches it most.", region)]
    top = ranked[0][0]
    out = []
    for v, c in ranked[:2]:
        if v < SECOND_CLASS_RATIO * top:
            break
        assert doubt is not None
        text = (f"The model is unsure where the {_name(names, c)} ends and the other classes begin." if c == 0
                else f"The model is unsure about {_name(names, c)} here.")
        out.append(Reason("unsure", text, doubt.box[c]))
    return out


def _rare_reason(doubt: ClassDoubt | None, names: Sequence[str], region: Box,
                 class_weights: Sequence[float] | None) -> Reason:
    present = [c for c in (doubt.pixels if doubt else {}) if c > 0]
    if class_weights and present:
        c = max(present, key=lambda k: class_weights[k] if k < len(class_weights) else 0.0)
        return Reason("rare", f"It likely shows {_name(names, c)}, which few labels cover so far.",
                      doubt.box[c] if doubt else region)
    return Reason("rare", "It likely shows a class that few labels cover so far.", region)


def reasons(*, strategy: str, components: dict[str, Any], names: Sequence[str], region: Box,
            doubt: ClassDoubt | None = None, class_weights: Sequence[float] | None = None,
            hybrid_weights: dict[str, float] | None = None) -> list[Reason]:
    """The reasons that carried a pick, most weighty first (one to three)."""
    if strategy == "random" or components.get("steered_random") or components.get("random"):
        return [Reason("random", "Picked at random to keep the queue honest: the model did not choose it.", region)]
    unlike = Reason("unlike", "Few labeled images look like this one.", region)
    if strategy == "coreset":
        return [unlike]
    if strategy != "hybrid":
        return _unsure_reasons(doubt, names, region)
    from app.learning.acquisition import DEFAULT_HYBRID_WEIGHTS

    # The weights the ranking used are kept with the pick (app.modeling.ranking); older picks used the defaults.
    used = {k: float(components[f"weight_{k}"]) for k in DEFAULT_HYBRID_WEIGHTS if f"weight_{k}" in components}
    weights = {**DEFAULT_HYBRID_WEIGHTS, **used, **(hybrid_weights or {})}
    parts = {
        "unsure": weights["uncertainty"] * float(components.get("uncertainty") or 0.0),
        "unlike": weights["diversity"] * float(components.get("diversity") or 0.0),
        "rare": weights["class_boost"] * float(components.get("class_boost_norm") or 0.0),
    }
    total = sum(max(v, 0.0) for v in parts.values())
    if total <= 0:
        return _unsure_reasons(doubt, names, region)
    out: list[Reason] = []
    for kind, v in sorted(parts.items(), key=lambda kv: -kv[1]):
        if out and v < MIN_SHARE * total:
            break
        if kind == "unsure":
            out += _unsure_reasons(doubt, names, region)
        elif kind == "unlike":
            out.append(unlike)
        else:
            out.append(_rare_reason(doubt, names, region, class_weights))
    return out[:3]
