"""Bounds on a request before the application reads its body (a pure ASGI middleware; create_app installs it).

- Every body is counted while it streams in, against the limit of its route's kind: the item upload
  (`max_upload_request_bytes`), mask submits and draft saves (`max_mask_request_bytes`), everything else
  (`max_request_bytes`). A Content-Length above the limit is refused at once with 413; a body sent without
  one (chunked) is cut off with 413 the moment it passes the limit. Nothing past the limit is read.
- The routes that take files need a logged-in session and the CSRF header, judged from the headers alone
  (app.security), before a byte of their body is passed on: FastAPI parses File() and Form() parameters
  before it runs a route's dependencies, so an anonymous upload would otherwise be spooled to disk first.

A route declares its kind with `openapi_extra=limits.UPLOAD` (or `MASK`), which puts it in the OpenAPI
schema; `route_table(app.openapi())` reads the declarations when the middleware stack is built (at the
first request, every route included), so the paths are written once, on the routes. This middleware runs
inside the session middleware (it reads the session) and outside everything that reads a body.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import security
from app.config import Settings

BODY_KIND_KEY = "x-body-kind"


class BodyKind(enum.Enum):
    upload = "upload"
    mask = "mask"
    default = "default"


UPLOAD = {BODY_KIND_KEY: BodyKind.upload.value}
MASK = {BODY_KIND_KEY: BodyKind.mask.value}


@dataclass(frozen=True)
class RouteBody:
    path: re.Pattern[str]
    method: str
    kind: BodyKind


def route_table(openapi: dict[str, Any]) -> list[RouteBody]:
    """The operations of the app's OpenAPI schema that declared a body kind other than the default."""
    table = []
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            kind = operation.get(BODY_KIND_KEY) if isinstance(operation, dict) else None
            if kind is not None:
                table.append(RouteBody(path=compile_path(path)[0], method=method.upper(), kind=BodyKind(kind)))
    return table


def describe(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MiB"
    if limit >= 1024:
        return f"{limit / 1024:g} KiB"
    return f"{limit} bytes"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body passes its limit. An HTTPException, so that FastAPI's body parsing
    passes it on as it is (it turns other errors into a 400) and the app's handler answers 413."""

    def __init__(self, limit: int):
        super().__init__(status_code=413, headers={"Connection": "close"},
                         detail=f"the request body is larger than {describe(limit)} ({limit} bytes), "
                                f"the limit for this route")


def too_large(limit: int) -> JSONResponse:
    exc = BodyTooLarge(limit)
    return JSONResponse({"detail": exc.detail}, status_code=413, headers=exc.headers)


class RequestLimits:
    def __init__(self, app: ASGIApp, *, settings: Settings, openapi: Callable[[], dict[str, Any]]):
        self.app = app
        self.table = route_table(openapi())
        self.limits = {BodyKind.upload: settings.max_upload_request_bytes,
                       BodyKind.mask: settings.max_mask_request_bytes,
                       BodyKind.default: settings.max_request_bytes}

    def kind(self, method: str, path: str) -> BodyKind:
        for route in self.table:
            if method == route.method and route.path.match(path):
                return route.kind
        return BodyKind.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = self.kind(scope["method"], scope["path"])
        limit = self.limits[kind]
        # The file routes' login check asks the session table: off the event loop, as FastAPI runs plain
        # `def` routes. The other routes are answered from the headers alone, on the loop: a thread hop on
        # every request (next-task's included) bought nothing.
        refusal = (self.refusal(scope, kind, limit) if kind is BodyKind.default
                   else await run_in_threadpool(self.refusal, scope, kind, limit))
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await run_or_answer(self.app, scope, counted, send, BodyTooLarge,
                            lambda _exc: too_large(limit)(scope, receive, send))

    def refusal(self, scope: Scope, kind: BodyKind, limit: int) -> JSONResponse | None:
        """An answer from the headers alone, or None to let the request in."""
        if kind is not BodyKind.default:
            conn = HTTPConnection(scope)
            if not security.request_is_authenticated(conn):
                return JSONResponse({"detail": "log in first"}, status_code=401, headers={"Connection": "close"})
            if not security.csrf_header_valid(conn):
                return JSONResponse({"detail": "missing or invalid CSRF token (send it in the X-CSRF-Token header)"},
                                    status_code=403, headers={"Connection": "close"})
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            return too_large(limit)
        return None


async def run_or_answer(app: ASGIApp, scope: Scope, receive: Receive, send: Send, error: type[Exception],
                        answer: Callable[[Any], Awaitable[None]]) -> None:
    """Run the app; an `error` it raises before its response started is answered with `answer(exc)`
    instead. After the response started it is raised again: half a response cannot be taken back."""
    started = False

    async def tracked(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, receive, tracked)
    except error as exc:
        if started:
            raise
        await answer(exc)
