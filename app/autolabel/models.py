"""The lead's auto-accept policy per project, and the audit tasks drawn from what it accepts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class AutoAcceptPolicy(Base):
    """bar: the lowest confidence (expected foreground IoU of the suggestion, calibrated) a task needs for
    a machine label; audit_share: the share of those sent to humans instead, to measure the error."""

    __tablename__ = "auto_accept_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), unique=True)
    bar: Mapped[float] = mapped_column(Float)
    audit_share: Mapped[float] = mapped_column(Float)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MachineAudit(Base):
    """A task above the bar sent to humans: its machine label is kept here (not as an annotation) and
    compared with the human label when one arrives."""

    __tablename__ = "machine_audit"
    __table_args__ = (
        UniqueConstraint("task_id", "model_version_id", name="uq_machine_audit_task_id_model_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"))
    confidence: Mapped[float] = mapped_column(Float)
    # the human label that answered the audit, and the machine label's fg mIoU against it
    annotation_id: Mapped[int | None] = mapped_column(ForeignKey("annotation.id", ondelete="SET NULL"))
    miou_fg: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    audited_at: Mapped[datetime | None]
