"""Segmentation metrics from a confusion matrix (IoU first; never pixel accuracy alone)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.learning.constants import IGNORE_INDEX

__all__ = ["confusion_matrix", "segmentation_metrics", "mean_or_none"]


def confusion_matrix(pred: np.ndarray, target: np.ndarray, num_classes: int,
                     ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """pred, target int [H,W] or [N,H,W] (same shape) -> int64 [C,C], rows = target, cols = pred.

    Pixels whose target is `ignore_index` are skipped. Values outside [0, C) raise ValueError
    (a silent bincount overflow would corrupt neighbouring cells).
    """
    pred = np.asarray(pred)
    target = np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} differ")
    keep = target != ignore_index
    t = target[keep].astype(np.int64)
    p = pred[keep].astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= num_classes or p.min() < 0 or p.max() >= num_classes):
        raise ValueError("class index out of range")
    return np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes)


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def mean_or_none(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none (undefined, not NaN)."""
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def segmentation_metrics(conf: np.ndarray) -> dict[str, Any]:
    """Per-class IoU / F1 / precision / recall / support and mean IoUs, JSON-serialisable.

    {"per_class": {"0": {...}, "1": {...}, ...},   keys are str(class index) so JSON round-trips
     "miou_fg": mean IoU over classes 1..C-1,      class 0 is background
     "miou": mean IoU over all classes,
     "pixel_accuracy": extra only, misleading with ~2% foreground}

    Undefined ratios are None, not NaN: a class with no support and no predictions has
    iou = f1 = None and is left out of the means; precision is None with no predictions,
    recall None with no support. A mean over no defined class is None.
    """
    conf = np.asarray(conf, dtype=np.int64)
    tp = np.diag(conf).astype(float)
    support = conf.sum(axis=1).astype(float)  # target counts
    predicted = conf.sum(axis=0).astype(float)
    fp, fn = predicted - tp, support - tp
    per_class: dict[str, dict[str, Any]] = {}
    ious: list[float | None] = []
    for c in range(conf.shape[0]):
        iou = _ratio(tp[c], tp[c] + fp[c] + fn[c])
        ious.append(iou)
        per_class[str(c)] = {
            "iou": iou,
            "f1": _ratio(2 * tp[c], 2 * tp[c] + fp[c] + fn[c]),
            "precision": _ratio(tp[c], predicted[c]),
            "recall": _ratio(tp[c], support[c]),
            "support": int(support[c]),
        }
    total = conf.sum()
    return {
        "per_class": per_class,
        "miou_fg": mean_or_none(ious[1:]),
        "miou": mean_or_none(ious),
        "pixel_accuracy": _ratio(tp.sum(), float(total)),
    }
