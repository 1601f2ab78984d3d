"""Personal API tokens: created by their user (account page, JSON API) or by `labelwise users token`,
shown once, hashed at rest like session ids (app/auth/sessions.py), revocable. No HTTP here;
app/security.py reads the Authorization header and app/deps.py asks `user_for`."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import ApiToken, User
from app.auth.sessions import token_hash
from app.db import utcnow
from app.errors import DomainError

PREFIX = "lw_"
# last_used_at is written at most this often per token (a script may call many times a second).
TOUCH_EVERY = timedelta(seconds=60)
MAX_NAME = 64


def new_token() -> str:
    """`lw_` and 256 random bits (43 URL-safe characters): recognisable in a leaked log or a secret scan."""
    return PREFIX + secrets.token_urlsafe(32)


def create(*, session: Session, user: User, name: str, by: str = "self") -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token itself (only its hash is stored, so this is
    the one time it can be shown). The caller commits."""
    clean = name.strip()
    if not clean or len(clean) > MAX_NAME or not clean.isprintable():
        raise DomainError(f"name: give the token a name of 1 to {MAX_NAME} printable characters")
    token = new_token()
    row = ApiToken(user_id=user.id, name=clean, token_hash=token_hash(token), prefix=token[:10], created_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session=session, action="api_token.create", entity="api_token", entity_id=row.id, user_id=user.id,
                 detail={"name": clean, "by": by})
    return row, token


def user_for(*, session: Session, token: str) -> User | None:
    """The active user a live token belongs to, or None (unknown, revoked, or its user deactivated).
    Marks last_used_at at most once a minute (the caller commits)."""
    if not token.startswith(PREFIX) or len(token) > 128:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return user


def of_user(*, session: Session, user_id: int, offset: int = 0, limit: int | None = None) -> Sequence[ApiToken]:
    """A user's tokens, revoked ones included (the page shows when), oldest first."""
    return session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
                           .offset(offset).limit(limit)).all()


def get(*, session: Session, user_id: int, token_id: int) -> ApiToken | None:
    row = session.get(ApiToken, token_id)
    return row if row is not None and row.user_id == user_id else None


def revoke(*, session: Session, row: ApiToken, by_user_id: int | None) -> None:
    """Revoke a token (again is a no-op). The caller commits."""
    if row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    audit.record(session=session, action="api_token.revoke", entity="api_token", entity_id=row.id,
                 user_id=by_user_id, detail={"name": row.name})
