"""Every delivery of a recorded job: how often it was attempted, and how it ended."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class JobStatus(enum.StrEnum):
    queued = "queued"  # a tracked job (app/jobs/progress.py) sent but not yet started
    running = "running"
    done = "done"
    failed = "failed"  # will be retried
    dead = "dead"  # failed on its last attempt: nobody retries it; a person has to look
    cancelled = "cancelled"  # a person asked it to stop; it stopped between two chunks, keeping nothing half-done


class JobRun(Base):
    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Celery's task id (kept across retries and redeliveries), or one made up by the in-process worker.
    job_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[JobStatus] = mapped_column(Enum(JobStatus, name="job_status", native_enum=False, length=16),
                                              index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Tracked jobs (started by a person, shown in the project's Jobs panel: app/jobs/progress.py).
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True,
                                                   default=None)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      default=None)
    progress_done: Mapped[int] = mapped_column(default=0, server_default="0")
    progress_total: Mapped[int | None] = mapped_column(default=None)
    message: Mapped[str | None] = mapped_column(String(500), default=None)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # what a tracked job reports back
