"""The simulation job (app/flows/simulations.py): `labelwise simulate` on the well-log charts, one tracked,
cancellable attempt on the training queue."""

from __future__ import annotations

from typing import Any

from celery import Task

from workers.celery_app import celery_app
from workers.tasks.learning import RELIABLE, _attempt


@celery_app.task(name="labelwise.simulate", **RELIABLE)
def simulate(self: Task, project_id: int, options: dict[str, Any]) -> Any:
    return _attempt(self, project_id, options)
