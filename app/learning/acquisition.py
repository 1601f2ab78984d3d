"""Choosing what to label next, in three layers (as baal and modAL do):

1. pixel maps (app.learning.uncertainty, app.learning.mc_dropout) ->
2. candidate scores: `score_candidates` aggregates the maps over each candidate's region ->
3. selection: `select_from_scores` turns scores (and embeddings, for diversity) into a ranked batch.

Layer 3 needs no pixels, so the web app can rank stored scores without reloading any image.
Every pick carries its components and rank: the UI says why it was chosen.

Embeddings (core-set, hybrid diversity): by default a candidate's embedding is its image's
(global-average-pooled trunk features), so regions of one image coincide and the per-image cap
spreads a batch over images. `region_embeddings=True` pools the trunk features over each region
instead (PixelUncertainty.feature_grid); then `labeled_embeddings` should be region-pooled too,
or distances to the labeled set compare tiles with whole images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.learning.mc_dropout import PixelUncertainty, region_embedding
from app.learning.uncertainty import aggregate, class_weight_map

__all__ = ["STRATEGIES", "Candidate", "Pick", "score_candidates", "candidate_embeddings", "select_from_scores",
           "select_batch", "rank_all", "DEFAULT_HYBRID_WEIGHTS", "DEFAULT_MAX_PER_IMAGE"]

STRATEGIES = ("random", "entropy", "margin", "bald", "coreset", "hybrid")
UNCERTAINTY_KEY = {"entropy": "entropy_weighted", "margin": "margin_weighted", "bald": "bald_weighted"}
DEFAULT_HYBRID_WEIGHTS = {"uncertainty": 1.0, "diversity": 0.5, "class_boost": 0.5}
DEFAULT_MAX_PER_IMAGE = 2  # core-set and hybrid: regions of one image per batch (0 = no cap)
# Greedy diversity costs O(pool x F) per pick. Hybrid runs it over the best GREEDY_POOL candidates by
# uncertainty (a candidate further down cannot catch up by diversity alone in practice); every greedy
# strategy stops after GREEDY_PICKS picks and orders the rest of a long ranking by its last totals.
GREEDY_POOL = 2048
GREEDY_PICKS = 512


@dataclass(frozen=True)
class Candidate:
    image_index: int
    region: tuple[int, int, int, int]  # x, y, w, h; the whole image for image-level units


@dataclass
class Pick:
    candidate: Candidate
    rank: int  # 1-based, selection order
    score: float
    strategy: str
    components: dict[str, float] = field(default_factory=dict)


def score_candidates(candidates: Sequence[Candidate], uncertainty: Sequence[PixelUncertainty], *,
                     class_weights: np.ndarray | Sequence[float] | None = None) -> list[dict[str, float]]:
    """Layer 2. Per candidate, floats:

    entropy, margin, least_confidence, bald   plain means of the maps over the region
    <name>_weighted                            means weighted by sum_c p_c w_c (class_weight_map):
                                               doubt on likely-rare pixels counts more
    class_boost                                mean of sum_c p_c r_c, r_c = max(w_c / mean(w) - 1, 0): the
                                               predicted share of rare classes (0 without class_weights)
    fg_fraction                                mean of 1 - p_background (class 0)
    """
    by_image: dict[int, list[int]] = {}
    for k, cand in enumerate(candidates):
        by_image.setdefault(cand.image_index, []).append(k)
    out: list[dict[str, float]] = [{} for _ in candidates]
    for image_index, ks in by_image.items():
        u = uncertainty[image_index]
        n_classes = u.probs.shape[0]
        w = np.ones(n_classes) if class_weights is None else np.asarray(class_weights, np.float64)
        if w.shape != (n_classes,):
            raise ValueError(f"class_weights must have {n_classes} entries, got {w.shape}")
        weight_map = class_weight_map(u.probs, w)
        # rarity: how far above the mean weight a class is; background (common) gets ~0
        rarity = np.clip(w / max(float(w.mean()), 1e-12) - 1.0, 0.0, None)
        regions = [candidates[k].region for k in ks]
        maps = {"entropy": u.entropy, "margin": u.margin, "least_confidence": u.least_confidence, "bald": u.bald}
        rows = aggregate(maps, regions, class_weight_map=weight_map)
        extra = aggregate({"fg_fraction": 1.0 - u.probs[0], "class_boost": class_weight_map(u.probs, rarity)},
                          regions)
        for k, row, more in zip(ks, rows, extra, strict=True):
            row["fg_fraction"] = more["fg_fraction"]
            row["class_boost"] = more["class_boost"]
            out[k] = row
    return out


def candidate_embeddings(candidates: Sequence[Candidate], uncertainty: Sequence[PixelUncertainty], *,
                         region_embeddings: bool = False) -> np.ndarray:
    """[K, F]: each candidate's image embedding, or its region's pooled features (see module doc)."""
    if not candidates:
        return np.zeros((0, 0), np.float32)
    if not region_embeddings:
        return np.stack([uncertainty[c.image_index].embedding for c in candidates]).astype(np.float32)
    return np.stack([region_embedding(uncertainty[c.image_index], c.region) for c in candidates]).astype(np.float32)


def _normalise(v: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] over the candidates, so components on different scales can be added."""
    lo, hi = float(v.min(initial=np.inf)), float(v.max(initial=-np.inf))
    return (v - lo) / (hi - lo) if v.size and hi > lo else np.zeros_like(v)


