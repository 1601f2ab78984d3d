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
