"""Overlap: a project's rule for labeling tasks k times, which tasks drew it, and whose copies are in.

Kept apart from app/queue/models.py because these rows only matter to projects that turn overlap on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class OverlapPolicy(Base):
    """How many tasks a project has labeled independently by several annotators, and when the copies
    disagree enough to need an adjudicator. No row: overlap is off (every task labeled once)."""

    __tablename__ = "overlap_policy"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    # Share of tasks (0..1), drawn per task, that are labeled by `k` annotators.
    share: Mapped[float] = mapped_column(Float, default=0.0)
    k: Mapped[int] = mapped_column(default=2)
    # Every task whose calibrated uncertainty (mean normalized entropy, 0..1) is above this is
    # overlapped too; None: uncertainty does not route.
    uncertainty_threshold: Mapped[float | None] = mapped_column(Float)
    # Tasks whose copies agree less than this (mean per-class IoU, 0..1) go to the disagreement queue.
    agreement_threshold: Mapped[float] = mapped_column(Float, default=0.7)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OverlapTask(Base):
    """A task that drew overlap when it was first leased: it is done after `copies` submissions."""

    __tablename__ = "overlap_task"

    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    copies: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16))  # "share" or "uncertainty"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskCopy(Base):
    """One annotator's submitted copy of an overlap task. The unique pair is the rule 'never two copies to
    one annotator' written into the database."""

    __tablename__ = "task_copy"
    __table_args__ = (UniqueConstraint("task_id", "user_id", name="uq_task_copy_task_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # The annotation holding this copy (its latest version by this author); a plain id: the queue does
    # not depend on annotations.
    annotation_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
