"""How sure a segmenter is of a whole task: the expected foreground IoU of its argmax under its own
(calibrated) probabilities. Machine labels are accepted above a bar on this figure."""

from __future__ import annotations

import numpy as np

__all__ = ["expected_iou"]


def expected_iou(probs: np.ndarray) -> float:
    """probs [C,H,W] (temperature-scaled) -> expected fg IoU of the argmax, in [0, 1].

    Per foreground class c: sum(p_c on pixels predicted c) / (pixels predicted c + sum p_c - that sum),
    i.e. the IoU of the argmax if each pixel were class c with probability p_c; averaged over the
    classes that are predicted or carry at least one pixel of probability mass. 1.0 when no
    foreground is expected at all (nothing to draw).
    """
    pred = probs.argmax(0)
    ious = []
    for c in range(1, probs.shape[0]):
        p = probs[c]
        hit = pred == c
        mass = float(p.sum())
        if not hit.any() and mass < 1.0:
            continue
        inter = float(p[hit].sum())
        ious.append(inter / max(float(hit.sum()) + mass - inter, 1e-9))
    return float(np.mean(ious)) if ious else 1.0
