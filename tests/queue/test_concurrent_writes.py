"""Writes that arrive at the same moment for one task: a retried submit, a second tab, overlapping
autosaves, a flag racing the submit, two leads resolving one flag.

Without a lock both read the same state ("version 1 is next", "no draft yet", "the lease is mine", "not
resolved yet"), and then either the second insert dies on a unique constraint (a 500 instead of an
answer) or both writes land and the record contradicts itself. Every scene here failed before the fix.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sqlalchemy import select

from tests.scenes import all_at_once, leased_tasks

ROUNDS = 6
WRITERS = 4
BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"])


def _user(session, username: str):  # type: ignore[no-untyped-def]
    from app.auth import service as auth_service

    return auth_service.get_by_username(session=session, username=username)


def submit_as(pid: int, task_id: int, username: str, client_token: str) -> tuple[int, bool]:
    from app.annotations import service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue.models import Task

    with session_scope() as session:
        annotation, created = service.submit(
            session=session, project=session.get(Project, pid), task=session.get(Task, task_id),
            user=_user(session, username), mask=np.zeros((16, 16), np.uint8), client_token=client_token)
        return annotation.id, created


def save_draft_as(task_id: int, username: str, seconds: float) -> int:
    from app.db import session_scope
    from app.queue import drafts
    from app.queue.models import Task

    with session_scope() as session:
        draft = drafts.save(session=session, task=session.get(Task, task_id), user=_user(session, username),
                            mask=np.zeros((16, 16), np.uint8), seconds_spent=seconds, client_token=None)
        session.flush()
        return draft.id


def flag_as(task_id: int, username: str) -> int:
    from app.db import session_scope
    from app.queue import service
    from app.queue.models import Task

    with session_scope() as session:
        row = service.flag(session=session, task=session.get(Task, task_id), user=_user(session, username),
                           note="is this curve 1?")
        session.flush()
        return row.id


def resolve_as(flag_id: int, username: str, resolution: str) -> None:
    from app.db import session_scope
    from app.queue import service
    from app.queue.models import Flag

    with session_scope() as session:
        service.resolve_flag(session=session, flag_row=session.get(Flag, flag_id), user=_user(session, username),
                             resolution=resolution)


def annotation_rows(task_id: int) -> list[tuple[int, str]]:
    """(version, status) of the task's labels, oldest first."""
    from app.annotations.models import Annotation
    from app.db import session_scope

    with session_scope() as session:
        return [(a.version, a.status.value) for a in
                session.scalars(select(Annotation).where(Annotation.task_id == task_id).order_by(Annotation.id))]


def refused_with_409(errors: list[BaseException]) -> bool:
    from app.errors import DomainError

    return all(isinstance(e, DomainError) and e.status == 409 for e in errors)


@BOTH
def test_a_retried_submit_racing_the_first_returns_the_same_label(env, backend):
    for round_no, (pid, tid) in enumerate(leased_tasks(ROUNDS)):
        results, errors = all_at_once([partial(submit_as, pid, tid, "a", f"tok-{round_no}")] * WRITERS)
        assert not errors, errors
        assert len({aid for aid, _ in results}) == 1 and sum(created for _, created in results) == 1, results
        assert annotation_rows(tid) == [(1, "submitted")]


@BOTH
def test_two_tabs_submitting_at_once_store_one_label_and_refuse_the_others(env, backend):
    for round_no, (pid, tid) in enumerate(leased_tasks(ROUNDS)):
        results, errors = all_at_once([partial(submit_as, pid, tid, "a", f"r{round_no}-tab-{i}")
                                       for i in range(WRITERS)])
        assert len(results) == 1 and results[0][1], (results, errors)
        # The first submit released the lease: the others are refused as after any submit, with a message.
        assert len(errors) == WRITERS - 1 and refused_with_409(errors), errors
        assert annotation_rows(tid) == [(1, "submitted")]


@BOTH
def test_overlapping_autosaves_keep_one_draft(env, backend):
    from app.db import session_scope
    from app.queue.models import Draft

    for _pid, tid in leased_tasks(ROUNDS):
        results, errors = all_at_once([partial(save_draft_as, tid, "a", float(i)) for i in range(WRITERS)])
        assert not errors, errors
        assert len(set(results)) == 1, results
        with session_scope() as session:
            rows = session.scalars(select(Draft).where(Draft.task_id == tid)).all()
        assert len(rows) == 1 and rows[0].seconds_spent in range(WRITERS)


@BOTH
def test_a_flag_racing_the_submit_leaves_one_consistent_outcome(env, backend):
    from app.db import session_scope
    from app.queue.models import Flag, Task, TaskStatus

    for round_no, (pid, tid) in enumerate(leased_tasks(ROUNDS)):
        results, errors = all_at_once([partial(submit_as, pid, tid, "a", f"r{round_no}"),
                                       partial(flag_as, tid, "a")])
        assert len(results) == 1 and len(errors) == 1 and refused_with_409(errors), (results, errors)
        with session_scope() as session:
            status = session.get(Task, tid).status
            flags = session.scalars(select(Flag).where(Flag.task_id == tid)).all()
        # Either it was labeled (done, one label, no flag) or it went to review (escalated, no label).
        outcome = (status, len(annotation_rows(tid)), len(flags))
        assert outcome in {(TaskStatus.done, 1, 0), (TaskStatus.escalated, 0, 1)}, outcome


@BOTH
def test_two_leads_resolving_one_flag_keep_one_resolution(env, backend):
    from app.auth.models import User
    from app.db import session_scope
    from app.queue.models import Flag

    for _pid, tid in leased_tasks(ROUNDS, leads=("lead2",)):
        flag_id = flag_as(tid, "a")
        results, errors = all_at_once([partial(resolve_as, flag_id, "lead", "it is curve 1"),
                                       partial(resolve_as, flag_id, "lead2", "it is curve 2")])
        assert len(results) == 1 and len(errors) == 1 and refused_with_409(errors), (results, errors)
        with session_scope() as session:
            row = session.get(Flag, flag_id)
            resolver = session.get(User, row.resolved_by_id).username
        # One lead's resolution under that lead's name, never one's text with the other's name.
        assert (resolver, row.resolution) in {("lead", "it is curve 1"), ("lead2", "it is curve 2")}
