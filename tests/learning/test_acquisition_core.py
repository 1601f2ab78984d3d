"""Uncertainty functions against hand-computed values, MC dropout, calibration, acquisition, stopping."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from app.learning import acquisition as acq
from app.learning.calibration import calibration_report, expected_calibration_error, fit_temperature
from app.learning.mc_dropout import PixelUncertainty, predict_with_uncertainty
from app.learning.model import UNet
from app.learning.stopping import stop_report
from app.learning.uncertainty import aggregate, bald, class_weight_map, least_confidence, margin, tile_grid

# two classes, 1x2 pixels: p = [[0.9, 0.5]] for class 0
P = np.array([[[0.9, 0.5]], [[0.1, 0.5]]])


def test_margin_and_least_confidence_by_hand():
    assert np.allclose(margin(P), [[1 - 0.8, 1 - 0.0]])
    assert np.allclose(least_confidence(P), [[0.1, 0.5]])


def test_bald_zero_when_samples_agree_and_by_hand_when_they_disagree():
    agree = np.stack([P, P, P])
    assert np.allclose(bald(agree), 0.0, atol=1e-6)
    # pixel 0: samples (1,0) and (0,1): H(mean) = log 2, mean H = 0 -> log 2
    s = np.array([[[[1.0]], [[0.0]]], [[[0.0]], [[1.0]]]])
    assert bald(s)[0, 0] == pytest.approx(math.log(2), rel=1e-5)


def test_tiles_aggregate_and_class_weights():
    assert tile_grid(5, 7, 4) == [(0, 0, 4, 4), (4, 0, 3, 4), (0, 4, 4, 1), (4, 4, 3, 1)]
    m = np.array([[1.0, 3.0], [5.0, 7.0]])
    w = np.array([[1.0, 0.0], [0.0, 3.0]])
    row = aggregate({"e": m}, [(0, 0, 2, 2)], class_weight_map=w)[0]
    assert row["e"] == 4.0 and row["e_weighted"] == pytest.approx((1 + 21) / 4)
    assert np.allclose(class_weight_map(P, np.array([1.0, 3.0])), [[0.9 + 0.3, 0.5 + 1.5]])


def tiny_model(dropout: float) -> UNet:
    torch.manual_seed(0)
    return UNet(num_classes=3, base_channels=4, depth=1, dropout=dropout).eval()


IMAGES = [np.random.default_rng(i).integers(0, 255, (16, 16, 3), dtype=np.uint8) for i in range(3)]


def test_head_only_equals_plain_forward_without_dropout():
    from app.learning.inference import predict_proba

    model = tiny_model(0.0)
    u = predict_with_uncertainty(model, IMAGES, samples=4)
    plain = predict_proba(model, np.stack(IMAGES))
    assert np.allclose(np.stack([x.probs for x in u]), plain, atol=1e-5)
    assert all(np.allclose(x.bald, 0.0, atol=1e-6) for x in u)


def test_head_only_matches_full_mc_in_expectation_and_is_deterministic():
    model = tiny_model(0.5)
    head = predict_with_uncertainty(model, IMAGES[:1], samples=400, seed=1)[0]
    full = predict_with_uncertainty(model, IMAGES[:1], samples=400, seed=2, head_only=False)[0]
    assert np.abs(head.probs - full.probs).mean() < 0.02
    assert abs(head.bald.mean() - full.bald.mean()) < 0.2 * full.bald.mean() + 1e-3
    again = predict_with_uncertainty(model, IMAGES[:1], samples=400, seed=1)[0]
    assert np.array_equal(head.bald, again.bald)


def test_temperature_scaling_fixes_an_overconfident_model():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 1.0, (20000, 3))
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in p])
    over = 5.0 * true_logits
    t = fit_temperature(over, labels)
    assert t == pytest.approx(5.0, rel=0.15)
    report = calibration_report(over, labels)
    assert report["ece_after"] < 0.02 < report["ece_before"]
    probs = np.exp(over) / np.exp(over).sum(1, keepdims=True)
    assert expected_calibration_error(probs, labels) == pytest.approx(report["ece_before"], rel=1e-4)
    assert set(report["bins_after"]["per_class"]) == {"0", "1", "2"}


def fake_uncertainty(values: list[float], embeddings: list[list[float]]) -> list[PixelUncertainty]:
    out = []
    for v, e in zip(values, embeddings, strict=True):
        m = np.full((4, 4), v, np.float32)
        probs = np.stack([np.full((4, 4), 1 - v / 2), np.full((4, 4), v / 2)]).astype(np.float32)
        out.append(PixelUncertainty(probs, m, m, m, m, np.array(e, np.float32)))
    return out


CANDS = [acq.Candidate(i, (0, 0, 4, 4)) for i in range(6)]


@pytest.mark.parametrize("strategy", acq.STRATEGIES)
def test_strategies_are_deterministic_under_a_seed(strategy):
    u = fake_uncertainty([0.1, 0.9, 0.5, 0.3, 0.8, 0.2], [[i, 0] for i in range(6)])
    a = acq.select_batch(strategy, CANDS, u, 3, rng=np.random.default_rng(7), steered_share=0.34)
    b = acq.select_batch(strategy, CANDS, u, 3, rng=np.random.default_rng(7), steered_share=0.34)
    assert [p.candidate for p in a] == [p.candidate for p in b]
    assert [p.rank for p in a] == [1, 2, 3] and all(p.components for p in a)


def test_entropy_takes_the_most_uncertain_and_random_differs_by_seed():
    u = fake_uncertainty([0.1, 0.9, 0.5, 0.3, 0.8, 0.2], [[i, 0] for i in range(6)])
    picks = acq.select_batch("entropy", CANDS, u, 2, rng=np.random.default_rng(0))
    assert [p.candidate.image_index for p in picks] == [1, 4]
    seeds = {tuple(p.candidate.image_index for p in acq.select_batch("random", CANDS, None, 3,
                                                                     rng=np.random.default_rng(s)))
             for s in range(5)}
    assert len(seeds) > 1


def test_hybrid_spreads_a_batch_over_near_duplicates():
    # three near-identical, very uncertain images and three distinct, a little less uncertain
    u = fake_uncertainty([0.95, 0.94, 0.93, 0.7, 0.7, 0.7],
                         [[0, 0], [0, 0.01], [0.01, 0], [5, 0], [0, 5], [5, 5]])
    entropy = [p.candidate.image_index for p in acq.select_batch("entropy", CANDS, u, 3, rng=np.random.default_rng(0))]
    hybrid = [p.candidate.image_index for p in acq.select_batch("hybrid", CANDS, u, 3, rng=np.random.default_rng(0),
                                                                hybrid_weights={"diversity": 1.0})]
    assert entropy == [0, 1, 2]
    assert len({i for i in hybrid if i < 3}) == 1  # one of the duplicates, then distinct ones


def test_steered_share_count_and_components():
    u = fake_uncertainty([0.1] * 6, [[i, 0] for i in range(6)])
    picks = acq.select_batch("entropy", CANDS, u, 6, rng=np.random.default_rng(0), steered_share=0.5)
    assert sum("steered_random" in p.components for p in picks) == 3
    assert sorted(p.candidate.image_index for p in picks) == list(range(6))


def test_stop_report_plateau_and_information_gain():
    rising = [{"miou_fg": 0.1 * i, "labeled": 10 * i} for i in range(5)]
    assert stop_report(rising)["stop"] is False
    flat = rising + [{"miou_fg": 0.401, "labeled": 60}] * 3
    r = stop_report(flat)
    assert r["stop"] and r["plateau_rounds"] == 3
    r = stop_report(rising, info_gain_per_label=[0.5, 0.001], info_threshold=0.01)
    assert r["stop"] and "information gain" in r["reason"]
