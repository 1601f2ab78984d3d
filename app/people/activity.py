"""One annotator's record, within the projects the viewer may see: labels per day, active seconds per
label (Annotation.seconds_spent, as the labeling page timed it), skips and flags."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotations.models import Annotation, AnnotationStatus
from app.auth.models import Role, User
from app.db import utcnow
from app.projects.models import Membership, Project
from app.queue.models import Flag, Skip, Task

# Each submit counts, also one a later version superseded, and an answer to a gold task: the work was done.
WORKED = (AnnotationStatus.submitted, AnnotationStatus.superseded, AnnotationStatus.gold)
DAY_CHOICES = (7, 30, 90, 365)
RECENT = 10


@dataclass
class Day:
    day: date
    labels: int
    median_seconds: float | None  # over that day's timed labels


@dataclass
class ProjectLine:
    project: Project
    labels: int = 0
    skips: int = 0
    flags: int = 0


@dataclass
class Activity:
    projects: list[ProjectLine]
    labels: int
    labels_in_window: int
    timed_labels: int  # labels with a time (an API client may send none: 0 seconds)
    mean_seconds: float | None
    median_seconds: float | None  # over the window's timed labels
    skips: int
    flags: int
    open_flags: int
    days: list[Day]
    recent_skips: list[tuple[Skip, Task]] = field(default_factory=list)
    recent_flags: list[tuple[Flag, Task]] = field(default_factory=list)


def visible_projects(*, session: Session, viewer: User, annotator: User) -> list[Project]:
    """The projects whose record of `annotator` the viewer may read: an admin, every project the
    annotator is in or labeled in; a lead, the projects they are in too. Others: none."""
    mine = set(session.scalars(select(Membership.project_id).where(Membership.user_id == annotator.id)))
    if viewer.role == Role.admin:
        mine |= set(session.scalars(select(Task.project_id).join(Annotation, Annotation.task_id == Task.id)
                                    .where(Annotation.author_id == annotator.id).distinct()))
    elif viewer.at_least(Role.lead):
        mine &= set(session.scalars(select(Membership.project_id).where(Membership.user_id == viewer.id)))
    else:
        return []
    if not mine:
        return []
    return list(session.scalars(select(Project).where(Project.id.in_(mine)).order_by(Project.name)))


def activity(*, session: Session, annotator: User, projects: list[Project], days: int = 30,
             now: datetime | None = None) -> Activity:
    ids = [p.id for p in projects]
    lines = {p.id: ProjectLine(project=p) for p in projects}
    worked = (Annotation.author_id == annotator.id, Annotation.status.in_(WORKED), Task.project_id.in_(ids))
    for pid, n in session.execute(select(Task.project_id, func.count()).select_from(Annotation)
                                  .join(Task, Task.id == Annotation.task_id).where(*worked)
                                  .group_by(Task.project_id)):
        lines[pid].labels = int(n)
    for pid, n in session.execute(select(Task.project_id, func.count()).select_from(Skip)
                                  .join(Task, Task.id == Skip.task_id)
                                  .where(Skip.user_id == annotator.id, Task.project_id.in_(ids))
                                  .group_by(Task.project_id)):
        lines[pid].skips = int(n)
    for pid, n in session.execute(select(Task.project_id, func.count()).select_from(Flag)
                                  .join(Task, Task.id == Flag.task_id)
                                  .where(Flag.user_id == annotator.id, Task.project_id.in_(ids))
                                  .group_by(Task.project_id)):
        lines[pid].flags = int(n)
    timed_count, mean = session.execute(
        select(func.count(), func.avg(Annotation.seconds_spent)).select_from(Annotation)
        .join(Task, Task.id == Annotation.task_id).where(*worked, Annotation.seconds_spent > 0)).one()
    open_flags = int(session.scalar(
        select(func.count()).select_from(Flag).join(Task, Task.id == Flag.task_id)
        .where(Flag.user_id == annotator.id, Task.project_id.in_(ids), Flag.resolved_at.is_(None))) or 0)

    # The window's labels are read row by row (one annotator, a bounded window): grouping by day in
    # Python keeps it the same UTC day on SQLite and Postgres, and gives medians, which SQL lacks.
    end = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    start = end - timedelta(days=days)
    by_day: dict[date, list[float]] = defaultdict(list)
    for created_at, seconds in session.execute(
            select(Annotation.created_at, Annotation.seconds_spent).join(Task, Task.id == Annotation.task_id)
            .where(*worked, Annotation.created_at >= start)):
        by_day[created_at.date()].append(float(seconds))
    series = []
    for offset in range(days):
        day = (start + timedelta(days=offset)).date()
        timed = [s for s in by_day.get(day, []) if s > 0]
        series.append(Day(day=day, labels=len(by_day.get(day, [])),
                          median_seconds=statistics.median(timed) if timed else None))
    window_timed = [s for values in by_day.values() for s in values if s > 0]

    recent_skips = [(s, t) for s, t in session.execute(
        select(Skip, Task).join(Task, Task.id == Skip.task_id)
        .where(Skip.user_id == annotator.id, Task.project_id.in_(ids))
        .order_by(Skip.created_at.desc(), Skip.id.desc()).limit(RECENT)).all()]
    recent_flags = [(f, t) for f, t in session.execute(
        select(Flag, Task).join(Task, Task.id == Flag.task_id)
        .where(Flag.user_id == annotator.id, Task.project_id.in_(ids))
        .order_by(Flag.created_at.desc(), Flag.id.desc()).limit(RECENT)).all()]
    return Activity(
        projects=list(lines.values()), labels=sum(x.labels for x in lines.values()),
        labels_in_window=sum(d.labels for d in series), timed_labels=int(timed_count or 0),
        mean_seconds=float(mean) if mean is not None else None,
        median_seconds=statistics.median(window_timed) if window_timed else None,
        skips=sum(x.skips for x in lines.values()), flags=sum(x.flags for x in lines.values()),
        open_flags=open_flags, days=series, recent_skips=recent_skips, recent_flags=recent_flags)


@dataclass
class Member:
    user: User
    labels: int
    last_label_at: datetime | None


def project_members(*, session: Session, project_id: int) -> list[Member]:
    """A project's members by name, with their labels in it and when they last submitted one."""
    counts = (select(Annotation.author_id, func.count().label("n"), func.max(Annotation.created_at).label("last"))
              .join(Task, Task.id == Annotation.task_id)
              .where(Task.project_id == project_id, Annotation.status.in_(WORKED))
              .group_by(Annotation.author_id).subquery())
    rows = session.execute(
        select(User, func.coalesce(counts.c.n, 0), counts.c.last)
        .join(Membership, Membership.user_id == User.id).outerjoin(counts, counts.c.author_id == User.id)
        .where(Membership.project_id == project_id).order_by(func.lower(User.username))).all()
    return [Member(user=u, labels=int(n), last_label_at=last) for u, n, last in rows]
