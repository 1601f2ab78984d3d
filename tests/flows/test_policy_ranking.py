"""A policy change is versioned and used by the next ranking: the ranking records the version, and the
hybrid's weights change the order."""

from __future__ import annotations

from sqlalchemy import select

from app.db import session_scope
from app.jobs import current_in_process_worker
from app.modeling.models import Score, ScoringRun, ScoringRunStatus
from tests.factories import login, make_project, make_user
from tests.scenes import scored_versions


def _ranking(model_version_id: int) -> list[int]:
    with session_scope() as session:
        return list(session.scalars(select(Score.task_id).where(Score.model_version_id == model_version_id)
                                    .order_by(Score.rank)))


def _runs(pid: int) -> list[ScoringRun]:
    with session_scope() as session:
        return list(session.scalars(select(ScoringRun).where(ScoringRun.project_id == pid).order_by(ScoringRun.id)))


def _change(client, csrf: str, pid: int, **body) -> int:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/projects/{pid}/policy", headers={"X-CSRF-Token": csrf}, json=body)
    assert r.status_code == 201, r.text
    worker = current_in_process_worker()
    assert worker is not None and worker.wait_idle(timeout=60)  # the re-rank the change enqueued
    return int(r.json()["version"])


def test_a_policy_change_re_ranks_the_queue_under_the_new_version_and_its_weights(client, backend):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    (v1,) = scored_versions(pid, [0.5], tasks=6)
    csrf = login(client, "lead")
    # uncertainty alone: the most uncertain task (the last) first
    version = _change(client, csrf, pid, reason="uncertainty only", steered_share=0.0, weight_uncertainty=1.0,
                      weight_diversity=0.0, weight_class_boost=0.0)
    runs = _runs(pid)
    assert len(runs) == 1 and runs[-1].status == ScoringRunStatus.ranked and runs[-1].policy_version == version == 2
    assert runs[-1].chunks_total == 0  # every open task had its score: re-ranked without rescoring
    by_uncertainty = _ranking(v1)
    assert by_uncertainty == sorted(by_uncertainty, reverse=True)
    # rare-class boost alone: the order turns round
    version = _change(client, csrf, pid, reason="rare classes first", weight_uncertainty=0.0, weight_class_boost=1.0)
    runs = _runs(pid)
    assert len(runs) == 2 and runs[-1].policy_version == version == 3
    assert _ranking(v1) == list(reversed(by_uncertainty))
    with session_scope() as session:
        top = session.scalar(select(Score).where(Score.model_version_id == v1, Score.rank == 1))
        assert top.strategy == "hybrid" and top.components["weight_class_boost"] == 1.0
    # the overview says which model and which policy version ranked the queue
    page = client.get(f"/projects/{pid}").text
    assert "ranked by model v1 under policy v3" in page and "sampling policy v3" in page


def test_a_change_of_strategy_is_used_by_the_next_ranking(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    (v1,) = scored_versions(pid, [0.5], tasks=5)
    csrf = login(client, "lead")
    _change(client, csrf, pid, reason="random for a control week", strategy="random")
    with session_scope() as session:
        scores = session.scalars(select(Score).where(Score.model_version_id == v1)).all()
        assert {s.strategy for s in scores} == {"random"}
    assert _runs(pid)[-1].policy_version == 2


def test_without_a_live_model_a_change_ranks_nothing_until_there_is_one(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    csrf = login(client, "lead")
    _change(client, csrf, pid, reason="before any model", weight_diversity=0.0)
    assert _runs(pid) == []
