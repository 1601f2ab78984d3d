from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.pagination import Page
from app.schemas import ReadModel, Timestamp


class AlertSettingsIn(BaseModel):
    """Only the fields sent change; null clears a limit (not the drift threshold)."""

    max_open_age_seconds: int | None = None
    max_flag_seconds: int | None = None
    max_review_seconds: int | None = None
    throughput_floor_per_day: float | None = None
    webhook_url: str | None = None
    drift_threshold: float | None = None
    drift_boost: bool | None = None


class AlertSettingsRead(ReadModel):
    max_open_age_seconds: int | None
    max_flag_seconds: int | None
    max_review_seconds: int | None
    throughput_floor_per_day: float | None
    webhook_url: str | None
    drift_threshold: float
    drift_boost: bool


class BreachRead(ReadModel):
    id: int
    rule: str
    subject: str
    task_id: int | None
    user_id: int | None
    detail: dict[str, Any]
    opened_at: Timestamp
    last_seen_at: Timestamp
    closed_at: Timestamp | None


class AttemptRead(ReadModel):
    number: int
    status_code: int | None
    error: str | None
    duration_ms: float
    created_at: Timestamp


class DeliveryRead(ReadModel):
    id: int
    url: str
    status: str
    attempts: int
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    last_error: str | None
    created_at: Timestamp
    payload: dict[str, Any]
    attempt_log: list[AttemptRead] = []


class BreachPage(Page[BreachRead]):
    pass


class DeliveryPage(Page[DeliveryRead]):
    pass


class DriftRead(ReadModel):
    id: int
    model_version_id: int | None
    item_ids: list[int]
    reference_count: int
    embedding_shift: float
    score_shift: float
    threshold: float
    alert: bool
    created_at: Timestamp
