"""Reviews: a sampled share of submitted labels waits for a reviewer, who accepts or rejects it with a
reason from the project's error taxonomy. A rejected label stops counting (training and exports read
submitted versions only) and its task goes back to its annotator, first in their queue, with the rejected
mask as their draft to fix."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import storage
from app.agreement import service as agreement_service
from app.annotations.models import Annotation, AnnotationStatus
from app.audit import service as audit
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.db import lock_row, utcnow
from app.errors import Conflict, DomainError, NotFound
from app.projects.models import Project
from app.quality.models import TaskReturn
from app.queue import drafts, overlap
from app.queue import service as queue_service
from app.queue.models import Draft, Task, TaskStatus
from app.review import quality, taxonomy
from app.review.models import ErrorType, Review, ReviewStatus

NOTE_LIMIT = 2000
_rng = random.Random()


def can_review(user: User, project: Project) -> bool:
    """Who may review in a project. The one place to change when a project-level reviewer role comes:
    for now, leads and admins (members, as every project route already checks)."""
    return user.at_least(Role.lead)


def require_reviewer(user: User, project: Project) -> None:
    if not can_review(user, project):
        raise DomainError("reviewing needs the lead role (or a reviewer's) in this project", status=403)


def sample(*, session: Session, project: Project, task: Task, annotation: Annotation, always: bool = False,
           ) -> Review | None:
    """Put a new label in the review queue with probability `project.review_share` (always: a label of a
    task that came back from review)."""
    if not always and (project.review_share <= 0 or _rng.random() >= project.review_share):
        return None
    review = Review(project_id=project.id, task_id=task.id, annotation_id=annotation.id,
                    annotator_id=annotation.author_id)
    session.add(review)
    session.flush()
    return review


def get(*, session: Session, project_id: int, review_id: int) -> Review | None:
    review = session.get(Review, review_id)
    return review if review is not None and review.project_id == project_id else None


def pending(*, session: Session, project_id: int, limit: int = 100) -> list[Review]:
    return list(session.scalars(select(Review).where(Review.project_id == project_id,
                                                     Review.status == ReviewStatus.pending)
                                .order_by(Review.id).limit(limit)))


def count_pending(*, session: Session, project_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Review).where(
        Review.project_id == project_id, Review.status == ReviewStatus.pending)) or 0)


def decided(*, session: Session, project_id: int, limit: int = 50) -> list[Review]:
    return list(session.scalars(select(Review).where(Review.project_id == project_id,
                                                     Review.status != ReviewStatus.pending)
                                .order_by(Review.reviewed_at.desc(), Review.id.desc()).limit(limit)))


def _take(*, session: Session, project: Project, review: Review, user: User) -> Annotation:
    """Lock the review, check it can still be decided by `user`; its annotation."""
    require_reviewer(user, project)
    lock_row(session, Review.note, review.id)  # two reviewers at once: the second is told, not lost
    session.refresh(review)
    if review.status != ReviewStatus.pending:
        raise Conflict(f"this review is {review.status.value} already")
    if review.annotator_id == user.id:
        raise Conflict("a reviewer cannot review their own label")
    annotation = session.get(Annotation, review.annotation_id)
    assert annotation is not None
    # An overlap copy stays current while it is its annotator's copy, though a later copy by someone else
    # superseded it as the task's latest version; until an adjudicator resolved the task.
    copy = overlap.copy_of_annotation(session=session, annotation_id=annotation.id)
    if annotation.status != AnnotationStatus.submitted and copy is None:
        raise Conflict("a newer version of this task was submitted since; this one is no longer current")
    if copy is not None and session.scalar(select(Annotation.id).where(
            Annotation.task_id == annotation.task_id, Annotation.adjudicated,
            Annotation.status == AnnotationStatus.submitted)) is not None:
        raise Conflict("an adjudicator resolved this task since; its copies are no longer its label")
    return annotation


def accept(*, session: Session, project: Project, review: Review, user: User) -> Review:
    _take(session=session, project=project, review=review, user=user)
    review.status, review.reviewer_id, review.reviewed_at = ReviewStatus.accepted, user.id, utcnow()
    audit.record(session=session, action="review.accept", entity="review", entity_id=review.id, user_id=user.id,
                 project_id=project.id, detail={"task_id": review.task_id, "annotation_id": review.annotation_id})
    return review


def reject(*, session: Session, project: Project, review: Review, user: User, error_type_id: int,
           class_index: int, note: str = "") -> Review:
    """Every input checked before anything is written; then the label stops counting and the task goes
    back to its annotator. For one of an overlap task's k copies: the copy no longer counts toward k,
    the task is open again and held for that annotator (nobody else takes the slot while the return
    holds: routing.not_returned_to_other), and agreement is measured again when their new copy makes k."""
    error_type = taxonomy.get(session=session, project_id=project.id, error_type_id=error_type_id)
    if error_type is None or not error_type.active:
        raise DomainError("error_type_id: not an error type of this project's taxonomy")
    if class_index not in {c.index for c in project.classes}:
        raise DomainError(f"class_index: the project has no class {class_index}")
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise DomainError(f"note: at most {NOTE_LIMIT} characters")
    annotation = _take(session=session, project=project, review=review, user=user)
    task = session.get(Task, review.task_id)
    assert task is not None
    queue_service.lock_task(session, task)
    annotation.status = AnnotationStatus.superseded  # a rejected label does not train the model
    copy = overlap.copy_of_annotation(session=session, annotation_id=annotation.id)
    if copy is not None:  # one of k: it stops counting, and the agreement that measured it goes
        overlap.withdraw_copy(session=session, copy=copy)
        agreement_service.forget(session=session, task_id=task.id)
        quality.refresh(session=session, project_id=project.id)
    task.status = TaskStatus.open
    session.add(TaskReturn(task_id=task.id, user_id=review.annotator_id, review_id=review.id))
    _restore_as_draft(session=session, task=task, annotation=annotation, review_id=review.id)
    review.status, review.reviewer_id, review.reviewed_at = ReviewStatus.rejected, user.id, utcnow()
    review.error_type_id, review.class_index, review.note = error_type.id, class_index, note
    audit.record(session=session, action="review.reject", entity="review", entity_id=review.id, user_id=user.id,
                 project_id=project.id,
                 detail={"task_id": task.id, "annotation_id": annotation.id, "annotator_id": review.annotator_id,
                         "error_type": error_type.name, "class_index": class_index, "note": note,
                         "overlap_copy_withdrawn": copy is not None})
    return review


def _restore_as_draft(*, session: Session, task: Task, annotation: Annotation, review_id: int) -> None:
    """The rejected mask becomes its annotator's draft of the task: they fix it rather than start over."""
    draft = drafts.get(session=session, task_id=task.id, user_id=annotation.author_id)
    if draft is None:
        draft = Draft(task_id=task.id, user_id=annotation.author_id, mask_path="")
        session.add(draft)
    # A path of its own: the write is undone with the transaction, and must not take a saved draft with it.
    author = annotation.author_id
    draft.mask_path = f"projects/{task.project_id}/drafts/task{task.id}-user{author}-review{review_id}.png"
    draft.seconds_spent, draft.client_token, draft.updated_at = 0.0, None, utcnow()
    storage.write_in_transaction(session, draft.mask_path, storage.read(annotation.mask_path))


