"""create_app(): routers, static files, sessions, and the error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import error_handlers, observability, webpages
from app.agreement.router import router as agreement_router
from app.alerts.router import router as alerts_router
from app.annotations.router import router as annotations_router
from app.auth.router import router as auth_router
from app.autolabel.router import router as autolabel_router
from app.budgets.router import router as budget_router
from app.config import get_settings
from app.dashboards.desk_api import router as dashboard_api_router
from app.edge import EdgeGuard
from app.flows.housekeeping import sweep_orphan_files
from app.flows.jobs_router import router as jobs_router
from app.flows.policy_router import router as policy_router
from app.flows.pretrain_router import router as pretrain_router
from app.flows.router import router as flows_router
from app.flows.simulation_router import router as simulation_router
from app.flows.validation_router import router as validation_router
from app.items.router import router as items_router
from app.jobs.periodic import start_ticker
from app.limits import RequestLimits
from app.modeling.router import router as models_router
from app.people.router import router as people_router
from app.projects.guideline_router import router as guidelines_router
from app.projects.router import router as projects_router
from app.queue.router import router as queue_router
from app.review.router import router as review_router
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


class SecurityHeaders:
    """SECURITY_HEADERS on every response that does not set its own (pure ASGI: nothing is buffered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A server killed mid-request may have left a file no row points at; clear those before serving.
    try:
        await run_in_threadpool(sweep_orphan_files)
    except Exception:  # noqa: BLE001 - housekeeping must not keep the server from starting
        log.exception("the orphan-file sweep on start failed; serving anyway")
    ticker = start_ticker()  # the periodic jobs, when there is no Celery beat (embedded mode)
    try:
        yield
    finally:
        if ticker is not None:
            ticker.stop()


def create_app() -> FastAPI:
    settings = get_settings()
    # /docs is ours (offline Swagger UI under a strict CSP: app.webpages); ReDoc would need a CDN.
    app = FastAPI(title="Labelwise", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    # Added innermost first: input a database cannot hold is refused (edge) inside the body limits and the
    # pre-body login and CSRF check of the file routes (limits), which read the session cookie. Starlette
    # builds the stack at the first request, when the schema holds every route.
    app.add_middleware(EdgeGuard, settings=settings)
    app.add_middleware(RequestLimits, settings=settings, openapi=app.openapi)
    app.add_middleware(SessionCookieMiddleware, secret=session_secret(settings), secure=settings.cookie_secure)

    app.add_middleware(observability.RequestObserver)
    app.add_middleware(SecurityHeaders)

    error_handlers.install(app)
    for router in (auth_router, projects_router, items_router, queue_router, annotations_router, models_router,
                   flows_router, agreement_router, review_router, people_router, budget_router, validation_router,
                   policy_router, guidelines_router, alerts_router, dashboard_api_router, jobs_router,
                   autolabel_router, simulation_router, pretrain_router, views_router, webpages.router,
                   observability.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")
    return app
