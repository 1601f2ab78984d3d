from __future__ import annotations

from app.annotations.models import AnnotationStatus
from app.pagination import Page
from app.schemas import ReadModel, Timestamp


class AnnotationRead(ReadModel):
    id: int
    task_id: int
    version: int
    author_id: int
    status: AnnotationStatus
    seconds_spent: float
    labeled_pixels: int
    suggestion_fraction: float | None
    created_at: Timestamp


class SubmitRead(AnnotationRead):
    retrain_queued: bool


class AnnotationPage(Page[AnnotationRead]):
    """A page of a task's annotation versions, oldest first (app/pagination.py)."""
