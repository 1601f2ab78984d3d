"""k-means picks for a centroid first batch (app.learning.centroids)."""

from __future__ import annotations

import numpy as np
import pytest

from app.learning.centroids import centroid_picks, descriptor, kmeans
from tests.learning.blobs import blobs


def test_one_pick_per_blob_nearest_its_centre_largest_blob_first() -> None:
    x, blob = blobs()
    picks = centroid_picks(x, 5, seed=3)
    assert [int(blob[p]) for p in picks] == [0, 1, 2, 3, 4]  # one per blob, by size descending
    for p in picks:
        members = x[blob == blob[p]]
        nearest = np.linalg.norm(members - members.mean(0), axis=1).min()
        assert np.linalg.norm(x[p] - members.mean(0)) == pytest.approx(nearest)


def test_the_same_seed_gives_the_same_picks() -> None:
    x = np.random.default_rng(1).normal(size=(60, 6))  # no structure: the seed decides
    assert centroid_picks(x, 7, seed=[0, 2]) == centroid_picks(x, 7, seed=[0, 2])
    _, a = kmeans(x, 7, seed=5)
    _, b = kmeans(x, 7, seed=5)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("k", [0, 81])
def test_k_outside_one_to_n_is_refused(k: int) -> None:
    x, _ = blobs()
    with pytest.raises(ValueError, match=r"k must be in \[1, 80\]"):
        centroid_picks(x, k)


def test_fewer_distinct_points_than_k_still_gives_k_distinct_indices() -> None:
    x = np.repeat(np.eye(3), 4, axis=0)  # 3 distinct points, 4 copies each
    picks = centroid_picks(x, 5, seed=0)
    assert len(set(picks)) == 5
    assert {int(np.argmax(x[p])) for p in picks} == {0, 1, 2}  # every distinct point is covered


def test_descriptor_tells_paper_colours_apart() -> None:
    rng = np.random.default_rng(0)
    white = [np.full((16, 16, 3), 250, np.uint8) - rng.integers(0, 5, (16, 16, 3), dtype=np.uint8) for _ in range(4)]
    cream = [np.full((16, 16, 3), (240, 220, 170), np.uint8) for _ in range(4)]
    d = descriptor(white + cream)
    assert d.shape == (8, 8 * 8 * 3 + 3 * 8) and d.dtype == np.float32
    assert sorted(p // 4 for p in centroid_picks(d, 2, seed=0)) == [0, 1]  # one white, one cream
