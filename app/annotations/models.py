from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class AnnotationStatus(enum.StrEnum):
    submitted = "submitted"
    superseded = "superseded"  # a later version of the same task replaced it; the row stays
    # A machine label: the model's suggestion accepted above the lead's bar (app/autolabel). Never a
    # human label: not trained on, not counted among labels, not exported as one.
    machine = "machine"
    # An annotator's answer to a gold task, stored on the gold region's own task: it measures the
    # annotator (app/review/gold.py) and is never the task's label (not trained on, counted or exported).
    gold = "gold"


class Annotation(Base):
    """One version of a task's mask. Rows are only ever added, never overwritten."""

    __tablename__ = "annotation"
    __table_args__ = (
        UniqueConstraint("task_id", "version", name="uq_annotation_task_id_version"),
        UniqueConstraint("author_id", "client_token", name="uq_annotation_author_id_client_token"),
        # A project's labels counted without a join (a retrain check runs on every submit): through item,
        # Postgres chose a merge join whose cost it scaled by stale statistics and walked every item of
        # every project (1.1M rows, 1.5-1.9 s per submit; bench/README, "the 1M phase").
        Index("ix_annotation_project_id_status_created_at", "project_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))  # the item's, copied
    version: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    mask_path: Mapped[str] = mapped_column(String(500))  # PNG, pixel = class index, 255 = unlabeled
    seconds_spent: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[AnnotationStatus] = mapped_column(
        Enum(AnnotationStatus, name="annotation_status", native_enum=False, length=16)
    )
    labeled_pixels: Mapped[int] = mapped_column(default=0)
    # Which model version's suggestion was shown, and how much of the mask came from it.
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_version.id"))
    suggestion_fraction: Mapped[float | None] = mapped_column(Float)
    # Makes a retried submit idempotent: the same token returns the same annotation.
    client_token: Mapped[str | None] = mapped_column(String(64))
    # An adjudicator's resolution of disagreeing overlap copies (app/agreement): what training reads.
    adjudicated: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
