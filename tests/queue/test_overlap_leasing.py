"""Overlap under concurrent leases: every overlap task ends with k copies by k different annotators."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sqlalchemy import select

from tests.factories import make_project, make_user
from tests.scenes import add_tiny_tasks, all_at_once


def _left_for(session, pid: int, user_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether an open task of the project still lacks this user's copy (it may be leased or locked now)."""
    from app.queue.models import Task, TaskStatus
    from app.queue.overlap_models import TaskCopy

    mine = select(TaskCopy.task_id).where(TaskCopy.user_id == user_id)
    return session.scalar(select(Task.id).where(Task.project_id == pid, Task.status == TaskStatus.open,
                                                Task.id.not_in(mine)).limit(1)) is not None


def _work_until_empty(pid: int, username: str) -> list[int]:
    """One annotator's session: lease, submit, repeat until no open task lacks their copy. Next can find
    nothing for a moment while the last tasks are held by others' submits (SKIP LOCKED): then ask again,
    as an annotator would."""
    import time

    from app.auth import service as auth_service
    from app.db import session_scope
    from app.flows import submit
    from app.projects.models import Project
    from app.queue import service

    labeled: list[int] = []
    for _ in range(2000):
        with session_scope() as session:
            user = auth_service.get_by_username(session=session, username=username)
            project = session.get(Project, pid)
            task = service.lease_next(session=session, project=project, user=user)
            if task is None:
                if not _left_for(session, pid, user.id):
                    return labeled
                session.rollback()
                time.sleep(0.02)
                continue
            session.commit()
            submit.submit_label(session=session, project=project, task=task, user=user,
                                mask=np.full((8, 8), len(labeled) % 3, np.uint8), trigger_retrain=False)
            labeled.append(task.id)
    raise AssertionError("the queue never emptied")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_annotators_give_each_overlap_task_k_copies_by_k_people(env, backend):
    from app.annotations.models import Annotation
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue import overlap
    from app.queue.models import Task, TaskStatus
    from app.queue.overlap_models import OverlapTask

    make_user("lead", "lead")
    users = [f"u{i}" for i in range(6)]
    for u in users:
        make_user(u)
    pid = make_project(owner="lead", members=tuple(users))
    add_tiny_tasks(pid, 12)
    with session_scope() as session:
        lead = auth_service.get_by_username(session=session, username="lead")
        overlap.set_policy(session=session, project=session.get(Project, pid), user=lead, share=0.5, k=3,
                           uncertainty_threshold=None, agreement_threshold=0.5)
    results, errors = all_at_once([partial(_work_until_empty, pid, u) for u in users])
    assert not errors, errors
    for labeled in results:
        assert len(labeled) == len(set(labeled))  # nobody labeled one task twice
    with session_scope() as session:
        tasks = session.scalars(select(Task).where(Task.project_id == pid)).all()
        drawn = {o.task_id: o.copies for o in session.scalars(select(OverlapTask))}
        assert 0 < len(drawn) < len(tasks)  # about half drew overlap
        for task in tasks:
            authors = session.scalars(select(Annotation.author_id).where(Annotation.task_id == task.id)).all()
            assert task.status == TaskStatus.done
            assert len(authors) == drawn.get(task.id, 1) and len(set(authors)) == len(authors), (task.id, authors)
