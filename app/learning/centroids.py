"""A centroid-based first batch (Gupte et al. 2024): k-means over image embeddings, one pick per cluster.

A random seed set of a few images from a redundant pool mostly repeats its common templates; one image
per k-means cluster spreads the seed set over what the pool holds. Pure numpy: `kmeans` (k-means++ init,
seeded), `centroid_picks` (the member nearest each centroid, biggest clusters first) and a cheap image
`descriptor` for when no trained trunk is there to embed with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["kmeans", "centroid_picks", "descriptor"]


def _sq_distances(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """[N, K] squared Euclidean distances of the rows of x [N, F] to the rows of c [K, F]."""
    d2 = (x**2).sum(1)[:, None] - 2.0 * x @ c.T + (c**2).sum(1)[None, :]
    return np.clip(d2, 0.0, None)


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: the first centre uniformly, each next one with probability ~ D^2 to the nearest."""
    first = int(rng.integers(len(x)))
    centres = [x[first]]
    d2 = _sq_distances(x, x[first][None])[:, 0]
    for _ in range(1, k):
        total = float(d2.sum())
        # every point sits on a centre already (duplicates): any point will do
        i = int(rng.integers(len(x))) if total <= 0 else int(rng.choice(len(x), p=d2 / total))
        centres.append(x[i])
        d2 = np.minimum(d2, _sq_distances(x, x[i][None])[:, 0])
    return np.stack(centres)


def kmeans(x: np.ndarray, k: int, *, seed: int | Sequence[int] = 0,
           iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """x [N, F] -> (centres [k, F], labels [N]) by Lloyd's iterations from a k-means++ start.

    Deterministic for a given seed. A cluster that empties is re-seeded at the point farthest from its
    own centre, so all k clusters stay in use while there are k distinct points. k outside [1, N] is
    refused (ValueError): a seed set cannot hold more images than the pool.
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be [N, F], got shape {x.shape}")
    if not 1 <= k <= len(x):
        raise ValueError(f"k must be in [1, {len(x)}] (the number of embeddings), got {k}")
    rng = np.random.default_rng(seed)
    centres = _plus_plus(x, k, rng)
    labels = np.full(len(x), -1, np.int64)
    for _ in range(iterations):
        d2 = _sq_distances(x, centres)
        new = d2.argmin(1)
        for c in np.setdiff1d(np.arange(k), new):  # empty cluster: take the worst-fitted point
            own = d2[np.arange(len(x)), new]
            far = int(own.argmax())
            new[far] = c
            d2[far] = 0.0
        if np.array_equal(new, labels):
            break
        labels = new
        centres = np.stack([x[labels == c].mean(0) if (labels == c).any() else centres[c] for c in range(k)])
    return centres, labels


def centroid_picks(x: np.ndarray, k: int, *, seed: int | Sequence[int] = 0, iterations: int = 30) -> list[int]:
    """x [N, F] -> k distinct row indices: per k-means cluster the member nearest its centre, the
    largest cluster first (ties: lower cluster index). k outside [1, N] is refused (ValueError)."""
    x = np.asarray(x, np.float64)
    centres, labels = kmeans(x, k, seed=seed, iterations=iterations)
    d2 = _sq_distances(x, centres)
    sizes = np.bincount(labels, minlength=k)
    picks: list[int] = []
    for c in sorted(range(k), key=lambda c: (-sizes[c], c)):
        members = np.flatnonzero(labels == c)
        if members.size:
            picks.append(int(members[np.argmin(d2[members, c])]))
    if len(picks) < k:  # fewer distinct points than k: the rest farthest from what is picked
        rest = np.setdiff1d(np.arange(len(x)), picks)
        far = _sq_distances(x[rest], x[picks]).min(1)
        picks += [int(i) for i in rest[np.argsort(-far, kind="stable")[: k - len(picks)]]]
    return picks


def descriptor(images: Sequence[np.ndarray], *, side: int = 8, bins: int = 8) -> np.ndarray:
    """[N, side*side*3 + 3*bins] float32: a side x side block-mean thumbnail (layout, ink) and a per-channel
    colour histogram (paper and ink colours), each part scaled to unit mean norm so neither dominates.

    Images uint8 [H, W, 3] (or [H, W]), at least `side` px on each side."""
    thumbs, hists = [], []
    for im in images:
        a = np.asarray(im)
        a = a[..., None] if a.ndim == 2 else a
        h, w = a.shape[:2]
        bh, bw = h // side, w // side
        crop = a[: bh * side, : bw * side].astype(np.float32) / 255.0
        thumbs.append(crop.reshape(side, bh, side, bw, -1).mean(axis=(1, 3)).ravel())
        hists.append(np.concatenate([np.histogram(a[..., ch], bins=bins, range=(0, 256))[0] / (h * w)
                                     for ch in range(a.shape[2])]))
    parts = [np.stack(thumbs), np.stack(hists).astype(np.float32)]
    scaled = [p / max(float(np.linalg.norm(p, axis=1).mean()), 1e-12) for p in parts]
    return np.concatenate(scaled, axis=1).astype(np.float32)
