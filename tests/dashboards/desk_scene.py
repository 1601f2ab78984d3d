"""A project with three model versions and labels between them, for the dashboard's tests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.annotations.class_pixels import AnnotationClassPixels
from app.annotations.models import Annotation, AnnotationStatus
from app.db import session_scope, utcnow
from app.modeling.models import ModelStatus, ModelVersion, Score
from app.queue.models import Task, TaskStatus
from tests.factories import make_project, make_user
from tests.scenes import add_items

CAL = {"temperature": 1.5, "pixels": 100, "ece_before": 0.12, "ece_after": 0.03,
       "bins_before": {"overall": [{"lo": 0.0, "hi": 0.5, "count": 40, "confidence": 0.4, "accuracy": 0.3},
                                   {"lo": 0.5, "hi": 1.0, "count": 60, "confidence": 0.9, "accuracy": 0.8}]},
       "bins_after": {"overall": [{"lo": 0.0, "hi": 0.5, "count": 45, "confidence": 0.38, "accuracy": 0.36},
                                  {"lo": 0.5, "hi": 1.0, "count": 55, "confidence": 0.85, "accuracy": 0.84}]}}
# Each label's pixels per class (as a submit stores them), by how it was picked, in the seed's order:
RANDOM_PIXELS = [{0: 60, 1: 40}, {0: 90, 1: 10}, {0: 150}]  # background 300, curve-1 50 of 350
RANKED_PIXELS = [{1: 50}] + [{0: 10, 2: 30}] * 12  # 120, 50, 360 of 530
UNRANKED_PIXELS = {0: 5}  # every label before any ranking: background only


def seed_desk() -> int:
    """Three versions and the labels between them, 20 labels in all:

    - 4 labels before v1, with no ranking yet (unranked)                 -> v1: 4 labels, fg mIoU 0.30
    - 6 labels served by v1's ranking: 2 from its random share, 4 ranked -> v2: 10 labels, 0.40
    - 10 labels served by v2's ranking: 1 random, 9 ranked               -> v3: 20 labels, 0.50
    """
    make_user("lead", "lead")
    make_user("ann")
    make_user("bob")
    pid = make_project(owner="lead", members=("ann", "bob"))
    add_items(pid, 27)
    now = utcnow()
    t1, t2, t3 = now - timedelta(days=60), now - timedelta(days=45), now - timedelta(days=30)
    with session_scope() as session:
        tasks = list(session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id)))
        versions = []
        for n, (at, labels, miou) in enumerate([(t1, 4, 0.30), (t2, 10, 0.40), (t3, 20, 0.50)], start=1):
            mv = ModelVersion(project_id=pid, version=n, status=ModelStatus.ready, label_count=labels, created_at=at,
                              metrics={"miou_fg": miou, "per_class": {"0": {"iou": 0.9}, "1": {"iou": miou},
                                                                       "2": {"iou": miou - 0.1}},
                                       **({"calibration": CAL} if n == 3 else {})})
            session.add(mv)
            versions.append(mv)
        session.flush()
        ann = 2  # user ids in creation order: lead 1, ann 2, bob 3

        def label(task: Task, at, mv: ModelVersion | None, random: bool, author: int = ann,
                  seconds: float = 10.0) -> None:
            if mv is not None:
                session.add(Score(task_id=task.id, model_version_id=mv.id, value=0.5, strategy="hybrid",
                                  components={"steered_random": 1.0} if random else {"entropy": 0.5,
                                                                                      "fg_fraction": 0.2}))
            annotation = Annotation(task_id=task.id, item_id=task.item_id, project_id=task.project_id,
                                    version=1, author_id=author,
                                    mask_path="x.png", seconds_spent=seconds, status=AnnotationStatus.submitted,
                                    model_version_id=mv.id if mv else None, created_at=at)
            session.add(annotation)
            session.flush()
            pixels = UNRANKED_PIXELS if mv is None else next(random_pixels if random else ranked_pixels)
            session.add_all(AnnotationClassPixels(annotation_id=annotation.id, class_index=k, pixels=n)
                            for k, n in pixels.items())
            task.status = TaskStatus.done

        random_pixels, ranked_pixels = iter(RANDOM_PIXELS), iter(RANKED_PIXELS)
        it = iter(tasks)
        for _ in range(4):
            label(next(it), t1 - timedelta(days=1), None, False)
        for i in range(6):
            label(next(it), t2 - timedelta(days=1), versions[0], random=i < 2)
        for i in range(10):
            label(next(it), t3 - timedelta(days=1), versions[1], random=i < 1)
        # Throughput in the last 14 days: ann 2 labels today (10 s and 20 s), bob 1 yesterday (30 s).
        label(next(it), now - timedelta(minutes=5), None, False, seconds=10.0)
        label(next(it), now - timedelta(minutes=4), None, False, seconds=20.0)
        label(next(it), now - timedelta(days=1), None, False, author=3, seconds=30.0)
        # The queue: 3 open tasks, 30 min, 2 h and 10 days old; one escalated.
        rest = list(it)
        for task, age in zip(rest, (timedelta(minutes=30), timedelta(hours=2), timedelta(days=10)), strict=False):
            task.created_at = now - age
        rest[3].status = TaskStatus.escalated
        session.flush()
        # Tasks the seed did not touch (none left open beyond the three)
        session.execute(update(Task).where(Task.id.in_([t.id for t in rest[4:]])).values(status=TaskStatus.done))
    return pid
