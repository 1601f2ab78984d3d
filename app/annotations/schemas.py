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


def as_author_sees(read: AnnotationRead) -> AnnotationRead:
    """What an annotator reads of their own version: a gold answer reads as any first submitted label (its
    stored version follows the source task's labels; its author never labeled that task before)."""
    if read.status == AnnotationStatus.gold:
        return read.model_copy(update={"status": AnnotationStatus.submitted, "version": 1})
    return read


class SubmitRead(AnnotationRead):
    retrain_queued: bool


class AnnotationPage(Page[AnnotationRead]):
    """A page of a task's annotation versions, oldest first (app/pagination.py)."""
