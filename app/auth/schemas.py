from __future__ import annotations

from pydantic import BaseModel, Field

from app.auth.models import Role
from app.pagination import Page
from app.schemas import ReadModel, Timestamp


class LoginIn(BaseModel):
    username: str
    password: str


class SessionRead(BaseModel):
    """Who is logged in, with the CSRF token every state change must send back."""

    id: int
    username: str
    role: Role
    csrf_token: str
    # True after an admin set the password: every other API call answers 403 until it is changed.
    must_change_password: bool = False


class PasswordChangeIn(BaseModel):
    current_password: str
    new_password: str


class TokenIn(BaseModel):
    name: str = Field(description="what the token is for, e.g. 'training script'", max_length=64)


class TokenRead(ReadModel):
    """A token as listed: never the token itself (only its first characters, to tell tokens apart)."""

    id: int
    name: str
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None


class TokenCreated(TokenRead):
    token: str = Field(description="send as `Authorization: Bearer <token>`; shown this once, never again")


class TokenPage(Page[TokenRead]):
    """A page of the caller's API tokens, oldest first (app/pagination.py)."""
