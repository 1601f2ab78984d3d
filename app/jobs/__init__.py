"""Sending work to the workers through one small interface, so the app never imports `workers`.

A flow commits, then calls `enqueue(name, *ids)`. With a broker configured the job goes to Celery by
name (the worker process, `workers/`, maps each name to a thin task that calls the same flow
function); with none, an in-process worker thread runs the registered flow function itself, off the
request path. Flow functions register under their job name with `@job(...)`.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from app.config import get_settings
from app.errors import Unavailable

log = logging.getLogger(__name__)

# Modules whose @job functions the in-process worker may be asked to run.
JOB_MODULES = ("app.flows.training", "app.flows.scoring", "app.flows.housekeeping", "app.flows.policy",
               "app.flows.alerts", "app.flows.import_jobs", "app.flows.simulations", "app.flows.pretrain")


class BrokerUnavailable(Unavailable):
    """A job could not be sent: the broker is down. Whatever the flow committed before stays."""


@dataclass(frozen=True)
class Job:
    name: str
    queue: str
    run: Callable[..., Any]
    record: bool  # attempts kept in the job_run table (not for the periodic housekeeping)


REGISTRY: dict[str, Job] = {}


FlowFunction = Callable[..., Any]


def job(name: str, *, queue: str = "default", record: bool = True) -> Callable[[FlowFunction], FlowFunction]:
    """Register a flow function as the job `name` (ids in, idempotent)."""

    def register(fn: FlowFunction) -> FlowFunction:
        REGISTRY[name] = Job(name=name, queue=queue, run=fn, record=record)
        return fn

    return register


def execute(name: str, args: tuple[Any, ...], *, job_id: str) -> Any:
    """Run one attempt of a registered job, as Celery and the in-process worker both do.

    A recorded job counts the attempt in the database first; once out of attempts it is marked dead
    and not run (a job whose worker died mid-run is redelivered with the same id). A failure is
    recorded and raised again, for the caller's retry with backoff.
    """
    from app.db import session_scope
    from app.jobs import progress, service
    from app.jobs.models import JobStatus

    target = registry()[name]
    if not target.record:
        return target.run(*args)
    with session_scope() as session:
        if service.begin_attempt(session=session, job_id=job_id, name=name, args=list(args)) is None:
            progress.settle(session=session, job_id=job_id)
            return None
        if progress.cancel_was_requested(job_id):  # asked to stop while it waited for a worker
            progress.settle(session=session, job_id=job_id, status=JobStatus.cancelled,
                            message="cancelled before it started")
            return None
    try:
        with progress.running_as(job_id):
            result = target.run(*args)
    except progress.Cancelled as exc:  # asked to stop: its work was rolled back; not a failure to retry
        with session_scope() as session:
            progress.settle(session=session, job_id=job_id, status=JobStatus.cancelled, message=str(exc))
        return None
    except Exception as exc:
        with session_scope() as session:
            status = service.fail(session=session, job_id=job_id, error=f"{type(exc).__name__}: {exc}")
            if status == JobStatus.dead:
                progress.settle(session=session, job_id=job_id, message=f"failed: {exc}")
        raise
    with session_scope() as session:
        service.finish(session=session, job_id=job_id)
        progress.settle(session=session, job_id=job_id)
    return result


def retry_delay(attempt: int) -> float:
    """Seconds before retry number `attempt` (1, 2, ...): exponential backoff, capped."""
    return float(min(2 ** (attempt - 1), 300))


def registry() -> dict[str, Job]:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return REGISTRY


class Enqueuer(Protocol):
    def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None: ...


class InProcessWorker:
    """One background thread; jobs run in order, as a solo Celery worker would."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labelwise-worker")
        self._pending = 0
        self._idle = threading.Condition()
        self.failures: list[str] = []
        self.backoff_scale = 0.25  # retries here hold up the one thread: back off briefly

    def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        self.submit(name, args, job_id=job_id)

    def submit(self, name: str, args: tuple[Any, ...], job_id: str | None = None) -> Future[Any]:
        target = registry()[name]  # an unknown name fails here, in the caller, not later in the thread
        with self._idle:
            self._pending += 1
        return self._executor.submit(self._run, target, args, job_id or f"inproc-{uuid.uuid4().hex}")

    def _run(self, target: Job, args: tuple[Any, ...], job_id: str) -> Any:
        from app.jobs.service import MAX_ATTEMPTS

        try:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    return execute(target.name, args, job_id=job_id)
                except Exception as exc:
                    log.exception("in-process job %s%s failed (attempt %d)", target.name, args, attempt)
                    if attempt == MAX_ATTEMPTS or not target.record:
                        self.failures.append(f"{target.name}{args}: {exc}")
                        raise
                    time.sleep(retry_delay(attempt) * self.backoff_scale)
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (jobs may enqueue follow-ups)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)


class CeleryEnqueuer:
    """Sends jobs by name to the broker; JSON only, to the job's queue."""

    def __init__(self, broker_url: str) -> None:
        from celery import Celery

        self.broker_url = broker_url
        self._celery = Celery("labelwise-sender", broker=broker_url)
        # A request that enqueues must not hang on a broker that is down: a few quick tries, then say so.
        self._celery.conf.update(task_serializer="json", accept_content=["json"],
                                 broker_connection_retry_on_startup=True, broker_connection_timeout=2,
                                 task_publish_retry_policy={"max_retries": 2, "interval_start": 0,
                                                            "interval_step": 0.5, "interval_max": 1})

    def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        queue = registry()[name].queue
        try:
            self._celery.send_task(name, args=list(args), queue=queue, task_id=job_id)
        except Exception as exc:  # kombu's OperationalError and the socket errors under it
            log.warning("could not send job %s%s to the broker: %s", name, args, exc)
            raise BrokerUnavailable(f"the job queue (broker) cannot be reached just now, so the {name} job was not "
                                    "sent; try again in a moment") from exc


_worker: InProcessWorker | None = None
_sender: CeleryEnqueuer | None = None
_lock = threading.Lock()


def in_process_worker() -> InProcessWorker:
    global _worker
    with _lock:
        if _worker is None:
            _worker = InProcessWorker()
        return _worker


def current_in_process_worker() -> InProcessWorker | None:
    """The in-process worker if one was started (tests wait for it to go idle)."""
    return _worker


def enqueuer() -> Enqueuer:
    """The in-process worker, or Celery when a broker is configured (follows the current settings)."""
    global _sender
    settings = get_settings()
    if settings.in_process_worker:
        return in_process_worker()
    assert settings.broker_url
    with _lock:
        if _sender is None or _sender.broker_url != settings.broker_url:
            _sender = CeleryEnqueuer(settings.broker_url)
        return _sender


def enqueue(name: str, *args: Any, job_id: str | None = None) -> None:
    """Call only after the transaction that created the work has committed. `job_id`: a tracked job's
    (app/jobs/progress.py), so the attempt is counted on the row made for it."""
    enqueuer().enqueue(name, *args, job_id=job_id)
