"""Is it up, is it ready, how is it doing: /healthz, /readyz, /metrics (Prometheus text format), and a
request id on every request and log line.

The figures about the work (queue depth and age, leases, labels per minute, training and scoring
durations, job counts and failures) are read from the database when /metrics is scraped, so every
server and worker process reports the same numbers. HTTP latency per route is counted in this process
(one process per `labelwise serve`; behind several uvicorn workers each has its own counts).
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.db import session_scope, utcnow

router = APIRouter(include_in_schema=False)
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REGISTRY = CollectorRegistry()
HTTP_SECONDS = Histogram("labelwise_http_request_seconds", "HTTP request latency by route template",
                         ["method", "route", "status"], registry=REGISTRY,
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class WorkCollector(Collector):
    """Queue, leases, labels, model and job figures, read from the database at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from app.annotations.models import Annotation, AnnotationStatus
        from app.jobs.models import JobRun
        from app.modeling.models import ModelStatus, ModelVersion, ScoringRun, ScoringRunStatus
        from app.queue.models import Lease, Task, TaskStatus

        now = utcnow()
        depth = GaugeMetricFamily("labelwise_queue_depth", "open tasks", labels=["project"])
        age = GaugeMetricFamily("labelwise_queue_oldest_open_task_seconds", "age of the oldest open task",
                                labels=["project"])
        leases = GaugeMetricFamily("labelwise_active_leases", "tasks handed out and not yet back", labels=["project"])
        labels = GaugeMetricFamily("labelwise_labels_last_minute", "labels submitted in the last minute",
                                   labels=["project"])
        train = GaugeMetricFamily("labelwise_training_seconds", "training time of the newest ready model version",
                                  labels=["project"])
        scoring = GaugeMetricFamily("labelwise_scoring_seconds", "wall time of the newest ranked scoring run",
                                    labels=["project"])
        jobs = GaugeMetricFamily("labelwise_jobs", "worker jobs by name and status (dead = failed for good)",
                                 labels=["job", "status"])
        with session_scope() as session:
            for project, count, oldest in session.execute(
                    select(Task.project_id, func.count(), func.min(Task.created_at))
                    .where(Task.status == TaskStatus.open).group_by(Task.project_id)):
                depth.add_metric([str(project)], count)
                age.add_metric([str(project)], (now - oldest).total_seconds())
            for project, count in session.execute(
                    select(Task.project_id, func.count()).join(Lease, Lease.task_id == Task.id)
                    .where(Lease.released_at.is_(None), Lease.expires_at > now).group_by(Task.project_id)):
                leases.add_metric([str(project)], count)
            for project, count in session.execute(
                    select(Task.project_id, func.count()).join(Annotation, Annotation.task_id == Task.id)
                    .where(Annotation.status == AnnotationStatus.submitted,
                           Annotation.created_at > now - timedelta(minutes=1)).group_by(Task.project_id)):
                labels.add_metric([str(project)], count)
            for mv in session.scalars(select(ModelVersion).where(ModelVersion.status == ModelStatus.ready)
                                      .order_by(ModelVersion.project_id, ModelVersion.version)):
                train.add_metric([str(mv.project_id)], float(mv.metrics.get("train_seconds", 0.0)))  # newest wins
            for run in session.scalars(select(ScoringRun).where(ScoringRun.status == ScoringRunStatus.ranked)
                                       .order_by(ScoringRun.project_id, ScoringRun.id)):
                if run.finished_at is not None:
                    scoring.add_metric([str(run.project_id)], (run.finished_at - run.created_at).total_seconds())
            for name, status, count in session.execute(
                    select(JobRun.name, JobRun.status, func.count()).group_by(JobRun.name, JobRun.status)):
                jobs.add_metric([name, str(status)], count)
        yield from (depth, age, leases, labels, _newest(train), _newest(scoring), jobs)


def _newest(family: GaugeMetricFamily) -> GaugeMetricFamily:
    """One sample per project: the last one added (rows come oldest first)."""
    last = {tuple(s.labels.values()): s for s in family.samples}
    family.samples = list(last.values())
    return family


REGISTRY.register(WorkCollector())


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (it answers); nothing else is checked."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz() -> Response:
    """Ready to serve: the database answers, and the broker when one is configured; 503 otherwise."""
    checks: dict[str, str] = {}
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
    broker = get_settings().broker_url
    if broker:
        try:
            import redis

            redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503, headers=None if ready else {"Retry-After": "5"})


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class RequestObserver:
    """Middleware (pure ASGI: BaseHTTPMiddleware cost every request a task group and a streamed copy of
    the response): a request id (the caller's X-Request-ID, or a new one) on the response and on every
    log line of the request, and the request's latency under its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = Headers(scope=scope).get("x-request-id", "")[:64] or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            HTTP_SECONDS.labels(scope["method"], template, str(status)).observe(time.perf_counter() - started)
            request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (and the error, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage(), "request_id": request_id.get()}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: int = logging.INFO) -> None:
    """Structured logs for a served process (`labelwise serve`); tests keep pytest's capture."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
