from __future__ import annotations

from pydantic import BaseModel, Field

from app.pagination import Page
from app.projects.models import ProjectRole
from app.schemas import ReadModel, Timestamp


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
    name: str | None = None
    description: str | None = None
    retrain_every: int | None = Field(default=None, ge=1, le=100_000)
    label_budget: int | None = Field(default=None, ge=1, le=100_000_000)
    validation_share: float | None = Field(default=None, ge=0.0, lt=1.0)
    strategy: str | None = None
    steered_share: float | None = None
    task_tile: int | None = None


class MemberIn(BaseModel):
    username: str
    role: ProjectRole | None = None  # default: from the user's global role


class MemberRoleIn(BaseModel):
    role: ProjectRole


class ClassesIn(BaseModel):
    classes: list[ClassIn]


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
    validation_share: float
    archived_at: Timestamp | None
    classes: list[ClassRead]


class MemberRead(BaseModel):
    project_id: int
    user_id: int
    username: str
    role: ProjectRole


class MemberPage(Page[MemberRead]):
    pass


class PolicyIn(BaseModel):
    """A policy change: the settings to change (the others keep their current values) and why."""

    reason: str = Field(max_length=500)
    strategy: str | None = None
    weight_uncertainty: float | None = None
    weight_diversity: float | None = None
    weight_class_boost: float | None = None
    steered_share: float | None = None
    task_tile: int | None = Field(default=None, description="pixels; 0 = whole images")
    retrain_trigger: str | None = Field(default=None, description="labels, schedule or both")
    retrain_every: int | None = None
    retrain_hours: float | None = Field(default=None, description="0 = no schedule")


class PolicyRead(ReadModel):
    version: int
    strategy: str
    weight_uncertainty: float
    weight_diversity: float
    weight_class_boost: float
    steered_share: float
    task_tile: int | None
    retrain_trigger: str
    retrain_every: int
    retrain_hours: float | None
    reason: str
    author_id: int | None
    created_at: Timestamp | None


class ProjectPage(Page[ProjectRead]):
    """A page of the caller's projects, by name (app/pagination.py)."""


class PolicyPage(Page[PolicyRead]):
    pass
