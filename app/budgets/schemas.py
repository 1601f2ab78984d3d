from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from app.schemas import Timestamp


class BudgetLimits(BaseModel):
    """The caps and the plan, as the lead sets them and as they are read back (None: no such cap)."""

    total_hours: float | None = None
    day_labels: int | None = None
    day_hours: float | None = None
    week_labels: int | None = None
    week_hours: float | None = None
    annotator_day_labels: int | None = None
    annotator_day_hours: float | None = None
    plan_start: date | None = None
    plan_end: date | None = None


class BudgetIn(BudgetLimits):
    """Fields left out stay as they are; null clears a cap. Checked in the service, which names the field."""

    model_config = ConfigDict(extra="forbid")

    label_budget: int | None = None


class CapRead(BaseModel):
    field: str
    name: str
    unit: str
    limit: float
    used: float
    reached: bool
    resets_at: Timestamp | None


class BudgetRead(BudgetLimits):
    project_id: int
    label_budget: int | None
    seconds_per_label: float | None
    caps: list[CapRead]  # for the caller: the per-annotator caps count their own labels


class BurnDownRead(BaseModel):
    unit: str
    total: float
    left: float
    days: list[date]
    spent: list[float]
    remaining: list[float]
    plan: list[float | None]
    pace_per_day: float
    forecast_date: date | None
    plan_end: date | None
