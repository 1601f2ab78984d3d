"""Agreement of overlap copies: computed when a task's k-th copy arrives, stored, and summarised.

Other desks (reviews, annotator quality) read `pair_rows` and `user_agreement`; the quality page reads
`class_summary`, `worst_pairs` and `disagreement_queue`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.agreement.compute import class_agreement, task_score
from app.agreement.models import Adjudication, PairAgreement, TaskAgreement
from app.annotations import service as annotation_service
from app.annotations.models import Annotation
from app.db import utcnow
from app.projects.models import Project
from app.queue import overlap
from app.queue.models import Flag, Task, TaskStatus


def copy_annotations(*, session: Session, task_id: int) -> list[Annotation]:
    """Each annotator's copy of an overlap task (their latest version), in the order they arrived."""
    rows = [session.get(Annotation, c.annotation_id) for c in overlap.copies_of(session=session, task_id=task_id)]
    return [a for a in rows if a is not None]


def is_complete(*, session: Session, task_id: int) -> bool:
    drawn = overlap.get_overlap(session=session, task_id=task_id)
    return drawn is not None and len(overlap.copies_of(session=session, task_id=task_id)) >= drawn.copies


def compute(*, session: Session, project: Project, task: Task) -> TaskAgreement | None:
    """(Re)compute and store the task's per-pair per-class agreement; None unless all k copies are in."""
    if not is_complete(session=session, task_id=task.id):
        return None
    copies = copy_annotations(session=session, task_id=task.id)
    masks = {a.id: annotation_service.load_mask(a) for a in copies}
    session.execute(delete(PairAgreement).where(PairAgreement.task_id == task.id))
    all_rows = []
    for a, b in combinations(sorted(copies, key=lambda x: x.author_id), 2):
        for row in class_agreement(masks[a.id], masks[b.id], len(project.classes)):
            all_rows.append(row)
            session.add(PairAgreement(
                project_id=project.id, task_id=task.id, user_a_id=a.author_id, user_b_id=b.author_id,
                annotation_a_id=a.id, annotation_b_id=b.id, class_index=row.class_index, pixels_a=row.pixels_a,
                pixels_b=row.pixels_b, intersection=row.intersection, iou=row.iou, dice=row.dice))
    score = task_score(all_rows)
    summary = session.get(TaskAgreement, task.id)
    if summary is None:
        summary = TaskAgreement(task_id=task.id, project_id=project.id, copies=len(copies), mean_iou=0.0, mean_dice=0.0)
        session.add(summary)
    summary.copies, summary.mean_iou, summary.mean_dice = len(copies), score.mean_iou, score.mean_dice
    summary.worst_class_index, summary.worst_iou, summary.computed_at = (score.worst_class_index, score.worst_iou,
                                                                         utcnow())
    session.flush()
    return summary


def forget(*, session: Session, task_id: int) -> None:
    """A copy stopped counting (a rejected review): the task's stored agreement measured it, so it goes
    until the k-th copy arrives again and `compute` measures the copies anew."""
    session.execute(delete(PairAgreement).where(PairAgreement.task_id == task_id))
    session.execute(delete(TaskAgreement).where(TaskAgreement.task_id == task_id))


def pair_rows(*, session: Session, task_id: int) -> list[PairAgreement]:
    return list(session.scalars(select(PairAgreement).where(PairAgreement.task_id == task_id)
                                .order_by(PairAgreement.user_a_id, PairAgreement.user_b_id,
                                          PairAgreement.class_index)))


def task_agreement(*, session: Session, task_id: int) -> TaskAgreement | None:
    return session.get(TaskAgreement, task_id)


@dataclass
class ClassSummary:
    class_index: int
    name: str
    color: str
    pairs: int
    mean_iou: float | None
    mean_dice: float | None


def class_summary(*, session: Session, project: Project) -> list[ClassSummary]:
    """Mean IoU and Dice per class over every stored pair where the class was present."""
    rows = {r.class_index: r for r in session.execute(
        select(PairAgreement.class_index, func.count().label("n"), func.avg(PairAgreement.iou).label("iou"),
               func.avg(PairAgreement.dice).label("dice"))
        .where(PairAgreement.project_id == project.id, PairAgreement.iou.is_not(None))
        .group_by(PairAgreement.class_index))}
    out = []
    for c in project.classes:
        r = rows.get(c.index)
        out.append(ClassSummary(c.index, c.name, c.color, int(r.n) if r else 0,
                                float(r.iou) if r else None, float(r.dice) if r else None))
    return out


