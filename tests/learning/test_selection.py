"""Selection primitives: top-k, greedy diversity with caps and budgets, steered merge."""

from __future__ import annotations

import numpy as np
import pytest

from app.learning import selection


def test_top_k_keeps_input_order_on_ties() -> None:
    assert selection.top_k(np.array([0.2, 0.9, 0.2, 0.9]), 3) == [(1, 0.9), (3, 0.9), (0, 0.2)]


def test_normalise_and_min_distance() -> None:
    assert selection.normalise(np.array([2.0, 4.0, 3.0])) == pytest.approx([0.0, 1.0, 0.5])
    assert selection.normalise(np.array([1.0, 1.0])).tolist() == [0.0, 0.0]
    d = selection.min_distance(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 1.0], [3.0, 0.0]]))
    assert d == pytest.approx([1.0, 4.0])
    assert np.isinf(selection.min_distance(np.zeros((2, 2)), None)).all()


def test_greedy_without_diversity_is_top_k() -> None:
    base = np.array([0.1, 0.5, 0.3, 0.9])
    picked = selection.greedy_diverse(base, np.zeros((4, 2)), None, 3, 0.0, None, None, 0)
    assert [i for i, _, _ in picked] == [3, 1, 2]


def test_greedy_diversity_weights_and_recomputation() -> None:
    # two tight clusters; cluster A slightly more uncertain: the batch alternates between clusters
    emb = np.array([[0.0, 0.0], [0.0, 0.1], [0.1, 0.0], [9.0, 9.0], [9.0, 9.1], [9.1, 9.0]])
    base = np.array([1.0, 0.99, 0.98, 0.9, 0.89, 0.88])
    picked = [i for i, _, _ in selection.greedy_diverse(base, emb, None, 2, 1.0, None, None, 0)]
    assert picked == [0, 3]


def test_greedy_budget_fills_the_rest_by_current_totals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selection, "GREEDY_PICKS", 2)
    rng = np.random.default_rng(0)
    base = rng.random(20)
    picked = selection.greedy_diverse(base, rng.normal(size=(20, 3)), None, 20, 0.5, 8, None, 0)
    assert sorted(i for i, _, _ in picked) == list(range(20))  # a full ranking even past the budget
    pool = set(np.argsort(-base)[:8].tolist())
    assert {i for i, _, _ in picked[:8]} == pool  # the greedy pool comes first, the rest by base


def test_merge_steered_spreads_random_picks() -> None:
    main: selection.Ranked = [(i, 1.0, {}) for i in range(4)]
    steered: selection.Ranked = [(10 + i, 0.0, {"steered_random": 1.0}) for i in range(2)]
    merged = selection.merge_steered(main, steered, 1 / 3)
    assert [i for i, _, _ in merged] == [0, 1, 10, 2, 3, 11]
