"""Housekeeping: periodic jobs (Celery beat; see workers/schedule.py) and the sweep on start."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from app import storage
from app.annotations.models import Annotation
from app.config import get_settings
from app.db import session_scope
from app.flows import simulations
from app.items.models import Item
from app.jobs import job, progress
from app.modeling import feature_cache
from app.queue import service as queue_service
from app.queue.models import Draft

log = logging.getLogger(__name__)


@job("labelwise.release_expired_leases", record=False)  # every minute: nothing worth a row
def release_expired_leases() -> int:
    with session_scope() as session:
        return queue_service.release_expired(session=session)


# Folders whose files rows point at, and the query that lists those paths.
SWEPT = {"items": Item.storage_path, "masks": Annotation.mask_path, "drafts": Draft.mask_path}


def sweep_orphan_files(*, grace_seconds: float | None = None) -> list[str]:
    """Delete what a crash left behind: files in the items, masks and drafts folders that no row
    points at, and half-written temporary files, once older than the grace period. A file a row
    points at is never deleted. Returns the relative paths deleted."""
    grace = get_settings().orphan_grace_seconds if grace_seconds is None else grace_seconds
    root = storage.data_dir()
    projects = root / "projects"
    cutoff = time.time() - grace
    with session_scope() as session:  # what ended tracked jobs (imports) left in staging/ and jobs/
        deleted: list[str] = progress.sweep_leftovers(session=session, older_than=cutoff)
        deleted += simulations.sweep_results(session=session, older_than=cutoff)
    if not projects.is_dir():
        return deleted
    with session_scope() as session:
        for folder, column in SWEPT.items():
            known = set(session.scalars(select(column)))
            for path in projects.glob(f"*/{folder}/*"):
                relative = path.relative_to(root).as_posix()
                if path.is_file() and relative not in known and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    deleted.append(relative)
    with session_scope() as session:  # cached trunk features of items gone or representations replaced
        deleted += feature_cache.sweep(session=session, grace_seconds=grace)
    for path in projects.rglob(f"{storage.TEMP_PREFIX}*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted.append(path.relative_to(root).as_posix())
    if deleted:
        log.warning("removed %d orphan file(s) left by an interrupted request: %s", len(deleted), deleted[:5])
    return deleted
