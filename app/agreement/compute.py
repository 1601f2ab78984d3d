"""Per-class agreement of two masks, and a task's agreement in one number. Pure numpy.

A pixel is of class c in a copy when the copy's mask holds c there; unlabeled pixels (255) belong to no
class. IoU_c = |A_c & B_c| / |A_c | B_c|, Dice_c = 2 |A_c & B_c| / (|A_c| + |B_c|); both are None when
neither copy has the class: absence in both is no evidence, and counting it as 1.0 would flatter rare
classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IGNORE = 255


@dataclass(frozen=True)
class ClassAgreement:
    class_index: int
    pixels_a: int
    pixels_b: int
    intersection: int
    iou: float | None
    dice: float | None


def class_agreement(a: np.ndarray, b: np.ndarray, n_classes: int) -> list[ClassAgreement]:
    """Two masks [H, W] of class ids -> one ClassAgreement per class 0..n_classes-1."""
    if a.shape != b.shape:
        raise ValueError(f"masks differ in shape: {a.shape} vs {b.shape}")
    out = []
    for c in range(n_classes):
        in_a, in_b = a == c, b == c
        pa, pb = int(in_a.sum()), int(in_b.sum())
        inter = int((in_a & in_b).sum())
        union = pa + pb - inter
        out.append(ClassAgreement(c, pa, pb, inter, inter / union if union else None,
                                  2 * inter / (pa + pb) if pa + pb else None))
    return out


@dataclass(frozen=True)
class TaskScore:
    mean_iou: float
    mean_dice: float
    worst_class_index: int | None
    worst_iou: float | None


def task_score(rows: Sequence[ClassAgreement]) -> TaskScore:
    """Mean IoU and Dice over all pairs' present classes; the class with the lowest mean IoU. A task
    whose copies label nothing in common at all scores 0."""
    present = [r for r in rows if r.iou is not None]
    if not present:
        return TaskScore(0.0, 0.0, None, None)
    by_class: dict[int, list[float]] = {}
    for r in present:
        by_class.setdefault(r.class_index, []).append(float(r.iou))  # type: ignore[arg-type]
    worst = min(by_class, key=lambda c: (float(np.mean(by_class[c])), c))
    return TaskScore(float(np.mean([r.iou for r in present])), float(np.mean([r.dice for r in present])),
                     worst, float(np.mean(by_class[worst])))


def difference_map(masks: Sequence[np.ndarray]) -> np.ndarray:
    """[H, W] bool: pixels where the copies do not all say the same (unlabeled counts as a different
    answer only where some copy labeled the pixel)."""
    stack = np.stack(masks)
    return (stack != stack[0]).any(axis=0)
