from __future__ import annotations

from pydantic import BaseModel, Field

from app.pagination import Page
from app.schemas import ReadModel


class ClassIn(BaseModel):
    name: str
    color: str


class ProjectIn(BaseModel):
    name: str
    classes: list[ClassIn]
    description: str = ""
    retrain_every: int = Field(default=10)
    strategy: str = "hybrid"
    steered_share: float = 0.1
    task_tile: int | None = None


class ProjectUpdate(BaseModel):
    description: str | None = None
    retrain_every: int | None = Field(default=None, ge=1, le=100_000)
    label_budget: int | None = Field(default=None, ge=0, le=100_000_000)
    strategy: str | None = None
    steered_share: float | None = None
    task_tile: int | None = None


class MemberIn(BaseModel):
    username: str


class ClassRead(ReadModel):
    index: int
    name: str
    color: str


class ProjectRead(ReadModel):
    id: int
    name: str
    description: str
    retrain_every: int
    label_budget: int | None
    strategy: str
    steered_share: float
    task_tile: int | None
    classes: list[ClassRead]


class MemberRead(BaseModel):
    project_id: int
    user_id: int


class ProjectPage(Page[ProjectRead]):
    """A page of the caller's projects, by name (app/pagination.py)."""
