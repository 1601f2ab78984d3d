from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from app.auth.models import Role
from app.pagination import Page
from app.schemas import ReadModel, Timestamp


class UserRead(ReadModel):
    id: int
    username: str
    role: Role
    is_active: bool
    must_change_password: bool  # an admin set the password; the user must choose their own at next login
    created_at: Timestamp


class UserListRow(UserRead):
    projects: int
    last_login: Timestamp | None


class UserPage(Page[UserListRow]):
    total: int


class UserCreate(BaseModel):
    username: str = Field(max_length=64)
    role: Role = Role.annotator
    password: str | None = Field(default=None, max_length=256,
                                 description="leave out for a generated one, returned once")


class UserCreated(BaseModel):
    user: UserRead
    generated_password: str | None = Field(description="shown this once; null when the admin chose one")


class RoleIn(BaseModel):
    role: Role


class PasswordResetIn(BaseModel):
    password: str | None = Field(default=None, max_length=256,
                                 description="leave out for a generated one, returned once")


class PasswordResetOut(BaseModel):
    generated_password: str | None
    sessions_revoked: bool = True


class ProjectRef(ReadModel):
    id: int
    name: str


class UserDetail(UserRead):
    projects: list[ProjectRef]


class AuditEntry(ReadModel):
    id: int
    at: Timestamp
    user_id: int | None
    username: str | None = None
    project_id: int | None
    action: str
    entity: str
    entity_id: int | None
    detail: dict[str, Any]


class AuditPageRead(Page[AuditEntry]):
    newer: int | None = Field(description="pass as `after` for the newer page; null on the newest")
    older: int | None = Field(description="pass as `before` for the older page; null on the oldest")


class DayRead(BaseModel):
    day: date
    labels: int
    median_seconds: float | None


class ProjectActivity(BaseModel):
    project: ProjectRef
    labels: int
    skips: int
    flags: int


class SectionRead(BaseModel):
    key: str
    title: str
    has_data: bool
    message: str | None = Field(description="what the page says while there is no data")
    facts: dict[str, Any]


class ActivityRead(BaseModel):
    user: UserRead
    days: int
    labels: int
    labels_in_window: int
    timed_labels: int
    mean_seconds_per_label: float | None
    median_seconds_per_label: float | None
    skips: int
    flags: int
    open_flags: int
    projects: list[ProjectActivity]
    per_day: list[DayRead]
    sections: list[SectionRead]
