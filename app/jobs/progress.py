"""Long jobs a person started (an import, a training run) and watches: their progress, and a way to stop
them. Such a job is *tracked*: its job_run row is made before it is sent (status queued, with its project
and who started it), and it is sent under that row's job id.

While it runs, the job calls `report(done, total)` between chunks (files, epochs). Progress and the cancel
request travel through two small files in the data directory (`jobs/<job id>.json`, `jobs/<job id>.cancel`)
rather than the database: an import holds its transaction open until its last file (all or nothing), and
on SQLite that transaction holds the one write lock, so neither a progress update nor a cancel request
could be written to a table until it ended, and a Cancel button would hang until the import was over.
The api and the workers share the data directory already (items and weights live there). The row keeps
what lasts: status, the final count, the result, who asked to cancel and when (written, with the audit
record, when the job stops: the cancel file says who and when).

`report` raises Cancelled once a cancel was asked for; the job lets it propagate, so its transaction is
rolled back and nothing half-done is kept; app.jobs.execute records the job as cancelled (not retried).
"""

from __future__ import annotations

import contextvars
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import storage
from app.audit import service as audit
from app.db import utcnow
from app.jobs.models import JobRun, JobStatus

ACTIVE = (JobStatus.queued, JobStatus.running, JobStatus.failed)  # failed: a retry is coming
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("labelwise_job_id", default=None)


class Cancelled(Exception):  # noqa: N818 - it is an event, not an error
    """A person asked this job to stop; raised between two chunks."""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None
    message: str | None

    @property
    def percent(self) -> int | None:
        return None if not self.total else min(100, round(100 * self.done / self.total))


def _state(job_id: str, suffix: str) -> str:
    return f"jobs/{job_id}.{suffix}"


def new_job_id() -> str:
    return f"tracked-{uuid.uuid4().hex}"


def track(*, session: Session, name: str, args: list[Any], project_id: int, user_id: int | None,
          message: str | None = None) -> JobRun:
    """The row of a job about to be sent (the caller commits, then enqueues with `job_id=run.job_id`)."""
    run = JobRun(job_id=new_job_id(), name=name, args=args, status=JobStatus.queued, attempts=0,
                 project_id=project_id, started_by_id=user_id, message=message)
    session.add(run)
    session.flush()
    audit.record(session=session, action="job.start", entity="job_run", entity_id=run.id, user_id=user_id,
                 project_id=project_id, detail={"name": name})
    return run


@contextmanager
def running_as(job_id: str) -> Iterator[None]:
    """Run the body as this job: `report` writes this job's progress (app.jobs.execute sets it)."""
    token = _current.set(job_id)
    try:
        yield
    finally:
        _current.reset(token)


def current_job_id() -> str | None:
    return _current.get()


def report(done: int, total: int | None, message: str | None = None) -> None:
    """Progress of the job running here (nothing when no tracked job runs); raises Cancelled when a
    cancel was asked for. Call it between chunks, never in the middle of one."""
    job_id = _current.get()
    if job_id is None:
        return
    body = {"done": done, "total": total, "message": message}
    storage.write_atomic(_state(job_id, "json"), json.dumps(body).encode())
    if storage.absolute(_state(job_id, "cancel")).exists():
        raise Cancelled(f"cancelled after {done} of {total if total is not None else '?'}")


def read(run: JobRun, *, live: bool = False) -> Progress:
    """The live progress of a running job (its file), else what the row kept. `live`: the file whatever
    the row's status says (when a job ends, its last progress moves to the row)."""
    if live or run.status in (JobStatus.running, JobStatus.failed):
        path = storage.absolute(_state(run.job_id, "json"))
        try:
            body = json.loads(path.read_bytes())
            return Progress(done=int(body["done"]), total=body["total"], message=body.get("message") or run.message)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return Progress(done=run.progress_done, total=run.progress_total, message=run.message)


