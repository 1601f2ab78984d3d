"""Agreement rows (per task, per annotator pair, per class) and adjudications of disagreeing tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class PairAgreement(Base):
    """How two annotators' copies of one task agree on one class.

    Pixels of class c in copy A and in copy B (unlabeled pixels belong to no class); IoU and Dice are None
    when neither copy has the class (no evidence either way), and such rows are left out of summaries.
    user_a_id < user_b_id, so a pair reads the same whoever submitted first.
    """

    __tablename__ = "pair_agreement"
    __table_args__ = (UniqueConstraint("task_id", "user_a_id", "user_b_id", "class_index",
                                       name="uq_pair_agreement_task_id_user_a_id_user_b_id_class_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_a_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    user_b_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    annotation_a_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    annotation_b_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    class_index: Mapped[int]
    pixels_a: Mapped[int]
    pixels_b: Mapped[int]
    intersection: Mapped[int]
    iou: Mapped[float | None] = mapped_column(Float)
    dice: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskAgreement(Base):
    """A task's agreement in one number (mean IoU over its pairs and present classes) and its worst
    class: what the disagreement queue sorts and filters by."""

    __tablename__ = "task_agreement"

    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    copies: Mapped[int]
    mean_iou: Mapped[float] = mapped_column(Float)
    mean_dice: Mapped[float] = mapped_column(Float)
    worst_class_index: Mapped[int | None]
    worst_iou: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Adjudication(Base):
    """A lead's or admin's resolution of a task: the new annotation version it wrote, how, and why.

    method: "pick" (one copy as it is), "merge" (each class from a chosen copy), "redraw" (painted anew).
    sources: for pick {"annotation_id": id}; for merge {"classes": {class name: annotation id}}.
    """

    __tablename__ = "adjudication"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"))
    adjudicator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(String(16))
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rationale: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
