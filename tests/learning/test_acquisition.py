"""Acquisition strategies: determinism, top-k, diversity, caps, steered share, full rankings."""

from __future__ import annotations

import numpy as np
import pytest

from app.learning import acquisition as acq
from app.learning.mc_dropout import PixelUncertainty


def fake_uncertainty(values: list[float], embeddings: list[list[float]], size: int = 4) -> list[PixelUncertainty]:
    """One image per value: every map constant = value, p(class 1) = value / 2."""
    out = []
    for v, e in zip(values, embeddings, strict=True):
        m = np.full((size, size), v, np.float32)
        probs = np.stack([np.full((size, size), 1 - v / 2), np.full((size, size), v / 2)]).astype(np.float32)
        out.append(PixelUncertainty(probs, m, m, m, m, np.array(e, np.float32)))
    return out


VALUES = [0.1, 0.9, 0.5, 0.3, 0.8, 0.2]
U = fake_uncertainty(VALUES, [[i, 0] for i in range(6)])
CANDS = [acq.Candidate(i, (0, 0, 4, 4)) for i in range(6)]


@pytest.mark.parametrize("strategy", acq.STRATEGIES)
@pytest.mark.parametrize("steered_share", [0.0, 0.34])
def test_strategies_are_deterministic_under_a_seed(strategy: str, steered_share: float) -> None:
    a = acq.select_batch(strategy, CANDS, U, 3, rng=np.random.default_rng(7), steered_share=steered_share)
    b = acq.select_batch(strategy, CANDS, U, 3, rng=np.random.default_rng(7), steered_share=steered_share)
    assert [(p.candidate, p.score, p.components) for p in a] == [(p.candidate, p.score, p.components) for p in b]
    assert [p.rank for p in a] == [1, 2, 3] and all(p.components and p.strategy == strategy for p in a)
    assert len({p.candidate for p in a}) == 3


def test_random_needs_no_maps_and_differs_by_seed() -> None:
    seen = {tuple(p.candidate.image_index for p in acq.select_batch("random", CANDS, None, 3,
                                                                    rng=np.random.default_rng(s)))
            for s in range(6)}
    assert len(seen) > 1
    picks = acq.select_batch("random", CANDS, None, 3, rng=np.random.default_rng(0))
    assert all(p.components == {"random": 1.0} for p in picks)
    with pytest.raises(ValueError):
        acq.select_batch("entropy", CANDS, None, 3, rng=np.random.default_rng(0))


@pytest.mark.parametrize("strategy", ["entropy", "margin", "bald"])
def test_uncertainty_strategies_take_the_top_k(strategy: str) -> None:
    picks = acq.select_batch(strategy, CANDS, U, 3, rng=np.random.default_rng(0))
    assert [p.candidate.image_index for p in picks] == [1, 4, 2]
    assert [p.score for p in picks] == pytest.approx([0.9, 0.8, 0.5])
    assert {"entropy", "margin", "bald", "class_boost"} <= set(picks[0].components)


