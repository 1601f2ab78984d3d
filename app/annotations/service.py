"""Submitting masks and reading them back. Every submit adds a new version; nothing is overwritten."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from app import imaging, storage
from app.annotations import class_pixels, training_source
from app.annotations.models import Annotation, AnnotationStatus
from app.audit import service as audit
from app.auth.models import Role, User
from app.db import utcnow
from app.errors import Conflict, DomainError
from app.items import service as item_service
from app.items.models import Item, Split
from app.projects.models import Project
from app.quality.models import GoldAnswer
from app.queue import drafts, overlap, routing
from app.queue import service as queue_service
from app.queue.models import Task

SUBMIT_KEY_REUSED = ("a different mask was already submitted under this submit key (from another tab, or before this "
                     "draft was restored): this one was not saved; its strokes stay as your draft")


def check_may_submit(*, lease_user_id: int | None, user: User) -> None:
    """Annotators need the task's lease; leads and admins may label a task nobody else holds."""
    if lease_user_id == user.id:
        return
    if lease_user_id is None and user.at_least(Role.lead):
        return
    if lease_user_id is not None:
        raise Conflict("this task is leased to another annotator")
    raise Conflict("this task is not leased to you (its lease may have expired); ask for it again")


def clip_to_region(mask: np.ndarray, task: Task) -> np.ndarray:
    """Pixels outside the task's region are not part of this label."""
    out = np.full_like(mask, imaging.IGNORE)
    region = np.s_[task.y : task.y + task.height, task.x : task.x + task.width]
    out[region] = mask[region]
    return out


def submit(
    *, session: Session, project: Project, task: Task, user: User, mask: np.ndarray,
    seconds_spent: float = 0.0, client_token: str | None = None, model_version_id: int | None = None,
    suggestion_fraction: float | None = None,
) -> tuple[Annotation, bool]:
    """Store a validated mask [H, W] (class ids, 255 = unlabeled) as the task's next version.

    Returns (annotation, created). A retried submit with the same client_token returns the first one.
    """
    # Submits for one task take turns: one racing a retry of itself, or a second tab, must see the
    # other's label and lease release, not compute the same version and die on a unique constraint.
    lease = queue_service.lock_task(session, task, user)
    mask = clip_to_region(mask, task)
    if client_token:
        earlier = session.scalar(
            select(Annotation).where(Annotation.author_id == user.id, Annotation.client_token == client_token)
        )
        if earlier is not None:
            if earlier.task_id != task.id:
                raise Conflict("this submit token was already used for another task")
            # A retry carries the same mask and gets the first answer. A different mask under the same key
            # is another tab's work (or a stale draft's token): refuse it rather than drop its strokes.
            if not np.array_equal(load_mask(earlier), mask):
                raise Conflict(SUBMIT_KEY_REUSED, code="submit_key_reused")
            return earlier, False
    check_may_submit(lease_user_id=lease.user_id if lease else None, user=user)
    labeled = int((mask != imaging.IGNORE).sum())
    if labeled == 0:
        raise DomainError("the mask labels no pixel inside the task's region")
    drafts.check_seconds_spent(seconds_spent)
    if suggestion_fraction is not None and not 0.0 <= suggestion_fraction <= 1.0:
        raise DomainError("suggestion_fraction must be between 0 and 1")

    version = (session.scalar(select(func.max(Annotation.version)).where(Annotation.task_id == task.id)) or 0) + 1
    # A gold task is answered on its source task: beside the task's label, never replacing it.
    gold_answer = routing.pending_gold_answer(session=session, task_id=task.id, user_id=user.id)
    if gold_answer is None and version > 1:  # a first version has nothing to supersede (the task is locked)
        session.execute(
            update(Annotation).where(Annotation.task_id == task.id, Annotation.status == AnnotationStatus.submitted)
            .values(status=AnnotationStatus.superseded)
        )
    annotation = Annotation(
        task_id=task.id, item_id=task.item_id, project_id=task.project_id, version=version, author_id=user.id,
        mask_path="", seconds_spent=float(seconds_spent),
        status=AnnotationStatus.submitted if gold_answer is None else AnnotationStatus.gold, labeled_pixels=labeled,
        model_version_id=model_version_id, suggestion_fraction=suggestion_fraction, client_token=client_token,
    )
    session.add(annotation)
    session.flush()
    annotation.mask_path = f"projects/{project.id}/masks/task{task.id}-v{version}-a{annotation.id}.png"
    storage.write_in_transaction(session, annotation.mask_path, imaging.encode_png(mask))
    class_pixels.record(session=session, annotation_id=annotation.id, mask=mask)
    if gold_answer is None:
        overlap.record_submission(session=session, task=task, user_id=user.id, annotation_id=annotation.id)
    else:  # answered; app/review/gold.py scores it
        gold_answer.annotation_id = annotation.id
    queue_service.end_own_lease(lease, user)  # read under the task's lock above
    # The draft became a label; a refused submit returns before this and keeps it.
    drafts.discard(session=session, task_id=task.id, user_id=user.id)
    audit.record(session=session, action="annotation.submit", entity="annotation", entity_id=annotation.id,
                 user_id=user.id, project_id=project.id,
                 detail={"task_id": task.id, "version": version, "labeled_pixels": labeled})
    return annotation, True


