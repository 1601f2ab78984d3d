"""margin, least confidence, BALD, tiles and aggregation against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.learning.uncertainty import (
    aggregate,
    bald,
    class_weight_map,
    least_confidence,
    margin,
    normalized_entropy,
    tile_grid,
)

# two classes, 2x2 pixels: p(class 0) = [[0.9, 0.5], [0.2, 0.7]], p(class 1) = 1 - that
P0 = np.array([[0.9, 0.5], [0.2, 0.7]])
P = np.stack([P0, 1.0 - P0])  # [C=2, H=2, W=2]


def test_margin_by_hand() -> None:
    # 1 - |p0 - p1|: 1 - 0.8, 1 - 0, 1 - 0.6, 1 - 0.4
    assert margin(P) == pytest.approx(np.array([[0.2, 1.0], [0.4, 0.6]]), abs=1e-6)


def test_least_confidence_by_hand() -> None:
    assert least_confidence(P) == pytest.approx(np.array([[0.1, 0.5], [0.2, 0.3]]), abs=1e-6)


def test_normalized_entropy_by_hand() -> None:
    # H(0.9, 0.1) = 0.9 ln(1/0.9) + 0.1 ln 10 = 0.09482 + 0.23026 = 0.32508 nats; / ln 2 = 0.46900
    # H(0.8, 0.2) = 0.17851 + 0.32189 = 0.50040 -> 0.72193; H(0.7, 0.3) = 0.24967 + 0.36119 = 0.61086 -> 0.88129
    expected = np.array([[0.46900, 1.0], [0.72193, 0.88129]])
    assert normalized_entropy(P) == pytest.approx(expected, abs=1e-4)


def test_maps_keep_leading_axes() -> None:
    batch = np.stack([P, P, P])  # [N=3, C, H, W]
    assert margin(batch).shape == (3, 2, 2) and least_confidence(batch).shape == (3, 2, 2)
    assert np.allclose(margin(batch)[2], margin(P))


def test_bald_is_zero_when_samples_agree() -> None:
    samples = np.stack([P, P, P, P])  # [T=4, C, H, W]
    assert bald(samples) == pytest.approx(np.zeros((2, 2)), abs=1e-6)


def test_bald_by_hand_when_samples_disagree() -> None:
    # pixel (0,0): samples (0.9, 0.1) and (0.1, 0.9): H(mean) = ln 2 = 0.693147, mean H = 0.325083
    #   -> MI = 0.368064; pixel (0,1): both (0.5, 0.5) -> 0
    a = np.array([[[0.9, 0.5]], [[0.1, 0.5]]])  # [C=2, H=1, W=2]
    b = np.array([[[0.1, 0.5]], [[0.9, 0.5]]])
    mi = bald(np.stack([a, b]))
    assert mi.shape == (1, 2)
    assert mi[0, 0] == pytest.approx(math.log(2) - 0.325083, abs=1e-5)
    assert mi[0, 1] == pytest.approx(0.0, abs=1e-7)
    # one-hot disagreement is the maximum for 2 classes: ln 2
    hard = np.stack([np.array([[[1.0]], [[0.0]]]), np.array([[[0.0]], [[1.0]]])])
    assert bald(hard)[0, 0] == pytest.approx(math.log(2), rel=1e-5)


def test_bald_batched_and_never_negative() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 3, 4, 2, 6, 7))  # [T=5, 3, 4, C=2, H=6, W=7]
    p = np.exp(logits) / np.exp(logits).sum(axis=-3, keepdims=True)
    mi = bald(p)
    assert mi.shape == (3, 4, 6, 7) and (mi >= 0).all()


def test_tile_grid_cuts_edge_tiles() -> None:
    # 5 rows x 7 columns, tile 4: the right column is 3 wide and the bottom row 1 high
    assert tile_grid(5, 7, 4) == [(0, 0, 4, 4), (4, 0, 3, 4), (0, 4, 4, 1), (4, 4, 3, 1)]
    tiles = tile_grid(64, 48, 16)
    assert len(tiles) == 12 and sum(w * h for _, _, w, h in tiles) == 64 * 48
    with pytest.raises(ValueError):
        tile_grid(4, 4, 0)


def test_class_weight_map_by_hand() -> None:
    # sum_c p_c w_c with w = (1, 3): 0.9 + 0.3, 0.5 + 1.5, 0.2 + 2.4, 0.7 + 0.9
    assert class_weight_map(P, np.array([1.0, 3.0])) == pytest.approx(np.array([[1.2, 2.0], [2.6, 1.6]]))


def test_aggregate_plain_and_weighted_means_by_hand() -> None:
    m = np.array([[1.0, 3.0], [5.0, 7.0]])
    w = np.array([[1.0, 0.0], [0.0, 3.0]])
    left, right, whole = aggregate({"e": m}, [(0, 0, 1, 2), (1, 0, 1, 2), (0, 0, 2, 2)], class_weight_map=w)
    assert left == pytest.approx({"e": 3.0, "e_weighted": 1.0})  # (1*1 + 5*0) / 1
    assert right == pytest.approx({"e": 5.0, "e_weighted": 7.0})  # (3*0 + 7*3) / 3
    assert whole == pytest.approx({"e": 4.0, "e_weighted": (1 + 21) / 4})
    # without a weight map the weighted mean is the plain mean
    assert aggregate({"e": m}, [(0, 0, 2, 1)]) == [{"e": 2.0, "e_weighted": 2.0}]
    # regions are clipped to the map; one entirely outside is an error
    assert aggregate({"e": m}, [(1, 1, 5, 5)], class_weight_map=w) == [{"e": 7.0, "e_weighted": 7.0}]
    with pytest.raises(ValueError):
        aggregate({"e": m}, [(5, 5, 1, 1)])
