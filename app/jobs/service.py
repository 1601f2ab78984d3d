"""Recording a job's attempts, so a job that keeps failing ends in a dead-letter state, not a loop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs.models import JobRun, JobStatus

MAX_ATTEMPTS = 3


def begin_attempt(*, session: Session, job_id: str, name: str, args: list[Any]) -> JobRun | None:
    """Count one more attempt; None when the job must not run (done already, or out of attempts: then
    it is marked dead)."""
    run = session.scalar(select(JobRun).where(JobRun.job_id == job_id).with_for_update())
    if run is None:
        run = JobRun(job_id=job_id, name=name, args=args, status=JobStatus.running, attempts=0)
        session.add(run)
    if run.status in (JobStatus.done, JobStatus.dead, JobStatus.cancelled):
        return None
    if run.attempts >= MAX_ATTEMPTS:  # redelivered after the worker died on its last attempt
        run.status, run.updated_at = JobStatus.dead, utcnow()
        run.last_error = run.last_error or "the worker stopped during every attempt"
        return None
    run.attempts += 1
    run.status, run.updated_at = JobStatus.running, utcnow()
    return run


def finish(*, session: Session, job_id: str) -> None:
    """Done, unless the job itself ended its row otherwise (a tracked job that refused its input)."""
    run = session.scalar(select(JobRun).where(JobRun.job_id == job_id))
    if run is not None and run.status == JobStatus.running:
        run.status, run.updated_at = JobStatus.done, utcnow()


def fail(*, session: Session, job_id: str, error: str) -> JobStatus:
    """Record a failed attempt; dead after the last one. Returns the status it ends in."""
    run = session.scalar(select(JobRun).where(JobRun.job_id == job_id))
    if run is None:
        return JobStatus.failed
    run.status = JobStatus.dead if run.attempts >= MAX_ATTEMPTS else JobStatus.failed
    run.last_error, run.updated_at = error[:4000], utcnow()
    return run.status
