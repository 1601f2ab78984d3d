"""Helpers for concurrency tests: items in a project, leases, and calls released at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tests.factories import make_project, make_user


def add_items(pid: int, n: int) -> None:
    from app.db import session_scope
    from app.flows import uploads
    from app.items.models import Split
    from app.projects.models import Project

    rng = np.random.default_rng(0)
    with session_scope() as session:
        project = session.get(Project, pid)
        for i in range(n):
            uploads.add_image(session=session, project=project, filename=f"{i}.png",
                               pixels=rng.integers(0, 255, (16, 16, 3), dtype=np.uint8), split=Split.pool, user=None)


def lease(pid: int, username: str) -> int | None:
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue import service

    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username=username)
        task = service.lease_next(session=session, project=session.get(Project, pid), user=user)
        return task.id if task else None


def leased_tasks(rounds: int, annotator: str = "a", leads: tuple[str, ...] = ()) -> Iterator[tuple[int, int]]:
    """(project id, task id) of a fresh one-image project per round, its task leased to `annotator`;
    `leads` are members with the lead role besides the owner.

    A race is narrow, so each scene is played on several fresh projects."""
    make_user("lead", "lead")
    make_user(annotator)
    for name in leads:
        make_user(name, "lead")
    for round_no in range(rounds):
        pid = make_project(name=f"p{round_no}", owner="lead", members=(annotator, *leads))
        add_items(pid, 1)
        tid = lease(pid, annotator)
        assert tid is not None
        yield pid, tid


def all_at_once(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run the calls in threads released together by a barrier; their results and their exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def add_tiny_tasks(pid: int, n: int, size: int = 8) -> None:
    """`n` pool items of size x size pixels, one task each, written in two statements (no image files:
    leasing and submitting need only the rows; a submitted mask is checked against the item's size)."""
    from sqlalchemy import insert, select

    from app.db import session_scope, utcnow
    from app.items.models import Item, Split
    from app.queue.models import Task, TaskStatus

    now = utcnow()
    with session_scope() as session:
        session.execute(insert(Item), [
            {"project_id": pid, "original_name": f"t{i}.png", "storage_path": f"missing/t{i}.png", "width": size,
             "height": size, "checksum": f"{pid}-{i}", "split": Split.pool, "created_at": now} for i in range(n)])
        item_ids = session.scalars(select(Item.id).where(Item.project_id == pid).order_by(Item.id)).all()
        session.execute(insert(Task), [
            {"project_id": pid, "item_id": item_id, "x": 0, "y": 0, "width": size, "height": size,
             "status": TaskStatus.open, "created_at": now} for item_id in item_ids])


def labeled_chart_project(n: int = 24, labeled: int = 4, size: int = 64) -> int:
    """A lead's project of `n` well-log charts with the first `labeled` tasks labeled from the truth (no
    retrain triggered): ready for a training request. Returns the project id."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.db import session_scope
    from app.flows import submit, uploads
    from app.items.models import Split
    from app.learning.welllog import generate_dataset
    from app.projects.models import Project
    from app.queue.models import Task

    make_user("lead", "lead")
    pid = make_project(owner="lead", retrain_every=1000)
    charts = generate_dataset(n, seed=5, size=size)
    with session_scope() as session:
        project = session.get(Project, pid)
        for i, (image, _mask) in enumerate(charts):
            uploads.add_image(session=session, project=project, filename=f"c{i}.png", pixels=image, split=Split.pool,
                              user=None)
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.get(User, project.created_by_id)
        for task in session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id).limit(labeled)):
            submit.submit_label(session=session, project=project, task=task, user=lead,
                                mask=charts[task.item_id - 1][1].astype(np.uint8), trigger_retrain=False)
    return pid


def score_jobs(*statuses: Any) -> list[Any]:
    """The recorded `labelwise.score` jobs in these statuses (app.jobs.models.JobStatus)."""
    from sqlalchemy import select

    from app.db import session_scope
    from app.jobs.models import JobRun

    with session_scope() as session:
        return list(session.scalars(select(JobRun).where(JobRun.name == "labelwise.score",
                                                        JobRun.status.in_(statuses))))


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until `condition()` is truthy (returns it), or fail naming `what`."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def run_in_own_loop(coroutine: Any) -> Any:
    """asyncio.run on a thread of its own: a test earlier in the session (the browser tests) may have left
    an event loop running on this thread, where asyncio.run refuses."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def scored_versions(pid: int, mious: list[float | None], *, tasks: int = 6,
                    live: int | None = None, held_back: tuple[int, ...] = ()) -> list[int]:
    """Ready model versions v1.. of project `pid` (no weights: nothing rescored needs them), each with a
    stored score for every one of `tasks` tiny open tasks, so a ranking or a rollback needs no model.
    Task i gets uncertainty rising with i and rare-class boost falling with i: the hybrid's weights
    decide which end leads. `live`: the version that went live last (default the newest not held back).
    Returns the versions' ids."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.db import session_scope, utcnow
    from app.modeling.models import ModelStatus, ModelVersion, Score
    from app.queue.models import Task

    add_tiny_tasks(pid, tasks)
    ids = []
    with session_scope() as session:
        task_ids = list(session.scalars(select(Task.id).where(Task.project_id == pid).order_by(Task.id)))
        start = utcnow() - timedelta(hours=len(mious) + 1)
        for n, miou in enumerate(mious, start=1):
            mv = ModelVersion(project_id=pid, version=n, status=ModelStatus.ready, label_count=10 * n,
                              metrics={} if miou is None else {
                                  "miou_fg": miou, "train_seconds": 1.5 * n,
                                  "per_class": {"0": {"iou": 0.9, "f1": 0.95}, "1": {"iou": miou, "f1": miou + 0.1},
                                                "2": {"iou": miou - 0.1, "f1": miou}},
                                  "calibration": {"ece_before": 0.08, "ece_after": 0.02, "temperature": 1.4}},
                              temperature=1.4, held_back=n in held_back, created_at=start + timedelta(hours=n),
                              finished_at=start + timedelta(hours=n))
            session.add(mv)
            session.flush()
            ids.append(mv.id)
            for i, tid in enumerate(task_ids):
                u = (i + 1) / len(task_ids)
                session.add(Score(task_id=tid, model_version_id=mv.id, value=u, strategy="unranked",
                                  components={"entropy_weighted": u, "bald_weighted": u, "margin_weighted": u,
                                              "class_boost": 1.0 - u}, embedding=[1.0, 0.0]))
        chosen = live if live is not None else max(n for n in range(1, len(mious) + 1) if n not in held_back)
        mv = session.get(ModelVersion, ids[chosen - 1])
        assert mv is not None
        mv.live_since = utcnow()
    return ids
