"""Overlap rules: which tasks are labeled by k annotators, and who may still take a copy of one.

A task draws overlap when it is first leased (a stable share of tasks, plus every task whose calibrated
uncertainty is above the project's threshold) and keeps that decision afterwards. Up to k annotators
then hold or have submitted a copy, never one person twice; the task is done at the k-th submission.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import ColumnElement, Integer, and_, bindparam, func, select, union_all
from sqlalchemy.orm import Session, aliased

from app.audit import service as audit
from app.auth.models import User
from app.db import UTCDateTime, utcnow
from app.errors import DomainError
from app.modeling import service as model_service
from app.modeling.models import Score
from app.projects.models import Membership, Project
from app.queue.models import Lease, Task, TaskStatus
from app.queue.overlap_models import OverlapPolicy, OverlapTask, TaskCopy


class OverlapSettingError(DomainError):
    """A refused overlap setting (422); the message names the field."""


def get_policy(*, session: Session, project_id: int) -> OverlapPolicy | None:
    return session.get(OverlapPolicy, project_id)


def member_count(*, session: Session, project_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Membership)
                              .where(Membership.project_id == project_id)) or 0)


def validate(*, share: float, k: int, uncertainty_threshold: float | None, agreement_threshold: float,
             members: int) -> None:
    if not 0.0 <= share <= 1.0:
        raise OverlapSettingError("overlap_share must be between 0 and 1")
    if k < 2 or k > members:
        raise OverlapSettingError(f"overlap_k must be between 2 and the number of project members ({members})")
    if uncertainty_threshold is not None and not 0.0 <= uncertainty_threshold <= 1.0:
        raise OverlapSettingError("overlap_uncertainty_threshold must be between 0 and 1 (or empty for none)")
    if not 0.0 <= agreement_threshold <= 1.0:
        raise OverlapSettingError("agreement_threshold must be between 0 and 1")


def set_policy(*, session: Session, project: Project, user: User, share: float, k: int,
               uncertainty_threshold: float | None, agreement_threshold: float) -> OverlapPolicy:
    """Create or change the project's overlap rule (all fields checked before any is written). Tasks that
    drew overlap already keep their number of copies."""
    validate(share=share, k=k, uncertainty_threshold=uncertainty_threshold, agreement_threshold=agreement_threshold,
             members=member_count(session=session, project_id=project.id))
    policy = get_policy(session=session, project_id=project.id)
    before = None
    if policy is None:
        policy = OverlapPolicy(project_id=project.id)
        session.add(policy)
    else:
        before = {"share": policy.share, "k": policy.k, "uncertainty_threshold": policy.uncertainty_threshold,
                  "agreement_threshold": policy.agreement_threshold}
    policy.share, policy.k, policy.uncertainty_threshold = share, k, uncertainty_threshold
    policy.agreement_threshold, policy.updated_at = agreement_threshold, utcnow()
    after = {"share": share, "k": k, "uncertainty_threshold": uncertainty_threshold,
             "agreement_threshold": agreement_threshold}
    audit.record(session=session, action="overlap.update", entity="project", entity_id=project.id, user_id=user.id,
                 project_id=project.id, detail={"before": before, "after": after})
    session.flush()
    return policy


def drawn_by_share(task_id: int, share: float) -> bool:
    """A stable draw per task: the same task always lands on the same side of a given share."""
    digest = hashlib.sha256(f"overlap-share:{task_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def calibrated_uncertainty(score: Score | None) -> float | None:
    """The task's mean normalized entropy (0..1) under the ranked model version's calibrated maps."""
    if score is None:
        return None
    value = score.components.get("entropy") if score.components else None
    return float(value) if value is not None else None


def copies_wanted(*, session: Session, project_id: int, task: Task) -> tuple[int, str | None]:
    """(copies, reason) the policy asks of this task now: (1, None) when it is labeled once."""
    policy = get_policy(session=session, project_id=project_id)
    if policy is None or policy.k < 2:
        return 1, None
    if policy.uncertainty_threshold is not None:
        u = calibrated_uncertainty(model_service.score_for(session=session, project_id=project_id, task_id=task.id))
        if u is not None and u > policy.uncertainty_threshold:
            return policy.k, "uncertainty"
    if drawn_by_share(task.id, policy.share):
        return policy.k, "share"
    return 1, None


def on_lease(*, session: Session, project_id: int, task: Task) -> None:
    """Called under the task's row lock as it is leased: the first lease decides overlap for good."""
    if get_policy(session=session, project_id=project_id) is None:  # overlap never turned on: one query
        return
    if session.get(OverlapTask, task.id) is not None:
        return
    copies, reason = copies_wanted(session=session, project_id=project_id, task=task)
    if copies > 1 and reason is not None:
        session.add(OverlapTask(task_id=task.id, copies=copies, reason=reason))
        session.flush()


