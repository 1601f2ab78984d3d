"""Who gets which task before the ranked queue does: tasks returned to their annotator, gold tasks mixed
in at the project's rate, and tiered routing by quality score.

The lease code (service._claim) asks here first; what it hands out is leased the ordinary way.
- A task a reviewer rejected is first in its annotator's queue and in nobody else's, until they submit
  or skip it or `return_hold_seconds` pass.
- With probability `project.gold_rate` a lease is a gold task the annotator has not answered: its
  source task itself, an ordinary older task of the project with its own score and rank (gold regions
  are scored and ranked with the open tasks), so no field (id, item, order, score, URLs) sets it apart.
  Several annotators may hold it at once; each answer is an annotation of status `gold`, scored when
  submitted and never the task's label.
- Tiered routing: once some annotators have enough evidence (`quality_min_evidence`), the top third by
  quality score (app/quality/scores.py) get the ranking as it is; everyone else gets the
  `tier_reserve` top-ranked (most uncertain) tasks last, so those go first to the best annotators.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import get_settings
from app.db import utcnow
from app.projects.models import Project
from app.quality import scores
from app.quality.models import GoldAnswer, GoldTask, QualityScore, TaskReturn
from app.queue.models import Flag, Lease, Skip, Task, TaskStatus

_rng = random.Random()


def not_gold_copy():  # type: ignore[no-untyped-def]
    """Copy tasks made for one annotator's gold answer (before gold answers moved onto the source task):
    never in the ranked queue. A gold region's source task itself is queued like any task."""
    return ~exists().where(GoldAnswer.task_id == Task.id, GoldAnswer.gold_task_id == GoldTask.id,
                           GoldTask.source_task_id != Task.id)


def gold_pending(user_id, task_id=Task.id):  # type: ignore[no-untyped-def]
    """SQL: the task (the enclosing statement's, or `task_id`) is a gold region's source task that `user_id`
    was handed and has not answered. To them it is open until they answer it."""
    return exists().where(GoldAnswer.task_id == task_id, GoldAnswer.user_id == user_id,
                          GoldAnswer.annotation_id.is_(None))


def pending_gold_answer(*, session: Session, task_id: int, user_id: int) -> GoldAnswer | None:
    """The unanswered gold answer `user_id` holds on this task, if any."""
    return session.scalar(select(GoldAnswer).where(GoldAnswer.task_id == task_id, GoldAnswer.user_id == user_id,
                                                   GoldAnswer.annotation_id.is_(None)))


def answers_gold(*, session: Session, task_id: int, user_id: int) -> bool:
    """`user_id` sees this task as a gold answer (pending or given): what they read of it must be what a
    fresh task shows (no earlier flags, rejections or labels of the source task)."""
    return session.scalar(select(GoldAnswer.id).where(GoldAnswer.task_id == task_id,
                                                      GoldAnswer.user_id == user_id).limit(1)) is not None


def active_gold_source():  # type: ignore[no-untyped-def]
    """A task whose region is an active gold task: scored with the open tasks, so each model version has
    a suggestion and a score for it, and its copies read like any queued task."""
    return exists().where(GoldTask.source_task_id == Task.id, GoldTask.active)


def return_since(now: datetime) -> datetime:
    """Returns made before this have lapsed (`return_hold_seconds`)."""
    return now - timedelta(seconds=get_settings().return_hold_seconds)


def _open_return(since):  # type: ignore[no-untyped-def]
    skipped_by_them = exists().where(Skip.task_id == TaskReturn.task_id, Skip.user_id == TaskReturn.user_id,
                                     Skip.created_at > TaskReturn.created_at)
    return and_(TaskReturn.task_id == Task.id, TaskReturn.closed_at.is_(None), TaskReturn.created_at > since,
                ~skipped_by_them)


def not_returned_to_other(user_id, since):  # type: ignore[no-untyped-def]
    """SQL: no open return of the task to someone else. `since` is return_since(now), or a bind parameter
    (the lease builds its statements once: app/queue/service.py)."""
    return ~exists().where(_open_return(since), TaskReturn.user_id != user_id)


