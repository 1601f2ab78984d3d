"""The import job (app/flows/import_jobs.py): staged files in, one tracked, cancellable attempt."""

from __future__ import annotations

from typing import Any

from celery import Task

from workers.celery_app import celery_app
from workers.tasks.learning import RELIABLE, _attempt


@celery_app.task(name="labelwise.import", **RELIABLE)
def import_files(self: Task, project_id: int, user_id: int, staged: str, split: str) -> Any:
    return _attempt(self, project_id, user_id, staged, split)
