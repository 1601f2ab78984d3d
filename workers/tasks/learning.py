"""Thin Celery tasks: ids in, one recorded attempt of the flow that owns the work (app.jobs.execute),
which also enqueues what follows. A failure is retried with exponential backoff; the job's row in
job_run counts attempts across retries and redeliveries and marks it dead after the last one."""

from __future__ import annotations

from typing import Any

from celery import Task

from app import jobs
from app.jobs.service import MAX_ATTEMPTS
from workers.celery_app import celery_app

RELIABLE = {
    "bind": True,
    "soft_time_limit": 3600,
    "time_limit": 3900,
    "autoretry_for": (Exception,),
    "max_retries": MAX_ATTEMPTS - 1,
    "retry_backoff": True,  # 1 s, 2 s, 4 s, ... (jobs.retry_delay for the in-process worker)
    "retry_backoff_max": 300,
    "retry_jitter": True,
}


def _attempt(task: Task, *args: Any) -> Any:
    return jobs.execute(task.name, args, job_id=str(task.request.id))


@celery_app.task(name="labelwise.train", **RELIABLE)
def train(self: Task, model_version_id: int) -> Any:
    return _attempt(self, model_version_id)


@celery_app.task(name="labelwise.score", **RELIABLE)
def score(self: Task, scoring_run_id: int, task_ids: list[int]) -> Any:
    return _attempt(self, scoring_run_id, task_ids)


@celery_app.task(name="labelwise.rank", **RELIABLE)
def rank(self: Task, scoring_run_id: int) -> Any:
    return _attempt(self, scoring_run_id)


@celery_app.task(name="labelwise.pretrain", **RELIABLE)
def pretrain(self: Task, representation_id: int) -> Any:
    return _attempt(self, representation_id)


@celery_app.task(name="labelwise.embed_items", **RELIABLE)
def embed_items(self: Task, representation_id: int, item_ids: list[int]) -> Any:
    return _attempt(self, representation_id, item_ids)


@celery_app.task(name="labelwise.release_expired_leases", bind=True)
def release_expired_leases(self: Task) -> Any:
    return _attempt(self)


@celery_app.task(name="labelwise.scheduled_retrain", bind=True)
def scheduled_retrain(self: Task) -> Any:
    return _attempt(self)
