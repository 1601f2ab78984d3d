"""Asking for the next task: the queue's lease, held to the project's budget caps.

The caps need what annotators submitted (annotations) and the queue's leases, and annotations sit above
the queue; so the queue takes the check as a callable and runs it under its project lock, beside the
total budget check (concurrent annotators cannot overshoot a cap)."""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session

from app.auth.models import User
from app.budgets import service as budget_service
from app.projects.models import Project
from app.queue import service as queue_service
from app.queue.models import Task


def next_task(*, session: Session, project: Project, user: User) -> Task | None:
    """Lease the next task to `user`, or raise CapReached / BudgetSpent / ProjectArchived; the caller commits."""
    budget = budget_service.get(session=session, project_id=project.id)
    caps = (partial(budget_service.check_caps, session=session, project=project, user=user)
            if budget_service.has_caps(budget) else None)
    return queue_service.lease_next(session=session, project=project, user=user, caps=caps)
