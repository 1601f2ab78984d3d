"""Quality scores shrink little evidence toward the prior; the top tier needs enough evidence."""

from __future__ import annotations

import pytest

from app.quality.scores import PRIOR, Standing, combine, top_tier


def test_combine_is_the_evidence_weighted_mean_shrunk_toward_the_prior():
    assert combine(gold_mean=None, gold_count=0, agreement_mean=None, agreement_count=0) == PRIOR
    # 1 perfect gold answer: (1 + 5 * 0.5) / 6
    assert combine(gold_mean=1.0, gold_count=1, agreement_mean=None, agreement_count=0) == pytest.approx(3.5 / 6)
    # 10 gold at 0.8 and 5 agreement at 0.6: (8 + 3 + 2.5) / 20
    assert combine(gold_mean=0.8, gold_count=10, agreement_mean=0.6, agreement_count=5) == pytest.approx(13.5 / 20)


def test_one_perfect_gold_answer_does_not_rank_above_a_steady_record():
    one_lucky = combine(gold_mean=1.0, gold_count=1, agreement_mean=None, agreement_count=0)
    steady = combine(gold_mean=0.8, gold_count=10, agreement_mean=None, agreement_count=0)
    assert steady > one_lucky
    # and with too little evidence it is not in the top tier even when it scores highest
    table = {1: Standing(0.95, 1), 2: Standing(0.7, 10), 3: Standing(0.6, 10), 4: Standing(0.5, 10)}
    assert top_tier(table, min_evidence=5) == {2}


def test_top_tier_is_the_top_third_with_ties_and_empty_without_evidence():
    assert top_tier({1: Standing(0.9, 2)}, min_evidence=5) == set()
    table = {i: Standing(s, 9) for i, s in enumerate([0.9, 0.8, 0.8, 0.7, 0.6, 0.5], start=1)}
    assert top_tier(table, min_evidence=5) == {1, 2, 3}  # ceil(6/3) = 2, and 3 ties with 2
    assert top_tier({1: Standing(0.4, 5)}, min_evidence=5) == {1}
