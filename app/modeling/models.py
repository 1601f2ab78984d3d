"""The model life cycle: versions (trained, calibrated), scoring runs over the open tasks, and each
task's score under a version."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class ModelStatus(enum.StrEnum):
    queued = "queued"
    training = "training"
    ready = "ready"
    failed = "failed"


class ModelVersion(Base):
    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_model_version_project_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    status: Mapped[ModelStatus] = mapped_column(
        Enum(ModelStatus, name="model_status", native_enum=False, length=16), index=True
    )
    weights_path: Mapped[str | None] = mapped_column(String(500))
    # {"per_class": {...}, "miou_fg": ..., "evaluated_on": n}; empty until trained.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    temperature: Mapped[float] = mapped_column(Float, default=1.0)
    trained_on: Mapped[list[int]] = mapped_column(JSON, default=list)  # annotation ids
    label_count: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Promotion: a ready version goes live (queue scored and ranked with it) unless it was worse on the
    # validation split than the live one beyond the margin; then it is held back until a lead promotes
    # it. The live version is the one that went live last (a rollback makes an older one live again).
    live_since: Mapped[datetime | None]
    held_back: Mapped[bool] = mapped_column(default=False)  # the migration gives old rows false
    # The shared image representation (the learning desk's pretrained trunk) it was built on; None = none.
    representation_version: Mapped[str | None] = mapped_column(String(64))

    @property
    def train_mode(self) -> str | None:
        """How it was trained (kept in metrics, so no column): "head" on the frozen representation, "finetune"
        from it, "scratch" end to end; None for versions from before this was recorded."""
        return (self.metrics or {}).get("train_mode")


class Score(Base):
    """A task's informativeness under one model version, with the parts it is made of."""

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("task_id", "model_version_id", name="uq_score_task_id_model_version_id"),
        # The queue walks a version's ranking in rank order (queue.service._queue_order).
        Index("ix_score_model_version_id_rank", "model_version_id", "rank"),
    )

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
    # A lead stopped it: its remaining chunks score nothing and it is never ranked; the queue keeps
    # following the ranking before it.
    cancelled = "cancelled"


class ScoringRun(Base):
    """One pass of scoring the open tasks with a model version, split into chunks for the workers."""

    __tablename__ = "scoring_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"))
    chunks_total: Mapped[int]
    chunks_done: Mapped[int] = mapped_column(default=0)
    tasks_total: Mapped[int]
    # The sampling policy version (its number in the project) the ranking used; set when ranked.
    policy_version: Mapped[int | None]
    status: Mapped[ScoringRunStatus] = mapped_column(
        Enum(ScoringRunStatus, name="scoring_run_status", native_enum=False, length=16)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
