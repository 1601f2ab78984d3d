"""The lead's periodic desk check (SLA breaches, webhook deliveries, drift): a thin beat task."""

from __future__ import annotations

from typing import Any

from celery import Task

from app import jobs
from workers.celery_app import celery_app


@celery_app.task(name="labelwise.desk_check", bind=True, soft_time_limit=600, time_limit=660)
def desk_check(self: Task) -> Any:
    return jobs.execute(self.name, (), job_id=str(self.request.id))
