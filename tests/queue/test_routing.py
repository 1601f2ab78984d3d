"""Tiered routing: the top-ranked tasks go first to the annotators with the best quality scores."""

from __future__ import annotations

import pytest

from tests.review.scene import make_scene


def _set_quality(pid: int, scores: dict[str, tuple[float, int]]) -> None:
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.quality.models import QualityScore

    with session_scope() as session:
        for name, (score, evidence) in scores.items():
            user = auth_service.get_by_username(session=session, username=name)
            assert user is not None
            session.add(QualityScore(project_id=pid, user_id=user.id, score=score, evidence=evidence,
                                     gold_mean=score, gold_count=evidence))


def _ranks(pid: int) -> dict[int, int]:
    from sqlalchemy import select

    from app.db import session_scope
    from app.modeling.models import Score

    with session_scope() as session:
        return {s.task_id: s.rank for s in session.scalars(select(Score))}


@pytest.fixture
def reserve_two(monkeypatch):  # type: ignore[no-untyped-def]
    from app.config import get_settings

    monkeypatch.setenv("LABELWISE_TIER_RESERVE", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_most_uncertain_tasks_go_first_to_the_best_annotators(env, backend, reserve_two):
    from tests.browser.labeling_helpers import fake_ranked_model

    s = make_scene(annotators=("best", "good", "new"), items=6)
    fake_ranked_model(s.pid)
    rank = _ranks(s.pid)
    # best is the top third; good has evidence but a lower score; new has too little evidence to be tiered
    _set_quality(s.pid, {"best": (0.9, 12), "good": (0.6, 12), "new": (0.95, 2)})

    assert rank[s.next("good")["id"]] == 3  # ranks 1 and 2 are held back for the top tier
    assert rank[s.next("new")["id"]] == 4
    assert rank[s.next("best")["id"]] == 1
    # The rule is on the "why this task" panel, in words, for each side of it.
    why = {name: s.annotators[name].get(f"/projects/{s.pid}/label/why/{next(iter(rank))}").text
           for name in ("best", "good")}
    assert "You are in that tier" in why["best"] and "You get those after the others" in why["good"]
    assert "2 top-ranked (most uncertain) tasks go first" in why["good"]


def test_below_the_top_tier_the_held_back_tasks_still_come_when_nothing_else_is_left(env, reserve_two):
    from tests.browser.labeling_helpers import fake_ranked_model

    s = make_scene(annotators=("best", "good"), items=3)
    fake_ranked_model(s.pid)
    rank = _ranks(s.pid)
    _set_quality(s.pid, {"best": (0.9, 12), "good": (0.6, 12)})
    from tests.review.scene import mask_with

    got = []
    for _ in range(3):
        task = s.next("good")
        got.append(rank[task["id"]])
        s.submit("good", task["id"], mask_with(0))
    assert got == [3, 1, 2]


def test_without_enough_evidence_nobody_is_tiered(env, reserve_two):
    from tests.browser.labeling_helpers import fake_ranked_model

    s = make_scene(annotators=("a", "b"), items=4)
    fake_ranked_model(s.pid)
    rank = _ranks(s.pid)
    _set_quality(s.pid, {"a": (0.9, 1), "b": (0.6, 1)})
    assert rank[s.next("b")["id"]] == 1
    why = s.annotators["b"].get(f"/projects/{s.pid}/label/why/{next(iter(rank))}").text
    assert "Routing" not in why
