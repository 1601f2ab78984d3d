"""Handing out tasks: the ranked queue and its leases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.config import get_settings
from app.db import lock_row, utcnow
from app.items.models import Item, Split
from app.projects.models import Project
from app.queue.models import Flag, Lease, Score, ScoringRun, ScoringRunStatus, Skip, Task, TaskStatus

# Why Next found nothing, for the API's 404 and the labeling page alike.
EMPTY_QUEUE = "The queue is empty: every task is labeled, leased, flagged for review or skipped by you."


def _active_lease_clause(now):  # type: ignore[no-untyped-def]
    return and_(Lease.task_id == Task.id, Lease.released_at.is_(None), Lease.expires_at > now)


def ranked_model_version_id(*, session: Session, project_id: int) -> int | None:
    """The model version whose ranking the queue follows: the newest fully ranked scoring run."""
    return session.scalar(
        select(ScoringRun.model_version_id)
        .where(ScoringRun.project_id == project_id, ScoringRun.status == ScoringRunStatus.ranked)
        .order_by(ScoringRun.id.desc()).limit(1)
    )


def active_lease(*, session: Session, task_id: int) -> Lease | None:
    return session.scalar(
        select(Lease).where(Lease.task_id == task_id, Lease.released_at.is_(None), Lease.expires_at > utcnow())
    )


def _held_task(*, session: Session, project_id: int, user: User) -> Task | None:
    now = utcnow()
    return session.scalar(
        select(Task).join(Lease, Lease.task_id == Task.id)
        .where(Task.project_id == project_id, Task.status == TaskStatus.open, Lease.user_id == user.id,
               Lease.released_at.is_(None), Lease.expires_at > now)
        .order_by(Lease.id).limit(1)
    )


def _queue_order(project_id: int, model_version_id: int | None):  # type: ignore[no-untyped-def]
    """Open pool tasks, best-ranked first; before any ranking, oldest first."""
    stmt = (
        select(Task).join(Item, Item.id == Task.item_id)
        .where(Task.project_id == project_id, Task.status == TaskStatus.open, Item.split == Split.pool)
    )
    if model_version_id is None:
        return stmt.order_by(Task.id)
    stmt = stmt.outerjoin(Score, and_(Score.task_id == Task.id, Score.model_version_id == model_version_id))
    return stmt.order_by(Score.rank.is_(None), Score.rank, Task.id)


def lease_next(*, session: Session, project: Project, user: User) -> Task | None:
    """Lease the top-ranked free task to `user` (or give back the one they already hold).

    On Postgres the candidate row is locked with FOR UPDATE SKIP LOCKED and its leases are read again
    under that lock, so concurrent callers never receive the same task; the caller commits.
    """
    # One user's requests take turns, so a double-clicked Next gives back one task rather than leasing
    # two. On SQLite (no SKIP LOCKED) this is the database's single write lock: every caller takes turns
    # and sees the leases the one before committed.
    lock_row(session, User.username, user.id)
    held = _held_task(session=session, project_id=project.id, user=user)
    if held is not None:
        return held
    return _claim(session=session, project=project, user=user)


def _claim(*, session: Session, project: Project, user: User) -> Task | None:
    now = utcnow()
    mv_id = ranked_model_version_id(session=session, project_id=project.id)
    skipped = exists().where(Skip.task_id == Task.id, Skip.user_id == user.id)
    free = _queue_order(project.id, mv_id).where(~exists().where(_active_lease_clause(now)), ~skipped)
    passed_over: list[int] = []
    while True:
        stmt = free.where(Task.id.not_in(passed_over)) if passed_over else free
        task = session.scalar(stmt.limit(1).with_for_update(skip_locked=True, of=Task))
        if task is None:
            return None
        # The lease filter above ran on the statement's snapshot: a caller that leased this task and
        # committed just before we locked it is invisible to it. Now the row lock is ours, a fresh
        # statement sees every committed lease, so look again before handing the task out.
        if active_lease(session=session, task_id=task.id) is None:
            break
        passed_over.append(task.id)
    expires = now + timedelta(seconds=get_settings().lease_seconds)
    session.add(Lease(task_id=task.id, user_id=user.id, expires_at=expires))
    audit.record(session=session, action="task.lease", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=project.id, detail={"model_version_id": mv_id})
    session.flush()
    return task


def release(*, session: Session, task: Task, user: User) -> None:
    lease = active_lease(session=session, task_id=task.id)
    if lease is not None and lease.user_id == user.id:
        lease.released_at = utcnow()


class QueueError(ValueError):
    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def _require_lease(session: Session, task: Task, user: User) -> None:
    # Skip, flag and submit of one task take turns (a flag racing a submit must not leave a labeled
    # task escalated), and each then reads the lease the one before it may have released.
    lock_row(session, Task.status, task.id)
    lease = active_lease(session=session, task_id=task.id)
    if lease is None or lease.user_id != user.id:
        raise QueueError("this task is not leased to you", status=409)


def _clean_text(text: str, what: str, limit: int) -> str:
    text = text.strip()
    if not text or len(text) > limit:
        raise QueueError(f"the {what} must be 1 to {limit} characters")
    return text


def skip(*, session: Session, task: Task, user: User, reason: str) -> Skip:
    """Pass on a task: it goes back to the queue for others, never again to this annotator."""
    reason = _clean_text(reason, "reason", 500)
    _require_lease(session, task, user)
    row = Skip(task_id=task.id, user_id=user.id, reason=reason)
    session.add(row)
    release(session=session, task=task, user=user)
    audit.record(session=session, action="task.skip", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=task.project_id, detail={"reason": reason})
    return row


def flag(*, session: Session, task: Task, user: User, note: str) -> Flag:
    """Flag a task as ambiguous: it leaves the queue for the escalation queue (leads and admins)."""
    note = _clean_text(note, "note", 2000)
    _require_lease(session, task, user)
    row = Flag(task_id=task.id, user_id=user.id, note=note)
    session.add(row)
    task.status = TaskStatus.escalated
    release(session=session, task=task, user=user)
    audit.record(session=session, action="task.flag", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=task.project_id, detail={"note": note})
    return row


def resolve_flag(*, session: Session, flag_row: Flag, user: User, resolution: str) -> None:
    """Send an escalated task back to the queue, saying how the question was settled."""
    lock_row(session, Flag.note, flag_row.id)  # two leads resolving at once: the second is told, not lost
    session.refresh(flag_row)
    if flag_row.resolved_at is not None:
        raise QueueError("this flag is resolved already", status=409)
    flag_row.resolution = _clean_text(resolution, "resolution", 2000)
    flag_row.resolved_at, flag_row.resolved_by_id = utcnow(), user.id
    task = session.get(Task, flag_row.task_id)
    assert task is not None
    if task.status == TaskStatus.escalated:
        task.status = TaskStatus.open
    audit.record(session=session, action="flag.resolve", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=task.project_id, detail={"resolution": flag_row.resolution})


def open_flags(*, session: Session, project_id: int) -> list[tuple[Flag, Task]]:
    rows = session.execute(
        select(Flag, Task).join(Task, Task.id == Flag.task_id)
        .where(Task.project_id == project_id, Flag.resolved_at.is_(None)).order_by(Flag.id)
    ).all()
    return [(f, t) for f, t in rows]


def release_expired(*, session: Session) -> int:
    """Housekeeping: close expired leases (they stop counting at expiry anyway)."""
    now = utcnow()
    leases = session.scalars(select(Lease).where(Lease.released_at.is_(None), Lease.expires_at <= now)).all()
    for lease in leases:
        lease.released_at = lease.expires_at
    return len(leases)


@dataclass
class QueueEntry:
    task: Task
    score: Score | None
    leased_to: int | None


def list_queue(*, session: Session, project: Project, limit: int = 50) -> list[QueueEntry]:
    mv_id = ranked_model_version_id(session=session, project_id=project.id)
    tasks = list(session.scalars(_queue_order(project.id, mv_id).limit(limit)))
    scores = {}
    if mv_id is not None and tasks:
        scores = {
            s.task_id: s for s in session.scalars(
                select(Score).where(Score.model_version_id == mv_id, Score.task_id.in_([t.id for t in tasks]))
            )
        }
    now = utcnow()
    leases = {
        lease.task_id: lease.user_id for lease in session.scalars(
            select(Lease).where(Lease.task_id.in_([t.id for t in tasks]), Lease.released_at.is_(None),
                                Lease.expires_at > now)
        )
    } if tasks else {}
    return [QueueEntry(task=t, score=scores.get(t.id), leased_to=leases.get(t.id)) for t in tasks]


def score_for(*, session: Session, task: Task) -> Score | None:
    mv_id = ranked_model_version_id(session=session, project_id=task.project_id)
    if mv_id is None:
        return None
    return session.scalar(select(Score).where(Score.task_id == task.id, Score.model_version_id == mv_id))
