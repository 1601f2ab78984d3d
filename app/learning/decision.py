"""Per-class decision biases for the argmax, tuned for foreground mIoU on a labeled split.

A model trained on model-chosen regions sees a class mix unlike the images it is asked about (curve-rich
tiles teach it that curves are common, and it paints them onto paper); class weights and the Dice term
shift its argmax too. Temperature scaling cannot help: it keeps the argmax. Adding a bias per class to the
logits before the argmax can, and the labeled validation split, drawn at random and never acquired by a
strategy, says how much: coordinate ascent on a grid, background fixed at 0, a move kept only when it
improves foreground mIoU by more than `min_gain` (so noise does not pull biases off zero).
"""

from __future__ import annotations

import numpy as np

from app.learning.metrics import confusion_matrix, segmentation_metrics

__all__ = ["fit_decision_bias", "biased_argmax", "BIAS_GRID"]

BIAS_GRID = np.round(np.arange(-3.0, 3.0001, 0.25), 2)


def biased_argmax(logits: np.ndarray, bias: np.ndarray, axis: int = 0) -> np.ndarray:
    """argmax over classes of logits + bias; logits [C,H,W] (axis 0) or [P,C] (axis 1)."""
    shape = [1] * logits.ndim
    shape[axis] = -1
    return (logits + np.asarray(bias, logits.dtype).reshape(shape)).argmax(axis)


def _miou_fg(pixels: np.ndarray, labels: np.ndarray, bias: np.ndarray) -> float:
    c = pixels.shape[1]
    m = segmentation_metrics(confusion_matrix(biased_argmax(pixels, bias, axis=1), labels, c))["miou_fg"]
    return -1.0 if m is None else float(m)


def fit_decision_bias(pixels: np.ndarray, labels: np.ndarray, *, grid: np.ndarray = BIAS_GRID,
                      passes: int = 2, min_gain: float = 1e-3, min_class_pixels: int = 500) -> np.ndarray:
    """Labeled pixels' logits [P,C] and labels [P] (no ignored pixels) -> biases float32 [C], bias[0] = 0.

    A foreground class with fewer than `min_class_pixels` labeled pixels keeps bias 0: a small
    validation split would otherwise tune it to its own few pixels. One class only -> all zeros.
    """
    c = pixels.shape[1]
    bias = np.zeros(c, np.float32)
    counts = np.bincount(labels, minlength=c)[:c]
    tunable = [k for k in range(1, c) if counts[k] >= min_class_pixels]
    if not tunable:
        return bias
    best = _miou_fg(pixels, labels, bias)
    by_size = grid[np.argsort(np.abs(grid), kind="stable")]  # on a tie the smaller bias wins
    for _ in range(passes):
        moved = False
        for k in tunable:
            trial = bias.copy()
            scores = []
            for value in by_size:
                trial[k] = value
                scores.append(_miou_fg(pixels, labels, trial))
            i = int(np.argmax(scores))
            if scores[i] > best + min_gain:
                best, bias[k], moved = scores[i], by_size[i], True
        if not moved:
            break
    return bias
