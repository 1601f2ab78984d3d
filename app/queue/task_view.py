"""What a task's page and the next-task answer show about it, read in as few statements as possible:
one for the item, the live lease (the user's own first), the ranked model version, the user's draft and
whether the user holds an unanswered gold answer on it; a second for the score only when the queue is
ranked. Next-task runs this on every lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.items.models import Item
from app.modeling import service as model_service
from app.modeling.models import Score
from app.queue import routing
from app.queue.models import Draft, Lease, Task


@dataclass(frozen=True)
class TaskView:
    item: Item
    lease_expires_at: datetime | None
    model_version_id: int | None
    score: Score | None
    draft: Draft | None
    gold_pending: bool  # a gold task's source task the user was handed: open to them until they answer it


def read(*, session: Session, task: Task, user: User) -> TaskView:
    lease_expires = (select(Lease.expires_at)
                     .where(Lease.task_id == task.id, Lease.released_at.is_(None), Lease.expires_at > utcnow())
                     .order_by((Lease.user_id == user.id).desc(), Lease.id).limit(1).scalar_subquery())
    ranked = model_service.ranked_version_query(task.project_id).scalar_subquery()
    gold = routing.gold_pending(user.id, task.id)
    item, expires_at, mv_id, draft, gold_pending = session.execute(
        select(Item, lease_expires, ranked, Draft, gold)
        .outerjoin(Draft, and_(Draft.task_id == task.id, Draft.user_id == user.id)).where(Item.id == task.item_id)
    ).one()
    score = session.scalar(select(Score).where(Score.task_id == task.id, Score.model_version_id == mv_id)) \
        if mv_id is not None else None
    return TaskView(item=item, lease_expires_at=expires_at, model_version_id=mv_id, score=score, draft=draft,
                    gold_pending=bool(gold_pending))
