"""Temperature scaling, ECE and reliability bins."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from app.learning.calibration import (
    calibration_report,
    expected_calibration_error,
    fit_temperature,
    logits_for,
    reliability_bins,
)
from app.learning.constants import IGNORE_INDEX
from app.learning.inference import predict_proba
from app.learning.model import UNet


def softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.fixture(scope="module")
def overconfident() -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(z); the model reports 5 z, i.e. it is overconfident by T = 5."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.0, (20000, 3))
    p = softmax(z)
    labels = (rng.random(len(p))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)  # inverse-CDF sampling
    return 5.0 * z, labels


def test_fit_temperature_recovers_the_overconfidence(overconfident: tuple[np.ndarray, np.ndarray]) -> None:
    logits, labels = overconfident
    assert fit_temperature(logits, labels) == pytest.approx(5.0, rel=0.1)
    # a calibrated model needs no scaling
    assert fit_temperature(logits / 5.0, labels) == pytest.approx(1.0, rel=0.1)
    # max_pixels: a fixed random subset of the labeled pixels (the simulator fits on 60k)
    few = fit_temperature(logits, labels, max_pixels=2_000)
    assert few == fit_temperature(logits, labels, max_pixels=2_000) and few == pytest.approx(5.0, rel=0.2)


def test_temperature_scaling_lowers_ece(overconfident: tuple[np.ndarray, np.ndarray]) -> None:
    logits, labels = overconfident
    report = calibration_report(logits, labels)
    assert report["ece_after"] < 0.02 < 0.1 < report["ece_before"]
    assert report["temperature"] == pytest.approx(5.0, rel=0.1) and report["pixels"] == len(labels)
    assert expected_calibration_error(softmax(logits), labels) == pytest.approx(report["ece_before"], rel=1e-4)
    json.dumps(report)  # stored as JSON by the web app
    assert set(report["bins_after"]["per_class"]) == {"0", "1", "2"}


def test_image_shaped_inputs_ignore_unlabeled_pixels_and_accept_tensors(
        overconfident: tuple[np.ndarray, np.ndarray]) -> None:
    logits, labels = overconfident
    # 20000 pixels as 5 images [C, 40, 100]; mark a block unlabeled and corrupt its logits
    maps = logits[:20000].reshape(5, 40, 100, 3).transpose(0, 3, 1, 2).copy()
    masks = labels[:20000].reshape(5, 40, 100).copy()
    masks[:, :10] = IGNORE_INDEX
    maps[:, :, :10] = np.array([50.0, -50.0, 0.0])[None, :, None, None]
    keep = (masks != IGNORE_INDEX).reshape(-1)
    t_flat = fit_temperature(maps.transpose(0, 2, 3, 1).reshape(-1, 3)[keep], masks.reshape(-1)[keep])
    assert fit_temperature(maps, masks) == pytest.approx(t_flat, rel=1e-4)
    assert fit_temperature(torch.from_numpy(maps), torch.from_numpy(masks)) == pytest.approx(t_flat, rel=1e-4)
    assert fit_temperature(list(maps), list(masks)) == pytest.approx(t_flat, rel=1e-4)
    assert fit_temperature(maps, np.full_like(masks, IGNORE_INDEX)) == 1.0  # nothing labeled


def test_ece_and_bins_by_hand() -> None:
    # 4 pixels, 2 classes; top-label confidences 0.85, 0.85, 0.65, 0.65; correct: yes, yes, yes, no
    # (values off the bin edges: in float32, 0.1 is a hair above 0.1 and would change bins)
    probs = np.array([[0.85, 0.15], [0.15, 0.85], [0.65, 0.35], [0.35, 0.65]])
    labels = np.array([0, 1, 0, 0])
    # 2 bins: all in (0.5, 1]: conf 0.75, acc 0.75 -> ECE 0
    assert expected_calibration_error(probs, labels, n_bins=2) == pytest.approx(0.0, abs=1e-6)
    # 10 bins: (0.6, 0.7]: conf 0.65, acc 0.5; (0.8, 0.9]: conf 0.85, acc 1.0 -> 0.5 * 0.15 + 0.5 * 0.15
    assert expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(0.15, abs=1e-6)
    bins = reliability_bins(probs, labels, n_bins=10)
    assert len(bins["overall"]) == 10 and sum(b["count"] for b in bins["overall"]) == 4
    top = bins["overall"][8]
    assert (top["lo"], top["hi"], top["count"]) == pytest.approx((0.8, 0.9, 2))
    assert top["confidence"] == pytest.approx(0.85) and top["accuracy"] == 1.0
    # one-vs-rest for class 1: p_1 = 0.15, 0.85, 0.35, 0.65 against label == 1: no, yes, no, no
    c1 = {round(b["lo"], 6): (b["count"], b["accuracy"]) for b in bins["per_class"]["1"] if b["count"]}
    assert c1 == {0.1: (1, 0.0), 0.3: (1, 0.0), 0.6: (1, 0.0), 0.8: (1, 1.0)}
    assert "per_class" not in reliability_bins(probs, labels, per_class=False)


def test_logits_for_matches_predict_proba_in_input_order() -> None:
    torch.manual_seed(0)
    model = UNet(num_classes=3, base_channels=4, depth=1, dropout=0.3)
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, s, dtype=np.uint8) for s in [(16, 16, 3), (12, 20, 3), (16, 16, 3)]]
    logits = logits_for(model, images, batch_size=1)
    assert [lg.shape for lg in logits] == [(3, 16, 16), (3, 12, 20), (3, 16, 16)]
    assert all(lg.dtype == np.float32 for lg in logits)
    probs = predict_proba(model, images)
    for lg, p in zip(logits, probs, strict=True):
        assert np.allclose(softmax(lg, axis=0), p, atol=1e-5)
    batched = logits_for(model, images, batch_size=8)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(logits, batched, strict=True))
