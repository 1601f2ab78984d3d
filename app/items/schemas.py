from __future__ import annotations

from pydantic import BaseModel, Field

from app.items.models import Split
from app.pagination import Page
from app.schemas import ReadModel


class ItemRead(ReadModel):
    id: int
    name: str = Field(validation_alias="original_name")
    width: int
    height: int
    checksum: str
    split: Split


class UploadRead(BaseModel):
    items: list[ItemRead]


class ImportRead(BaseModel):
    kind: str  # images, images+masks, coco or labelstudio
    items: list[ItemRead]
    annotations: int  # starting annotations stored (one per task whose region a mask labels)


class ItemPage(Page[ItemRead]):
    """A page of a project's items, oldest first (app/pagination.py)."""
