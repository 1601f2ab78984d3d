"""Overlap through the services: k copies by k people, agreement at the k-th, adjudication that training
then reads."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import make_project, make_user
from tests.scenes import add_items, lease

U = 255


def _policy(pid: int, **kw):  # type: ignore[no-untyped-def]
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue import overlap

    args = {"share": 1.0, "k": 2, "uncertainty_threshold": None, "agreement_threshold": 0.9} | kw
    with session_scope() as session:
        lead = auth_service.get_by_username(session=session, username="lead")
        overlap.set_policy(session=session, project=session.get(Project, pid), user=lead, **args)


def _submit(pid: int, task_id: int, username: str, mask: np.ndarray) -> int:
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.flows import submit
    from app.projects.models import Project
    from app.queue.models import Task

    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username=username)
        done = submit.submit_label(session=session, project=session.get(Project, pid), task=session.get(Task, task_id),
                                   user=user, mask=mask, trigger_retrain=False)
        return done.annotation.id


def _masks() -> tuple[np.ndarray, np.ndarray]:
    """Two 16x16 copies: a agrees with b on the background's left half, and they draw curve-1 in
    different columns."""
    a = np.zeros((16, 16), np.uint8)
    b = np.zeros((16, 16), np.uint8)
    a[:, 4] = 1
    b[:, 5] = 1
    return a, b


@pytest.fixture
def project(env):  # type: ignore[no-untyped-def]
    make_user("lead", "lead")
    for name in ("a", "b", "c"):
        make_user(name)
    pid = make_project(owner="lead", members=("a", "b", "c"), retrain_every=1000)
    add_items(pid, 2)
    _policy(pid)
    return pid


def test_an_overlap_task_goes_to_k_people_once_each_and_is_done_at_the_kth_copy(project):
    from app.agreement import service as agreement_service
    from app.db import session_scope
    from app.queue.models import Task, TaskStatus

    first = lease(project, "a")
    assert lease(project, "b") == first  # the second copy of the same task
    assert lease(project, "a") == first  # a holds it: asking again gives it back, not a second copy
    third = lease(project, "c")
    assert third != first  # both copies of the first task are out
    a_mask, b_mask = _masks()
    _submit(project, first, "a", a_mask)
    with session_scope() as session:
        assert session.get(Task, first).status == TaskStatus.open  # one copy of two
        assert agreement_service.task_agreement(session=session, task_id=first) is None
    assert lease(project, "a") != first  # never a second copy to the same annotator
    _submit(project, first, "b", b_mask)
    with session_scope() as session:
        assert session.get(Task, first).status == TaskStatus.done
        summary = agreement_service.task_agreement(session=session, task_id=first)
        rows = agreement_service.pair_rows(session=session, task_id=first)
    # background: 15 columns each, 14 shared of 16 -> 14/16; curve-1: 1 column each, none shared -> 0
    assert summary is not None and summary.copies == 2
    ious = {r.class_index: r.iou for r in rows}
    assert ious[0] == pytest.approx(14 / 16) and ious[1] == 0.0 and ious[2] is None
    assert summary.mean_iou == pytest.approx((14 / 16 + 0) / 2)
    assert summary.worst_class_index == 1


def test_adjudication_writes_an_adjudicated_version_that_training_reads(project):
    from sqlalchemy import select

    from app.agreement import adjudication
    from app.agreement import service as agreement_service
    from app.annotations import service as annotation_service
    from app.audit.models import AuditLog
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.items.models import Split
    from app.projects.models import Project
    from app.queue.models import Task

    task_id = lease(project, "a")
    assert lease(project, "b") == task_id
    a_mask, b_mask = _masks()
    a_id = _submit(project, task_id, "a", a_mask)
    b_id = _submit(project, task_id, "b", b_mask)
    with session_scope() as session:
        # before adjudication training reads the copies' majority: the disputed columns are unlabeled
        before = annotation_service.labeled_set(session=session, project_id=project, split=Split.pool)
        assert before.masks[0][0, :8].tolist() == [0, 0, 0, 0, U, U, 0, 0]
        proj = session.get(Project, project)
        assert [d.task.id for d in agreement_service.disagreement_queue(session=session, project=proj)] == [task_id]
        lead = auth_service.get_by_username(session=session, username="lead")
        row = adjudication.resolve(session=session, project=proj, task=session.get(Task, task_id), user=lead,
                                   method="merge", rationale="b's curve sits on the trace",
                                   classes={"background": a_id, "curve-1": b_id})
    with session_scope() as session:
        versions = annotation_service.versions(session=session, task_id=task_id)
        assert [(v.version, v.adjudicated, v.status.value) for v in versions] == [
            (1, False, "superseded"), (2, False, "superseded"), (3, True, "submitted")]
        after = annotation_service.labeled_set(session=session, project_id=project, split=Split.pool)
        assert after.annotation_ids == [versions[-1].id]
        # background from a (column 5 is background there), curve-1 from b painted over it; column 4 is
        # neither a's background nor b's curve, so nobody's choice labels it
        assert after.masks[0][0, :8].tolist() == [0, 0, 0, 0, U, 1, 0, 0]
        proj = session.get(Project, project)
        assert agreement_service.disagreement_queue(session=session, project=proj) == []
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "task.adjudicate")).all()
        assert len(audit) == 1 and audit[0].detail["rationale"] == "b's curve sits on the trace"
        assert row.method == "merge"


def test_bad_adjudications_are_refused_naming_the_field_and_nothing_is_written(project):
    from app.agreement import adjudication
    from app.agreement.adjudication import AdjudicationError
    from app.annotations import service as annotation_service
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue.models import Task

    task_id = lease(project, "a")
    lease(project, "b")
    a_mask, b_mask = _masks()
    a_id = _submit(project, task_id, "a", a_mask)
    _submit(project, task_id, "b", b_mask)
    cases = [
        ({"method": "merge", "classes": {"sky": a_id}, "rationale": "x"},
         "classes: the project has no class named 'sky'"),
        ({"method": "merge", "classes": {"curve-1": 999}, "rationale": "x"}, "classes['curve-1']"),
        ({"method": "pick", "annotation_id": None, "rationale": "x"}, "annotation_id"),
        ({"method": "pick", "annotation_id": a_id, "rationale": "  "}, "rationale"),
        ({"method": "vote", "rationale": "x"}, "method"),
    ]
    for kwargs, message in cases:
        with session_scope() as session:
            lead = auth_service.get_by_username(session=session, username="lead")
            with pytest.raises(AdjudicationError, match=message.replace("[", r"\[").replace("]", r"\]")):
                adjudication.resolve(session=session, project=session.get(Project, project),
                                     task=session.get(Task, task_id), user=lead, **kwargs)
            session.rollback()
    with session_scope() as session:
        assert len(annotation_service.versions(session=session, task_id=task_id)) == 2


def test_overlap_settings_are_checked_before_anything_is_written(project):
    from app.db import session_scope
    from app.queue import overlap
    from app.queue.overlap import OverlapSettingError

    for kw, field in [({"k": 5}, "overlap_k"), ({"k": 1}, "overlap_k"), ({"share": 1.5}, "overlap_share"),
                      ({"uncertainty_threshold": -0.1}, "overlap_uncertainty_threshold"),
                      ({"agreement_threshold": 2.0}, "agreement_threshold")]:
        with pytest.raises(OverlapSettingError, match=field):
            _policy(project, **kw)
    with session_scope() as session:
        policy = overlap.get_policy(session=session, project_id=project)
        assert (policy.share, policy.k, policy.agreement_threshold) == (1.0, 2, 0.9)
    _policy(project, k=4)  # four members: lead, a, b, c


def test_a_flagged_task_waits_in_the_disagreement_queue_and_a_redraw_answers_its_flag(env):
    from sqlalchemy import select

    from app.agreement import adjudication
    from app.agreement import service as agreement_service
    from app.audit.models import AuditLog
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue import service as queue_service
    from app.queue.models import Flag, Task, TaskStatus

    make_user("lead", "lead")
    make_user("a")
    pid = make_project(owner="lead", members=("a",))
    add_items(pid, 1)
    task_id = lease(pid, "a")
    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username="a")
        queue_service.flag(session=session, task=session.get(Task, task_id), user=user, note="two curves cross here")
    with session_scope() as session:
        proj = session.get(Project, pid)
        [row] = agreement_service.disagreement_queue(session=session, project=proj)
        assert (row.task.id, row.open_flags, row.agreement) == (task_id, 1, None)
        lead = auth_service.get_by_username(session=session, username="lead")
        painted = np.zeros((16, 16), np.uint8)
        adjudication.resolve(session=session, project=proj, task=session.get(Task, task_id), user=lead,
                             method="redraw", rationale="the left one is curve-1", mask=painted)
    with session_scope() as session:
        flag = session.scalars(select(Flag)).one()
        assert flag.resolution == "Adjudicated: the left one is curve-1"
        assert session.get(Task, task_id).status == TaskStatus.done
        assert agreement_service.disagreement_queue(session=session, project=session.get(Project, pid)) == []
        actions = [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))]
        assert {"flag.resolve", "annotation.adjudicate", "task.adjudicate"} <= set(actions)


def test_changing_the_overlap_rule_is_audited(project):
    from sqlalchemy import select

    from app.audit.models import AuditLog
    from app.db import session_scope

    _policy(project, k=3, share=0.5)
    with session_scope() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.action == "overlap.update").order_by(AuditLog.id)).all()
    assert len(rows) == 2 and rows[-1].detail["before"]["k"] == 2 and rows[-1].detail["after"]["k"] == 3


def test_copies_that_arrive_while_the_task_is_flagged_complete_it_when_the_flag_is_answered(project):
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.queue import service as queue_service
    from app.queue.models import Task, TaskStatus

    task_id = lease(project, "a")
    assert lease(project, "b") == task_id
    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username="a")
        flag = queue_service.flag(session=session, task=session.get(Task, task_id), user=user, note="unclear")
        session.flush()
        flag_id = flag.id
    # a's lease went with the flag; b still holds a copy and submits it, then c takes the other copy
    _submit(project, task_id, "b", _masks()[1])
    with session_scope() as session:
        assert session.get(Task, task_id).status == TaskStatus.escalated
        lead = auth_service.get_by_username(session=session, username="lead")
        row = queue_service.get_flag(session=session, project_id=project, flag_id=flag_id)
        queue_service.resolve_flag(session=session, flag_row=row, user=lead, resolution="label the trace")
    with session_scope() as session:
        assert session.get(Task, task_id).status == TaskStatus.open  # one copy of two: back in the queue
    assert lease(project, "c") == task_id
    assert lease(project, "b") != task_id  # b's copy is in


def test_an_overlap_task_whose_copies_all_came_in_while_flagged_is_done_when_the_flag_is_answered(project):
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.queue import service as queue_service
    from app.queue.models import Task, TaskStatus

    task_id = lease(project, "a")
    assert lease(project, "b") == task_id
    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username="a")
        flag = queue_service.flag(session=session, task=session.get(Task, task_id), user=user, note="unclear")
        session.flush()
        flag_id = flag.id
    _submit(project, task_id, "b", _masks()[1])
    _submit(project, task_id, "lead", _masks()[0])  # a lead labels the escalated task: the second copy
    with session_scope() as session:
        assert session.get(Task, task_id).status == TaskStatus.escalated
        lead = auth_service.get_by_username(session=session, username="lead")
        row = queue_service.get_flag(session=session, project_id=project, flag_id=flag_id)
        queue_service.resolve_flag(session=session, flag_row=row, user=lead, resolution="settled")
    with session_scope() as session:
        assert session.get(Task, task_id).status == TaskStatus.done  # not stuck open with no copy left to take