def _min_dist(points: np.ndarray, anchors: np.ndarray | None) -> np.ndarray:
    """Euclidean distance of each point [K,F] to its nearest anchor [M,F]; inf without anchors."""
    if anchors is None or len(anchors) == 0:
        return np.full(len(points), np.inf)
    d2 = (points**2).sum(1)[:, None] - 2 * points @ anchors.T + (anchors**2).sum(1)[None, :]
    return np.sqrt(np.clip(d2, 0.0, None)).min(axis=1)


def _greedy(base: np.ndarray, emb: np.ndarray, labeled: np.ndarray | None, count: int, diversity_weight: float,
            pool_limit: int | None, group: np.ndarray | None, max_per_group: int) -> list[tuple[int, float, float]]:
    """Greedy batch: repeatedly take argmax(base + w * diversity), diversity = distance to the nearest
    labeled or already selected embedding / the largest such distance (recomputed after every pick, so
    one batch is not `count` near-duplicates). At most max_per_group picks per group (0 = no cap).

    Returns (index, total, diversity) in selection order.
    """
    n = len(base)
    pool = np.arange(n)
    if pool_limit is not None and n > pool_limit:
        pool = np.sort(np.argsort(-base, kind="stable")[:pool_limit])
    pts = emb[pool].astype(np.float64)
    dist = _min_dist(pts, None if labeled is None else np.asarray(labeled, np.float64))
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


def _merge_steered(main: list[tuple[int, float, dict[str, float]]], steered: list[tuple[int, float, dict[str, float]]],
                   share: float) -> list[tuple[int, float, dict[str, float]]]:
    """Spread the random picks evenly through the ranking (every k-th position, k = 1/share)."""
    every = max(2, int(round(1.0 / share))) if share > 0 else len(main) + len(steered) + 1
    merged: list[tuple[int, float, dict[str, float]]] = []
    while main or steered:
        if (steered and (len(merged) + 1) % every == 0) or not main:
            merged.append(steered.pop(0))
        else:
            merged.append(main.pop(0))
    return merged


