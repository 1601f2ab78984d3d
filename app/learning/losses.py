"""Partial-label segmentation loss: class-weighted cross-entropy + soft Dice.

Pixels whose target is IGNORE_INDEX (255) are unlabeled: they contribute nothing to the loss
value, to its gradient, or to the class weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from app.learning.constants import IGNORE_INDEX

__all__ = ["class_weights", "segmentation_loss"]


def class_weights(masks: Sequence[np.ndarray], num_classes: int, *, max_ratio: float = 10.0) -> np.ndarray:
    """Square-root inverse frequency over LABELED pixels only -> float32 [C].

    Scaled so the most frequent class has weight 1 and clipped at `max_ratio`; a class with no
    labeled pixel gets `max_ratio` (it is rare by definition, and clipping keeps it finite).
    sqrt rather than plain inverse frequency: curves are ~1-2% of pixels, and a 50x weight made
    predictions bleed into the paper around every curve.
    """
    counts = np.zeros(num_classes, np.int64)
    for m in masks:
        labeled = m[m != IGNORE_INDEX]
        counts += np.bincount(labeled.ravel(), minlength=num_classes)[:num_classes]
    if counts.sum() == 0:
        return np.ones(num_classes, np.float32)
    freq = counts / counts.sum()
    w = np.where(freq > 0, 1.0 / np.sqrt(np.maximum(freq, 1e-12)), np.inf)
    w = w / w[np.isfinite(w)].min()
    return np.clip(w, 1.0, max_ratio).astype(np.float32)


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None,
                      *, dice_weight: float = 1.0, smooth: float = 1.0) -> torch.Tensor:
    """logits [N,C,H,W] float, target [N,H,W] int64 with 255 = unlabeled -> scalar.

    CE is averaged over labeled pixels (weighted mean, as torch's weighted CE). Dice is computed
    over the whole batch for each foreground class (1..C-1) that has labeled pixels in the
    batch: an absent class would otherwise be pushed to zero probability everywhere.
    A batch with no labeled pixel returns a zero that is still attached to the graph.
    """
    valid = target != IGNORE_INDEX
    if not bool(valid.any()):
        return logits.sum() * 0.0
    safe_target = torch.where(valid, target, torch.zeros_like(target))
    ce_sum = F.cross_entropy(logits, target, weight=weights, ignore_index=IGNORE_INDEX, reduction="sum")
    pixel_w = weights[safe_target][valid] if weights is not None else valid[valid].float()
    loss = ce_sum / pixel_w.sum().clamp_min(1e-6)
    if dice_weight <= 0 or logits.shape[1] < 2:
        return loss
    probs = torch.softmax(logits, dim=1)
    validf = valid.unsqueeze(1).float()
    onehot = F.one_hot(safe_target, logits.shape[1]).permute(0, 3, 1, 2).float() * validf
    probs = probs * validf  # zero gradient into unlabeled pixels
    inter = (probs * onehot).sum(dim=(0, 2, 3))[1:]
    denom = (probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3)))[1:]
    present = onehot.sum(dim=(0, 2, 3))[1:] > 0
    if bool(present.any()):
        dice = (2 * inter + smooth) / (denom + smooth)
        loss = loss + dice_weight * (1.0 - dice[present]).mean()
    return loss