def load_mask(annotation: Annotation) -> np.ndarray:
    return imaging.decode_png_array(storage.read(annotation.mask_path))


def versions(*, session: Session, task_id: int, offset: int = 0, limit: int | None = None,
             author_id: int | None = None) -> list[Annotation]:
    """A task's versions, oldest first; only `author_id`'s when given."""
    stmt = select(Annotation).where(Annotation.task_id == task_id)
    if author_id is not None:
        stmt = stmt.where(Annotation.author_id == author_id)
    return list(session.scalars(stmt.order_by(Annotation.version).offset(offset).limit(limit)))


def get_for_task(*, session: Session, task_id: int, annotation_id: int) -> Annotation | None:
    annotation = session.get(Annotation, annotation_id)
    return annotation if annotation is not None and annotation.task_id == task_id else None


def submitted_since(*, session: Session, project_id: int, since: datetime | None) -> int:
    """Submitted labels of the project (every split), optionally only those newer than `since`."""
    stmt = (
        select(func.count()).select_from(Annotation).join(Task, Task.id == Annotation.task_id)
        .where(Task.project_id == project_id, Annotation.status == AnnotationStatus.submitted)
    )
    if since is not None:
        stmt = stmt.where(Annotation.created_at > since)
    return int(session.scalar(stmt) or 0)


def day_start(now: datetime | None = None) -> datetime:
    """Midnight (UTC) of today."""
    return (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)


def week_start(now: datetime | None = None) -> datetime:
    """Monday 00:00 (UTC) of this week."""
    today = day_start(now)
    return today - timedelta(days=today.weekday())


def labels_today(*, session: Session, project_id: int) -> int:
    """The project's labels today, every annotator's."""
    return submitted_since(session=session, project_id=project_id, since=day_start())


def labels_by(*, session: Session, project_id: int, user_id: int, since: datetime | None) -> int:
    """Labels one annotator submitted in the project since `since`: each submit counts, also one a later
    version superseded or an answer to a gold task (the work was done)."""
    stmt = (
        select(func.count()).select_from(Annotation).join(Task, Task.id == Annotation.task_id)
        .where(Task.project_id == project_id, Annotation.author_id == user_id,
               Annotation.status.in_((AnnotationStatus.submitted, AnnotationStatus.superseded,
                                      AnnotationStatus.gold)))
    )
    if since is not None:
        stmt = stmt.where(Annotation.created_at > since)
    return int(session.scalar(stmt) or 0)


def pool_labels(*, session: Session, project_id: int, since: datetime | None = None) -> int:
    """Submitted pool labels (the ones training uses), optionally only those newer than `since`. A range of
    the annotation index, less the labels of the project's few validation items: no join with item, whose
    plan Postgres got wrong (see the index's comment in app/annotations/models.py)."""
    validation_items = select(Item.id).where(Item.project_id == project_id, Item.split == Split.validation)
    stmt = select(func.count()).select_from(Annotation).where(
        Annotation.project_id == project_id, Annotation.status == AnnotationStatus.submitted,
        Annotation.item_id.not_in(validation_items),
    )
    if since is not None:
        stmt = stmt.where(Annotation.created_at > since)
    return int(session.scalar(stmt) or 0)


@dataclass
class LabeledSet:
    images: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    annotation_ids: list[int] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)  # one per image, in order


