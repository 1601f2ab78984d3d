"""A training cancelled while it waited for a worker ends failed, and does not block the next one: its job
never runs its body (app.jobs.execute settles it first), so the version it queued would otherwise stay
queued and every later request would be answered "already queued"."""

from __future__ import annotations

from sqlalchemy import select

from app import jobs
from app.db import session_scope
from app.jobs import progress
from app.jobs.models import JobRun, JobStatus
from app.modeling.models import ModelStatus, ModelVersion
from app.projects.models import Project
from tests.scenes import labeled_chart_project


def _queue(pid: int) -> tuple[int | None, str | None]:
    from app.flows import training

    with session_scope() as session:
        mv = training.request_training(session=session, project=session.get(Project, pid), reason="test")
        if mv is None:
            return None, None
        run = progress.track(session=session, name="labelwise.train", args=[mv.id], project_id=pid, user_id=None)
        return mv.id, run.job_id


def test_a_training_cancelled_before_it_started_ends_failed_and_the_next_one_queues(env) -> None:  # type: ignore[no-untyped-def]
    pid = labeled_chart_project(n=4, labeled=2)
    first, job_id = _queue(pid)
    assert first is not None and job_id is not None
    assert _queue(pid) == (None, None)  # while the first waits, a second request is refused
    with session_scope() as session:
        progress.request_cancel(run=session.scalar(select(JobRun).where(JobRun.job_id == job_id)), user_id=None)
    assert jobs.execute("labelwise.train", (first,), job_id=job_id) is None  # settled, the body never ran
    with session_scope() as session:
        assert session.get(ModelVersion, first).status == ModelStatus.queued  # what blocked the next one
        assert session.scalar(select(JobRun).where(JobRun.job_id == job_id)).status == JobStatus.cancelled
    second, _ = _queue(pid)
    assert second is not None and second != first
    with session_scope() as session:
        stopped = session.get(ModelVersion, first)
        assert (stopped.status, stopped.error) == (ModelStatus.failed, "cancelled")
        assert session.get(ModelVersion, second).status == ModelStatus.queued
