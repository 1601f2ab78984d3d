"""Periodic jobs (Celery beat; see workers/schedule.py)."""

from __future__ import annotations

from app.db import session_scope
from app.jobs import job
from app.queue import service as queue_service


@job("labelwise.release_expired_leases")
def release_expired_leases() -> int:
    with session_scope() as session:
        return queue_service.release_expired(session=session)
