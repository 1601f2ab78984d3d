"""The lead's alerting: SLA limits and the webhook per project, the breaches found, every webhook
delivery and each of its attempts, and the drift checks of newly arrived images."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class AlertSettings(Base):
    """One row per project; a limit left empty is not checked."""

    __tablename__ = "alert_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), unique=True)
    max_open_age_seconds: Mapped[int | None]  # an open task waits in the queue at most this long
    max_flag_seconds: Mapped[int | None]  # from a flag to its resolution
    max_review_seconds: Mapped[int | None]  # from a submit to its review
    # labels per annotator over the last 24 h, counted for annotators who worked in them
    throughput_floor_per_day: Mapped[float | None] = mapped_column(Float)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    drift_threshold: Mapped[float] = mapped_column(Float, default=0.5)
    drift_boost: Mapped[bool] = mapped_column(default=False)  # rank a drifted batch's tasks higher
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaBreach(Base):
    """A rule broken by one subject (a task, a flag, an annotation, an annotator); open while it lasts."""

    __tablename__ = "sla_breach"
    __table_args__ = (Index("ix_sla_breach_project_id_closed_at", "project_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))  # "task:12", "flag:3", "user:5"
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # not yet delivered; retried at next_attempt_at
    delivered = "delivered"
    dead = "dead"  # out of attempts


class WebhookDelivery(Base):
    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, name="delivery_status", native_enum=False, length=16), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DriftCheck(Base):
    """A batch of new pool images compared with the labeled set under one model version."""

    __tablename__ = "drift_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_version.id", ondelete="SET NULL"))
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the new batch
    reference_count: Mapped[int] = mapped_column(default=0)
    embedding_shift: Mapped[float] = mapped_column(Float)
    score_shift: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    alert: Mapped[bool] = mapped_column(default=False)
    newest_item_id: Mapped[int]  # the next check looks at items after this one
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
