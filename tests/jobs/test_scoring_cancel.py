"""A lead stops a scoring pass from the Jobs panel or the API: its chunks not yet scored score nothing, it is
never ranked, and the queue keeps the ranking it had; a pass that has ended is not cancelled again."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import login, make_project, make_user
from tests.scenes import add_items

HTML = {"accept": "text/html"}


def _scoring_pass(pid: int) -> tuple[int, list[list[int]]]:
    from app.db import session_scope
    from app.modeling import scoring
    from app.modeling.models import ModelStatus, ModelVersion
    from app.queue import service as queue_service

    with session_scope() as session:
        mv = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready)
        session.add(mv)
        session.flush()
        task_ids = queue_service.open_pool_task_ids(session=session, project_id=pid)
        run, chunks = scoring.start_run(session=session, model_version=mv, task_ids=task_ids)
        return run.id, chunks


def test_a_cancelled_pass_scores_and_ranks_nothing_and_the_queue_keeps_its_ranking(client):
    from app.audit.models import AuditLog
    from app.db import session_scope
    from app.flows import scoring as scoring_flow
    from app.modeling import service as model_service
    from app.modeling.models import Score, ScoringRun, ScoringRunStatus

    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    add_items(pid, 3)
    run_id, chunks = _scoring_pass(pid)
    assert chunks

    login(client, "ann")
    assert client.post(f"/api/v1/projects/{pid}/scoring/{run_id}/cancel").status_code == 403
    csrf = login(client, "lead")
    panel = client.get(f"/projects/{pid}/jobs", headers=HTML).text
    assert 'data-testid="cancel-scoring"' in panel
    r = client.post(f"/projects/{pid}/scoring/{run_id}/cancel", headers=HTML | {"X-CSRF-Token": csrf})
    assert r.status_code == 200 and 'data-testid="cancel-scoring"' not in r.text
    r = client.post(f"/api/v1/projects/{pid}/scoring/{run_id}/cancel", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409 and r.json()["code"] == "scoring_ended"
    assert client.post(f"/api/v1/projects/{pid}/scoring/99999/cancel",
                       headers={"X-CSRF-Token": csrf}).status_code == 404

    # Chunks already sent find the pass stopped; a ranking sent anyway leaves it alone.
    for chunk in chunks:
        assert scoring_flow.score_chunk(run_id, chunk)["last_chunk"] is False
    assert scoring_flow.rank(run_id)["ranked"] == 0
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Score)) == 0
        assert session.get(ScoringRun, run_id).status == ScoringRunStatus.cancelled
        assert model_service.ranked_model_version_id(session=session, project_id=pid) is None
        cancels = session.scalars(select(AuditLog).where(AuditLog.action == "scoring.cancel")).all()
        assert [(a.entity_id, a.detail["chunks_done"]) for a in cancels] == [(run_id, 0)]
