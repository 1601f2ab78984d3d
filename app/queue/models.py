from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class TaskStatus(enum.StrEnum):
    open = "open"  # in the queue
    done = "done"  # has a submitted annotation
    escalated = "escalated"  # flagged as ambiguous: waits for a lead or admin, out of the queue


class Task(Base):
    """The unit of the queue: an item, or a rectangular region of it."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    x: Mapped[int] = mapped_column(default=0)
    y: Mapped[int] = mapped_column(default=0)
    width: Mapped[int]
    height: Mapped[int]
    status: Mapped[TaskStatus] = mapped_column(
        Enum(TaskStatus, name="task_status", native_enum=False, length=16), default=TaskStatus.open, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def region(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.width, self.height)


class Lease(Base):
    """A task handed to one annotator until `expires_at`; rows are kept as history."""

    __tablename__ = "lease"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    released_at: Mapped[datetime | None]


class Score(Base):
    """A task's informativeness under one model version, with the parts it is made of."""

    __tablename__ = "score"
    __table_args__ = (UniqueConstraint("task_id", "model_version_id", name="uq_score_task_id_model_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"), index=True)
    value: Mapped[float] = mapped_column(Float)
    components: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Pooled trunk features of the task's region: what batch diversity is measured on when ranking.
    embedding: Mapped[list[float] | None] = mapped_column(JSON)
    strategy: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoringRunStatus(enum.StrEnum):
    scoring = "scoring"
    ranked = "ranked"
    failed = "failed"


class ScoringRun(Base):
    """One pass of scoring the open tasks with a model version, split into chunks for the workers."""

    __tablename__ = "scoring_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"))
    chunks_total: Mapped[int]
    chunks_done: Mapped[int] = mapped_column(default=0)
    tasks_total: Mapped[int]
    status: Mapped[ScoringRunStatus] = mapped_column(
        Enum(ScoringRunStatus, name="scoring_run_status", native_enum=False, length=16)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Skip(Base):
    """An annotator passed on a task, with why; that annotator is not handed it again."""

    __tablename__ = "skip"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(Base):
    """A task flagged as ambiguous; it sits in the escalation queue until a lead resolves it."""

    __tablename__ = "flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(String(2000))