@dataclass
class PairSummary:
    user_a_id: int
    user_b_id: int
    class_index: int
    tasks: int
    mean_iou: float


def worst_pairs(*, session: Session, project_id: int, limit: int = 10) -> list[PairSummary]:
    """Annotator pairs and classes that agree least (lowest mean IoU first)."""
    mean = func.avg(PairAgreement.iou)
    rows = session.execute(
        select(PairAgreement.user_a_id, PairAgreement.user_b_id, PairAgreement.class_index, func.count(), mean)
        .where(PairAgreement.project_id == project_id, PairAgreement.iou.is_not(None))
        .group_by(PairAgreement.user_a_id, PairAgreement.user_b_id, PairAgreement.class_index)
        .order_by(mean, PairAgreement.user_a_id, PairAgreement.user_b_id, PairAgreement.class_index).limit(limit))
    return [PairSummary(int(a), int(b), int(c), int(n), float(m)) for a, b, c, n, m in rows]


def user_agreement(*, session: Session, project_id: int, user_id: int) -> tuple[float | None, int]:
    """(mean IoU of the user's copies against their co-annotators', number of pair-class rows): the
    agreement part of an annotator's quality score, with its evidence."""
    mean, n = session.execute(
        select(func.avg(PairAgreement.iou), func.count())
        .where(PairAgreement.project_id == project_id, PairAgreement.iou.is_not(None),
               (PairAgreement.user_a_id == user_id) | (PairAgreement.user_b_id == user_id))).one()
    return (float(mean) if mean is not None else None), int(n)


@dataclass
class Disagreement:
    task: Task
    agreement: TaskAgreement | None
    open_flags: int


def adjudicated_task_ids(*, session: Session, project_id: int) -> set[int]:
    return set(session.scalars(select(Adjudication.task_id).where(Adjudication.project_id == project_id)))


def disagreement_queue(*, session: Session, project: Project, limit: int = 200) -> list[Disagreement]:
    """Tasks waiting for an adjudicator: copies agreeing below the project's threshold (worst first), then
    flagged tasks. Tasks adjudicated since their agreement was computed are left out."""
    policy = overlap.get_policy(session=session, project_id=project.id)
    threshold = policy.agreement_threshold if policy is not None else 0.0
    settled = adjudicated_task_ids(session=session, project_id=project.id)
    out: list[Disagreement] = []
    for agreement, task in session.execute(
            select(TaskAgreement, Task).join(Task, Task.id == TaskAgreement.task_id)
            .where(TaskAgreement.project_id == project.id, TaskAgreement.mean_iou < threshold)
            .order_by(TaskAgreement.mean_iou, Task.id).limit(limit)):
        if task.id not in settled:
            out.append(Disagreement(task, agreement, 0))
    flagged = session.execute(
        select(Task, func.count(Flag.id)).join(Flag, Flag.task_id == Task.id)
        .where(Task.project_id == project.id, Task.status == TaskStatus.escalated, Flag.resolved_at.is_(None))
        .group_by(Task.id).order_by(Task.id).limit(limit))
    listed = {d.task.id for d in out}
    for task, n in flagged:
        if task.id not in listed:
            out.append(Disagreement(task, session.get(TaskAgreement, task.id), int(n)))
    return out


def measured_counts(*, session: Session, project: Project) -> tuple[int, int]:
    """(tasks with agreement measured, how many of them fall below the project's threshold)."""
    policy = overlap.get_policy(session=session, project_id=project.id)
    threshold = policy.agreement_threshold if policy is not None else 0.0
    measured = int(session.scalar(select(func.count()).select_from(TaskAgreement)
                                  .where(TaskAgreement.project_id == project.id)) or 0)
    below = int(session.scalar(select(func.count()).select_from(TaskAgreement)
                               .where(TaskAgreement.project_id == project.id, TaskAgreement.mean_iou < threshold))
                or 0)
    return measured, below