def select_from_scores(strategy: str, scores: Sequence[dict[str, float]], batch_size: int, *,
                       rng: np.random.Generator, embeddings: np.ndarray | None = None,
                       labeled_embeddings: np.ndarray | None = None, steered_share: float = 0.0,
                       hybrid_weights: dict[str, float] | None = None, groups: Sequence[int] | None = None,
                       max_per_group: int | None = None) -> list[tuple[int, float, dict[str, float]]]:
    """Layer 3: (candidate index, score, components) in rank order (= selection order).

    scores: rows of score_candidates. embeddings [K,F] and labeled_embeddings [M,F] feed core-set and
    the hybrid's diversity. steered_share of the batch is drawn uniformly at random from what the
    strategy left, spread evenly through the ranking, so the queue keeps an unbiased view of the pool.
    groups (image of each candidate) with max_per_group (None = DEFAULT_MAX_PER_IMAGE, 0 = no cap)
    limit picks per image in core-set and hybrid. Deterministic under rng.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if not 0.0 <= steered_share <= 1.0:
        raise ValueError("steered_share must be in [0, 1]")
    n = len(scores)
    count = max(0, min(batch_size, n))
    n_random = int(round(count * steered_share)) if strategy != "random" else 0
    n_main = count - n_random
    group = np.asarray(groups) if groups is not None else None
    cap = DEFAULT_MAX_PER_IMAGE if max_per_group is None else int(max_per_group)
    main: list[tuple[int, float, dict[str, float]]] = []
    if strategy == "random":
        main = [(int(i), 0.0, {"random": 1.0}) for i in rng.permutation(n)[:count]]
    elif strategy in UNCERTAINTY_KEY:
        key = UNCERTAINTY_KEY[strategy]
        base = np.array([s.get(key, 0.0) for s in scores], np.float64)
        main = [(int(i), float(base[i]), dict(scores[i])) for i in np.argsort(-base, kind="stable")[:n_main]]
    elif strategy == "coreset":
        if embeddings is None:
            raise ValueError("core-set needs embeddings")
        # k-center greedy: the farthest candidate from everything labeled or selected so far
        for i, total, div in _greedy(np.zeros(n), np.asarray(embeddings), labeled_embeddings, n_main, 1.0, None,
                                     group, cap):
            main.append((i, total, {**scores[i], "diversity": div}))
    else:  # hybrid
        w = {**DEFAULT_HYBRID_WEIGHTS, **(hybrid_weights or {})}
        # entropy and BALD normalised apart: BALD is often 10x smaller and would vanish in a raw sum
        unc = 0.5 * (_normalise(np.array([s.get("entropy_weighted", 0.0) for s in scores], np.float64))
                     + _normalise(np.array([s.get("bald_weighted", 0.0) for s in scores], np.float64)))
        boost = _normalise(np.array([s.get("class_boost", 0.0) for s in scores], np.float64))
        base = w["uncertainty"] * unc + w["class_boost"] * boost
        if embeddings is None or w["diversity"] == 0:
            picked = [(int(i), float(base[i]), 0.0) for i in np.argsort(-base, kind="stable")[:n_main]]
        else:
            picked = _greedy(base, np.asarray(embeddings), labeled_embeddings, n_main, w["diversity"], GREEDY_POOL,
                             group, cap)
        for i, total, div in picked:
            main.append((i, total, {**scores[i], "uncertainty": float(unc[i]), "class_boost_norm": float(boost[i]),
                                    "diversity": div}))
    if n_random == 0:
        return main
    chosen = {i for i, _, _ in main}
    rest = np.array([i for i in range(n) if i not in chosen], dtype=np.int64)
    steered = [(int(i), 0.0, {"steered_random": 1.0}) for i in rng.permutation(rest)[:n_random]]
    return _merge_steered(main, steered, steered_share)


def select_batch(strategy: str, candidates: Sequence[Candidate], uncertainty: Sequence[PixelUncertainty] | None,
                 batch_size: int, *, rng: np.random.Generator, class_weights: np.ndarray | None = None,
                 steered_share: float = 0.0, hybrid_weights: dict[str, float] | None = None,
                 labeled_embeddings: np.ndarray | None = None, max_per_image: int | None = None,
                 region_embeddings: bool = False) -> list[Pick]:
    """Layers 2 + 3 for candidates whose pixel maps are at hand (uncertainty[c.image_index]).

    Random needs no uncertainty (pass None). Entropy, margin and BALD take the top of the region's
    class-weighted mean; core-set is k-center greedy from labeled_embeddings; hybrid adds normalised
    uncertainty (entropy + BALD), rare-class boost and greedy diversity. Deterministic under rng.
    """
    if strategy == "random" or uncertainty is None:
        if strategy != "random":
            raise ValueError(f"{strategy} needs uncertainty maps")
        scores: list[dict[str, float]] = [{} for _ in candidates]
        emb = None
    else:
        scores = score_candidates(candidates, uncertainty, class_weights=class_weights)
        emb = candidate_embeddings(candidates, uncertainty, region_embeddings=region_embeddings) \
            if strategy in ("coreset", "hybrid") else None
    picked = select_from_scores(strategy, scores, batch_size, rng=rng, embeddings=emb,
                                labeled_embeddings=labeled_embeddings, steered_share=steered_share,
                                hybrid_weights=hybrid_weights, groups=[c.image_index for c in candidates],
                                max_per_group=max_per_image)
    return [Pick(candidate=candidates[i], rank=r, score=s, strategy=strategy, components=c)
            for r, (i, s, c) in enumerate(picked, start=1)]


def rank_all(strategy: str, candidates: Sequence[Candidate], uncertainty: Sequence[PixelUncertainty] | None, *,
             rng: np.random.Generator, class_weights: np.ndarray | None = None, steered_share: float = 0.0,
             hybrid_weights: dict[str, float] | None = None, labeled_embeddings: np.ndarray | None = None,
             max_per_image: int | None = None, region_embeddings: bool = False) -> list[Pick]:
    """A full ranking: select_batch over every candidate."""
    return select_batch(strategy, candidates, uncertainty, len(candidates), rng=rng, class_weights=class_weights,
                        steered_share=steered_share, hybrid_weights=hybrid_weights,
                        labeled_embeddings=labeled_embeddings, max_per_image=max_per_image,
                        region_embeddings=region_embeddings)
