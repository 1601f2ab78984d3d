"""create_app(): routers, static files, sessions, and the error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, OperationalError

from app.annotations.router import router as annotations_router
from app.auth.router import router as auth_router
from app.config import get_settings
from app.deps import LoginRequired
from app.errors import DomainError, TooManyRequests
from app.flows.housekeeping import sweep_orphan_files
from app.flows.router import router as flows_router
from app.items.router import router as items_router
from app.modeling.router import router as models_router
from app.projects.router import router as projects_router
from app.queue.router import router as queue_router
from app.security import SessionCookieMiddleware, session_secret
from app.templating import ROOT
from app.views import router as views_router

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Everything is served from here: no CDN, no inline scripts.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'",
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A server killed mid-request may have left a file no row points at; clear those before serving.
    try:
        await run_in_threadpool(sweep_orphan_files)
    except Exception:  # noqa: BLE001 - housekeeping must not keep the server from starting
        log.exception("the orphan-file sweep on start failed; serving anyway")
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Labelwise", version="0.1.0", lifespan=lifespan)
    app.add_middleware(SessionCookieMiddleware, secret=session_secret(settings), secure=settings.cookie_secure)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(url="/login", status_code=303)

    @app.exception_handler(DomainError)
    async def refused(request: Request, exc: DomainError) -> Response:
        # Services refuse with a message and a status; nothing was written (the session is discarded).
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        return JSONResponse(status_code=exc.status, content=exc.body(), headers=headers)

    @app.exception_handler(IntegrityError)
    async def concurrent_change(request: Request, exc: IntegrityError) -> Response:
        # Services check uniqueness before writing; a constraint that still fires means another request
        # wrote the same thing a moment earlier (two uploads of one image). The transaction is gone.
        return JSONResponse(status_code=409, content={
            "detail": "this conflicts with a change saved a moment ago by another request; nothing was saved, "
                      "reload and try again"})

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> Response:
        # Services take row locks in a fixed order, so a deadlock or a busy SQLite file is a rare moment,
        # not a bug in the request: say so and let the client retry instead of showing a bare 500.
        text = str(exc.orig).lower()
        busy = "deadlock" in text or "database is locked" in text or "lock timeout" in text
        detail = ("the database was busy with another request; nothing was saved, try again" if busy
                  else "the database cannot be reached just now; try again in a moment")
        return JSONResponse(status_code=503, content={"detail": detail}, headers={"Retry-After": "1"})

    for router in (auth_router, projects_router, items_router, queue_router, annotations_router, models_router,
                   flows_router, views_router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")
    return app
