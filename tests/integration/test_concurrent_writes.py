"""Writes that arrive at the same moment for one task: a retried submit, a second tab, overlapping autosaves.

Without a lock both read the same latest version, the same "no submit with this token yet" or the
same "no draft yet", and the second insert dies on a unique constraint: a 500 instead of an answer.
Each scene is played several times on fresh projects (both fixed versions failed every time before).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest
from sqlalchemy import select

from tests.factories import make_project, make_user
from tests.integration.test_queue import add_items, lease

ROUNDS = 6
SUBMITTERS = 4
Outcome = tuple[int, bool]  # (annotation id, created)


def submit_as(pid: int, task_id: int, username: str, client_token: str) -> Outcome:
    from app.annotations import service
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue.models import Task

    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username=username)
        task = session.get(Task, task_id)
        mask = np.zeros((16, 16), np.uint8)
        annotation, created = service.submit(session=session, project=session.get(Project, pid), task=task,
                                             user=user, mask=mask, client_token=client_token)
        return annotation.id, created


def all_at_once(calls: list[Callable[[], Outcome]]) -> tuple[list[Outcome], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    results: list[Outcome] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Outcome]) -> None:
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


def save_draft_as(pid: int, task_id: int, username: str, seconds: float) -> Outcome:
    from app.annotations import drafts
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.queue.models import Task

    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username=username)
        draft = drafts.save(session=session, task=session.get(Task, task_id), user=user,
                            mask=np.zeros((16, 16), np.uint8), seconds_spent=seconds, client_token=None)
        session.flush()
        return draft.id, True


def annotation_rows(task_id: int) -> list[tuple[int, int, str]]:
    from app.annotations.models import Annotation
    from app.db import session_scope

    with session_scope() as session:
        return [(a.id, a.version, a.status.value) for a in
                session.scalars(select(Annotation).where(Annotation.task_id == task_id).order_by(Annotation.id))]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_retried_submit_racing_the_first_returns_the_same_label(env, backend):
    make_user("lead", "lead")
    make_user("a")
    for round_no in range(ROUNDS):
        pid = make_project(name=f"p{round_no}", owner="lead", members=("a",))
        add_items(pid, 1)
        tid = lease(pid, "a")
        assert tid is not None
        results, errors = all_at_once([partial(submit_as, pid, tid, "a", f"tok-{round_no}")] * SUBMITTERS)
        assert not errors, errors
        assert len({aid for aid, _ in results}) == 1 and sum(created for _, created in results) == 1, results
        assert [(v, s) for _, v, s in annotation_rows(tid)] == [(1, "submitted")]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_tabs_submitting_at_once_store_one_label_and_refuse_the_other(env, backend):
    from app.annotations.errors import SubmitError

    make_user("lead", "lead")
    make_user("a")
    for round_no in range(ROUNDS):
        pid = make_project(name=f"p{round_no}", owner="lead", members=("a",))
        add_items(pid, 1)
        tid = lease(pid, "a")
        assert tid is not None
        results, errors = all_at_once([partial(submit_as, pid, tid, "a", f"r{round_no}-tab-{i}")
                                       for i in range(SUBMITTERS)])
        assert len(results) == 1 and results[0][1], (results, errors)
        # The first submit released the lease: the others are refused as after any submit, with a message.
        assert len(errors) == SUBMITTERS - 1 and all(isinstance(e, SubmitError) and e.status == 409
                                                     for e in errors), errors
        assert [(v, s) for _, v, s in annotation_rows(tid)] == [(1, "submitted")]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_overlapping_autosaves_keep_one_draft(env, backend):
    from app.annotations.models import Draft
    from app.db import session_scope

    make_user("lead", "lead")
    make_user("a")
    for round_no in range(ROUNDS):
        pid = make_project(name=f"p{round_no}", owner="lead", members=("a",))
        add_items(pid, 1)
        tid = lease(pid, "a")
        assert tid is not None
        results, errors = all_at_once([partial(save_draft_as, pid, tid, "a", float(i)) for i in range(SUBMITTERS)])
        assert not errors, errors
        assert len({did for did, _ in results}) == 1, results
        with session_scope() as session:
            rows = session.scalars(select(Draft).where(Draft.task_id == tid)).all()
        assert len(rows) == 1 and rows[0].seconds_spent in range(SUBMITTERS)


def flag_as(pid: int, task_id: int, username: str) -> Outcome:
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.queue import service
    from app.queue.models import Task

    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username=username)
        row = service.flag(session=session, task=session.get(Task, task_id), user=user, note="is this curve 1?")
        session.flush()
        return row.id, True


def resolve_as(flag_id: int, username: str, resolution: str) -> Outcome:
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.queue import service
    from app.queue.models import Flag

    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username=username)
        service.resolve_flag(session=session, flag_row=session.get(Flag, flag_id), user=user, resolution=resolution)
        return flag_id, True


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_flag_racing_the_submit_leaves_one_consistent_outcome(env, backend):
    from app.annotations.errors import SubmitError
    from app.db import session_scope
    from app.queue.models import Flag, Task, TaskStatus
    from app.queue.service import QueueError

    make_user("lead", "lead")
    make_user("a")
    for round_no in range(ROUNDS):
        pid = make_project(name=f"p{round_no}", owner="lead", members=("a",))
        add_items(pid, 1)
        tid = lease(pid, "a")
        assert tid is not None
        results, errors = all_at_once([partial(submit_as, pid, tid, "a", f"r{round_no}"),
                                       partial(flag_as, pid, tid, "a")])
        assert len(results) == 1 and len(errors) == 1, (results, errors)
        assert isinstance(errors[0], (QueueError, SubmitError)) and errors[0].status == 409, errors
        with session_scope() as session:
            status = session.get(Task, tid).status
            flags = session.scalars(select(Flag).where(Flag.task_id == tid)).all()
        labels = annotation_rows(tid)
        # Either it was labeled (done, one label, no flag) or it went to review (escalated, no label).
        assert (status, len(labels), len(flags)) in {(TaskStatus.done, 1, 0), (TaskStatus.escalated, 0, 1)}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_leads_resolving_one_flag_keep_the_first_resolution(env, backend):
    from app.auth.models import User
    from app.db import session_scope
    from app.queue.models import Flag
    from app.queue.service import QueueError

    make_user("lead", "lead")
    make_user("lead2", "lead")
    make_user("a")
    for round_no in range(ROUNDS):
        pid = make_project(name=f"p{round_no}", owner="lead", members=("a", "lead2"))
        add_items(pid, 1)
        tid = lease(pid, "a")
        assert tid is not None
        flag_id, _ = flag_as(pid, tid, "a")
        results, errors = all_at_once([partial(resolve_as, flag_id, "lead", "it is curve 1"),
                                       partial(resolve_as, flag_id, "lead2", "it is curve 2")])
        assert len(results) == 1 and len(errors) == 1, (results, errors)
        assert isinstance(errors[0], QueueError) and errors[0].status == 409
        with session_scope() as session:
            row = session.get(Flag, flag_id)
            resolver = session.get(User, row.resolved_by_id).username
        # One lead's resolution under that lead's name, never one's text with the other's name.
        assert (resolver, row.resolution) in {("lead", "it is curve 1"), ("lead2", "it is curve 2")}
