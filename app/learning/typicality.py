"""Typicality picks for a low budget (TypiClust: Hacohen, Dekel & Weinshall 2022, "Active learning on a budget").

With few labels, uncertainty sampling picks the odd images a weak model is unsure of; what pays first is
labeling the *typical* images that *cover* the pool. TypiClust clusters the pool's embeddings into as many
clusters as there will be labels, then fills the clusters that hold the fewest labels, largest first,
each with its densest member. Pure numpy; the k-means is app.learning.centroids'.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.learning.centroids import kmeans

__all__ = ["MAX_NEIGHBOURS", "typicality", "typical_picks"]

MAX_NEIGHBOURS = 20  # TypiClust's k: typicality from at most 20 nearest neighbours within the cluster


def typicality(x: np.ndarray) -> np.ndarray:
    """x [M, F], one cluster's embeddings -> [M]: 1 / the mean distance to each point's k nearest other
    members, k = min(20, M - 1); higher = denser around it. A single point (k = 0) gets 0, and points whose
    neighbours all coincide with them get inf (as dense as it gets)."""
    m = len(x)
    k = min(MAX_NEIGHBOURS, m - 1)
    if k <= 0:
        return np.zeros(m)
    sq = (x**2).sum(1)
    d = np.sqrt(np.clip(sq[:, None] - 2.0 * x @ x.T + sq[None, :], 0.0, None))
    np.fill_diagonal(d, np.inf)  # a point is not its own neighbour
    mean_knn = np.sort(d, axis=1)[:, :k].mean(1)
    with np.errstate(divide="ignore"):
        return 1.0 / mean_knn


def typical_picks(x: np.ndarray, labeled: Sequence[int], batch: int, *, seed: int | Sequence[int] = 0,
                  iterations: int = 30) -> list[int]:
    """x [N, F] pool embeddings, `labeled` row indices -> `batch` unlabeled row indices in pick order.

    k-means (app.learning.centroids.kmeans, seeded by `seed`) into K = min(N, |L| + batch) clusters; then
    `batch` times: among the clusters with the fewest labeled members that still hold an unlabeled one,
    the largest (ties: lower cluster index), and in it the unlabeled member of highest typicality (ties:
    lower row); the pick then counts as labeled. Typicality is computed over each whole cluster (labeled
    members are neighbours too). Deterministic under `seed`. A batch outside [1, unlabeled] is refused
    (ValueError, not clamped): the caller decides how many labels it has, the function does not guess.
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be [N, F], got shape {x.shape}")
    n = len(x)
    is_labeled = np.zeros(n, bool)
    is_labeled[np.asarray(list(labeled), np.int64)] = True
    free = int((~is_labeled).sum())
    if not 1 <= batch <= free:
        raise ValueError(f"batch must be in [1, {free}] (the unlabeled rows), got {batch}")
    k = min(n, int(is_labeled.sum()) + batch)
    _, clusters = kmeans(x, k, seed=seed, iterations=iterations)
    sizes = np.bincount(clusters, minlength=k)
    typ = np.zeros(n)
    for c in range(k):
        members = np.flatnonzero(clusters == c)
        typ[members] = typicality(x[members])
    picks: list[int] = []
    for _ in range(batch):
        counts = np.bincount(clusters[is_labeled], minlength=k)
        open_ = np.bincount(clusters[~is_labeled], minlength=k) > 0
        fewest = counts[open_].min()
        c = int(min(np.flatnonzero(open_ & (counts == fewest)), key=lambda c: (-sizes[c], c)))
        members = np.flatnonzero((clusters == c) & ~is_labeled)
        best = int(members[np.argmax(typ[members])])  # argmax: the first (lowest row) on ties
        picks.append(best)
        is_labeled[best] = True
    return picks