def room_for(now, user_id) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """SQL: the task has a copy left for `user_id`: live leases plus submitted copies are fewer than the
    copies it needs (1 unless it drew overlap), and this user neither holds nor submitted one.

    Both sets are uncorrelated subqueries (live leases, copies of tasks still open), which Postgres hashes
    once per statement instead of probing per candidate row: the queue's head is found as fast as with
    the plain "no live lease" filter it replaces. `now` and `user_id` may be bind parameters (the lease
    builds its statements once).
    """
    live = and_(Lease.released_at.is_(None), Lease.expires_at > now)
    open_task = aliased(Task)
    pending_copies = (select(TaskCopy.task_id.label("task_id"), TaskCopy.user_id.label("user_id"))
                      .join(open_task, open_task.id == TaskCopy.task_id).where(open_task.status == TaskStatus.open))
    taken = union_all(select(Lease.task_id.label("task_id"), Lease.user_id.label("user_id")).where(live),
                      pending_copies).subquery()
    counts = select(taken.c.task_id, func.count().label("n")).group_by(taken.c.task_id).subquery()
    full = (select(counts.c.task_id).outerjoin(OverlapTask, OverlapTask.task_id == counts.c.task_id)
            .where(counts.c.n >= func.coalesce(OverlapTask.copies, 1)))
    mine = select(taken.c.task_id).where(taken.c.user_id == user_id)
    return and_(Task.id.not_in(full), Task.id.not_in(mine))


_HAS_ROOM = (select(func.count()).select_from(Task)
             .where(Task.id == bindparam("room_task_id", type_=Integer),
                    room_for(bindparam("room_now", type_=UTCDateTime()), bindparam("room_user_id", type_=Integer))))


def has_room(*, session: Session, task: Task, user: User) -> bool:
    """`room_for` read again by a fresh statement (under the task's row lock, in the lease code); the
    statement is built once (building it took longer than running it)."""
    return bool(session.scalar(_HAS_ROOM, {"room_task_id": task.id, "room_now": utcnow(), "room_user_id": user.id}))


def get_overlap(*, session: Session, task_id: int) -> OverlapTask | None:
    return session.get(OverlapTask, task_id)


def copies_of(*, session: Session, task_id: int) -> list[TaskCopy]:
    return list(session.scalars(select(TaskCopy).where(TaskCopy.task_id == task_id).order_by(TaskCopy.id)))


def copy_of_annotation(*, session: Session, annotation_id: int) -> TaskCopy | None:
    """The overlap copy this annotation holds (its annotator's current version of the task), if any."""
    return session.scalar(select(TaskCopy).where(TaskCopy.annotation_id == annotation_id))


def withdraw_copy(*, session: Session, copy: TaskCopy) -> None:
    """A reviewer rejected this copy: it stops counting toward k (the caller reopens the task and returns
    it to the copy's annotator, whose next submission is a copy again)."""
    session.delete(copy)
    session.flush()


def record_submission(*, session: Session, task: Task, user_id: int, annotation_id: int) -> bool:
    """A label of `task` by `user_id` was stored (the caller holds the task's lock). Marks the task done,
    at once for a task labeled once, at the k-th copy by a distinct annotator for an overlap task.
    True when this submission completed the overlap task's copies."""
    overlap = get_overlap(session=session, task_id=task.id)
    if overlap is None:
        task.status = TaskStatus.done
        return False
    copy = session.scalar(select(TaskCopy).where(TaskCopy.task_id == task.id, TaskCopy.user_id == user_id))
    if copy is None:
        session.add(TaskCopy(task_id=task.id, user_id=user_id, annotation_id=annotation_id))
    else:  # the same annotator again (a lead relabeling): their copy is now this version, not a new one
        copy.annotation_id = annotation_id
    session.flush()
    count = len(copies_of(session=session, task_id=task.id))
    if count >= overlap.copies and task.status == TaskStatus.open:
        task.status = TaskStatus.done
        return copy is None
    return False


def copy_annotation_ids(*, session: Session, project_id: int) -> dict[int, list[int]]:
    """Task id -> the annotation ids of its submitted copies, for every overlap task of the project."""
    out: dict[int, list[int]] = {}
    for task_id, annotation_id in session.execute(
            select(TaskCopy.task_id, TaskCopy.annotation_id).join(Task, Task.id == TaskCopy.task_id)
            .where(Task.project_id == project_id).order_by(TaskCopy.id)):
        out.setdefault(task_id, []).append(annotation_id)
    return out


def routing_note(*, session: Session, task: Task) -> str | None:
    """The overlap rule as the "why this task" panel states it; None for a task labeled once."""
    drawn = get_overlap(session=session, task_id=task.id)
    if drawn is None:
        return None
    why = ("its calibrated uncertainty was above the project's overlap threshold" if drawn.reason == "uncertainty"
           else "it is in the share of tasks the project has labeled more than once")
    return (f"Labeled independently by {drawn.copies} annotators, because {why}. Label it as you see it: the copies "
            "are compared, and where they disagree an adjudicator decides.")


def close_if_complete(*, session: Session, task: Task) -> None:
    """An overlap task back in the queue (its flag answered) whose k copies arrived while it was
    escalated is done: nobody can take another copy of it."""
    drawn = get_overlap(session=session, task_id=task.id)
    if drawn is not None and task.status == TaskStatus.open and \
            len(copies_of(session=session, task_id=task.id)) >= drawn.copies:
        task.status = TaskStatus.done
