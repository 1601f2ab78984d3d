"""The suggested mask: calibrated probabilities through the model version's decision biases."""

from __future__ import annotations

import numpy as np

from app.modeling.suggestions import suggested_classes


def test_suggestion_is_the_plain_argmax_without_biases_and_follows_them_with():
    probs = np.zeros((3, 1, 3), np.float32)
    probs[:, 0, 0] = [0.5, 0.4, 0.1]  # background ahead of curve-1 by log(0.5/0.4) = 0.22
    probs[:, 0, 1] = [0.2, 0.7, 0.1]
    probs[:, 0, 2] = [0.1, 0.1, 0.8]
    assert suggested_classes(probs, None).tolist() == [[0, 1, 2]]
    assert suggested_classes(probs, [0.0, 0.0, 0.0]).tolist() == [[0, 1, 2]]
    assert suggested_classes(probs, [0.0, 0.5, 0.0]).tolist() == [[1, 1, 2]]  # +0.5 > 0.22: curve-1 wins
    assert suggested_classes(probs, [0.0, -2.0, 0.0]).tolist() == [[0, 0, 2]]  # log(0.7/0.2) = 1.25 < 2
    assert suggested_classes(probs, None).dtype == np.uint8