def settle(*, session: Session, job_id: str, status: JobStatus | None = None, message: str | None = None,
           result: dict[str, Any] | None = None) -> None:
    """When a tracked job ends: keep its last progress on the row, set what it ended as, drop its files."""
    run = session.scalar(select(JobRun).where(JobRun.job_id == job_id))
    if run is None or run.project_id is None:
        return
    last = read(run, live=True)
    run.progress_done, run.progress_total = last.done, last.total
    if status is not None:
        run.status, run.updated_at = status, utcnow()
    if message is not None:
        run.message = message[:500]
    if result is not None:
        run.result = result
    request = _cancel_request(job_id)
    if request is not None and run.cancel_requested_at is None:
        run.cancel_requested_at = request[1]
        audit.record(session=session, action="job.cancel", entity="job_run", entity_id=run.id, user_id=request[0],
                     project_id=run.project_id, detail={"name": run.name, "requested_at": request[1].isoformat()})
    for suffix in ("json", "cancel"):
        storage.absolute(_state(job_id, suffix)).unlink(missing_ok=True)


def request_cancel(*, run: JobRun, user_id: int | None) -> bool:
    """Ask a tracked job to stop at its next chunk (a queued one, before it starts). False when it has
    ended already (nothing to cancel). Writes no row (see the module's docstring): the job records the
    request, with the audit entry, when it stops."""
    if run.status not in ACTIVE:
        return False
    if not cancel_was_requested(run.job_id):
        storage.write_atomic(_state(run.job_id, "cancel"),
                             json.dumps({"user_id": user_id, "at": utcnow().isoformat()}).encode())
    return True


def cancel_was_requested(job_id: str) -> bool:
    return storage.absolute(_state(job_id, "cancel")).exists()


def _cancel_request(job_id: str) -> tuple[int | None, datetime] | None:
    """(who, when) of a cancel request, if there is one."""
    try:
        body = json.loads(storage.absolute(_state(job_id, "cancel")).read_bytes())
        return body.get("user_id"), datetime.fromisoformat(body["at"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None, utcnow()


def stopped_before_running(*, session: Session, project_id: int, name: str, row_id: int) -> bool:
    """Whether a tracked `name` job for the row `row_id` (its first argument) was cancelled or died. Such a
    job never runs its body (app.jobs.execute settles it first), so the queued row behind it would wait
    forever and block the next one: the caller marks the row failed."""
    stopped = session.scalars(select(JobRun.args).where(
        JobRun.project_id == project_id, JobRun.name == name,
        JobRun.status.in_((JobStatus.cancelled, JobStatus.dead))))
    return any(args and args[0] == row_id for args in stopped)


def of_project(*, session: Session, project_id: int, offset: int = 0, limit: int | None = 20) -> list[JobRun]:
    """The project's tracked jobs, newest first."""
    return list(session.scalars(select(JobRun).where(JobRun.project_id == project_id)
                                .order_by(JobRun.id.desc()).offset(offset).limit(limit)))


def get(*, session: Session, project_id: int, run_id: int) -> JobRun | None:
    run = session.get(JobRun, run_id)
    return run if run is not None and run.project_id == project_id else None


def sweep_leftovers(*, session: Session, older_than: float) -> list[str]:
    """Staged files and progress files of tracked jobs that have ended (or whose row never committed),
    last modified before `older_than` (a time.time()). A job cleans up after itself when it succeeds, is
    refused or is cancelled; one that died on its last attempt leaves its files for a person to look at
    until this sweep (on server start) removes them. Returns the relative paths removed."""
    still_running = lambda run: run.status in ACTIVE  # noqa: E731
    return [*sweep_job_folder(session=session, folder="staging", older_than=older_than, keep=still_running),
            *sweep_job_folder(session=session, folder="jobs", older_than=older_than, keep=still_running,
                              job_id_of=lambda path: path.name.split(".", 1)[0])]


def sweep_job_folder(*, session: Session, folder: str, older_than: float, keep: Callable[[JobRun], bool],
                     job_id_of: Callable[[Path], str] = lambda path: path.name) -> list[str]:
    """Remove the entries of a folder named by tracked jobs' ids (files or folders) whose job has no row or
    whose row `keep` refuses, once last modified before `older_than` (a time.time()): an entry being
    written now is never touched. Returns the relative paths removed."""
    root = storage.absolute(folder)
    if not root.is_dir():
        return []
    removed = []
    for path in root.iterdir():
        if path.stat().st_mtime >= older_than:
            continue
        run = session.scalar(select(JobRun).where(JobRun.job_id == job_id_of(path)))
        if run is None or not keep(run):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(f"{folder}/{path.name}")
    return removed
