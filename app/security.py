"""The session cookie, the signing secret and CSRF tokens.

The cookie `labelwise_session` carries only a random id (HttpOnly, SameSite=Lax, Secure per
`cookie_secure`). Every visitor gets one; a login replaces it with a new id that names a row of
user_session (app/auth/sessions.py), so a logged-out or anonymous id logs nobody in. The CSRF token is
an HMAC of the id under the secret key: bound to this browser's cookie, unguessable without it, and new
after every login and logout. `request_is_authenticated` and `csrf_header_valid` judge a request from its
headers alone, before its body is read (app/limits.py, for the file routes).

A request with `Authorization: Bearer <token>` (app/auth/tokens.py) is judged by its token alone, never by
its cookie: CSRF does not apply to it (a cross-site page cannot set that header, and the request carries no
ambient credential), and a bad token is a 401 even when a good cookie came along.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Literal

from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSION_COOKIE = "labelwise_session"
_SCOPE_KEY = "labelwise.cookie"
_ID_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


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


@dataclass
class CookieSession:
    """This request's session id; `replace` sends a new one back (login, logout, password change)."""

    value: str
    secret: bytes
    incoming: str | None
    max_age: int | None = None

    def replace(self, value: str, *, max_age: int | None) -> None:
        self.value, self.max_age = value, max_age


def cookie_session(request: HTTPConnection) -> CookieSession | None:
    found = request.scope.get(_SCOPE_KEY)
    return found if isinstance(found, CookieSession) else None


def session_id(request: Request) -> str | None:
    """The id the browser sent (or was just given); look it up to find the user."""
    found = cookie_session(request)
    return found.value if found is not None else None


def set_session_id(request: Request, value: str, *, max_age: int | None) -> None:
    found = cookie_session(request)
    assert found is not None, "SessionCookieMiddleware is not installed"
    found.replace(value, max_age=max_age)


class SessionCookieMiddleware:
    """Pure ASGI (nothing is buffered): reads the cookie, hands a CookieSession to the request, and sets
    the cookie on the response when the id is new or was replaced."""

    def __init__(self, app: ASGIApp, *, secret: str, secure: Literal["auto"] | bool) -> None:
        self.app, self.secret, self.secure = app, secret.encode(), secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _read_cookie(scope)
        state = CookieSession(value=incoming or secrets.token_urlsafe(32), secret=self.secret, incoming=incoming)
        scope[_SCOPE_KEY] = state
        secure = scope.get("scheme") == "https" if self.secure == "auto" else bool(self.secure)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.value != state.incoming:
                parts = [f"{SESSION_COOKIE}={state.value}", "Path=/", "HttpOnly", "SameSite=Lax"]
                if state.max_age is not None:
                    parts.append(f"Max-Age={state.max_age}")
                if secure:
                    parts.append("Secure")
                MutableHeaders(scope=message).append("set-cookie", "; ".join(parts))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _read_cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header: as if none was sent
                continue
            morsel = cookie.get(SESSION_COOKIE)
            if morsel is not None and _ID_RE.fullmatch(morsel.value):
                return morsel.value
    return None


def csrf_token(request: HTTPConnection) -> str:
    state = cookie_session(request)
    assert state is not None, "SessionCookieMiddleware is not installed"
    digest = hmac.new(state.secret, b"csrf:" + state.value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def bearer_token(conn: HTTPConnection) -> str | None:
    """The token of an `Authorization: Bearer ...` header ("" for a malformed one), or None when the
    request has no such header (then the cookie decides). Only the JSON API takes tokens: on a page's
    route the header is ignored, so it never lifts that route's CSRF check."""
    header = conn.headers.get("authorization")
    if header is None or not conn.url.path.startswith("/api/"):
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def csrf_protect(request: Request) -> None:
    """Router dependency: every state-changing request must carry the session's token (a token-
    authenticated request needs none: the route's user dependency checks the token itself)."""
    if request.method in SAFE_METHODS or bearer_token(request) is not None:
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


def _csrf_matches(conn: HTTPConnection, given: str | None) -> bool:
    expected = csrf_token(conn) if cookie_session(conn) is not None else None
    if not expected or not given:
        return False
    # As bytes: compare_digest refuses str with non-ASCII characters, which a hostile header can hold.
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def request_is_authenticated(conn: HTTPConnection) -> bool:
    """Whether the request's session cookie names a live session, asked before the body is read
    (app/limits.py: the file routes); one short query, no body byte. The route's dependencies still
    load the user."""
    from app.auth import sessions, tokens
    from app.db import session_scope

    bearer = bearer_token(conn)
    if bearer is not None:
        with session_scope() as session:
            return tokens.user_for(session=session, token=bearer) is not None
    state = cookie_session(conn)
    if state is None or state.incoming is None:
        return False
    with session_scope() as session:
        return sessions.user_for(session=session, token=state.incoming) is not None


def csrf_header_valid(conn: HTTPConnection) -> bool:
    """Whether the X-CSRF-Token header carries the session's token (no form field: the body is unread);
    a token-authenticated request needs none."""
    if bearer_token(conn) is not None:
        return True
    return _csrf_matches(conn, conn.headers.get(CSRF_HEADER))


def client_address(request: Request) -> str:
    """The peer's address (behind a proxy, run uvicorn with --proxy-headers so this is the client's)."""
    return request.client.host if request.client is not None else "unknown"
