"""Pseudo-labels for the unlabeled pool (semi-supervision): pixels whose calibrated confidence is above a
bar read off the reliability bins of the labeled validation split; every other pixel stays unlabeled.

Not used by training yet: measured with and without is still to do (bench/README.md says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.learning.constants import IGNORE_INDEX

__all__ = ["bar_from_reliability", "pseudo_labels"]


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
