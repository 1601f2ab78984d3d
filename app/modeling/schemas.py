from __future__ import annotations

from typing import Any

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


class ModelVersionPage(Page[ModelVersionRead]):
    """A page of a project's model versions, newest first (app/pagination.py)."""
