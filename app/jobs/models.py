"""Every delivery of a recorded job: how often it was attempted, and how it ended."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class JobStatus(enum.StrEnum):
    running = "running"
    done = "done"
    failed = "failed"  # will be retried
    dead = "dead"  # failed on its last attempt: nobody retries it; a person has to look


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
