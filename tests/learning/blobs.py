"""Well-separated synthetic clusters for the cluster-based picks (centroids, typicality)."""

from __future__ import annotations

import numpy as np

SIZES = (30, 20, 15, 10, 5)  # blob sizes, all different, so the pick order is the size order


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Five tight blobs far apart in 4-d, shuffled -> (points [80, 4], blob of each point)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(SIZES), 4)) * 50.0
    points = np.concatenate([c + rng.normal(size=(n, 4)) for c, n in zip(centres, SIZES, strict=True)])
    blob = np.repeat(np.arange(len(SIZES)), SIZES)
    order = rng.permutation(len(points))
    return points[order], blob[order]
