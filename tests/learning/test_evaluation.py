"""Batching of mixed-size images, numpy softmax, and a model's figures on a split (app.learning.evaluation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.learning.constants import IGNORE_INDEX
from app.learning.evaluation import evaluate_split, split_confusion
from app.learning.inference import logits_for, predict_proba, same_size_batches, softmax
from app.learning.metrics import confusion_matrix, mean_or_none, segmentation_metrics
from app.learning.model import UNet


def test_same_size_batches_cover_every_image_once_in_runs_of_one_shape() -> None:
    shapes = [(8, 8, 3), (4, 6, 3), (8, 8, 3), (8, 8, 3), (4, 6, 3), (8, 8, 3)]
    images = [np.zeros(s, np.uint8) for s in shapes]
    batches = list(same_size_batches(images, 3))
    assert sorted(i for b in batches for i in b) == list(range(len(images)))
    assert all(len({images[i].shape for i in b}) == 1 and len(b) <= 3 for b in batches)
    assert batches == [[1, 4], [0, 2, 3], [5]]  # sorted by shape, stable within a shape
    assert list(same_size_batches([], 4)) == []
    with pytest.raises(ValueError):
        list(same_size_batches(images, 0))


def test_softmax_over_either_axis_matches_torch() -> None:
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32) * 20
    for axis in (0, 1):
        for t in (1.0, 2.5):
            want = torch.softmax(torch.from_numpy(x) / t, dim=axis).numpy()
            np.testing.assert_allclose(softmax(x, t, axis=axis), want, rtol=1e-5, atol=1e-7)


def test_split_confusion_and_evaluate_split_match_the_argmax_of_predict_proba() -> None:
    torch.manual_seed(0)
    model = UNet(num_classes=3, base_channels=4, depth=2)
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, s, dtype=np.uint8) for s in ((16, 16, 3), (12, 20, 3), (16, 16, 3))]
    masks = [rng.integers(0, 3, im.shape[:2]).astype(np.uint8) for im in images]
    masks[1][:4] = IGNORE_INDEX
    want = sum(confusion_matrix(p.argmax(0), m, 3) for p, m in zip(predict_proba(model, images), masks, strict=True))
    logits = logits_for(model, images)
    assert np.array_equal(split_confusion(logits, masks, 3), want)
    assert evaluate_split(model, images, masks, 3, batch_size=1) == segmentation_metrics(want)
    # a huge bias for class 2 makes every labeled pixel a class-2 prediction
    biased = split_confusion(logits, masks, 3, bias=np.array([0.0, 0.0, 1e6], np.float32))
    assert biased[:, :2].sum() == 0 and biased.sum() == want.sum()


def test_mean_or_none_skips_undefined_values() -> None:
    assert mean_or_none([0.5, None, 1.0]) == pytest.approx(0.75)
    assert mean_or_none([None]) is None and mean_or_none([]) is None
