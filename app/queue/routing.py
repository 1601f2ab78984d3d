"""Who gets which task before the ranked queue does: tasks returned to their annotator, gold tasks mixed
in at the project's rate, and tiered routing by quality score.

The lease code (service._claim) asks here first; what it hands out is leased the ordinary way.
- A task a reviewer rejected is first in its annotator's queue and in nobody else's, until they submit
  or skip it or `return_hold_seconds` pass.
- With probability `project.gold_rate` a lease is a gold task the annotator has not answered: a fresh
  task of the gold region (its own id, the same fields as any task), scored when submitted.
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
from app.modeling.models import Score
from app.projects.models import Project
from app.quality import scores
from app.quality.models import GoldAnswer, GoldTask, QualityScore, TaskReturn
from app.queue.models import Lease, Skip, Task, TaskStatus

_rng = random.Random()


def not_gold_copy():  # type: ignore[no-untyped-def]
    """Gold copies belong to the annotator they were made for: never in the ranked queue."""
    return ~exists().where(GoldAnswer.task_id == Task.id)


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


def routed_task(*, session: Session, project: Project, user: User, model_version_id: int | None,
                may_have_returns: bool = True) -> tuple[Task, str] | None:
    """A task routed to `user` ahead of the ranking, and why ('returned' or 'gold'); None: use the queue.
    `may_have_returns=False` (the lease read that the user has no open return) skips that look-up."""
    task = _returned(session=session, project=project, user=user) if may_have_returns else None
    if task is not None:
        return task, "returned"
    if project.gold_rate > 0 and _rng.random() < project.gold_rate:
        task = _gold_copy(session=session, project=project, user=user, model_version_id=model_version_id)
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


def _gold_copy(*, session: Session, project: Project, user: User, model_version_id: int | None) -> Task | None:
    # A copy whose lease ran out unanswered is this annotator's again (unless they skipped it).
    skipped = exists().where(Skip.task_id == Task.id, Skip.user_id == user.id)
    earlier = session.scalar(
        select(Task).join(GoldAnswer, GoldAnswer.task_id == Task.id)
        .where(GoldAnswer.user_id == user.id, GoldAnswer.annotation_id.is_(None), Task.project_id == project.id,
               Task.status == TaskStatus.open, ~skipped).order_by(Task.id).limit(1))
    if earlier is not None:
        return earlier
    answered = exists().where(GoldAnswer.gold_task_id == GoldTask.id, GoldAnswer.user_id == user.id)
    gold = session.scalar(select(GoldTask).where(GoldTask.project_id == project.id, GoldTask.active, ~answered)
                          .order_by(GoldTask.id).limit(1))
    if gold is None:
        return None
    task = Task(project_id=project.id, item_id=gold.item_id, x=gold.x, y=gold.y, width=gold.width,
                height=gold.height)
    session.add(task)
    session.flush()
    session.add(GoldAnswer(gold_task_id=gold.id, task_id=task.id, user_id=user.id))
    if model_version_id is not None:
        _copy_score(session=session, project=project, task=task, source_task_id=gold.source_task_id,
                    model_version_id=model_version_id)
    return task


def _copy_score(*, session: Session, project: Project, task: Task, source_task_id: int, model_version_id: int) -> None:
    """Give the copy the score any queued task has, so its "why this task" reads like theirs: the gold
    region's own score under the ranking version, else the score of the task next in the queue."""
    source = session.scalar(select(Score).where(Score.task_id == source_task_id,
                                                Score.model_version_id == model_version_id))
    if source is None:
        source = session.scalar(
            select(Score).join(Task, Task.id == Score.task_id)
            .where(Score.model_version_id == model_version_id, Task.project_id == project.id,
                   Task.status == TaskStatus.open, Score.rank.is_not(None))
            .order_by(Score.rank).limit(1))
    if source is not None:
        session.add(Score(task_id=task.id, model_version_id=model_version_id, value=source.value,
                          components=dict(source.components), strategy=source.strategy, rank=source.rank))


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
