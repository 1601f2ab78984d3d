"""What one lease needs to know about its project and user, read in one statement.

Before this, each lease asked in turn for the task the user holds, the current guidelines and their
confirmation, the ranked model version, the overlap policy and the user's returned tasks (six statements);
most projects have none of those, and the answers do not change during the request. The flags let the
lease skip the routing and overlap statements that could find nothing (app/queue/service.py, routing.py,
overlap.py). The statement is built once, with bind parameters: building it cost more than running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from app.db import UTCDateTime, utcnow
from app.items.models import Item, Split
from app.modeling import service as model_service
from app.projects.models import Guideline, GuidelineConfirmation
from app.quality.models import TaskReturn
from app.queue import routing
from app.queue.models import Lease, Task, TaskStatus
from app.queue.overlap_models import OverlapPolicy


@dataclass(frozen=True)
class LeaseContext:
    held_task_id: int | None  # the open pool task the user holds (service._held_task), given back as it is
    unconfirmed_guidelines: int | None  # the current version when the user has not confirmed it
    model_version_id: int | None  # the version whose ranking the queue follows (modeling.ranked_model_version_id)
    overlap_on: bool  # the project has an overlap policy
    may_have_returns: bool  # the user has an open returned task (of any project: the lease narrows it)


def held_task(what, project_id, user_id, now, split: Split = Split.pool) -> Select[Any]:  # type: ignore[no-untyped-def]
    """The task of `split` the user holds, first leased first: an open one, or a gold task's source task
    they were handed and have not answered (labeled already: app/queue/routing.py). One condition for the
    lease's context (here) and service._held_task, so they cannot drift. `what`: Task or a column of it;
    the ids and `now` values or bind parameters."""
    return (select(what).join(Lease, Lease.task_id == Task.id).join(Item, Item.id == Task.item_id)
            .where(Task.project_id == project_id, or_(Task.status == TaskStatus.open, routing.gold_pending(user_id)),
                   Lease.user_id == user_id, Lease.released_at.is_(None), Lease.expires_at > now, Item.split == split)
            .order_by(Lease.id).limit(1))


def _statement() -> Select[Any]:
    project_id, user_id = bindparam("ctx_project_id", type_=Integer), bindparam("ctx_user_id", type_=Integer)
    now, since = bindparam("ctx_now", type_=UTCDateTime()), bindparam("ctx_return_since", type_=UTCDateTime())
    held = held_task(Task.id, project_id, user_id, now).scalar_subquery()
    current = (select(Guideline.version).where(Guideline.project_id == project_id)
               .order_by(Guideline.version.desc()).limit(1).scalar_subquery())
    confirmed = exists().where(GuidelineConfirmation.project_id == project_id,
                               GuidelineConfirmation.user_id == user_id, GuidelineConfirmation.version == current)
    ranked = model_service.ranked_version_query(project_id).scalar_subquery()  # type: ignore[arg-type]
    overlap_on = exists().where(OverlapPolicy.project_id == project_id)
    returns = exists().where(TaskReturn.user_id == user_id, TaskReturn.closed_at.is_(None),
                             TaskReturn.created_at > since)
    return select(held, current, confirmed, ranked, overlap_on, returns)


_STATEMENT = _statement()  # built once: every lease runs it


def read(*, session: Session, project_id: int, user_id: int) -> LeaseContext:
    """Run after the lease took the user's row lock: a fresh statement, so it sees the lease a concurrent
    request of the same user committed just before (the held task)."""
    now = utcnow()
    row = session.execute(_STATEMENT, {"ctx_project_id": project_id, "ctx_user_id": user_id, "ctx_now": now,
                                       "ctx_return_since": routing.return_since(now)}).one()
    held, version, is_confirmed, mv_id, overlap, may_return = row
    return LeaseContext(held_task_id=held,
                        unconfirmed_guidelines=None if version is None or is_confirmed else int(version),
                        model_version_id=mv_id, overlap_on=bool(overlap), may_have_returns=bool(may_return))
