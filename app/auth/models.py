from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Role(enum.StrEnum):
    annotator = "annotator"
    lead = "lead"
    admin = "admin"


ROLE_RANK = {Role.annotator: 0, Role.lead: 1, Role.admin: 2}


class User(Base):
    __tablename__ = "user_account"  # "user" is reserved in Postgres

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, name="role", native_enum=False, length=16))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Set when an admin generated or reset the password (the admin has seen it): every page but the
    # password change answers with it, and the API with 403, until the user chooses their own.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class UserSession(Base):
    """A login: the browser's cookie holds a random id, this row only its SHA-256 (a leaked table does not
    log anyone in). It ends when revoked (logout, password change), `session_lifetime_seconds` after
    login, or `session_idle_seconds` after its last request."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)
    address: Mapped[str | None] = mapped_column(String(64), default=None)


class LoginFailure(Base):
    """One failed login, kept for the throttling window (in the database, so every server process counts
    the same failures). `username` is lower-cased."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ApiToken(Base):
    """A personal API token (`Authorization: Bearer lw_...`): only its SHA-256 is kept, like a session's;
    `prefix` (the first characters) lets its owner tell tokens apart. It works until revoked, or until its
    user is deactivated."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
