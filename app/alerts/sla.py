"""The SLA rules, each a query over the queue, and keeping the stored breaches in step with them.

A breach is opened the first time a rule finds its subject, stays open while the rule keeps finding
it, and is closed on the first check that does not; only newly opened breaches are sent out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.alerts import reviews
from app.alerts.models import AlertSettings, SlaBreach
from app.annotations.models import Annotation
from app.auth.models import Role, User
from app.items.models import Item, Split
from app.queue.models import Flag, Lease, Task, TaskStatus

# Per rule and check: a project with thousands of overdue tasks lists the oldest ones, not all.
MAX_PER_RULE = 500
THROUGHPUT_WINDOW = timedelta(hours=24)

RULES = {
    "open_age": "open task older than the limit",
    "flag_resolution": "flag unresolved past the limit",
    "review": "submitted label not reviewed within the limit",
    "throughput": "annotator below the throughput floor (last 24 h)",
}


@dataclass(frozen=True)
class Found:
    rule: str
    subject: str
    task_id: int | None = None
    user_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _open_age(session: Session, project_id: int, limit: int, now: datetime) -> list[Found]:
    holder = (select(Lease.user_id).where(Lease.task_id == Task.id, Lease.released_at.is_(None),
                                          Lease.expires_at > now).limit(1).scalar_subquery())
    rows = session.execute(
        select(Task.id, Task.created_at, holder).join(Item, Item.id == Task.item_id)
        .where(Task.project_id == project_id, Task.status == TaskStatus.open, Item.split == Split.pool,
               Task.created_at < now - timedelta(seconds=limit))
        .order_by(Task.created_at, Task.id).limit(MAX_PER_RULE)).all()
    return [Found("open_age", f"task:{tid}", task_id=tid, user_id=uid,
                  detail={"age_seconds": _seconds(now - created), "limit_seconds": limit})
            for tid, created, uid in rows]


def _flag_resolution(session: Session, project_id: int, limit: int, now: datetime) -> list[Found]:
    rows = session.execute(
        select(Flag.id, Flag.task_id, Flag.user_id, Flag.created_at).join(Task, Task.id == Flag.task_id)
        .where(Task.project_id == project_id, Flag.resolved_at.is_(None),
               Flag.created_at < now - timedelta(seconds=limit))
        .order_by(Flag.created_at, Flag.id).limit(MAX_PER_RULE)).all()
    return [Found("flag_resolution", f"flag:{fid}", task_id=tid, user_id=uid,
                  detail={"waiting_seconds": _seconds(now - created), "limit_seconds": limit})
            for fid, tid, uid, created in rows]


def _review(session: Session, project_id: int, limit: int, now: datetime) -> list[Found]:
    found = []
    for pending in reviews.awaiting_review(session=session, project_id=project_id):
        waited = (pending.reviewed_at or now) - pending.submitted_at
        if pending.reviewed_at is None and waited > timedelta(seconds=limit):
            found.append(Found("review", f"annotation:{pending.annotation_id}", task_id=pending.task_id,
                               user_id=pending.author_id,
                               detail={"waiting_seconds": _seconds(waited), "limit_seconds": limit}))
    return found[:MAX_PER_RULE]


def _throughput(session: Session, project_id: int, floor: float, now: datetime) -> list[Found]:
    """Annotators who worked here in the last 24 h (took a task) and submitted fewer labels than the floor."""
    since = now - THROUGHPUT_WINDOW
    worked = (select(Lease.user_id).join(Task, Task.id == Lease.task_id)
              .where(Task.project_id == project_id, Lease.created_at >= since).distinct().subquery())
    labels = (select(Annotation.author_id.label("uid"), func.count().label("n"))
              .join(Task, Task.id == Annotation.task_id)
              .where(Task.project_id == project_id, Annotation.created_at >= since)
              .group_by(Annotation.author_id).subquery())
    rows = session.execute(
        select(User.id, User.username, func.coalesce(labels.c.n, 0))
        .join(worked, worked.c.user_id == User.id).outerjoin(labels, labels.c.uid == User.id)
        .where(User.role == Role.annotator, func.coalesce(labels.c.n, 0) < floor)
        .order_by(User.id)).all()
    return [Found("throughput", f"user:{uid}", user_id=uid,
                  detail={"labels_24h": int(n), "floor_per_day": floor, "username": name})
            for uid, name, n in rows]


def find(*, session: Session, settings: AlertSettings, now: datetime) -> list[Found]:
    """Every rule with a limit set, run on the project's current state."""
    pid, found = settings.project_id, []
    if settings.max_open_age_seconds:
        found += _open_age(session, pid, settings.max_open_age_seconds, now)
    if settings.max_flag_seconds:
        found += _flag_resolution(session, pid, settings.max_flag_seconds, now)
    if settings.max_review_seconds:
        found += _review(session, pid, settings.max_review_seconds, now)
    if settings.throughput_floor_per_day:
        found += _throughput(session, pid, settings.throughput_floor_per_day, now)
    return found


def sync(*, session: Session, project_id: int, found: list[Found], now: datetime) -> list[SlaBreach]:
    """Open, refresh and close the stored breaches to match `found`; returns the newly opened ones."""
    current = {(b.rule, b.subject): b for b in session.scalars(
        select(SlaBreach).where(and_(SlaBreach.project_id == project_id, SlaBreach.closed_at.is_(None))))}
    opened = []
    for f in found:
        row = current.pop((f.rule, f.subject), None)
        if row is not None:
            row.last_seen_at, row.detail = now, f.detail
            continue
        row = SlaBreach(project_id=project_id, rule=f.rule, subject=f.subject, task_id=f.task_id, user_id=f.user_id,
                        detail=f.detail, opened_at=now, last_seen_at=now)
        session.add(row)
        opened.append(row)
    for row in current.values():  # no longer broken
        row.closed_at = now
    session.flush()
    return opened
