from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.jobs import progress
from app.jobs.models import JobRun, JobStatus
from app.pagination import Page
from app.schemas import Timestamp

KINDS = {"labelwise.import": "import", "labelwise.train": "training", "labelwise.simulate": "simulation",
         "labelwise.pretrain": "pretraining"}


class JobRead(BaseModel):
    """A tracked job: what it is, how far it got, how it ended."""

    id: int
    kind: str  # import, training, pretraining
    status: JobStatus
    done: int
    total: int | None
    percent: int | None
    message: str | None
    result: dict[str, Any] | None
    cancel_requested: bool
    started_by_id: int | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, run: JobRun) -> JobRead:
        now = progress.read(run)
        return cls(id=run.id, kind=KINDS.get(run.name, run.name), status=run.status, done=now.done, total=now.total,
                   percent=now.percent, message=now.message or run.last_error, result=run.result,
                   cancel_requested=run.cancel_requested_at is not None or (
                       run.status in progress.ACTIVE and progress.cancel_was_requested(run.job_id)),
                   started_by_id=run.started_by_id,
                   created_at=run.created_at, updated_at=run.updated_at)


class JobPage(Page[JobRead]):
    """A page of a project's tracked jobs, newest first (app/pagination.py)."""
