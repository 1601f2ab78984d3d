"""Gold tasks, the annotators' answers to them, returned tasks and quality scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class GoldTask(Base):
    """A region of an item with a known mask. Each annotator it is mixed in for answers its source task
    itself (an ordinary, older task of the project, with its own score): the answer is an annotation of
    status `gold` beside the task's real label, so every field the annotator sees is an ordinary task's."""

    __tablename__ = "gold_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    source_task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    x: Mapped[int]
    y: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    mask_path: Mapped[str] = mapped_column(String(500))  # the known mask, PNG of class ids (255 = unknown)
    # Promoted from this annotation, or None when the mask was uploaded.
    source_annotation_id: Mapped[int | None] = mapped_column(ForeignKey("annotation.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def region(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.width, self.height)


class GoldAnswer(Base):
    """One annotator's turn at a gold task (on its source task; before 2026-12-04, on a fresh copy task)
    and, once submitted, its score against the known mask."""

    __tablename__ = "gold_answer"
    __table_args__ = (UniqueConstraint("gold_task_id", "user_id", name="uq_gold_answer_gold_task_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gold_task_id: Mapped[int] = mapped_column(ForeignKey("gold_task.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    annotation_id: Mapped[int | None] = mapped_column(ForeignKey("annotation.id", ondelete="SET NULL"))
    per_class_iou: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # class index (str) -> IoU
    mean_iou: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scored_at: Mapped[datetime | None]


class TaskReturn(Base):
    """A task sent back to one annotator (a rejected review): first in their queue, nobody else's, until
    they submit it again, skip it, or `return_hold_seconds` pass."""

    __tablename__ = "task_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int | None] = mapped_column(index=True)  # plain id: this domain sits below review
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class QualityScore(Base):
    """An annotator's quality in a project: gold accuracy and agreement, each with its count of evidence,
    and the combined score shrunk toward a prior by little evidence (app/quality/scores.py)."""

    __tablename__ = "quality_score"
    __table_args__ = (UniqueConstraint("project_id", "user_id", name="uq_quality_score_project_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    gold_mean: Mapped[float | None] = mapped_column(Float)
    gold_count: Mapped[int] = mapped_column(default=0)
    agreement_mean: Mapped[float | None] = mapped_column(Float)
    agreement_count: Mapped[int] = mapped_column(default=0)
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
