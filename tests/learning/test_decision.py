from __future__ import annotations

import numpy as np

from app.learning.decision import biased_argmax, fit_decision_bias
from app.learning.metrics import confusion_matrix, segmentation_metrics


def miou(pixels, labels, bias):
    return segmentation_metrics(confusion_matrix(biased_argmax(pixels, bias, axis=1), labels, 3))["miou_fg"]


def scene(shift: float, n: int = 60_000, seed: int = 0):
    """Well-separated logits for 3 classes (2% of each curve), then class 1 pushed up by `shift`."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.96, 0.02, 0.02])
    pixels = rng.normal(0.0, 1.0, (n, 3)).astype(np.float32)
    pixels[np.arange(n), labels] += 3.0
    pixels[:, 1] += shift
    return pixels, labels


def test_a_shifted_class_gets_its_shift_taken_back_and_miou_rises():
    plain_pixels, labels = scene(shift=0.0)
    plain = fit_decision_bias(plain_pixels, labels)
    pixels, _ = scene(shift=1.5)  # the same draws as above, class 1 pushed up
    bias = fit_decision_bias(pixels, labels)
    # Class 1's fitted bias is 1.5 lower, class 2's unchanged (within a grid step).
    assert bias[0] == 0.0 and abs((bias[1] - plain[1]) + 1.5) <= 0.25 and abs(bias[2] - plain[2]) <= 0.25, (bias, plain)
    assert miou(pixels, labels, bias) > miou(pixels, labels, np.zeros(3)) + 0.1
    # and it carries over to fresh pixels of the same kind (the point of fitting on a validation split)
    fresh, fresh_labels = scene(shift=1.5, seed=1)
    assert miou(fresh, fresh_labels, bias) > miou(fresh, fresh_labels, np.zeros(3)) + 0.1


def test_biases_never_lower_the_fitted_split():
    for shift in (-1.0, 0.0, 0.5):
        pixels, labels = scene(shift=shift, seed=2)
        bias = fit_decision_bias(pixels, labels)
        assert miou(pixels, labels, bias) >= miou(pixels, labels, np.zeros(3))


def test_already_iou_optimal_logits_keep_zero_bias():
    pixels, labels = scene(shift=0.0)
    tuned = pixels + fit_decision_bias(pixels, labels)
    assert fit_decision_bias(tuned, labels).tolist() == [0.0, 0.0, 0.0]


def test_too_few_pixels_or_classes_give_zero_bias():
    assert fit_decision_bias(np.zeros((2, 3), np.float32), np.array([0, 1])).tolist() == [0.0, 0.0, 0.0]
    assert fit_decision_bias(np.zeros((5, 1), np.float32), np.zeros(5, np.int64)).tolist() == [0.0]
    pixels, labels = scene(shift=1.5)
    assert fit_decision_bias(pixels, labels)[1] != 0.0
    # keep a tenth of class 1's pixels: under the 500-pixel floor its bias stays 0
    keep = (labels != 1) | (np.random.default_rng(3).random(len(labels)) < 0.1)
    assert (labels[keep] == 1).sum() < 500 <= (labels[keep] == 2).sum()
    assert fit_decision_bias(pixels[keep], labels[keep])[1] == 0.0


def test_biased_argmax_on_a_class_map():
    logits = np.zeros((3, 2, 2), np.float32)
    logits[1] = 0.5
    assert (biased_argmax(logits, np.zeros(3)) == 1).all()
    assert (biased_argmax(logits, np.array([0.0, -1.0, 0.0])) == 0).all()
