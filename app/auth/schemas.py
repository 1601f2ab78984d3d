from __future__ import annotations

from pydantic import BaseModel

from app.auth.models import Role


class LoginIn(BaseModel):
    username: str
    password: str


class SessionRead(BaseModel):
    """Who is logged in, with the CSRF token every state change must send back."""

    id: int
    username: str
    role: Role
    csrf_token: str


class PasswordChangeIn(BaseModel):
    current_password: str
    new_password: str
