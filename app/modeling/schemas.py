from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.modeling.models import ModelStatus
from app.pagination import Page
from app.schemas import ReadModel, Timestamp


class ModelVersionRead(ReadModel):
    id: int
    version: int
    status: ModelStatus
    metrics: dict[str, Any]
    temperature: float
    label_count: int
    error: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    held_back: bool = False  # worse than the live version on validation: kept, not live
    live_since: Timestamp | None = None
    representation_version: str | None = None
    train_mode: str | None = None  # head (frozen representation + light head), finetune, scratch
    state: str | None = None  # live, held back, ready, or the status (set by routes that know the live one)


class MakeLiveIn(BaseModel):
    reason: str = Field(default="", max_length=500)


class ModelVersionPage(Page[ModelVersionRead]):
    """A page of a project's model versions, newest first (app/pagination.py)."""
