"""Login throttling: failed logins are counted per user name and per client address over a sliding
window (settings login_window_seconds, login_max_failures_per_name, login_max_failures_per_address).

The failures live in the database, so every server process (uvicorn workers, several hosts) counts the
same ones. A login refused here never checks the password (no scrypt work for a flood) and is not
itself counted, so the refusal ends `window` after the failures that caused it. A successful login
forgets only the failures of that name from that address: an attacker's failures elsewhere keep
counting."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.auth.models import LoginFailure
from app.config import get_settings
from app.db import utcnow
from app.errors import TooManyRequests


def _key(text: str) -> str:
    """At most 64 characters any database can store (no NUL, no lone surrogate)."""
    return text.encode("utf-8", "replace").decode().replace("\x00", "?")[:64]


def _name_key(username: str) -> str:
    return _key(username.lower())


def _address_key(address: str) -> str:
    return _key(address)


def _limit_th_newest(session: Session, column: Any, key: str, limit: int, since: datetime) -> datetime | None:
    """The time of the limit-th newest failure for `key` since `since`, if there are that many: the
    refusal lasts until it leaves the window."""
    return session.scalar(select(LoginFailure.created_at).where(column == key, LoginFailure.created_at > since)
                          .order_by(LoginFailure.created_at.desc()).offset(limit - 1).limit(1))


def check(*, session: Session, username: str, address: str) -> None:
    """Raise TooManyRequests (429, with Retry-After) when the name or the address has failed too often."""
    settings = get_settings()
    window = timedelta(seconds=settings.login_window_seconds)
    now = utcnow()
    for column, key, limit, what in (
        (LoginFailure.username, _name_key(username), settings.login_max_failures_per_name, "for this user name"),
        (LoginFailure.address, _address_key(address), settings.login_max_failures_per_address, "from this address"),
    ):
        nth = _limit_th_newest(session, column, key, limit, now - window)
        if nth is not None:
            wait = math.ceil((nth + window - now).total_seconds())
            raise TooManyRequests(f"too many failed logins {what}; try again in {_in_words(wait)}", retry_after=wait)


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' * (seconds != 1)}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' * (minutes != 1)}"


def record_failure(*, session: Session, username: str, address: str) -> None:
    settings = get_settings()
    now = utcnow()
    session.execute(delete(LoginFailure).where(
        LoginFailure.created_at < now - timedelta(seconds=settings.login_window_seconds)))
    session.add(LoginFailure(username=_name_key(username), address=_address_key(address), created_at=now))
    session.flush()


def forget(*, session: Session, username: str, address: str) -> None:
    """After a successful login: this name's failures from this address no longer count."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == _name_key(username),
                                               LoginFailure.address == _address_key(address)))
