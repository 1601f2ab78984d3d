"""Choosing what to label next, in three layers (as baal and modAL do):

1. pixel maps (app.learning.uncertainty, app.learning.mc_dropout) ->
2. candidate scores: `score_candidates` aggregates the maps over each candidate's region ->
3. selection: `select_from_scores` turns scores (and embeddings, for diversity) into a ranked batch.

Layer 3 needs no pixels, so the web app can rank stored scores without reloading any image.
Every pick carries its components and rank: the UI says why it was chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.learning.mc_dropout import PixelUncertainty
from app.learning.uncertainty import aggregate, class_weight_map

__all__ = ["STRATEGIES", "Candidate", "Pick", "score_candidates", "candidate_embeddings", "select_from_scores",
           "select_batch", "rank_all", "DEFAULT_HYBRID_WEIGHTS"]

STRATEGIES = ("random", "entropy", "margin", "bald", "coreset", "hybrid")
UNCERTAINTY_KEY = {"entropy": "entropy_weighted", "margin": "margin_weighted", "bald": "bald_weighted"}
DEFAULT_HYBRID_WEIGHTS = {"uncertainty": 1.0, "diversity": 0.5, "class_boost": 0.5}
GREEDY_POOL = 512  # greedy diversity runs over the best candidates only: O(pool x batch) stays small


@dataclass(frozen=True)
class Candidate:
    image_index: int
    region: tuple[int, int, int, int]  # x, y, w, h


@dataclass
class Pick:
    candidate: Candidate
    rank: int  # 1-based, selection order
    score: float
    strategy: str
    components: dict[str, float] = field(default_factory=dict)


def score_candidates(candidates: Sequence[Candidate], uncertainty: Sequence[PixelUncertainty], *,
                     class_weights: np.ndarray | None = None) -> list[dict[str, float]]:
    """Per candidate: entropy, margin, least_confidence, bald (plain and class-weighted means over the
    region), class_boost (predicted share of pixels in the rare classes, weighted) and fg_fraction."""
    by_image: dict[int, list[int]] = {}
    for k, cand in enumerate(candidates):
        by_image.setdefault(cand.image_index, []).append(k)
    out: list[dict[str, float]] = [{} for _ in candidates]
    for image_index, ks in by_image.items():
        u = uncertainty[image_index]
        n_classes = u.probs.shape[0]
        w = np.ones(n_classes) if class_weights is None else np.asarray(class_weights, np.float64)
        weight_map = class_weight_map(u.probs, w)
        # rarity: how far above the mean weight a class is; background (common) gets ~0
        rarity = np.clip(w / w.mean() - 1.0, 0.0, None)
        boost_map = class_weight_map(u.probs, rarity)
        maps = {"entropy": u.entropy, "margin": u.margin, "least_confidence": u.least_confidence, "bald": u.bald}
        rows = aggregate(maps, [candidates[k].region for k in ks], class_weight_map=weight_map)
        fg = aggregate({"fg": 1.0 - u.probs[0], "class_boost": boost_map}, [candidates[k].region for k in ks])
        for k, row, extra in zip(ks, rows, fg, strict=True):
            row["fg_fraction"] = extra["fg"]
            row["class_boost"] = extra["class_boost"]
            out[k] = row
    return out


def candidate_embeddings(candidates: Sequence[Candidate], uncertainty: Sequence[PixelUncertainty]) -> np.ndarray:
    """[K, F]: the image embedding of each candidate (regions of one image share it)."""
    return np.stack([uncertainty[c.image_index].embedding for c in candidates]).astype(np.float32)


def _normalise(v: np.ndarray) -> np.ndarray:
    lo, hi = float(v.min(initial=0.0)), float(v.max(initial=0.0))
    return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)


def _min_dist(points: np.ndarray, anchors: np.ndarray | None) -> np.ndarray:
    if anchors is None or len(anchors) == 0:
        return np.full(len(points), np.inf)
    d2 = (points**2).sum(1)[:, None] - 2 * points @ anchors.T + (anchors**2).sum(1)[None, :]
    return np.sqrt(np.clip(d2, 0.0, None)).min(axis=1)


def _greedy(base: np.ndarray, emb: np.ndarray | None, labeled: np.ndarray | None, count: int,
            diversity_weight: float, allowed: np.ndarray, group: np.ndarray | None,
            max_per_group: int | None) -> list[tuple[int, float, float]]:
    """Greedy batch: repeatedly take argmax(base + w * normalised distance to labeled/selected).

    Returns (index, total, diversity) in selection order. With diversity_weight 0 this is top-k of base.
    """
    pool = np.flatnonzero(allowed)
    if diversity_weight > 0 and emb is not None and len(pool) > GREEDY_POOL:
        pool = pool[np.argsort(-base[pool], kind="stable")[:GREEDY_POOL]]
    dist = _min_dist(emb[pool], labeled) if (emb is not None and diversity_weight > 0) else np.zeros(len(pool))
    taken: list[tuple[int, float, float]] = []
    per_group: dict[int, int] = {}
    active = np.ones(len(pool), bool)
    while len(taken) < count and active.any():
        finite = dist[np.isfinite(dist)]
        scale = finite.max() if finite.size and finite.max() > 0 else 1.0
        div = np.where(np.isfinite(dist), dist / scale, 1.0)
        total = base[pool] + diversity_weight * div
        total[~active] = -np.inf
        j = int(np.argmax(total))
        i = int(pool[j])
        taken.append((i, float(total[j]), float(div[j])))
        active[j] = False
        if group is not None and max_per_group:
            g = int(group[i])
            per_group[g] = per_group.get(g, 0) + 1
            if per_group[g] >= max_per_group:
                active &= group[pool] != g
        if emb is not None and diversity_weight > 0:
            dist = np.minimum(dist, np.sqrt(((emb[pool] - emb[i]) ** 2).sum(1)))
    if len(taken) < count:  # the greedy pool ran out: continue by base score
        chosen = {i for i, _, _ in taken}
        rest = [i for i in np.argsort(-base, kind="stable") if allowed[i] and i not in chosen]
        taken += [(int(i), float(base[i]), 0.0) for i in rest[: count - len(taken)]]
    return taken


def select_from_scores(strategy: str, scores: Sequence[dict[str, float]], batch_size: int, *,
                       rng: np.random.Generator, embeddings: np.ndarray | None = None,
                       labeled_embeddings: np.ndarray | None = None, steered_share: float = 0.0,
                       hybrid_weights: dict[str, float] | None = None, groups: Sequence[int] | None = None,
                       max_per_group: int | None = None) -> list[tuple[int, float, dict[str, float]]]:
    """Layer 3: (candidate index, score, components) in rank order.

    steered_share of the batch is drawn uniformly at random from what is left, spread evenly through
    the ranking (every k-th position), so the queue keeps an unbiased view of the pool.
    groups/max_per_group cap picks per image (regions) in the diversity-aware strategies.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if not 0.0 <= steered_share <= 1.0:
        raise ValueError("steered_share must be in [0, 1]")
    n = len(scores)
    count = min(batch_size, n)
    n_random = int(round(count * steered_share)) if strategy != "random" else 0
    n_main = count - n_random
    group = np.asarray(groups) if groups is not None else None
    allowed = np.ones(n, bool)
    main: list[tuple[int, float, dict[str, float]]] = []
    if strategy == "random":
        order = rng.permutation(n)[:count]
        main = [(int(i), 0.0, {"random": 1.0}) for i in order]
    elif strategy in UNCERTAINTY_KEY:
        key = UNCERTAINTY_KEY[strategy]
        base = np.array([s[key] for s in scores], np.float64)
        for i, total, _ in _greedy(base, None, None, n_main, 0.0, allowed, None, None):
            main.append((i, total, {k: scores[i][k] for k in (key, strategy, "fg_fraction") if k in scores[i]}))
    elif strategy == "coreset":
        if embeddings is None:
            raise ValueError("core-set needs embeddings")
        for i, total, div in _greedy(np.zeros(n), embeddings, labeled_embeddings, n_main, 1.0, allowed, group,
                                     max_per_group):
            main.append((i, total, {"diversity": div}))
    else:  # hybrid
        w = {**DEFAULT_HYBRID_WEIGHTS, **(hybrid_weights or {})}
        unc = _normalise(np.array([s["entropy_weighted"] + s["bald_weighted"] for s in scores], np.float64))
        boost = _normalise(np.array([s["class_boost"] for s in scores], np.float64))
        base = w["uncertainty"] * unc + w["class_boost"] * boost
        picked = _greedy(base, embeddings, labeled_embeddings, n_main, w["diversity"] if embeddings is not None
                         else 0.0, allowed, group, max_per_group)
        for i, total, div in picked:
            main.append((i, total, {"uncertainty": float(unc[i]), "class_boost": float(boost[i]), "diversity": div,
                                    "entropy_weighted": scores[i]["entropy_weighted"],
                                    "bald_weighted": scores[i]["bald_weighted"]}))
    if n_random == 0:
        return main
    chosen = {i for i, _, _ in main}
    rest = np.array([i for i in range(n) if i not in chosen])
    steered = [(int(i), 0.0, {"steered_random": 1.0}) for i in rng.permutation(rest)[:n_random]]
    every = max(2, int(round(1.0 / steered_share))) if steered_share > 0 else count + 1
    merged: list[tuple[int, float, dict[str, float]]] = []
    while main or steered:
        if steered and (len(merged) + 1) % every == 0 or not main:
            merged.append(steered.pop(0))
        else:
            merged.append(main.pop(0))
    return merged


