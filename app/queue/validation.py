"""The validation split's own line: a lead labels its open tasks in order, apart from the queue.

No ranking touches it (the queue hands out pool tasks only); a lease still marks the task taken, so two
leads labeling at once get different images, and drafts and skips work as on the pool."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.config import get_settings
from app.db import lock_row, utcnow
from app.items.models import Item, Split
from app.projects.models import Project
from app.queue import service as queue_service
from app.queue.models import Lease, Skip, Task, TaskStatus

EMPTY = "Every validation task is labeled or being labeled (or skipped by you)."


def lease_next_validation(*, session: Session, project: Project, user: User) -> Task | None:
    """Lease the oldest open validation task to `user` (or give back the one they hold); the caller commits."""
    if project.archived_at is not None:
        raise queue_service.ProjectArchived("This project is archived: it hands out no tasks.",
                                            code="project_archived")
    lock_row(session, User.username, user.id)
    held = queue_service._held_task(session=session, project_id=project.id, user=user, split=Split.validation)
    if held is not None:
        return held
    now = utcnow()
    free = (select(Task).join(Item, Item.id == Task.item_id)
            .where(Task.project_id == project.id, Task.status == TaskStatus.open, Item.split == Split.validation,
                   ~exists().where(queue_service._active_lease_clause(now)),
                   ~exists().where(Skip.task_id == Task.id, Skip.user_id == user.id))
            .order_by(Task.id))
    task = queue_service._first_free(session, user, free)  # the pool's row lock and look again
    if task is None:
        return None
    expires = now + timedelta(seconds=get_settings().lease_seconds)
    session.add(Lease(task_id=task.id, user_id=user.id, expires_at=expires))
    audit.record(session=session, action="task.lease", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=project.id, detail={"split": "validation"})
    session.flush()
    return task


def progress(*, session: Session, project_id: int) -> tuple[int, int]:
    """(validation tasks labeled, validation tasks in all)."""
    rows = dict(session.execute(
        select(Task.status, func.count()).join(Item, Item.id == Task.item_id)
        .where(Task.project_id == project_id, Item.split == Split.validation).group_by(Task.status)).all())
    return int(rows.get(TaskStatus.done, 0)), int(sum(rows.values()))
