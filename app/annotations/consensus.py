"""What training reads of an overlap task that is not adjudicated yet: the copies' pixel-wise majority.

A pixel takes the class most copies gave it, if more than half the copies that labeled it agree; a tie or
a split vote leaves it unlabeled (255), which the training loss ignores. So disputed pixels teach nothing
until an adjudicator settles them, and pixels everyone agrees on are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

IGNORE = 255


def majority_mask(masks: Sequence[np.ndarray]) -> np.ndarray:
    """masks: k arrays [H, W] of class ids (255 = unlabeled) -> [H, W] uint8 majority, 255 where no strict
    majority of the copies labeling the pixel agree."""
    if not masks:
        raise ValueError("majority_mask needs at least one mask")
    stack = np.stack([np.asarray(m, dtype=np.uint8) for m in masks])  # [K, H, W]
    if len(masks) == 1:
        return stack[0].copy()
    labeled = (stack != IGNORE).sum(axis=0)
    out = np.full(stack.shape[1:], IGNORE, dtype=np.uint8)
    best = np.zeros(stack.shape[1:], dtype=np.int64)
    for c in np.unique(stack[stack != IGNORE]):
        votes = (stack == c).sum(axis=0)
        wins = (votes * 2 > labeled) & (votes > best)
        out[wins] = c
        best = np.maximum(best, votes)
    return out