def test_class_weights_favour_doubt_on_pixels_predicted_rare() -> None:
    # left tile: mild doubt (0.4) on background everywhere; right tile: strong doubt (0.6) on two columns
    # predicted to be the rare class 1 (p1 = 0.7), near certainty (0.1) on background elsewhere
    probs = np.zeros((2, 4, 8), np.float32)
    probs[0], probs[1] = 0.9, 0.1
    probs[0, :, 4:6], probs[1, :, 4:6] = 0.3, 0.7
    ent = np.full((4, 8), 0.4, np.float32)
    ent[:, 4:6], ent[:, 6:] = 0.6, 0.1
    u = [PixelUncertainty(probs, ent, ent, ent, ent, np.zeros(2, np.float32))]
    cands = [acq.Candidate(0, (0, 0, 4, 4)), acq.Candidate(0, (4, 0, 4, 4))]
    plain = acq.select_batch("entropy", cands, u, 1, rng=np.random.default_rng(0))
    weighted = acq.select_batch("entropy", cands, u, 1, rng=np.random.default_rng(0), class_weights=np.array([1, 10]))
    assert plain[0].candidate.region == (0, 0, 4, 4) and weighted[0].candidate.region == (4, 0, 4, 4)
    scores = acq.score_candidates(cands, u, class_weights=np.array([1.0, 10.0]))
    # pixel weights 1 + 9 p1: 7.3 on the rare columns, 1.9 elsewhere -> (7.3 * 0.6 + 1.9 * 0.1) / 9.2
    assert scores[1]["entropy"] == pytest.approx(0.35) and scores[0]["entropy_weighted"] == pytest.approx(0.4)
    assert scores[1]["entropy_weighted"] == pytest.approx((7.3 * 0.6 + 1.9 * 0.1) / 9.2, rel=1e-5)
    # rarity max(w / mean(w) - 1, 0) = (0, 10 / 5.5 - 1); class_boost = its mean expectation over the tile
    assert scores[1]["class_boost"] == pytest.approx(0.4 * (10 / 5.5 - 1), rel=1e-5)
    assert scores[1]["fg_fraction"] == pytest.approx(0.4, rel=1e-5)
    with pytest.raises(ValueError):
        acq.score_candidates(cands, u, class_weights=np.array([1.0, 2.0, 3.0]))


