"""Layer 1 of acquisition: per-pixel uncertainty maps, tiles, and per-region aggregation.

Maps take probabilities [..., C, H, W] (BALD: MC samples [T, ..., C, H, W]) and return [..., H, W];
higher = more informative everywhere. `region_score` (one region, entropy weighted by foreground
probability) is the first version's score, kept for its callers; app.learning.acquisition ranks by
`aggregate` with class weights.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["softmax_entropy", "normalized_entropy", "foreground_probability", "region_score", "margin",
           "least_confidence", "bald", "tile_grid", "class_weight_map", "aggregate"]

_EPS = 1e-12


def softmax_entropy(probs: np.ndarray) -> np.ndarray:
    """Natural-log entropy over the class axis: probs [..., C, H, W] -> [..., H, W] float32.

    Probabilities are clipped to [1e-12, 1] so 0 * log 0 counts as 0 instead of NaN.
    """
    p = np.clip(np.asarray(probs, dtype=np.float64), _EPS, 1.0)
    return (-(p * np.log(p)).sum(axis=-3)).astype(np.float32)


def normalized_entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy divided by log C, in [0, 1]: [..., C, H, W] -> [..., H, W]."""
    c = probs.shape[-3]
    if c < 2:
        return np.zeros(probs.shape[:-3] + probs.shape[-2:], np.float32)
    return np.clip(softmax_entropy(probs) / math.log(c), 0.0, 1.0).astype(np.float32)


def foreground_probability(probs: np.ndarray, background_index: int = 0) -> np.ndarray:
    """P(any foreground class) = 1 - P(background): [..., C, H, W] -> [..., H, W]."""
    return (1.0 - np.take(probs, background_index, axis=-3)).astype(np.float32)


def region_score(entropy_map: np.ndarray, region: tuple[int, int, int, int] | None = None,
                 fg_prob: np.ndarray | None = None, *, alpha: float = 4.0,
                 fg_threshold: float = 0.5) -> dict[str, float]:
    """Score one region of an entropy map [H,W]; region = (x, y, w, h) in pixels, None = whole map.

    Returns floats:
      entropy_mean           mean entropy over the region
      entropy_max            max entropy over the region
      entropy_fg_weighted    mean(H * (1 + alpha * p_fg)); equals entropy_mean without fg_prob
      predicted_fg_fraction  share of region pixels with p_fg > fg_threshold (0.0 without fg_prob)
      score                  = entropy_fg_weighted, what the queue ranks by

    Why the weighting: curves are ~2% of pixels, so a plain mean is dominated by the wide,
    mildly uncertain paper; weighting by p_fg (alpha=4 -> up to 5x) makes doubt on likely-curve
    pixels count more, where labels help the rare classes most. The region is clipped to the
    map; an empty region raises ValueError.
    """
    ent = np.asarray(entropy_map, dtype=np.float64)
    if ent.ndim != 2:
        raise ValueError(f"entropy_map must be [H,W], got {ent.shape}")
    if fg_prob is not None and np.shape(fg_prob) != ent.shape:
        raise ValueError("fg_prob must have the shape of entropy_map")
    if region is not None:
        x, y, w, h = (int(v) for v in region)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, ent.shape[1]), min(y + h, ent.shape[0])
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"region {region} is empty inside a {ent.shape} map")
        window = (slice(y0, y1), slice(x0, x1))
    else:
        window = (slice(None), slice(None))
    e = ent[window]
    if e.size == 0:
        raise ValueError("empty entropy map")
    if fg_prob is not None:
        p = np.asarray(fg_prob, dtype=np.float64)[window]
        weighted = float((e * (1.0 + alpha * p)).mean())
        fg_fraction = float((p > fg_threshold).mean())
    else:
        weighted = float(e.mean())
        fg_fraction = 0.0
    return {
        "entropy_mean": float(e.mean()),
        "entropy_max": float(e.max()),
        "entropy_fg_weighted": weighted,
        "predicted_fg_fraction": fg_fraction,
        "score": weighted,
    }


