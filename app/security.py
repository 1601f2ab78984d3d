"""Session secret, CSRF tokens, and the header-only checks run before a request body is read."""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request
from starlette.requests import HTTPConnection

from app.config import Settings

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def session_secret(settings: Settings) -> str:
    """The configured key, or one generated once and kept (0600) in the data directory."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def _csrf_matches(conn: HTTPConnection, given: str | None) -> bool:
    expected = conn.session.get("csrf")
    if not expected or not given:
        return False
    # As bytes: compare_digest refuses str with non-ASCII characters, which a hostile header can hold.
    return hmac.compare_digest(str(expected).encode(), str(given).encode("utf-8", "surrogatepass"))


def request_is_authenticated(conn: HTTPConnection) -> bool:
    """Whether the request carries a logged-in session, judged from its headers alone, so that it can be
    asked before the body is read (app/limits.py). The route's own dependencies still load the user."""
    return isinstance(conn.session.get("user_id"), int)


def csrf_header_valid(conn: HTTPConnection) -> bool:
    """Whether the X-CSRF-Token header carries the session's token (no form field: the body is unread)."""
    return _csrf_matches(conn, conn.headers.get(CSRF_HEADER))


async def csrf_protect(request: Request) -> None:
    """Router dependency: every state-changing request must carry the session's token."""
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not _csrf_matches(request, given):
        raise HTTPException(status_code=403, detail="missing or invalid CSRF token")
