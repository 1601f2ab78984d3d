"""The retraining trigger of the sampling policy: every N labels, on a schedule (a periodic job; the
in-process ticker in the embedded mode), or both; a retrain is followed by scoring and a ranking that
records the policy version."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from app.auth.models import User
from app.db import session_scope, utcnow
from app.flows import policy as policy_flow
from app.flows import submit
from app.jobs import current_in_process_worker, in_process_worker
from app.learning.welllog import generate_dataset
from app.modeling.models import ModelStatus, ModelVersion, ScoringRun, ScoringRunStatus
from app.projects import policy as policy_service
from app.projects.models import Project
from app.queue import service as queue_service
from app.queue.models import Task, TaskStatus
from tests.factories import make_project
from tests.scenes import labeled_chart_project, wait_for


def _set_policy(pid: int, **changes) -> int:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.get(User, project.created_by_id)
        return policy_flow.change_policy(session=session, project=project, user=lead, reason="test",
                                         **changes).version


def _label_next(pid: int, n: int) -> list[ModelVersion | None]:
    """Label the next `n` open tasks from the truth; the retrain each submit queued (or None)."""
    charts = generate_dataset(8, seed=5, size=64)
    out = []
    for _ in range(n):
        with session_scope() as session:
            project = session.get(Project, pid)
            lead = session.get(User, project.created_by_id)
            task = session.scalar(select(Task).where(Task.project_id == pid, Task.status == TaskStatus.open)
                                  .order_by(Task.id).limit(1))
            mask = charts[task.item_id - 1][1].astype(np.uint8)
            out.append(submit.submit_label(session=session, project=project, task=task, user=lead, mask=mask).retrain)
    return out


def _versions(pid: int) -> list[ModelVersion]:
    with session_scope() as session:
        return list(session.scalars(select(ModelVersion).where(ModelVersion.project_id == pid)
                                    .order_by(ModelVersion.version)))


def _ranked_run(pid: int) -> ScoringRun | None:
    with session_scope() as session:
        return session.scalar(select(ScoringRun).where(ScoringRun.project_id == pid,
                                                       ScoringRun.status == ScoringRunStatus.ranked))


@pytest.mark.slow  # trains and scores a (tiny) model
def test_a_retrain_fires_after_n_labels_and_re_ranks_under_the_policy(env):
    pid = labeled_chart_project(n=8, labeled=2)
    # N = 4 labels since the last version (here: since the start, 2 labeled already)
    version = _set_policy(pid, retrain_every=4, steered_share=0.0)
    assert _label_next(pid, 1) == [None] and _versions(pid) == []  # 3 of 4: nothing yet
    (queued,) = _label_next(pid, 1)
    assert queued is not None
    assert in_process_worker().wait_idle(timeout=240)
    (mv,) = _versions(pid)
    assert mv.id == queued.id and mv.status == ModelStatus.ready and mv.live_since is not None
    run = _ranked_run(pid)
    assert run is not None and run.model_version_id == mv.id and run.policy_version == version
    with session_scope() as session:
        project = session.get(Project, pid)
        ranked = queue_service.list_queue(session=session, project=project, limit=10)
        assert ranked and all(e.score is not None and e.score.rank for e in ranked)


@pytest.mark.slow  # trains and scores a (tiny) model
def test_on_a_schedule_only_labels_do_not_trigger_and_the_ticker_does(env):
    from app.jobs.periodic import Ticker

    pid = labeled_chart_project(n=8, labeled=2)
    _set_policy(pid, retrain_every=1, retrain_trigger="schedule", retrain_hours=1.0)
    assert _label_next(pid, 2) == [None, None]
    ticker = Ticker({"labelwise.scheduled_retrain": 0.05}).start()  # what the app starts in embedded mode
    try:
        wait_for(lambda: _versions(pid), timeout=30, what="the scheduled retrain")
    finally:
        ticker.stop()
    worker = current_in_process_worker()
    assert worker is not None and worker.wait_idle(timeout=240)
    (mv,) = _versions(pid)
    assert mv.status == ModelStatus.ready and _ranked_run(pid) is not None
    with session_scope() as session:
        from app.audit.models import AuditLog

        reason = session.scalar(select(AuditLog.detail).where(AuditLog.action == "model.queue"))
        assert reason["reason"].startswith("scheduled (every 1 h)")
    # within the hour nothing is due again; past it, only once new labels came
    assert policy_flow.scheduled_retrain() == []
    with session_scope() as session:
        project = session.get(Project, pid)
        policy = policy_service.current(session=session, project=project)
        later = utcnow() + timedelta(hours=2)
        assert policy_flow.retrain_due(session=session, project=project, policy=policy, now=later) == (False, 0)
    _label_next(pid, 1)
    with session_scope() as session:
        project = session.get(Project, pid)
        policy = policy_service.current(session=session, project=project)
        assert policy_flow.retrain_due(session=session, project=project, policy=policy, now=later) == (True, 1)
        assert policy_flow.retrain_due(session=session, project=project, policy=policy)[0] is False


def test_both_triggers_retrain_on_labels_too(env, monkeypatch):
    from app.flows import training

    monkeypatch.setattr(training, "enqueue", lambda *job: None)  # queued is enough here: no training
    pid = labeled_chart_project(n=8, labeled=2)
    _set_policy(pid, retrain_every=1, retrain_trigger="both", retrain_hours=24.0)
    (queued,) = _label_next(pid, 1)
    assert queued is not None and [v.status for v in _versions(pid)] == [ModelStatus.queued]


def test_the_beat_schedule_runs_the_scheduled_retrain():
    from workers.celery_app import celery_app
    from workers.schedule import BEAT_SCHEDULE

    assert any(e["task"] == "labelwise.scheduled_retrain" for e in BEAT_SCHEDULE.values())
    assert "labelwise.scheduled_retrain" in celery_app.tasks  # a worker runs what beat sends


def test_the_scheduled_job_queues_only_projects_that_are_due(env, backend, monkeypatch):
    from app.flows import training

    monkeypatch.setattr(training, "enqueue", lambda *job: None)  # queued is enough here: no training
    due = labeled_chart_project(n=4, labeled=2)
    _set_policy(due, retrain_trigger="schedule", retrain_hours=6.0)
    on_labels = make_project(name="labels-only", owner="lead")  # labels trigger only: never scheduled
    assert policy_flow.scheduled_retrain() != []
    assert [v.status for v in _versions(due)] == [ModelStatus.queued] and _versions(on_labels) == []
    assert policy_flow.scheduled_retrain() == []  # one is queued already: not again


def test_the_embedded_ticker_runs_every_job_beat_runs():
    """The embedded mode has no beat: its ticker must send the same periodic jobs (it had missed the
    expired-lease sweep), and the in-process worker must know each of them."""
    import app.models  # noqa: F401 - registers every job
    from app.jobs import REGISTRY
    from app.jobs.periodic import PERIODIC
    from workers.schedule import BEAT_SCHEDULE

    assert {entry["task"] for entry in BEAT_SCHEDULE.values()} == set(PERIODIC)
    assert set(PERIODIC) <= set(REGISTRY)
