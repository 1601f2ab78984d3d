"""How a failed request is answered: JSON for the API, an HTML page for a browser's page request.
Never a bare 500: an unexpected error is logged with its request id and answered with a message."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.deps import PASSWORD_CHANGE_PAGE, LoginRequired, PasswordChangeRequired
from app.errors import DomainError
from app.webpages import error_page, wants_page

log = logging.getLogger(__name__)

CONFLICT = ("this conflicts with a change saved a moment ago by another request; nothing was saved, reload and "
            "try again")
DB_BUSY = "the database was busy with another request; nothing was saved, try again"
DB_DOWN = "the database cannot be reached just now; try again in a moment"
DOES_NOT_FIT = "a value does not fit the database (too long, out of range or not text); nothing was saved"
INTERNAL = "something went wrong on the server; nothing was saved and the error was logged"


def respond(request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    if wants_page(request):
        return error_page(request, status, str(body.get("detail", "")), headers)
    return JSONResponse(status_code=status, content=body, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(url="/login", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change_required(request: Request, exc: PasswordChangeRequired) -> Response:
        return RedirectResponse(url=PASSWORD_CHANGE_PAGE, status_code=303)

    @app.exception_handler(DomainError)
    async def refused(request: Request, exc: DomainError) -> Response:
        # Services refuse with a message and a status; nothing was written (the session is discarded).
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return respond(request, exc.status, exc.body(), headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return respond(request, exc.status_code, {"detail": exc.detail}, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if wants_page(request):
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
            return error_page(request, 422, f"{where}: {first.get('msg', 'invalid input')}".strip(": "))
        return JSONResponse(status_code=422, content={"detail": jsonable(exc.errors())})

    @app.exception_handler(IntegrityError)
    async def concurrent_change(request: Request, exc: IntegrityError) -> Response:
        # Services check uniqueness before writing; a constraint that still fires means another request
        # wrote the same thing a moment earlier (two uploads of one image). The transaction is gone.
        return respond(request, 409, {"detail": CONFLICT})

    @app.exception_handler(DataError)
    async def does_not_fit(request: Request, exc: DataError) -> Response:
        # The edge (app/edge.py) and the services refuse what a column cannot hold; this is the net under
        # them, so that a value the database still rejects is the client's 422, not a bare 500.
        return respond(request, 422, {"detail": DOES_NOT_FIT})

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> Response:
        # Services take row locks in a fixed order, so a deadlock or a busy SQLite file is a rare moment,
        # not a bug in the request: say so and let the client retry instead of showing a bare 500.
        text = str(exc.orig).lower()
        busy = "deadlock" in text or "database is locked" in text or "lock timeout" in text
        return respond(request, 503, {"detail": DB_BUSY if busy else DB_DOWN}, {"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return respond(request, 500, {"detail": INTERNAL})


def jsonable(errors: Any) -> Any:
    """Validation errors as FastAPI writes them (its `ctx` may hold exception objects)."""
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors)
