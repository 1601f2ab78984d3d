"""A segmenter's figures on a labeled split: the confusion matrix of its argmax summed over the images
(optionally after per-class decision biases), and the metrics read from it (app.learning.metrics)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from app.learning.decision import biased_argmax
from app.learning.inference import logits_for
from app.learning.metrics import confusion_matrix, segmentation_metrics
from app.learning.model import UNet

__all__ = ["split_confusion", "evaluate_split"]


def split_confusion(logits: Sequence[np.ndarray], masks: Sequence[np.ndarray], num_classes: int, *,
                    bias: np.ndarray | None = None) -> np.ndarray:
    """Logits [C,H,W] and masks [H,W] per image (sizes may differ; IGNORE_INDEX skipped) -> int64 [C,C],
    rows = target, cols = the argmax of logits (+ bias per class when given, as app.learning.decision)."""
    conf = np.zeros((num_classes, num_classes), np.int64)
    for lg, m in zip(logits, masks, strict=True):
        pred = lg.argmax(0) if bias is None else biased_argmax(lg, bias)
        conf += confusion_matrix(pred, m, num_classes)
    return conf


def evaluate_split(model: UNet, images: Sequence[np.ndarray], masks: Sequence[np.ndarray], num_classes: int, *,
                   device: str | torch.device = "cpu", batch_size: int = 8) -> dict[str, Any]:
    """segmentation_metrics (per-class IoU/F1/..., mean IoUs) of the model's plain argmax on a split."""
    return segmentation_metrics(split_confusion(logits_for(model, images, device=device, batch_size=batch_size),
                                                masks, num_classes))
