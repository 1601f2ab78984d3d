"""The Celery app, configured from app.config. JSON only: no pickle ever crosses the broker."""

from __future__ import annotations

from celery import Celery

from app import jobs
from app.config import get_settings
from workers.queues import Queue
from workers.schedule import BEAT_SCHEDULE


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("labelwise", broker=settings.broker_url or "memory://",
                 backend=settings.resolved_result_backend or "cache+memory://")
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_default_queue=Queue.default.value,
        # Each job's queue is declared once, where the flow registers it (app.jobs).
        task_routes={name: {"queue": Queue(j.queue).value} for name, j in jobs.registry().items()},
        task_acks_late=True,  # a job is acknowledged after it ran; tasks are idempotent
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout},
        result_expires=3600,
        beat_schedule=BEAT_SCHEDULE,
        broker_connection_retry_on_startup=True,
    )
    app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
    return app


celery_app = make_celery()


import workers.tasks.alerts  # noqa: E402,F401
import workers.tasks.imports  # noqa: E402,F401
import workers.tasks.learning  # noqa: E402,F401  (registers the tasks)
import workers.tasks.simulation  # noqa: E402,F401
