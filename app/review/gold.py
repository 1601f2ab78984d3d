"""Gold tasks: regions with a known mask, mixed into the queue (app/queue/routing.py) and scored.

Each annotator answers a gold task on its source task (app/queue/routing.py), as an annotation of status
`gold` beside the task's label; the answer is compared with the known
mask class by class, inside the region, on the pixels the known mask labels (255 there = unknown, not
scored). A class counts when the known mask or the answer has it there.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import imaging, storage
from app.annotations import service as annotation_service
from app.annotations.models import Annotation, AnnotationStatus
from app.audit import service as audit
from app.auth.models import User
from app.db import utcnow
from app.errors import Conflict, DomainError, NotFound
from app.projects.models import Project
from app.quality.models import GoldAnswer, GoldTask
from app.queue.models import Task


def per_class_iou(answer: np.ndarray, known: np.ndarray, region: tuple[int, int, int, int]) -> dict[int, float]:
    """answer, known: [H, W] class ids (255 unlabeled); region (x, y, w, h). IoU per class present in
    either mask where the known mask labels a pixel."""
    x, y, w, h = region
    a, k = answer[y:y + h, x:x + w], known[y:y + h, x:x + w]
    scored = k != imaging.IGNORE
    out: dict[int, float] = {}
    for c in sorted({int(v) for v in np.unique(np.concatenate([a[scored], k[scored]]))} - {imaging.IGNORE}):
        inter = int(((a == c) & (k == c) & scored).sum())
        union = int((((a == c) | (k == c)) & scored).sum())
        if union:
            out[c] = inter / union
    return out


def _check_task_for_gold(*, session: Session, project: Project, task: Task) -> None:
    if is_gold_copy(session=session, task_id=task.id):
        raise Conflict("task_id: this task is an annotator's copy of a gold task")
    if session.scalar(select(GoldTask.id).where(GoldTask.source_task_id == task.id, GoldTask.active)) is not None:
        raise Conflict(f"task_id: task {task.id} is a gold task already")


def _new_gold(*, session: Session, project: Project, task: Task, user: User, mask: np.ndarray,
              annotation_id: int | None) -> GoldTask:
    clipped = annotation_service.clip_to_region(mask, task)
    if not (clipped != imaging.IGNORE).any():
        raise DomainError("mask: the known mask labels no pixel inside the task's region")
    gold = GoldTask(project_id=project.id, source_task_id=task.id, item_id=task.item_id, x=task.x, y=task.y,
                    width=task.width, height=task.height, mask_path="", source_annotation_id=annotation_id,
                    created_by_id=user.id)
    session.add(gold)
    session.flush()
    gold.mask_path = f"projects/{project.id}/gold/gold{gold.id}-task{task.id}.png"
    storage.write_in_transaction(session, gold.mask_path, imaging.encode_png(clipped))
    audit.record(session=session, action="gold.create", entity="gold_task", entity_id=gold.id, user_id=user.id,
                 project_id=project.id, detail={"task_id": task.id, "from_annotation": annotation_id,
                                                "labeled_pixels": int((clipped != imaging.IGNORE).sum())})
    return gold


def mark_with_mask(*, session: Session, project: Project, task: Task, user: User, mask: np.ndarray) -> GoldTask:
    """Make a task gold with an uploaded known mask (already checked against the image and classes). The
    mask is also stored as the task's next version by this lead or admin: a known mask is a label the
    model should learn from, and the task leaves the queue."""
    _check_task_for_gold(session=session, project=project, task=task)
    if not (annotation_service.clip_to_region(mask, task) != imaging.IGNORE).any():
        raise DomainError("mask: the known mask labels no pixel inside the task's region")
    annotation, _ = annotation_service.submit(session=session, project=project, task=task, user=user, mask=mask)
    return _new_gold(session=session, project=project, task=task, user=user, mask=mask,
                     annotation_id=annotation.id)


def promote(*, session: Session, project: Project, user: User, annotation_id: int) -> GoldTask:
    """Make a submitted annotation's mask the known mask of its task's region."""
    annotation = session.get(Annotation, annotation_id)
    task = session.get(Task, annotation.task_id) if annotation is not None else None
    if annotation is None or task is None or task.project_id != project.id:
        raise NotFound("annotation_id: no annotation with this id in the project")
    if annotation.status != AnnotationStatus.submitted:
        raise Conflict("annotation_id: only a task's current (submitted) version can become gold")
    _check_task_for_gold(session=session, project=project, task=task)
    return _new_gold(session=session, project=project, task=task, user=user,
                     mask=annotation_service.load_mask(annotation), annotation_id=annotation.id)


def retire(*, session: Session, project: Project, user: User, gold_id: int) -> GoldTask:
    gold = get(session=session, project_id=project.id, gold_id=gold_id)
    if gold is None:
        raise NotFound("gold task not found")
    if not gold.active:
        raise Conflict("this gold task is retired already")
    gold.active = False
    audit.record(session=session, action="gold.retire", entity="gold_task", entity_id=gold.id, user_id=user.id,
                 project_id=project.id)
    return gold


def get(*, session: Session, project_id: int, gold_id: int) -> GoldTask | None:
    gold = session.get(GoldTask, gold_id)
    return gold if gold is not None and gold.project_id == project_id else None


def known_mask(gold: GoldTask) -> np.ndarray:
    return imaging.decode_png_array(storage.read(gold.mask_path))


def score_answer(*, session: Session, task: Task, annotation: Annotation) -> GoldAnswer | None:
    """Score a submitted answer to a gold task (None for any other label): an annotation of status `gold`
    on the gold region's source task, or a label of a gold copy task made before answers moved there
    (a later version of such a copy is scored again: the score is the annotator's final answer)."""
    answer = session.scalar(select(GoldAnswer).where(GoldAnswer.task_id == task.id,
                                                     GoldAnswer.user_id == annotation.author_id))
    if answer is None:
        return None
    gold = session.get(GoldTask, answer.gold_task_id)
    assert gold is not None
    if task.id == gold.source_task_id and annotation.status != AnnotationStatus.gold:
        return None  # a real label of the source task (it came back to the queue), not the answer
    ious = per_class_iou(annotation_service.load_mask(annotation), known_mask(gold), gold.region)
    answer.annotation_id = annotation.id
    answer.per_class_iou = {str(c): round(v, 6) for c, v in ious.items()}
    answer.mean_iou = float(np.mean(list(ious.values()))) if ious else 0.0
    answer.scored_at = utcnow()
    audit.record(session=session, action="gold.score", entity="gold_answer", entity_id=answer.id,
                 user_id=annotation.author_id, project_id=task.project_id,
                 detail={"gold_task_id": gold.id, "annotation_id": annotation.id, "mean_iou": answer.mean_iou,
                         "per_class_iou": answer.per_class_iou})
    return answer


def is_gold_copy(*, session: Session, task_id: int) -> bool:
    """A copy task made for one annotator's gold answer (before answers moved onto the source task)."""
    return session.scalar(select(GoldAnswer.id).join(GoldTask, GoldTask.id == GoldAnswer.gold_task_id)
                          .where(GoldAnswer.task_id == task_id, GoldTask.source_task_id != task_id)
                          .limit(1)) is not None


def gold_tasks(*, session: Session, project_id: int) -> list[tuple[GoldTask, int, float | None]]:
    """Every gold task of the project, newest first, with its scored answers and their mean IoU."""
    stats = dict(((gid, (n, m)) for gid, n, m in session.execute(
        select(GoldAnswer.gold_task_id, func.count(GoldAnswer.mean_iou), func.avg(GoldAnswer.mean_iou))
        .join(GoldTask, GoldTask.id == GoldAnswer.gold_task_id).where(GoldTask.project_id == project_id)
        .group_by(GoldAnswer.gold_task_id))))
    rows = session.scalars(select(GoldTask).where(GoldTask.project_id == project_id).order_by(GoldTask.id.desc()))
    return [(g, int(stats.get(g.id, (0, None))[0]), _float(stats.get(g.id, (0, None))[1])) for g in rows]


def _float(v: object) -> float | None:
    return float(v) if v is not None else None  # type: ignore[arg-type]


def gold_by_user(*, session: Session, project_id: int) -> dict[int, tuple[float, int]]:
    """user id -> (mean of their gold answers' mean IoU, number scored)."""
    rows = session.execute(
        select(GoldAnswer.user_id, func.avg(GoldAnswer.mean_iou), func.count(GoldAnswer.mean_iou))
        .join(GoldTask, GoldTask.id == GoldAnswer.gold_task_id)
        .where(GoldTask.project_id == project_id, GoldAnswer.mean_iou.is_not(None)).group_by(GoldAnswer.user_id))
    return {uid: (float(mean), int(n)) for uid, mean, n in rows}
