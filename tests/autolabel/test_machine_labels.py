"""Machine labels: the lead's bar and audit share (validated), tasks above the bar stored as machine labels
(never as human ones), the audit share sent to humans, and the audit's measured error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from tests.factories import login, make_project, make_user
from tests.scenes import add_tiny_tasks

SIZE = 8


def _ranked_scene(confidences: list[float]) -> tuple[int, int]:
    """A project with one open 8x8 task per confidence, a ready version whose ranked scores carry them,
    and its stored suggestion per item (a 2x2 square of class 1). -> (project id, model version id)."""
    from app import imaging, storage
    from app.db import session_scope
    from app.modeling import suggestions
    from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
    from app.queue.models import Task

    make_user("lead", "lead")
    make_user("ann", "annotator")
    pid = make_project(owner="lead", members=("ann",))
    add_tiny_tasks(pid, len(confidences), size=SIZE)
    suggestion = np.zeros((SIZE, SIZE), np.uint8)
    suggestion[2:4, 2:4] = 1
    with session_scope() as session:
        mv = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready, weights_path="x.pt")
        session.add(mv)
        session.flush()
        session.add(ScoringRun(project_id=pid, model_version_id=mv.id, chunks_total=1, chunks_done=1,
                               tasks_total=len(confidences), status=ScoringRunStatus.ranked))
        tasks = session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id)).all()
        for rank, (task, conf) in enumerate(zip(tasks, confidences, strict=True), 1):
            session.add(Score(task_id=task.id, model_version_id=mv.id, value=1 - conf, strategy="hybrid", rank=rank,
                              components={"expected_iou": conf}))
            storage.write_atomic(suggestions.suggestion_path(pid, mv.id, task.item_id, "mask"),
                                 imaging.encode_png(suggestion))
        return pid, mv.id


def test_tasks_above_the_bar_get_machine_labels_and_the_audit_share_goes_to_humans(env: Path) -> None:
    from app.annotations import service as annotation_service
    from app.annotations.models import Annotation, AnnotationStatus
    from app.audit.models import AuditLog
    from app.auth.models import User
    from app.autolabel import service
    from app.autolabel.models import MachineAudit
    from app.db import session_scope
    from app.flows import autolabel as autolabel_flow
    from app.items.models import Split
    from app.projects.models import Project
    from app.queue import service as queue_service
    from app.queue.models import Task, TaskStatus

    confidences = [0.99] * 10 + [0.5] * 3
    pid, mv_id = _ranked_scene(confidences)
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.scalar(select(User).where(User.username == "lead"))
        service.set_policy(session=session, project=project, user=lead, bar=0.9, audit_share=0.2)
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.scalar(select(User).where(User.username == "lead"))
        applied = autolabel_flow.apply_machine_labels(session=session, project=project, user=lead)
    assert (applied.machine_labels, applied.audits) == (8, 2)  # ceil(0.2 x 10) audits of the 10 above the bar
    with session_scope() as session:
        tasks = session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id)).all()
        machine = session.scalars(select(Annotation).where(Annotation.status == AnnotationStatus.machine)).all()
        audits = session.scalars(select(MachineAudit)).all()
        assert len(machine) == 8 and all(a.model_version_id == mv_id and a.suggestion_fraction == 1.0 for a in machine)
        assert {a.task_id for a in machine}.isdisjoint({a.task_id for a in audits})
        assert len(audits) == 2 and all(a.model_version_id == mv_id and a.audited_at is None for a in audits)
        by_id = {t.id: t for t in tasks}
        assert all(by_id[a.task_id].status == TaskStatus.done for a in machine)
        assert all(by_id[a.task_id].status == TaskStatus.open for a in audits)  # humans label these
        assert [t.status for t in tasks[10:]] == [TaskStatus.open] * 3  # below the bar: untouched
        project = session.get(Project, pid)
        head = [e.task.id for e in queue_service.list_queue(session=session, project=project, limit=5)]
        assert set(head[:2]) == {a.task_id for a in audits}  # the audits come first, then the ranked rest
        mask = annotation_service.load_mask(machine[0])
        assert int((mask == 1).sum()) == 4  # the suggestion, stored as the label
        # machine labels are not human labels: not counted, not trained on
        assert annotation_service.pool_labels(session=session, project_id=pid) == 0
        assert annotation_service.labeled_set(session=session, project_id=pid, split=Split.pool).masks == []
        actions = set(session.scalars(select(AuditLog.action).where(AuditLog.project_id == pid)))
        assert {"autolabel.policy", "autolabel.apply"} <= actions
    # applying again under the same version changes nothing: no task is above the bar and open but unaudited
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.scalar(select(User).where(User.username == "lead"))
        again = autolabel_flow.apply_machine_labels(session=session, project=project, user=lead)
    assert (again.machine_labels, again.audits) == (0, 0)


def test_an_answered_audit_measures_the_machine_error(env: Path) -> None:
    from app.auth.models import User
    from app.autolabel import service
    from app.autolabel.models import MachineAudit
    from app.db import session_scope
    from app.flows import autolabel as autolabel_flow
    from app.flows import submit
    from app.projects.models import Project
    from app.queue.models import Task

    pid, _ = _ranked_scene([0.99] * 4)
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.scalar(select(User).where(User.username == "lead"))
        service.set_policy(session=session, project=project, user=lead, bar=0.9, audit_share=0.25)
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.scalar(select(User).where(User.username == "lead"))
        autolabel_flow.apply_machine_labels(session=session, project=project, user=lead)
    human = np.zeros((SIZE, SIZE), np.uint8)
    human[2:4, 2:5] = 1  # the human draws 6 px where the machine had 4 of them: IoU 4/6
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.scalar(select(User).where(User.username == "lead"))
        row = session.scalar(select(MachineAudit))
        task = session.get(Task, row.task_id)
        submit.submit_label(session=session, project=project, task=task, user=lead, mask=human,
                            trigger_retrain=False)
    with session_scope() as session:
        row = session.scalar(select(MachineAudit))
        assert row.audited_at is not None and row.annotation_id is not None
        # class 2 appears in neither mask: the mean is over class 1 alone
        assert row.miou_fg == pytest.approx(4 / 6)
        s = service.summary(session=session, project_id=pid)
        assert s["audits_done"] == 1 and s["audits_pending"] == 0 and s["machine_labels"] == 3
        assert s["audit_error"] == pytest.approx(1 - 4 / 6) and s["bar"] == 0.9


@pytest.mark.parametrize("body, field", [({"bar": 1.5, "audit_share": 0.1}, "bar"),
                                         ({"bar": 0.9, "audit_share": -0.1}, "audit_share")])
def test_api_refuses_a_bar_or_share_outside_0_1_naming_the_field(client, body: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    r = client.put(f"/api/v1/projects/{pid}/autolabel/policy", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and r.json()["detail"].startswith(f"{field} must be in [0, 1]")
    assert client.get(f"/api/v1/projects/{pid}/autolabel").json()["bar"] is None  # nothing half-applied
    ok = client.put(f"/api/v1/projects/{pid}/autolabel/policy", json={"bar": 0.8, "audit_share": 0.05},
                    headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["bar"] == 0.8 and ok.json()["audit_share"] == 0.05


def test_annotators_cannot_set_the_policy_and_non_members_get_404(client) -> None:  # type: ignore[no-untyped-def]
    make_user("lead", "lead")
    make_user("ann", "annotator")
    make_user("other", "lead")
    pid = make_project(owner="lead", members=("ann",))
    token = login(client, "ann")
    r = client.put(f"/api/v1/projects/{pid}/autolabel/policy", json={"bar": 0.9, "audit_share": 0.1},
                   headers={"X-CSRF-Token": token})
    assert r.status_code == 403
    token = login(client, "other")
    assert client.get(f"/api/v1/projects/{pid}/autolabel").status_code == 404


def test_the_page_sets_the_bar_and_the_overview_shows_it(client) -> None:  # type: ignore[no-untyped-def]
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    page = client.get(f"/projects/{pid}/machine-labels")
    assert page.status_code == 200 and "Machine labels" in page.text
    bad = client.post(f"/projects/{pid}/machine-labels/policy", data={"bar": "2", "audit_share": "0.1",
                                                                       "csrf_token": token})
    assert bad.status_code == 422 and "bar must be in [0, 1]" in bad.text
    r = client.post(f"/projects/{pid}/machine-labels/policy", data={"bar": "0.93", "audit_share": "0.1",
                                                                     "csrf_token": token})
    assert r.status_code == 200 and "Saved." in r.text
    overview = client.get(f"/projects/{pid}")
    assert 'data-testid="autolabel-bar">0.93<' in overview.text and "nothing audited yet" in overview.text
    assert f"/projects/{pid}/machine-labels" in overview.text
    no_model = client.post(f"/projects/{pid}/machine-labels/apply", data={"csrf_token": token})
    assert no_model.status_code == 409 and "no ranked model version yet" in no_model.text