def select_batch(strategy: str, candidates: Sequence[Candidate], uncertainty: Sequence[PixelUncertainty] | None,
                 batch_size: int, *, rng: np.random.Generator, class_weights: np.ndarray | None = None,
                 steered_share: float = 0.0, hybrid_weights: dict[str, float] | None = None,
                 labeled_embeddings: np.ndarray | None = None, max_per_image: int | None = None) -> list[Pick]:
    """Layers 2 + 3 for candidates whose pixel maps are at hand. Random needs no uncertainty."""
    if strategy == "random" or uncertainty is None:
        if strategy != "random":
            raise ValueError(f"{strategy} needs uncertainty maps")
        scores: list[dict[str, float]] = [{} for _ in candidates]
        emb = None
    else:
        scores = score_candidates(candidates, uncertainty, class_weights=class_weights)
        emb = candidate_embeddings(candidates, uncertainty)
    picked = select_from_scores(strategy, scores, batch_size, rng=rng, embeddings=emb,
                                labeled_embeddings=labeled_embeddings, steered_share=steered_share,
                                hybrid_weights=hybrid_weights, groups=[c.image_index for c in candidates],
                                max_per_group=max_per_image)
    return [Pick(candidate=candidates[i], rank=r, score=s, strategy=strategy, components=c)
            for r, (i, s, c) in enumerate(picked, start=1)]


def rank_all(strategy: str, candidates: Sequence[Candidate], uncertainty: Sequence[PixelUncertainty] | None, *,
             rng: np.random.Generator, **kwargs: object) -> list[Pick]:
    """A full ranking: select_batch over every candidate."""
    return select_batch(strategy, candidates, uncertainty, len(candidates), rng=rng, **kwargs)  # type: ignore[arg-type]
