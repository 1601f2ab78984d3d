"""Sending work to the workers: Celery over Redis, or, with no broker configured, an in-process
worker thread that runs the very same tasks off the request path."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from app.config import get_settings

log = logging.getLogger(__name__)


class InProcessWorker:
    """One background thread; tasks run in order, as a solo Celery worker would."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labelwise-worker")
        self._pending = 0
        self._idle = threading.Condition()
        self.failures: list[str] = []

    def submit(self, name: str, args: tuple[Any, ...]) -> Future[Any]:
        with self._idle:
            self._pending += 1
        return self._executor.submit(self._run, name, args)

    def _run(self, name: str, args: tuple[Any, ...]) -> Any:
        from workers.celery_app import celery_app

        try:
            result = celery_app.tasks[name].apply(args=args, throw=True)
            return result.get()
        except Exception as exc:
            log.exception("in-process task %s%s failed", name, args)
            self.failures.append(f"{name}{args}: {exc}")
            raise
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no task is queued or running (tasks may enqueue follow-ups)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)


_worker: InProcessWorker | None = None
_worker_lock = threading.Lock()


def in_process_worker() -> InProcessWorker:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = InProcessWorker()
        return _worker


def enqueue(name: str, *args: Any) -> None:
    """Call only after the transaction that created the work has committed."""
    if get_settings().in_process_worker:
        in_process_worker().submit(name, args)
        return
    from workers.celery_app import celery_app, sync_broker_settings

    sync_broker_settings()
    celery_app.send_task(name, args=list(args), queue=_queue_for(name))


def _queue_for(name: str) -> str:
    from workers.celery_app import celery_app

    route = celery_app.conf.task_routes.get(name, {})
    return str(route.get("queue", celery_app.conf.task_default_queue))
