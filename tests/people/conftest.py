"""Rows for the people desk's tests: an admin logged in, and an annotator's labels, skips and flags
written straight to the tables (with the times and seconds a test needs, no image files)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import login, make_project, make_user
from tests.scenes import add_tiny_tasks


@pytest.fixture
def admin(client):  # type: ignore[no-untyped-def]
    """The only admin, logged in on `client`; yields the headers a state change needs."""
    make_user("root", "admin")
    return {"X-CSRF-Token": login(client, "root")}


def user_id(username: str) -> int:
    from app.auth import service
    from app.db import session_scope

    with session_scope() as session:
        user = service.get_by_username(session=session, username=username)
        assert user is not None
        return user.id


def worked_project(annotator: str = "ann", lead: str = "lead", name: str = "p", tasks: int = 6) -> int:
    """A lead's project with `annotator` in it and `tasks` open tiny tasks."""
    make_user(lead, "lead")
    make_user(annotator)
    pid = make_project(name=name, owner=lead, members=(annotator,))
    add_tiny_tasks(pid, tasks)
    return pid


def add_labels(pid: int, username: str, when: list[tuple[datetime, float]]) -> None:
    """One submitted label per (created_at, seconds_spent), each on the next task of the project."""
    from sqlalchemy import select

    from app.annotations.models import Annotation, AnnotationStatus
    from app.db import session_scope
    from app.queue.models import Task

    uid = user_id(username)
    with session_scope() as session:
        tasks = session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id)).all()
        used = set(session.scalars(select(Annotation.task_id)))
        free = [t for t in tasks if t.id not in used]
        assert len(free) >= len(when)
        for task, (at, seconds) in zip(free, when, strict=False):
            session.add(Annotation(task_id=task.id, item_id=task.item_id, project_id=task.project_id,
                                   version=1, author_id=uid,
                                   mask_path=f"missing/{task.id}.png", seconds_spent=seconds,
                                   status=AnnotationStatus.submitted, labeled_pixels=1, created_at=at))


def add_skip_and_flag(pid: int, username: str, reason: str = "too blurry", note: str = "which class?") -> None:
    from sqlalchemy import select

    from app.db import session_scope
    from app.queue.models import Flag, Skip, Task

    uid = user_id(username)
    with session_scope() as session:
        task_ids = session.scalars(select(Task.id).where(Task.project_id == pid).order_by(Task.id.desc())).all()
        session.add(Skip(task_id=task_ids[0], user_id=uid, reason=reason))
        session.add(Flag(task_id=task_ids[1], user_id=uid, note=note))


def add_quality_evidence(pid: int) -> None:
    """For `ann` in project `pid` (with 10 tasks), as the gold, agreement and review domains write them:
    gold answers of IoU 0.9 and 0.7 and one not yet scored; agreement with bob (0.8 and 0.6 over two
    classes) and cy (0.3; a class neither has is no evidence); reviews accepted, rejected (wrong class)
    and pending; a quality score of 0.61 from 4 pieces of evidence."""
    from sqlalchemy import select

    from app.agreement.models import PairAgreement
    from app.annotations.models import Annotation
    from app.db import session_scope
    from app.quality.models import GoldAnswer, GoldTask, QualityScore
    from app.review.models import ErrorType, Review, ReviewStatus

    now = datetime.now(UTC)
    make_user("bob")
    make_user("cy")
    add_labels(pid, "ann", [(now, 5.0)] * 6)
    add_labels(pid, "bob", [(now, 5.0)] * 2)
    add_labels(pid, "cy", [(now, 5.0)] * 2)
    ann, bob, cy = user_id("ann"), user_id("bob"), user_id("cy")
    with session_scope() as session:
        mine = session.scalars(select(Annotation).where(Annotation.author_id == ann).order_by(Annotation.id)).all()
        bobs = session.scalars(select(Annotation).where(Annotation.author_id == bob).order_by(Annotation.id)).all()
        cys = session.scalars(select(Annotation).where(Annotation.author_id == cy).order_by(Annotation.id)).all()
        for i, iou in enumerate((0.9, 0.7, None)):  # two scored gold answers, one waiting for its score
            g = GoldTask(project_id=pid, source_task_id=mine[i].task_id, item_id=mine[i].item_id, x=0, y=0, width=8,
                         height=8, mask_path="missing/gold.png")
            session.add(g)
            session.flush()
            session.add(GoldAnswer(gold_task_id=g.id, task_id=mine[i].task_id, user_id=ann, annotation_id=mine[i].id,
                                   mean_iou=iou))
        for other, theirs, ious in ((bob, bobs[0], (0.8, 0.6)), (cy, cys[0], (0.3, None))):
            for cls, iou in enumerate(ious):  # per class; a class neither has (None) is no evidence
                session.add(PairAgreement(project_id=pid, task_id=theirs.task_id, user_a_id=min(ann, other),
                                          user_b_id=max(ann, other), annotation_a_id=mine[3].id,
                                          annotation_b_id=theirs.id, class_index=cls, pixels_a=1, pixels_b=1,
                                          intersection=1, iou=iou, dice=iou))
        wrong = ErrorType(project_id=pid, name="wrong class")
        session.add(wrong)
        session.flush()
        for annotation, status in ((mine[3], ReviewStatus.accepted), (mine[4], ReviewStatus.rejected),
                                   (mine[5], ReviewStatus.pending)):
            session.add(Review(project_id=pid, task_id=annotation.task_id, annotation_id=annotation.id,
                               annotator_id=ann, status=status,
                               error_type_id=wrong.id if status == ReviewStatus.rejected else None))
        session.add(QualityScore(project_id=pid, user_id=ann, gold_mean=0.8, gold_count=2, agreement_mean=0.5,
                                 agreement_count=2, score=0.61, evidence=4))
