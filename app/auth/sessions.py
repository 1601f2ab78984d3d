"""Server-side sessions: a row per login, looked up by the hash of the cookie's random id on every
request, so logout and a password change end a session at once. No HTTP here; app/security.py reads
and sets the cookie."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.auth.models import User, UserSession
from app.config import get_settings
from app.db import utcnow

# last_seen_at is written at most this often per session (the labeling page polls every few seconds).
TOUCH_EVERY = timedelta(seconds=60)


def new_token() -> str:
    """A session id: 256 random bits, 43 URL-safe characters."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start(*, session: Session, user: User, user_agent: str | None = None, address: str | None = None) -> str:
    """Open a session for `user`; returns the id for the cookie (only its hash is stored). Sessions that
    ended a lifetime ago (anyone's) are deleted on the way."""
    settings = get_settings()
    now = utcnow()
    session.execute(delete(UserSession).where(
        UserSession.created_at < now - timedelta(seconds=settings.session_lifetime_seconds)))
    token = new_token()
    session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                            user_agent=(user_agent or "")[:255] or None, address=(address or "")[:64] or None))
    session.flush()
    return token


def user_for(*, session: Session, token: str) -> User | None:
    """The active user of a live session: not revoked, younger than the lifetime, used within the idle
    timeout. Marks last_seen_at (at most once a minute; the caller commits)."""
    settings = get_settings()
    # The session and its user in one statement: every request of a logged-in browser runs this.
    found = session.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                            .where(UserSession.token_hash == token_hash(token))).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None:
        return None
    now = utcnow()
    if (now - row.created_at > timedelta(seconds=settings.session_lifetime_seconds)
            or now - row.last_seen_at > timedelta(seconds=settings.session_idle_seconds)):
        return None
    if not user.is_active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return user


def revoke(*, session: Session, token: str) -> None:
    session.execute(update(UserSession).where(UserSession.token_hash == token_hash(token),
                                              UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_all(*, session: Session, user_id: int) -> int:
    """End every session of a user; returns how many were live."""
    result = session.execute(update(UserSession).where(UserSession.user_id == user_id,
                                                       UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