def routed_task(*, session: Session, project: Project, user: User,
                may_have_returns: bool = True) -> tuple[Task, str] | None:
    """A task routed to `user` ahead of the ranking, and why ('returned' or 'gold'); None: use the queue.
    `may_have_returns=False` (the lease read that the user has no open return) skips that look-up."""
    task = _returned(session=session, project=project, user=user) if may_have_returns else None
    if task is not None:
        return task, "returned"
    if project.gold_rate > 0 and _rng.random() < project.gold_rate:
        task = _gold_copy(session=session, project=project, user=user)
        if task is not None:
            return task, "gold"
    return None


def _returned(*, session: Session, project: Project, user: User) -> Task | None:
    now = utcnow()
    leased = exists().where(Lease.task_id == Task.id, Lease.released_at.is_(None), Lease.expires_at > now)
    # Driven from the user's returns (few), not from the project's open tasks (many).
    return session.scalar(
        select(Task).join(TaskReturn, _open_return(return_since(now)))
        .where(TaskReturn.user_id == user.id, Task.project_id == project.id, Task.status == TaskStatus.open,
               ~leased)
        .order_by(Task.id).limit(1).with_for_update(skip_locked=True, of=Task))


def _gold_copy(*, session: Session, project: Project, user: User) -> Task | None:
    """A gold task's source task for `user` to answer (named for what it replaced: a copy task)."""
    # A gold task whose lease ran out unanswered is this annotator's again (unless they skipped it).
    skipped = exists().where(Skip.task_id == Task.id, Skip.user_id == user.id)
    flagged = exists().where(Flag.task_id == Task.id, Flag.user_id == user.id)  # as a flagged task leaves them
    earlier = session.scalar(
        select(Task).where(gold_pending(user.id), Task.project_id == project.id, ~skipped, ~flagged)
        .order_by(Task.id).limit(1))
    if earlier is not None:
        return earlier
    answered = exists().where(GoldAnswer.gold_task_id == GoldTask.id, GoldAnswer.user_id == user.id)
    # Whoever held the region's task before (and labeled or skipped it) would know it: never theirs.
    labeled_it = exists().where(Lease.task_id == GoldTask.source_task_id, Lease.user_id == user.id)
    gold = session.scalar(select(GoldTask).where(GoldTask.project_id == project.id, GoldTask.active, ~answered,
                                                 ~labeled_it).order_by(GoldTask.id).limit(1))
    if gold is None:
        return None
    task = session.get(Task, gold.source_task_id)
    if task is None:
        return None
    session.add(GoldAnswer(gold_task_id=gold.id, task_id=task.id, user_id=user.id))
    session.flush()
    return task


@dataclass(frozen=True)
class Tier:
    """Where tiered routing puts one annotator, for the lease code and the "why this task" panel."""

    tiered: bool  # False: nobody has enough evidence yet, everyone gets the ranking as it is
    top: bool
    score: float | None
    evidence: int
    reserve: int  # how many top-ranked tasks go first to the top tier
    min_evidence: int

    @property
    def held_back(self) -> int:
        """Top-ranked tasks this annotator gets only after the others."""
        return self.reserve if self.tiered and not self.top else 0


def standings(*, session: Session, project_id: int) -> dict[int, scores.Standing]:
    return {q.user_id: scores.Standing(score=q.score, evidence=q.evidence)
            for q in session.scalars(select(QualityScore).where(QualityScore.project_id == project_id))}


def tier_of(*, session: Session, project_id: int, user_id: int) -> Tier:
    settings = get_settings()
    table = standings(session=session, project_id=project_id)
    top = scores.top_tier(table, settings.quality_min_evidence)
    mine = table.get(user_id)
    return Tier(tiered=bool(top) and settings.tier_reserve > 0, top=user_id in top,
                score=mine.score if mine else None, evidence=mine.evidence if mine else 0,
                reserve=settings.tier_reserve, min_evidence=settings.quality_min_evidence)
