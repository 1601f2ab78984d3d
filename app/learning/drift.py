"""Has a batch of new images drifted from the labeled set? Two pure measures on what the model sees.

- embedding_shift: how much farther the new images sit from their nearest labeled image than labeled
  images sit from each other (median nearest-neighbour distance, new -> labeled, over the median
  leave-one-out nearest-neighbour distance within the labeled set, minus 1). About 0 for a batch from
  the same distribution, whatever its size; 0.5 means new images are half again as far away.
- score_shift: the two-sample Kolmogorov-Smirnov statistic between the images' uncertainty scores,
  with the critical value it must pass to be significant at 1 %.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["embedding_shift", "ks_statistic", "ks_critical"]


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[N,F], [M,F] -> [N,M] Euclidean distances."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def embedding_shift(reference: np.ndarray, batch: np.ndarray) -> float:
    """reference [M,F] (M >= 2) and batch [N,F] embeddings -> the shift described above (>= -1)."""
    ref, new = np.asarray(reference, np.float64), np.asarray(batch, np.float64)
    if ref.ndim != 2 or new.ndim != 2 or len(ref) < 2 or len(new) < 1 or ref.shape[1] != new.shape[1]:
        raise ValueError(f"need [M>=2,F] and [N>=1,F] embeddings, got {ref.shape} and {new.shape}")
    within = _pairwise(ref, ref)
    np.fill_diagonal(within, np.inf)
    typical = float(np.median(within.min(1)))
    across = float(np.median(_pairwise(new, ref).min(1)))
    if typical <= 1e-12:  # identical labeled images: any distance at all is a shift
        return 0.0 if across <= 1e-12 else float("inf")
    return across / typical - 1.0


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Largest gap between the two samples' empirical distribution functions, in [0, 1]."""
    a, b = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    if len(a) == 0 or len(b) == 0:
        raise ValueError("both samples need values")
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.abs(cdf_a - cdf_b).max())


def ks_critical(n: int, m: int, alpha: float = 0.01) -> float:
    """The asymptotic critical value of the statistic for samples of n and m at level alpha."""
    c = math.sqrt(-0.5 * math.log(alpha / 2.0))
    return c * math.sqrt((n + m) / (n * m))