def test_coreset_is_k_center_from_the_labeled_set() -> None:
    points = [[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [10.0, 1.0], [5.0, 5.0], [0.0, 10.0]]
    u = fake_uncertainty([0.5] * 6, points)
    picks = acq.select_batch("coreset", CANDS, u, 3, rng=np.random.default_rng(0),
                             labeled_embeddings=np.array([[0.0, 0.0]]))
    # farthest from (0,0): (10,1); then farthest from {(0,0),(10,1)}: (0,10); then (5,5)
    assert [p.candidate.image_index for p in picks] == [3, 5, 4]
    assert picks[0].components["diversity"] == pytest.approx(1.0)


def test_coreset_looks_at_the_whole_pool() -> None:
    # 3000 candidates on a line; the farthest from the labeled origin is the last one
    n = 3000
    u = fake_uncertainty([0.5] * n, [[i / n, 0] for i in range(n)], size=2)
    cands = [acq.Candidate(i, (0, 0, 2, 2)) for i in range(n)]
    picks = acq.select_batch("coreset", cands, u, 2, rng=np.random.default_rng(0),
                             labeled_embeddings=np.zeros((1, 2)))
    assert picks[0].candidate.image_index == n - 1


def test_hybrid_spreads_a_batch_over_near_duplicates() -> None:
    # three near-identical, very uncertain images and three distinct, a little less uncertain
    u = fake_uncertainty([0.95, 0.94, 0.93, 0.7, 0.7, 0.7], [[0, 0], [0, 0.01], [0.01, 0], [5, 0], [0, 5], [5, 5]])
    entropy = [p.candidate.image_index for p in acq.select_batch("entropy", CANDS, u, 3, rng=np.random.default_rng(0))]
    hybrid = acq.select_batch("hybrid", CANDS, u, 3, rng=np.random.default_rng(0), hybrid_weights={"diversity": 1.0})
    assert entropy == [0, 1, 2]
    chosen = [p.candidate.image_index for p in hybrid]
    assert chosen[0] == 0 and len({i for i in chosen if i < 3}) == 1  # one duplicate, then distinct ones
    assert hybrid[1].components["diversity"] > 0.5 and {"uncertainty", "class_boost", "bald"} <= set(
        hybrid[0].components)
    # without diversity the hybrid is plain uncertainty ranking
    flat = acq.select_batch("hybrid", CANDS, u, 3, rng=np.random.default_rng(0), hybrid_weights={"diversity": 0.0})
    assert [p.candidate.image_index for p in flat] == [0, 1, 2]


def test_hybrid_caps_regions_per_image() -> None:
    # two images of 4 tiles each; image 0 is far more uncertain, but at most 2 of its tiles per batch
    u = fake_uncertainty([0.9, 0.2], [[0, 0], [1, 0]], size=8)
    cands = [acq.Candidate(i, (x, y, 4, 4)) for i in range(2) for y in (0, 4) for x in (0, 4)]
    picks = acq.select_batch("hybrid", cands, u, 4, rng=np.random.default_rng(0), hybrid_weights={"diversity": 0.1})
    assert [p.candidate.image_index for p in picks].count(0) == 2
    uncapped = acq.select_batch("hybrid", cands, u, 4, rng=np.random.default_rng(0), max_per_image=0,
                                hybrid_weights={"diversity": 0.1})
    assert [p.candidate.image_index for p in uncapped].count(0) == 4
    # once every image is capped the batch still fills up
    assert len(acq.select_batch("hybrid", cands, u, 6, rng=np.random.default_rng(0), max_per_image=1)) == 6


def test_region_embeddings_pool_the_feature_grid() -> None:
    grid = np.zeros((2, 2, 2), np.float32)
    grid[:, 0, 1] = [3.0, 4.0]  # top-right cell only
    base = fake_uncertainty([0.5], [[0, 0]], size=8)[0]
    u = [PixelUncertainty(base.probs, base.entropy, base.margin, base.least_confidence, base.bald, base.embedding,
                          feature_grid=grid, grid_cell=4)]
    cands = [acq.Candidate(0, (0, 0, 4, 4)), acq.Candidate(0, (4, 0, 4, 4))]
    emb = acq.candidate_embeddings(cands, u, region_embeddings=True)
    assert emb.tolist() == [[0.0, 0.0], [3.0, 4.0]]
    assert acq.candidate_embeddings(cands, u).tolist() == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize("strategy", ["entropy", "hybrid", "coreset"])
def test_steered_share_count_placement_and_components(strategy: str) -> None:
    u = fake_uncertainty([0.1] * 6, [[i, 0] for i in range(6)])
    picks = acq.select_batch(strategy, CANDS, u, 6, rng=np.random.default_rng(0), steered_share=0.5)
    steered = [p for p in picks if "steered_random" in p.components]
    assert len(steered) == 3 and all(p.components == {"steered_random": 1.0} for p in steered)
    assert [p.rank for p in steered] == [2, 4, 6]  # spread through the batch
    assert sorted(p.candidate.image_index for p in picks) == list(range(6))
    assert len(acq.select_batch(strategy, CANDS, u, 4, rng=np.random.default_rng(0), steered_share=0.25)) == 4
    with pytest.raises(ValueError):
        acq.select_batch(strategy, CANDS, u, 4, rng=np.random.default_rng(0), steered_share=1.5)


@pytest.mark.parametrize("strategy", acq.STRATEGIES)
def test_rank_all_is_a_full_permutation(strategy: str) -> None:
    n = 40
    rng = np.random.default_rng(3)
    u = fake_uncertainty(list(rng.random(n)), rng.normal(size=(n, 3)).tolist())
    cands = [acq.Candidate(i, (0, 0, 4, 4)) for i in range(n)]
    picks = acq.rank_all(strategy, cands, None if strategy == "random" else u, rng=np.random.default_rng(0),
                         steered_share=0.1)
    assert [p.rank for p in picks] == list(range(1, n + 1))
    assert sorted(p.candidate.image_index for p in picks) == list(range(n))


def test_select_from_scores_ranks_stored_scores_without_pixels() -> None:
    # the web app stores score_candidates rows and embeddings, and ranks later
    rows = acq.score_candidates(CANDS, U)
    emb = acq.candidate_embeddings(CANDS, U)
    ranked = acq.select_from_scores("hybrid", rows, len(rows), rng=np.random.default_rng(0), embeddings=emb,
                                    groups=list(range(6)))
    assert sorted(i for i, _, _ in ranked) == list(range(6))
    assert all(isinstance(v, float) for _, _, c in ranked for v in c.values())
    with pytest.raises(ValueError):
        acq.select_from_scores("nope", rows, 2, rng=np.random.default_rng(0))
