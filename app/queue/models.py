"""The queue: tasks (an item or a region of it), leases, skips, flags, and the lease holder's draft."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class TaskStatus(enum.StrEnum):
    open = "open"  # in the queue
    done = "done"  # has a submitted annotation
    escalated = "escalated"  # flagged as ambiguous: waits for a lead or admin, out of the queue


class Task(Base):
    """The unit of the queue: an item, or a rectangular region of it."""

    __tablename__ = "task"
    # Where the queue starts: this project's first open task (queue.service._queue_order).
    __table_args__ = (Index("ix_task_project_id_status_id", "project_id", "status", "id"),)

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
    # The live leases, which every lease reads (overlap.room_for, the held-task check): without it that
    # read scans the whole lease history.
    __table_args__ = (Index("ix_lease_live", "user_id", "task_id", postgresql_where=text("released_at IS NULL"),
                            sqlite_where=text("released_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    released_at: Mapped[datetime | None]


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


class Draft(Base):
    """The autosaved, unsubmitted mask of one annotator on one task (one row, replaced as they paint).

    Drafts are work in progress, not labels: training never reads them.
    """

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("task_id", "user_id", name="uq_draft_task_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    mask_path: Mapped[str] = mapped_column(String(500))
    seconds_spent: Mapped[float] = mapped_column(Float, default=0.0)
    client_token: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
