"""Pseudo-labels for the unlabeled pool (semi-supervision): pixels whose calibrated confidence is above a
bar read off the reliability bins of the labeled validation split; every other pixel stays unlabeled.

The simulator's `--pseudo-labels` lever uses them (app/simulation/levers.py). Measured (bench/README.md):
at bar 0.98 the kept pixels were 98-99.6% right and almost all paper, and they lowered the curves;
`cap_background` keeps background pseudo-pixels to a share of the foreground ones (`--pseudo-background`).
That did not help either: the bar is read off bins that paper dominates, so the foreground pixels above it
were only 55-88% right. Neither is used by the product's training.

`bars_per_predicted_class` / `pseudo_labels_per_class` (`--pseudo-per-class`) read one bar per class off the
bins of the validation pixels *predicted* as that class, so a curve pixel joins only where the model's curve
predictions hold the accuracy, whatever the paper does. Measured (bench/README.md, run H: 48 px charts, 2-52
labeled): no curve class ever got a bar at accuracy 0.98 or 0.90, so only paper joined (97-99.6% right) and the
curves fell as with one bar; a curve pixel the global bar let in is one the bins cannot vouch for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.learning.calibration import flatten_pixels, reliability_bins
from app.learning.constants import IGNORE_INDEX

__all__ = ["bar_from_reliability", "pseudo_labels", "cap_background", "bars_per_predicted_class",
           "pseudo_labels_per_class"]


def bar_from_reliability(bins: Sequence[dict[str, Any]], target_accuracy: float, *, min_count: int = 1) -> float | None:
    """The lowest bin edge `lo` from which every non-empty bin (count >= min_count) up to the top has a
    measured accuracy >= target_accuracy -> that `lo`; None when even the top bin falls short.

    bins: app.learning.calibration.reliability_bins(...)["overall"] (equal width, ascending).
    """
    bar = None
    for b in sorted(bins, key=lambda b: b["lo"], reverse=True):
        if b["count"] < min_count:
            continue
        if b["accuracy"] < target_accuracy:
            break
        bar = float(b["lo"])
    return bar


def pseudo_labels(probs: np.ndarray, bar: float) -> np.ndarray:
    """probs [C,H,W] (calibrated) -> uint8 [H,W]: the argmax where max_c p_c > bar, IGNORE_INDEX elsewhere.

    Strictly above: a pixel exactly at the bar is not trusted (the bin's lower edge is exclusive)."""
    conf = probs.max(0)
    return np.where(conf > bar, probs.argmax(0), IGNORE_INDEX).astype(np.uint8)


def bars_per_predicted_class(probs: Any, labels: Any, target_accuracy: float, *, n_bins: int = 15,
                             min_count: int = 1) -> list[float | None]:
    """One bar per class -> [bar_0, ..., bar_{C-1}], None for a class no bin of which holds the accuracy.

    probs/labels: as app.learning.calibration.reliability_bins takes them (calibrated validation pixels).
    Class c's bar is bar_from_reliability over the top-label confidence bins of the pixels whose argmax is
    c (correct = label c), so paper pixels, which dominate the overall bins, cannot vouch for curve ones.
    """
    p, y = flatten_pixels(probs, labels)
    pred = p.argmax(axis=1)
    bars: list[float | None] = []
    for c in range(p.shape[1]):
        sel = pred == c
        if not sel.any():
            bars.append(None)
            continue
        bins = reliability_bins(p[sel], y[sel], n_bins=n_bins, per_class=False)["overall"]
        bars.append(bar_from_reliability(bins, target_accuracy, min_count=min_count))
    return bars


def pseudo_labels_per_class(probs: np.ndarray, bars: Sequence[float | None]) -> np.ndarray:
    """probs [C,H,W] (calibrated) -> uint8 [H,W]: the argmax c where max_c p_c > bars[c], IGNORE_INDEX
    elsewhere; a class whose bar is None keeps no pixel. Strictly above, as pseudo_labels."""
    if len(bars) != probs.shape[0]:
        raise ValueError(f"{len(bars)} bars for {probs.shape[0]} classes")
    pred = probs.argmax(0)
    limit = np.array([np.inf if b is None else b for b in bars], dtype=np.float64)[pred]
    return np.where(probs.max(0) > limit, pred, IGNORE_INDEX).astype(np.uint8)


def cap_background(mask: np.ndarray, share: float, rng: np.random.Generator, *, background: int = 0) -> np.ndarray:
    """A pseudo-label mask with at most `share` x (its foreground pixels) background pixels kept -> new mask.

    The kept background pixels are drawn at random among the confident ones; the rest become
    IGNORE_INDEX. share 0 keeps the foreground only; a mask without confident foreground keeps nothing.
    Only ever removes pixels, so no pixel below the bar can appear (pseudo_labels' contract holds).
    """
    if share < 0:
        raise ValueError("share must be >= 0")
    out = mask.copy()
    bg = np.flatnonzero(out.ravel() == background)
    n_fg = int(((out != background) & (out != IGNORE_INDEX)).sum())
    keep = min(len(bg), int(share * n_fg))
    if keep < len(bg):
        drop = rng.choice(bg, size=len(bg) - keep, replace=False)
        out.ravel()[drop] = IGNORE_INDEX
    return out
