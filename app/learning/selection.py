"""Layer 3 of acquisition: selection primitives that need only scores and embeddings, no pixels.

top_k (uncertainty strategies), greedy_diverse (core-set, hybrid: distance to the labeled and already
selected embeddings, recomputed after every pick, with a per-image cap) and merge_steered (a random
share spread through a ranking). As modAL keeps `utils/selection.py` apart from its heuristics.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GREEDY_POOL", "GREEDY_PICKS", "normalise", "min_distance", "top_k", "greedy_diverse", "merge_steered"]

# Greedy diversity costs O(pool x F) per pick. Hybrid runs it over the best GREEDY_POOL candidates by
# uncertainty (a candidate further down cannot catch up by diversity alone in practice); every greedy
# strategy stops after GREEDY_PICKS picks and orders the rest of a long ranking by its last totals.
GREEDY_POOL = 2048
GREEDY_PICKS = 512

Ranked = list[tuple[int, float, dict[str, float]]]


def top_k(base: np.ndarray, count: int) -> list[tuple[int, float]]:
    """(index, score) of the `count` highest scores; ties keep input order (deterministic)."""
    return [(int(i), float(base[i])) for i in np.argsort(-base, kind="stable")[:count]]


def normalise(v: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] over the candidates, so components on different scales can be added."""
    lo, hi = float(v.min(initial=np.inf)), float(v.max(initial=-np.inf))
    return (v - lo) / (hi - lo) if v.size and hi > lo else np.zeros_like(v)


def min_distance(points: np.ndarray, anchors: np.ndarray | None) -> np.ndarray:
    """Euclidean distance of each point [K,F] to its nearest anchor [M,F]; inf without anchors."""
    if anchors is None or len(anchors) == 0:
        return np.full(len(points), np.inf)
    d2 = (points**2).sum(1)[:, None] - 2 * points @ anchors.T + (anchors**2).sum(1)[None, :]
    return np.sqrt(np.clip(d2, 0.0, None)).min(axis=1)


def greedy_diverse(base: np.ndarray, emb: np.ndarray, labeled: np.ndarray | None, count: int,
                   diversity_weight: float, pool_limit: int | None, group: np.ndarray | None,
                   max_per_group: int) -> list[tuple[int, float, float]]:
    """base [K], emb [K,F], labeled [M,F] -> a greedy batch: repeatedly take argmax(base + w * diversity),
    diversity = distance to the nearest labeled or already selected embedding / the largest such
    distance (recomputed after every pick, so one batch is not `count` near-duplicates). At most
    max_per_group picks per group (0 = no cap); pool_limit restricts the greedy to the best by base.

    Returns (index, total, diversity) in selection order.
    """
    n = len(base)
    pool = np.arange(n)
    if pool_limit is not None and n > pool_limit:
        pool = np.sort(np.argsort(-base, kind="stable")[:pool_limit])
    pts = emb[pool].astype(np.float64)
    dist = min_distance(pts, None if labeled is None else np.asarray(labeled, np.float64))
    active = np.ones(len(pool), bool)
    per_group: dict[int, int] = {}
    taken: list[tuple[int, float, float]] = []

    def totals() -> tuple[np.ndarray, np.ndarray]:
        finite = dist[np.isfinite(dist)]
        scale = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        div = np.where(np.isfinite(dist), dist / scale, 1.0)  # nothing to compare with yet: maximal
        return base[pool] + diversity_weight * div, div

    while len(taken) < min(count, GREEDY_PICKS) and active.any():
        total, div = totals()
        total = np.where(active, total, -np.inf)
        j = int(np.argmax(total))  # first index on ties: deterministic
        i = int(pool[j])
        taken.append((i, float(total[j]), float(div[j])))
        active[j] = False
        if group is not None and max_per_group > 0:
            g = int(group[i])
            per_group[g] = per_group.get(g, 0) + 1
            if per_group[g] >= max_per_group:
                active &= group[pool] != g
        dist = np.minimum(dist, np.sqrt(((pts - pts[j]) ** 2).sum(1)))
    if len(taken) < count:
        # greedy budget spent or every group capped: the rest of the pool by its current totals,
        # then candidates outside the pool by base score
        chosen = {i for i, _, _ in taken}
        total, div = totals()
        rest = [(int(pool[j]), float(total[j]), float(div[j])) for j in np.argsort(-total, kind="stable")
                if int(pool[j]) not in chosen]
        outside = np.setdiff1d(np.arange(n), pool)
        rest += [(int(i), float(base[i]), 0.0) for i in outside[np.argsort(-base[outside], kind="stable")]]
        taken += rest[: count - len(taken)]
    return taken


def merge_steered(main: Ranked, steered: Ranked, share: float) -> Ranked:
    """Spread the random picks evenly through the ranking (every k-th position, k = 1/share)."""
    every = max(2, int(round(1.0 / share))) if share > 0 else len(main) + len(steered) + 1
    merged: Ranked = []
    while main or steered:
        if (steered and (len(merged) + 1) % every == 0) or not main:
            merged.append(steered.pop(0))
        else:
            merged.append(main.pop(0))
    return merged
