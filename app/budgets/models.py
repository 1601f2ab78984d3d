"""A project's budget beyond its total in labels (Project.label_budget): hours, per day and per week, and
the daily caps of each annotator. Every limit is optional (None = no cap)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Budget(Base):
    __tablename__ = "budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), unique=True)
    # Estimated annotator hours: the measured active seconds of the labels (Annotation.seconds_spent).
    total_hours: Mapped[float | None] = mapped_column(Float)
    day_labels: Mapped[int | None]
    day_hours: Mapped[float | None] = mapped_column(Float)
    week_labels: Mapped[int | None]
    week_hours: Mapped[float | None] = mapped_column(Float)
    annotator_day_labels: Mapped[int | None]
    annotator_day_hours: Mapped[float | None] = mapped_column(Float)
    # The burn-down's plan: the total spent evenly from `plan_start` to `plan_end` (None: no plan line).
    plan_start: Mapped[date | None] = mapped_column(Date)
    plan_end: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