def margin(probs: np.ndarray) -> np.ndarray:
    """1 - (p_top1 - p_top2): [..., C, H, W] -> [..., H, W]; 1 = a tie, 0 = certain (higher = less sure)."""
    top2 = np.sort(np.asarray(probs, dtype=np.float64), axis=-3)[..., -2:, :, :]
    return (1.0 - (top2[..., 1, :, :] - top2[..., 0, :, :])).astype(np.float32)


def least_confidence(probs: np.ndarray) -> np.ndarray:
    """1 - max_c p_c: [..., C, H, W] -> [..., H, W]."""
    return (1.0 - np.asarray(probs, dtype=np.float64).max(axis=-3)).astype(np.float32)


def bald(samples: np.ndarray) -> np.ndarray:
    """Mutual information between prediction and weights from MC samples [T, ..., C, H, W] -> [..., H, W].

    BALD = H(mean_t p_t) - mean_t H(p_t) (nats): high where the samples disagree, 0 when they all agree.
    Tiny negative values from rounding are clipped to 0.
    """
    s = np.asarray(samples, dtype=np.float64)
    mi = softmax_entropy(s.mean(axis=0)).astype(np.float64) - softmax_entropy(s).astype(np.float64).mean(axis=0)
    return np.clip(mi, 0.0, None).astype(np.float32)


def tile_grid(height: int, width: int, tile: int) -> list[tuple[int, int, int, int]]:
    """Square tiles (x, y, w, h) covering the image row by row; edge tiles are cut to the image."""
    if tile < 1:
        raise ValueError("tile must be >= 1")
    return [(x, y, min(tile, width - x), min(tile, height - y))
            for y in range(0, height, tile) for x in range(0, width, tile)]


def class_weight_map(probs: np.ndarray, class_weights: np.ndarray) -> np.ndarray:
    """Expected class weight per pixel, sum_c p_c w_c: probs [C,H,W], weights [C] -> [H,W].

    Rare classes get large weights (from label frequencies), so doubt on likely-rare pixels counts more.
    """
    w = np.asarray(class_weights, dtype=np.float64)
    return np.tensordot(w, np.asarray(probs, dtype=np.float64), axes=(0, 0)).astype(np.float32)


def aggregate(maps: dict[str, np.ndarray], regions: list[tuple[int, int, int, int]], *,
              class_weight_map: np.ndarray | None = None) -> list[dict[str, float]]:
    """Per region (x, y, w, h): the mean of every map [H,W], and `<name>_weighted`, its mean weighted by
    class_weight_map [H,W] (sum(m * w) / sum(w)); without a weight map the weighted mean is the plain mean.

    Regions are clipped to the map; one with no pixels inside raises ValueError. Maps are converted
    (and multiplied by the weights) once, not once per region: images carry dozens of tiles.
    """
    if not maps:
        return [{} for _ in regions]
    arrays = {name: np.asarray(v, np.float64) for name, v in maps.items()}
    shape = next(iter(arrays.values())).shape
    weights = None if class_weight_map is None else np.asarray(class_weight_map, np.float64)
    products = None if weights is None else {name: a * weights for name, a in arrays.items()}
    out = []
    for x, y, w, h in regions:
        x0, y0 = max(int(x), 0), max(int(y), 0)
        x1, y1 = min(int(x) + int(w), shape[1]), min(int(y) + int(h), shape[0])
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"region {(x, y, w, h)} is empty inside a {shape} map")
        window = np.s_[y0:y1, x0:x1]
        w_sum = max(float(weights[window].sum()), 1e-12) if weights is not None else 0.0
        row: dict[str, float] = {}
        for name, a in arrays.items():
            row[name] = float(a[window].mean())
            row[f"{name}_weighted"] = float(products[name][window].sum()) / w_sum if products is not None \
                else row[name]
        out.append(row)
    return out
