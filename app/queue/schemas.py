from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.pagination import Page
from app.schemas import ReadModel


class SkipIn(BaseModel):
    reason: str


class FlagIn(BaseModel):
    note: str


class ResolveIn(BaseModel):
    resolution: str


class ScoreRead(ReadModel):
    """Why a task sits where it does in the queue: its score under the ranking version, and the parts."""

    value: float
    rank: int | None
    strategy: str
    model_version_id: int
    components: dict[str, Any]


class Region(BaseModel):
    x: int
    y: int
    width: int
    height: int


class ImageRef(BaseModel):
    width: int
    height: int
    url: str


class SuggestionRef(BaseModel):
    model_version_id: int
    mask_url: str
    uncertainty_url: str


class DraftRef(BaseModel):
    url: str
    seconds_spent: float
    client_token: str | None
    updated_at: str


class TaskRead(BaseModel):
    id: int
    item_id: int
    status: str
    region: Region
    image: ImageRef
    lease_expires_at: str | None
    why: ScoreRead | None
    suggestion: SuggestionRef | None
    draft: DraftRef | None
    superpixels_url: str


class QueueEntryRead(BaseModel):
    task_id: int
    item_id: int
    leased: bool
    why: ScoreRead | None


class QueueRead(Page[QueueEntryRead]):
    """A page of the queue, best-ranked first (app/pagination.py), and the version it is ranked by."""

    model_version_id: int | None


class DraftSaved(BaseModel):
    saved_at: str
