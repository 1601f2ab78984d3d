"""A new model version goes live only if it is not worse on the validation split than the live one
beyond the margin; a held-back version can be promoted, an earlier one rolled back to, and the queue is
rescored and re-ranked with the version that goes live."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditLog
from app.db import session_scope
from app.jobs import current_in_process_worker
from app.modeling import promotion
from app.modeling import service as model_service
from app.modeling.models import ModelStatus, ModelVersion, ScoringRun, ScoringRunStatus
from tests.factories import login, make_project, make_user
from tests.scenes import labeled_chart_project, scored_versions


@pytest.fixture
def margin(monkeypatch: pytest.MonkeyPatch) -> float:
    from app.config import get_settings

    monkeypatch.setenv("LABELWISE_PROMOTION_MARGIN", "0.01")
    get_settings.cache_clear()
    return 0.01


def _fake_fit(miou: float):  # type: ignore[no-untyped-def]
    from app.modeling.training import FitResult

    def fit(*args, **kwargs):  # type: ignore[no-untyped-def]
        return FitResult(model=None, model_config=None, temperature=1.2,
                         metrics={"miou_fg": miou, "evaluated_on": 2, "train_seconds": 0.1, "class_weights": []})
    return fit


def _train_against_a_live_v1(monkeypatch: pytest.MonkeyPatch, new_miou: float) -> tuple[int, int, list[int]]:
    """v1 live at fg mIoU 0.60; v2 trained (training stubbed) to `new_miou`. Returns (v1, v2, the versions
    whose scoring was started)."""
    from app.flows import scoring, training
    from app.modeling import training as model_training
    from app.projects.models import Project

    pid = labeled_chart_project(n=4, labeled=2)
    with session_scope() as session:
        v1 = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready, metrics={"miou_fg": 0.60},
                          label_count=1)
        session.add(v1)
        session.flush()
        promotion.apply_gate(session=session, mv=v1, margin=0.01)
        v2 = training.request_training(session=session, project=session.get(Project, pid), reason="test")
        ids = v1.id, v2.id
    started: list[int] = []
    monkeypatch.setattr(model_training, "fit", _fake_fit(new_miou))
    monkeypatch.setattr(model_training, "save_weights", lambda result, project_id, version: "none.pt")
    monkeypatch.setattr(scoring, "start_scoring", lambda mv_id: started.append(mv_id) or (0, 0))
    training.run_training(ids[1])
    return ids[0], ids[1], started


def test_a_worse_version_is_kept_but_held_back_and_the_queue_keeps_the_live_one(env, margin, monkeypatch):
    v1, v2, started = _train_against_a_live_v1(monkeypatch, new_miou=0.58)
    with session_scope() as session:
        mv = session.get(ModelVersion, v2)
        assert mv.status == ModelStatus.ready and mv.held_back and mv.live_since is None
        assert mv.metrics["gate"]["passed"] is False and "worse than v1's 0.600" in mv.metrics["gate"]["reason"]
        assert promotion.live_version(session=session, project_id=mv.project_id).id == v1
        assert session.scalar(select(AuditLog.action).where(AuditLog.entity_id == v2,
                                                            AuditLog.action == "model.hold")) == "model.hold"
    assert started == []  # not scored: nothing of the queue changes


def test_a_version_within_the_margin_goes_live_and_scores_the_queue(env, margin, monkeypatch):
    v1, v2, started = _train_against_a_live_v1(monkeypatch, new_miou=0.595)
    with session_scope() as session:
        mv = session.get(ModelVersion, v2)
        assert not mv.held_back and mv.live_since is not None and mv.metrics["gate"]["passed"] is True
        assert promotion.live_version(session=session, project_id=mv.project_id).id == v2
    assert started == [v2]


def test_the_gate_judges_by_the_margin():
    def version(n: int, miou: float | None) -> ModelVersion:
        return ModelVersion(version=n, status=ModelStatus.ready, metrics={} if miou is None else {"miou_fg": miou})

    assert promotion.judge(version(2, 0.40), None, 0.01).passed
    assert promotion.judge(version(2, 0.391), version(1, 0.40), 0.01).passed
    assert not promotion.judge(version(2, 0.389), version(1, 0.40), 0.01).passed
    assert promotion.judge(version(2, 0.10), version(1, 0.40), 0.5).passed
    assert promotion.judge(version(2, None), version(1, 0.40), 0.01).passed  # nothing to compare: says so
    assert "no validation score" in promotion.judge(version(2, None), version(1, 0.40), 0.01).reason


def _make_live(client, csrf: str, pid: int, mv_id: int, action: str, **body):  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/projects/{pid}/models/{mv_id}/{action}", headers={"X-CSRF-Token": csrf},
                    json={"reason": "checked the masks", **body})
    worker = current_in_process_worker()
    assert worker is not None and worker.wait_idle(timeout=60)
    return r


def test_rollback_and_promote_switch_the_live_model_and_re_rank_the_queue(client, backend):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    v1, v2, v3 = scored_versions(pid, [0.50, 0.55, 0.40], tasks=5, held_back=(3,))
    csrf = login(client, "lead")
    states = {m["version"]: m["state"] for m in client.get(f"/api/v1/projects/{pid}/models").json()["items"]}
    assert states == {1: "ready", 2: "live", 3: "held back"}

    r = _make_live(client, csrf, pid, v1, "rollback")
    assert r.status_code == 200 and r.json()["state"] == "live"
    with session_scope() as session:
        assert promotion.live_version(session=session, project_id=pid).id == v1
        run = session.scalar(select(ScoringRun).where(ScoringRun.project_id == pid).order_by(ScoringRun.id.desc()))
        assert run.model_version_id == v1 and run.status == ScoringRunStatus.ranked
        assert model_service.ranked_model_version_id(session=session, project_id=pid) == v1  # the queue follows
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "model.rollback"))
        assert entry.entity_id == v1 and entry.user_id is not None and entry.detail["was_live"] == 2
        assert entry.detail["reason"] == "checked the masks"

    r = _make_live(client, csrf, pid, v3, "promote")
    assert r.status_code == 200
    states = {m["version"]: m["state"] for m in client.get(f"/api/v1/projects/{pid}/models").json()["items"]}
    assert states == {1: "ready", 2: "ready", 3: "live"}
    with session_scope() as session:
        assert model_service.ranked_model_version_id(session=session, project_id=pid) == v3
        assert session.scalar(select(AuditLog.entity_id).where(AuditLog.action == "model.promote")) == v3


def test_a_rollback_rescores_the_tasks_the_version_has_not_scored(client, monkeypatch):
    from app.flows import scoring

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    v1, _v2 = scored_versions(pid, [0.50, 0.55], tasks=3)
    _more_tasks(pid, 2)  # new images since v1 was live: v1 has no score for them
    sent: list[tuple] = []
    monkeypatch.setattr(scoring, "enqueue", lambda *job: sent.append(job))
    csrf = login(client, "lead")
    assert _make_live(client, csrf, pid, v1, "rollback").status_code == 200
    with session_scope() as session:
        run = session.scalar(select(ScoringRun).where(ScoringRun.model_version_id == v1))
        assert run.tasks_total == 2 and run.status == ScoringRunStatus.scoring
    assert [job[0] for job in sent] == ["labelwise.score"] and len(sent[0][2]) == 2


def _more_tasks(pid: int, n: int) -> None:
    from app.db import utcnow
    from app.items.models import Item, Split
    from app.queue.models import Task, TaskStatus

    with session_scope() as session:
        for i in range(n):
            item = Item(project_id=pid, original_name=f"new{i}.png", storage_path=f"missing/new{i}.png", width=8,
                        height=8, checksum=f"new-{pid}-{i}", split=Split.pool, created_at=utcnow())
            session.add(item)
            session.flush()
            session.add(Task(project_id=pid, item_id=item.id, x=0, y=0, width=8, height=8, status=TaskStatus.open))


@pytest.mark.parametrize(("target", "action", "status", "words"), [
    (2, "promote", 409, "live already"),
    (3, "rollback", 409, "promote it instead"),
    (1, "promote", 409, "roll back to it instead"),
])
def test_refused_switches_change_nothing(client, target, action, status, words):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    ids = scored_versions(pid, [0.5, 0.6, 0.4], tasks=2, live=2, held_back=(3,))
    csrf = login(client, "lead")
    r = _make_live(client, csrf, pid, ids[target - 1], action)
    assert r.status_code == status and words in r.json()["detail"]
    with session_scope() as session:
        assert promotion.live_version(session=session, project_id=pid).id == ids[1]
        assert session.scalar(select(ScoringRun.id).where(ScoringRun.project_id == pid)) is None


def test_only_leads_switch_versions_and_only_in_their_projects(client):
    make_user("lead", "lead")
    make_user("ann")
    make_user("other", "lead")
    pid = make_project(owner="lead", members=("ann",))
    v1, _ = scored_versions(pid, [0.5, 0.6], tasks=2)
    csrf = login(client, "ann")
    assert _make_live(client, csrf, pid, v1, "rollback").status_code == 403
    csrf = login(client, "other")
    assert _make_live(client, csrf, pid, v1, "rollback").status_code == 404
    csrf = login(client, "lead")
    assert _make_live(client, csrf, pid, 999_999, "rollback").status_code == 404


def test_versions_from_before_promotions_were_recorded_gate_the_next_one(env, backend, margin):
    """No live_since anywhere (an upgraded database): the newest ready version is the live one."""
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    with session_scope() as session:
        old = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready, metrics={"miou_fg": 0.5})
        new = ModelVersion(project_id=pid, version=2, status=ModelStatus.ready, metrics={"miou_fg": 0.3})
        session.add_all([old, new])
        session.flush()
        assert not promotion.apply_gate(session=session, mv=new, margin=margin).passed
        assert promotion.live_version(session=session, project_id=pid).id == old.id
