import math

import numpy as np
import pytest

from app.learning.uncertainty import (
    foreground_probability,
    normalized_entropy,
    region_score,
    softmax_entropy,
)


def test_entropy_hand_computed() -> None:
    probs = np.zeros((3, 1, 3), np.float32)  # [C=3, H=1, W=3]
    probs[:, 0, 0] = [1.0, 0.0, 0.0]
    probs[:, 0, 1] = [0.5, 0.5, 0.0]
    probs[:, 0, 2] = [1 / 3, 1 / 3, 1 / 3]
    h = softmax_entropy(probs)
    assert h.shape == (1, 3) and np.isfinite(h).all()
    assert h[0] == pytest.approx([0.0, math.log(2), math.log(3)], abs=1e-6)
    assert normalized_entropy(probs)[0] == pytest.approx([0.0, math.log(2) / math.log(3), 1.0], abs=1e-6)


def test_entropy_batched_shape() -> None:
    probs = np.full((2, 4, 5, 6), 0.25, np.float32)
    assert softmax_entropy(probs).shape == (2, 5, 6)
    assert normalized_entropy(probs) == pytest.approx(np.ones((2, 5, 6)))


def test_foreground_probability() -> None:
    probs = np.array([[[0.7]], [[0.2]], [[0.1]]])
    assert foreground_probability(probs)[0, 0] == pytest.approx(0.3)


def test_region_score_hand_computed() -> None:
    ent = np.array([[0.0, 1.0], [0.5, 0.5]])
    fg = np.array([[0.0, 0.5], [1.0, 0.25]])
    s = region_score(ent, None, fg)
    assert s["entropy_mean"] == pytest.approx(0.5)
    assert s["entropy_max"] == pytest.approx(1.0)
    # H * (1 + 4 p): 0, 1*3, 0.5*5, 0.5*2 -> mean 6.5 / 4
    assert s["entropy_fg_weighted"] == pytest.approx(6.5 / 4)
    assert s["score"] == s["entropy_fg_weighted"]
    assert s["predicted_fg_fraction"] == pytest.approx(0.25)  # only 1.0 is > 0.5


def test_region_score_window_and_defaults() -> None:
    ent = np.arange(12, dtype=float).reshape(3, 4)
    s = region_score(ent, (1, 1, 2, 2))  # x=1, y=1, w=2, h=2 -> [[5, 6], [9, 10]]
    assert s["entropy_mean"] == pytest.approx(7.5) and s["entropy_max"] == 10.0
    assert s["score"] == pytest.approx(7.5) and s["predicted_fg_fraction"] == 0.0
    clipped = region_score(ent, (2, 2, 10, 10))  # clipped to [[10, 11]]
    assert clipped["entropy_mean"] == pytest.approx(10.5)
    with pytest.raises(ValueError):
        region_score(ent, (10, 10, 2, 2))
    assert region_score(ent, None, np.ones_like(ent), alpha=1.0)["score"] == pytest.approx(2 * ent.mean())
