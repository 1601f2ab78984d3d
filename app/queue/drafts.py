"""Autosaved drafts: the mask an annotator is painting, kept so a reload or a lost network loses nothing."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import imaging, storage
from app.auth.models import User
from app.db import utcnow
from app.errors import DomainError
from app.queue import service as queue_service
from app.queue.models import Draft, Task

MAX_SECONDS_SPENT = 24 * 3600


def save(*, session: Session, task: Task, user: User, mask: np.ndarray, seconds_spent: float,
         client_token: str | None) -> Draft:
    """Replace this user's draft of the task. Only the holder of the task's lease may save one."""
    # Take turns with submits and other saves of this task: autosaves can overlap.
    queue_service.require_lease(session, task, user, "this task is not leased to you; the draft was not saved")
    check_seconds_spent(seconds_spent)
    draft = get(session=session, task_id=task.id, user_id=user.id)
    if draft is None:
        draft = Draft(task_id=task.id, user_id=user.id, mask_path="")
        session.add(draft)
    draft.mask_path = f"projects/{task.project_id}/drafts/task{task.id}-user{user.id}.png"
    draft.seconds_spent, draft.client_token, draft.updated_at = seconds_spent, client_token, utcnow()
    storage.write_atomic(draft.mask_path, imaging.encode_png(mask))
    return draft


def check_seconds_spent(seconds_spent: float) -> None:
    if not 0 <= seconds_spent <= MAX_SECONDS_SPENT:
        raise DomainError(f"seconds_spent must be between 0 and {MAX_SECONDS_SPENT}")


def get(*, session: Session, task_id: int, user_id: int) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.task_id == task_id, Draft.user_id == user_id))


def discard(*, session: Session, task_id: int, user_id: int) -> None:
    draft = get(session=session, task_id=task_id, user_id=user_id)
    if draft is not None:
        storage.absolute(draft.mask_path).unlink(missing_ok=True)
        session.delete(draft)
