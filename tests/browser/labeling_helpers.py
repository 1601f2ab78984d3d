"""Set-up and page helpers shared by the labeling-page browser tests."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from tests.browser.conftest import log_in
from tests.factories import CLASSES, make_user

READY = "#workspace[data-ready=true]"


def make_labeling_project(n: int = 2, size: int = 64, tile: int | None = None, budget: int | None = None,
                          seed: int = 5) -> int:
    """A lead, an annotator `ann`, and a project of `n` synthetic charts (tiled into region tasks if asked)."""
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.flows import uploads
    from app.items.models import Split
    from app.learning.welllog import generate_dataset
    from app.projects import service

    make_user("lead", "lead")
    make_user("ann")
    with session_scope() as session:
        lead = auth_service.get_by_username(session=session, username="lead")
        ann = auth_service.get_by_username(session=session, username="ann")
        assert lead is not None and ann is not None
        project = service.create(session=session, name="charts", classes=CLASSES, creator=lead, retrain_every=1000,
                                 task_tile=tile)
        project.label_budget = budget
        service.add_member(session=session, project=project, user=ann)
        for i, (img, _mask) in enumerate(generate_dataset(n, seed=seed, size=size)):
            uploads.add_image(session=session, project=project, filename=f"chart{i}.png", pixels=img,
                                    split=Split.pool, user=None)
        return project.id


def suggestion_for(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, known suggestion: background, a band of class 1, a block of class 2; uncertainty ramps left->right."""
    mask = np.zeros((height, width), np.uint8)
    mask[10:20, 5:width - 4] = 1
    mask[30:45, 20:40] = 2
    unsure = np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))
    return mask, unsure


def fake_ranked_model(pid: int) -> int:
    """A ready model version whose ranking the queue follows, with `suggestion_for` as every item's suggestion."""
    from app import imaging, storage
    from app.db import session_scope
    from app.items.models import Item
    from app.modeling import suggestions
    from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
    from app.queue.models import Task

    with session_scope() as session:
        mv = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready, weights_path=None,
                          metrics={"miou_fg": 0.42, "per_class": {"1": {"iou": 0.5}, "2": {"iou": 0.34}}})
        session.add(mv)
        session.flush()
        tasks = list(session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id)))
        for item in session.scalars(select(Item).where(Item.project_id == pid)):
            mask, unsure = suggestion_for(item.width, item.height)
            for kind, pixels in (("mask", mask), ("uncertainty", unsure)):
                storage.write_atomic(suggestions.suggestion_path(pid, mv.id, item.id, kind), imaging.encode_png(pixels))
        for rank, task in enumerate(tasks, start=1):
            session.add(Score(task_id=task.id, model_version_id=mv.id, value=1.0 / rank, strategy="entropy",
                              components={"entropy_mean": 0.5 / rank, "fg_fraction": 0.2}, rank=rank))
        session.add(ScoringRun(project_id=pid, model_version_id=mv.id, chunks_total=1, chunks_done=1,
                               tasks_total=len(tasks), status=ScoringRunStatus.ranked))
        return mv.id


def open_labeling(page, base: str, pid: int, user: str = "ann", password: str = "password-123") -> None:  # type: ignore[no-untyped-def]
    log_in(page, base, user, password)
    page.goto(f"{base}/projects/{pid}/label")
    page.wait_for_selector(READY)


def canvas_point(page, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Image pixel (x, y) -> page coordinates of that pixel's centre on the label canvas."""
    box = page.locator("#label-layer").bounding_box()
    w = page.evaluate("document.getElementById('label-layer').width")
    h = page.evaluate("document.getElementById('label-layer').height")
    return box["x"] + (x + 0.5) * box["width"] / w, box["y"] + (y + 0.5) * box["height"] / h


def drag(page, points: list[tuple[int, int]], button: str = "left") -> None:  # type: ignore[no-untyped-def]
    """Press at the first pixel, move through every pixel of the straight runs between the points, release."""
    px = [canvas_point(page, *points[0])]
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        steps = max(abs(bx - ax), abs(by - ay), 1)
        px += [canvas_point(page, ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps) for i in range(1, steps + 1)]
    page.mouse.move(*px[0])
    page.mouse.down(button=button)
    for p in px[1:]:
        page.mouse.move(*p)
    page.mouse.up(button=button)


def click_pixel(page, x: int, y: int) -> None:  # type: ignore[no-untyped-def]
    page.mouse.click(*canvas_point(page, x, y))


def set_size(page, size: int) -> None:  # type: ignore[no-untyped-def]
    page.fill("#brush-size", str(size))
    page.dispatch_event("#brush-size", "input")


def page_labels(page) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The label map the page holds right now."""
    w, h, data = page.evaluate(
        "(() => { const m = window.labelwise.state.map; return [m.w, m.h, Array.from(m.labels)]; })()")
    return np.array(data, np.uint8).reshape(h, w)


def task_id(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.get_attribute("#workspace", "data-task-id"))


def wait_next_task(page, previous: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        f"document.getElementById('workspace').dataset.taskId !== '{previous}' && "
        "['true', 'empty'].includes(document.getElementById('workspace').dataset.ready)")


def annotations(task: int | None = None) -> list:  # type: ignore[type-arg]
    """(annotation row fields, mask) for every stored annotation, oldest first."""
    from app.annotations import service
    from app.annotations.models import Annotation
    from app.db import session_scope

    with session_scope() as session:
        stmt = select(Annotation).order_by(Annotation.id)
        if task is not None:
            stmt = stmt.where(Annotation.task_id == task)
        return [({"id": a.id, "task_id": a.task_id, "client_token": a.client_token,
                  "suggestion_fraction": a.suggestion_fraction, "seconds_spent": a.seconds_spent,
                  "model_version_id": a.model_version_id}, service.load_mask(a))
                for a in session.scalars(stmt)]