def close_returns(*, session: Session, task_id: int) -> bool:
    """The task was submitted again: its open returns are done. True if there was one."""
    rows = list(session.scalars(select(TaskReturn).where(TaskReturn.task_id == task_id,
                                                         TaskReturn.closed_at.is_(None))))
    for row in rows:
        row.closed_at = utcnow()
    return bool(rows)


@dataclass
class Rejection:
    review: Review
    error_type: str
    class_name: str


def rejections_for_task(*, session: Session, project: Project, task_id: int) -> list[Rejection]:
    """Why the task's earlier labels were rejected, newest first: shown to whoever labels it next."""
    names = {c.index: c.name for c in project.classes}
    rows = session.execute(select(Review, ErrorType).join(ErrorType, ErrorType.id == Review.error_type_id)
                           .where(Review.task_id == task_id, Review.status == ReviewStatus.rejected)
                           .order_by(Review.reviewed_at.desc(), Review.id.desc())).all()
    return [Rejection(review=r, error_type=e.name, class_name=names.get(r.class_index or 0, "?")) for r, e in rows]


@dataclass
class ErrorTable:
    """Rejections counted by error type (rows) against classes and against annotators (columns)."""

    error_types: list[str]
    classes: list[str]
    annotators: list[str]
    by_class: list[list[int]]
    by_annotator: list[list[int]]
    reviewed: int
    rejected: int

    @property
    def peak(self) -> int:
        return max([1] + [v for row in self.by_class + self.by_annotator for v in row])


def error_table(*, session: Session, project: Project) -> ErrorTable:
    rows = session.execute(select(Review.error_type_id, Review.class_index, Review.annotator_id)
                           .where(Review.project_id == project.id, Review.status == ReviewStatus.rejected)).all()
    usernames = auth_service.usernames(session=session, user_ids=[a for _, _, a in rows])
    types = taxonomy.error_types(session=session, project_id=project.id)
    used = {t for t, _, _ in rows}
    types = [t for t in types if t.active or t.id in used]
    classes = sorted(project.classes, key=lambda c: c.index)
    annotators = sorted({a for _, _, a in rows}, key=lambda a: usernames.get(a, ""))
    t_at = {t.id: i for i, t in enumerate(types)}
    c_at = {c.index: i for i, c in enumerate(classes)}
    a_at = {a: i for i, a in enumerate(annotators)}
    by_class = [[0] * len(classes) for _ in types]
    by_annotator = [[0] * len(annotators) for _ in types]
    for t, c, a in rows:
        if t in t_at:
            if c in c_at:
                by_class[t_at[t]][c_at[c]] += 1
            by_annotator[t_at[t]][a_at[a]] += 1
    reviewed = int(session.scalar(select(func.count()).select_from(Review).where(
        Review.project_id == project.id, Review.status != ReviewStatus.pending)) or 0)
    return ErrorTable(error_types=[t.name for t in types], classes=[c.name for c in classes],
                      annotators=[usernames.get(a, f"user {a}") for a in annotators], by_class=by_class,
                      by_annotator=by_annotator, reviewed=reviewed, rejected=len(rows))


def get_or_404(*, session: Session, project_id: int, review_id: int) -> Review:
    review = get(session=session, project_id=project_id, review_id=review_id)
    if review is None:
        raise NotFound("review not found")
    return review