def _not_a_gold_answer():  # type: ignore[no-untyped-def]
    """SQL: the annotation is not an annotator's answer to a gold copy task (made before gold answers
    moved onto the source task with status `gold`, which the status filters leave out). Those measure
    the annotator; the region's known mask is already its label, and an answer merged over it would
    overwrite it."""
    return ~exists().where(GoldAnswer.task_id == Annotation.task_id, GoldAnswer.annotation_id == Annotation.id)


def labeled_set(*, session: Session, project_id: int, split: Split) -> LabeledSet:
    """Latest submitted mask per task, merged per item (several region tasks may cover one item). An overlap
    task's mask is its adjudicated version when it has one, else its copies' majority (training_source.py)."""
    rows = session.execute(
        select(Annotation, Item).join(Item, Item.id == Annotation.item_id)
        .where(Item.project_id == project_id, Item.split == split,
               Annotation.status == AnnotationStatus.submitted, _not_a_gold_answer())
        .order_by(Item.id, Annotation.id)
    ).all()
    out = LabeledSet()
    by_item: dict[int, int] = {}
    sources = training_source.TrainingSources.of(session=session, project_id=project_id)
    for annotation, item in rows:
        mask = sources.mask(annotation)
        if item.id in by_item:
            merged = out.masks[by_item[item.id]]
            labeled = mask != imaging.IGNORE
            merged[labeled] = mask[labeled]
        else:
            by_item[item.id] = len(out.images)
            out.images.append(item_service.load_pixels(item))
            out.item_ids.append(item.id)
            out.masks.append(mask.copy())
        out.annotation_ids.append(annotation.id)
    return out


def submitted_by_item(*, session: Session, project_id: int, splits: tuple[Split, ...],
                      ) -> list[tuple[Item, list[Annotation]]]:
    """The latest submitted annotation of every task, grouped by item (items without one left out),
    oldest first within an item: merging them in order gives the item's current mask."""
    rows = session.execute(
        select(Annotation, Item).join(Item, Item.id == Annotation.item_id)
        .where(Item.project_id == project_id, Item.split.in_(splits),
               Annotation.status == AnnotationStatus.submitted, _not_a_gold_answer())
        .order_by(Item.id, Annotation.id)
    ).all()
    out: list[tuple[Item, list[Annotation]]] = []
    for annotation, item in rows:
        if not out or out[-1][0].id != item.id:
            out.append((item, []))
        out[-1][1].append(annotation)
    return out


def merged_mask(item: Item, annotations: list[Annotation]) -> np.ndarray:
    """The item's mask from its tasks' latest annotations (255 where none labels a pixel)."""
    merged = np.full((item.height, item.width), imaging.IGNORE, dtype=np.uint8)
    for annotation in annotations:
        mask = load_mask(annotation)
        labeled = mask != imaging.IGNORE
        merged[labeled] = mask[labeled]
    return merged


def add_adjudicated(*, session: Session, project: Project, task: Task, user: User, mask: np.ndarray,
                    detail: dict[str, object]) -> Annotation:
    """Store an adjudicator's mask as the task's next version, marked adjudicated; the copies it settles
    are superseded, never deleted. The caller checks the user's role and records the adjudication."""
    queue_service.lock_task(session, task, user)
    mask = clip_to_region(mask, task)
    labeled = int((mask != imaging.IGNORE).sum())
    if labeled == 0:
        raise DomainError("the adjudicated mask labels no pixel inside the task's region")
    version = (session.scalar(select(func.max(Annotation.version)).where(Annotation.task_id == task.id)) or 0) + 1
    session.execute(
        update(Annotation).where(Annotation.task_id == task.id, Annotation.status == AnnotationStatus.submitted)
        .values(status=AnnotationStatus.superseded)
    )
    annotation = Annotation(task_id=task.id, item_id=task.item_id, project_id=task.project_id, version=version,
                            author_id=user.id, mask_path="",
                            status=AnnotationStatus.submitted, labeled_pixels=labeled, adjudicated=True)
    session.add(annotation)
    session.flush()
    annotation.mask_path = f"projects/{project.id}/masks/task{task.id}-v{version}-a{annotation.id}-adjudicated.png"
    storage.write_in_transaction(session, annotation.mask_path, imaging.encode_png(mask))
    class_pixels.record(session=session, annotation_id=annotation.id, mask=mask)
    audit.record(session=session, action="annotation.adjudicate", entity="annotation", entity_id=annotation.id,
                 user_id=user.id, project_id=project.id,
                 detail={"task_id": task.id, "version": version, "labeled_pixels": labeled, **detail})
    return annotation
