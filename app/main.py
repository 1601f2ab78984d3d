"""create_app(): routers, static files, sessions, and the error pages."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.middleware.sessions import SessionMiddleware

from app.annotations.router import router as annotations_router
from app.auth.router import router as auth_router
from app.config import get_settings
from app.deps import LoginRequired
from app.edge import EdgeGuard
from app.errors import DomainError
from app.flows.router import router as flows_router
from app.items.router import router as items_router
from app.limits import RequestLimits
from app.modeling.router import router as models_router
from app.projects.router import router as projects_router
from app.queue.router import router as queue_router
from app.security import session_secret
from app.templating import ROOT
from app.views import router as views_router

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Everything is served from here: no CDN, no inline scripts.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'",
}


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Labelwise", version="0.1.0")
    # Added innermost first: input a database cannot hold is refused (edge) inside the body limits and the
    # pre-body login and CSRF check of the file routes (limits), which read the session. Starlette builds
    # the stack at the first request, when the schema holds every route.
    app.add_middleware(EdgeGuard, settings=settings)
    app.add_middleware(RequestLimits, settings=settings, openapi=app.openapi)
    app.add_middleware(SessionMiddleware, secret_key=session_secret(settings), session_cookie="labelwise_session",
                       same_site="lax", https_only=False, max_age=14 * 24 * 3600)

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
        return JSONResponse(status_code=exc.status, content={"detail": str(exc)})

    @app.exception_handler(IntegrityError)
    async def concurrent_change(request: Request, exc: IntegrityError) -> Response:
        # Services check uniqueness before writing; a constraint that still fires means another request
        # wrote the same thing a moment earlier (two uploads of one image). The transaction is gone.
        return JSONResponse(status_code=409, content={
            "detail": "this conflicts with a change saved a moment ago by another request; nothing was saved, "
                      "reload and try again"})

    @app.exception_handler(DataError)
    async def does_not_fit(request: Request, exc: DataError) -> Response:
        # The edge (app/edge.py) and the services refuse what a column cannot hold; this is the net under
        # them, so that a value the database still rejects is the client's 422, not a bare 500.
        return JSONResponse(status_code=422, content={
            "detail": "a value does not fit the database (too long, out of range or not text); nothing was saved"})

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
