"""Rows for the people desk's tests: an admin logged in, and an annotator's labels, skips and flags
written straight to the tables (with the times and seconds a test needs, no image files)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.factories import login, make_project, make_user
from tests.scenes import add_tiny_tasks


@pytest.fixture
def admin(client):  # type: ignore[no-untyped-def]
    """The only admin, logged in on `client`; yields the headers a state change needs."""
    make_user("root", "admin")
    return {"X-CSRF-Token": login(client, "root")}


def user_id(username: str) -> int:
    from app.auth import service
    from app.db import session_scope

    with session_scope() as session:
        user = service.get_by_username(session=session, username=username)
        assert user is not None
        return user.id


def worked_project(annotator: str = "ann", lead: str = "lead", name: str = "p", tasks: int = 6) -> int:
    """A lead's project with `annotator` in it and `tasks` open tiny tasks."""
    make_user(lead, "lead")
    make_user(annotator)
    pid = make_project(name=name, owner=lead, members=(annotator,))
    add_tiny_tasks(pid, tasks)
    return pid


def add_labels(pid: int, username: str, when: list[tuple[datetime, float]]) -> None:
    """One submitted label per (created_at, seconds_spent), each on the next task of the project."""
    from sqlalchemy import select

    from app.annotations.models import Annotation, AnnotationStatus
    from app.db import session_scope
    from app.queue.models import Task

    uid = user_id(username)
    with session_scope() as session:
        tasks = session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id)).all()
        used = set(session.scalars(select(Annotation.task_id)))
        free = [t for t in tasks if t.id not in used]
        assert len(free) >= len(when)
        for task, (at, seconds) in zip(free, when, strict=False):
            session.add(Annotation(task_id=task.id, item_id=task.item_id, version=1, author_id=uid,
                                   mask_path=f"missing/{task.id}.png", seconds_spent=seconds,
                                   status=AnnotationStatus.submitted, labeled_pixels=1, created_at=at))


def add_skip_and_flag(pid: int, username: str, reason: str = "too blurry", note: str = "which class?") -> None:
    from sqlalchemy import select

    from app.db import session_scope
    from app.queue.models import Flag, Skip, Task

    uid = user_id(username)
    with session_scope() as session:
        task_ids = session.scalars(select(Task.id).where(Task.project_id == pid).order_by(Task.id.desc())).all()
        session.add(Skip(task_id=task_ids[0], user_id=uid, reason=reason))
        session.add(Flag(task_id=task_ids[1], user_id=uid, note=note))


def days_ago(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)
