from __future__ import annotations

from pydantic import BaseModel

from app.schemas import ReadModel, Timestamp


class GuidelineIn(BaseModel):
    text: str


class ConfirmIn(BaseModel):
    version: int


class ExampleRead(ReadModel):
    id: int
    caption: str
    width: int
    height: int
    image_url: str = ""


class GuidelineRead(BaseModel):
    version: int
    text: str
    html: str
    author_id: int | None
    created_at: Timestamp
    examples: list[ExampleRead]
    confirmed: bool  # by the asking user
