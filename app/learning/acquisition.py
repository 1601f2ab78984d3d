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
from app.learning.selection import GREEDY_POOL, greedy_diverse, merge_steered, normalise, top_k
from app.learning.uncertainty import aggregate, class_weight_map

__all__ = ["STRATEGIES", "Candidate", "Pick", "score_candidates", "candidate_embeddings", "select_from_scores",
           "select_batch", "rank_all", "make_strategy", "UncertaintyStrategy", "CoresetStrategy", "HybridStrategy",
           "DEFAULT_HYBRID_WEIGHTS", "DEFAULT_MAX_PER_IMAGE"]

STRATEGIES = ("random", "entropy", "margin", "bald", "coreset", "hybrid")
UNCERTAINTY_KEY = {"entropy": "entropy_weighted", "margin": "margin_weighted", "bald": "bald_weighted"}
DEFAULT_HYBRID_WEIGHTS = {"uncertainty": 1.0, "diversity": 0.5, "class_boost": 0.5}
DEFAULT_MAX_PER_IMAGE = 2  # core-set and hybrid: regions of one image per batch (0 = no cap)


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


def _column(rows: Sequence[dict[str, float]], key: str) -> np.ndarray:
    return np.array([r.get(key, 0.0) for r in rows], np.float64)


# Strategy objects: one scoring method each, rows -> (base score [K], named parts [K] for the components).
# Selection (top-k or greedy with diversity) and combination (steered share) live apart, below.
@dataclass(frozen=True)
class UncertaintyStrategy:
    """entropy, margin or BALD: the region's class-weighted mean of that map."""

    name: str
    diversity_weight: float = 0.0

    def score(self, rows: Sequence[dict[str, float]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return _column(rows, UNCERTAINTY_KEY[self.name]), {}


@dataclass(frozen=True)
class CoresetStrategy:
    """k-center greedy: no score of its own, only the distance to what is labeled or selected."""

    name: str = "coreset"
    diversity_weight: float = 1.0

    def score(self, rows: Sequence[dict[str, float]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return np.zeros(len(rows)), {}


@dataclass(frozen=True)
class HybridStrategy:
    """w_u * uncertainty + w_b * rare-class boost, both normalised over the candidates; diversity is
    added by the greedy selection with weight w_d."""

    weights: dict[str, float]
    name: str = "hybrid"

    @property
    def diversity_weight(self) -> float:
        return float(self.weights["diversity"])

    def score(self, rows: Sequence[dict[str, float]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        # entropy and BALD normalised apart: BALD is often 10x smaller and would vanish in a raw sum
        unc = 0.5 * (normalise(_column(rows, "entropy_weighted")) + normalise(_column(rows, "bald_weighted")))
        boost = normalise(_column(rows, "class_boost"))
        base = self.weights["uncertainty"] * unc + self.weights["class_boost"] * boost
        return base, {"uncertainty": unc, "class_boost_norm": boost}


Strategy = UncertaintyStrategy | CoresetStrategy | HybridStrategy


def make_strategy(name: str, hybrid_weights: dict[str, float] | None = None) -> Strategy:
    """The scoring object for a strategy name other than random."""
    if name in UNCERTAINTY_KEY:
        return UncertaintyStrategy(name)
    if name == "coreset":
        return CoresetStrategy()
    if name == "hybrid":
        return HybridStrategy({**DEFAULT_HYBRID_WEIGHTS, **(hybrid_weights or {})})
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def select_from_scores(strategy: str, scores: Sequence[dict[str, float]], batch_size: int, *,
                       rng: np.random.Generator, embeddings: np.ndarray | None = None,
                       labeled_embeddings: np.ndarray | None = None, steered_share: float = 0.0,
                       hybrid_weights: dict[str, float] | None = None, groups: Sequence[int] | None = None,
                       max_per_group: int | None = None) -> list[tuple[int, float, dict[str, float]]]:
    """Layer 3: (candidate index, score, components) in rank order (= selection order); the
    selection primitives (top-k, greedy diversity, steered merge) are in app.learning.selection.

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
    if strategy == "random":
        return [(int(i), 0.0, {"random": 1.0}) for i in rng.permutation(n)[:count]]
    n_random = int(round(count * steered_share))
    n_main = count - n_random
    scorer = make_strategy(strategy, hybrid_weights)
    base, parts = scorer.score(scores)
    if scorer.diversity_weight > 0 and embeddings is None and strategy == "coreset":
        raise ValueError("core-set needs embeddings")
    if scorer.diversity_weight > 0 and embeddings is not None:
        pool_limit = None if strategy == "coreset" else GREEDY_POOL  # core-set has no base to pre-filter by
        group = np.asarray(groups) if groups is not None else None
        cap = DEFAULT_MAX_PER_IMAGE if max_per_group is None else int(max_per_group)
        picked = greedy_diverse(base, np.asarray(embeddings), labeled_embeddings, n_main, scorer.diversity_weight,
                                pool_limit, group, cap)
        main = [(i, total, {**scores[i], **{k: float(v[i]) for k, v in parts.items()}, "diversity": div})
                for i, total, div in picked]
    else:
        main = [(i, total, {**scores[i], **{k: float(v[i]) for k, v in parts.items()}})
                for i, total in top_k(base, n_main)]
    if n_random == 0:
        return main
    chosen = {i for i, _, _ in main}
    rest = np.array([i for i in range(n) if i not in chosen], dtype=np.int64)
    steered = [(int(i), 0.0, {"steered_random": 1.0}) for i in rng.permutation(rest)[:n_random]]
    return merge_steered(main, steered, steered_share)


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
