"""TypiClust picks (app.learning.typicality): cover the uncovered clusters, densest member first."""

from __future__ import annotations

import numpy as np
import pytest

from app.learning.typicality import typical_picks, typicality
from tests.learning.blobs import blobs


def test_uncovered_blobs_come_before_a_covered_one_largest_first() -> None:
    x, blob = blobs()
    labeled = [int(np.flatnonzero(blob == 0)[0]), int(np.flatnonzero(blob == 1)[0])]  # the two largest covered
    picks = typical_picks(x, labeled, 3, seed=1)
    assert [int(blob[p]) for p in picks] == [2, 3, 4]
    assert not set(picks) & set(labeled)


def test_with_nothing_labeled_one_pick_per_blob() -> None:
    x, blob = blobs(seed=2)
    picks = typical_picks(x, [], 5, seed=0)
    assert [int(blob[p]) for p in picks] == [0, 1, 2, 3, 4]


def test_within_a_blob_the_dense_centre_is_picked_not_an_outlier() -> None:
    rng = np.random.default_rng(0)
    core = rng.normal(size=(12, 2)) * 0.1  # a dense core ...
    halo = rng.normal(size=(25, 2)) * 2.0  # ... in a wide halo
    x = np.concatenate([halo, core, [[6.0, 6.0]]])  # and one outlier, all one cluster (K = 1)
    (pick,) = typical_picks(x, [], 1, seed=0)
    assert 25 <= pick < 37  # in the core
    assert pick == int(np.argmax(typicality(x)))
    assert typicality(x)[-1] == typicality(x).min()  # the outlier is the least typical


def test_typicality_of_a_lone_point_is_zero() -> None:
    assert typicality(np.ones((1, 3))).tolist() == [0.0]


def test_the_same_seed_gives_the_same_picks() -> None:
    x = np.random.default_rng(1).normal(size=(60, 6))  # no structure: the seed decides
    assert typical_picks(x, [0, 5], 7, seed=[0, 2]) == typical_picks(x, [0, 5], 7, seed=[0, 2])
    assert len(set(typical_picks(x, [0, 5], 7, seed=3))) == 7


@pytest.mark.parametrize("batch", [0, 79])
def test_a_batch_outside_one_to_unlabeled_is_refused_not_clamped(batch: int) -> None:
    x, _ = blobs()
    with pytest.raises(ValueError, match=r"batch must be in \[1, 78\]"):
        typical_picks(x, [0, 1], batch)


def test_a_batch_of_every_unlabeled_row_takes_them_all() -> None:
    x, _ = blobs()
    picks = typical_picks(x, list(range(70)), 10, seed=0)
    assert sorted(picks) == list(range(70, 80))
