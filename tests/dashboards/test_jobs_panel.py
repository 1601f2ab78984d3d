"""The Jobs panel and tracked training: Train now from the overview, progress per epoch, cancel, and the
panel's HTMX fragments (polling only while something runs)."""

from __future__ import annotations

import threading

import pytest

from tests.factories import login, make_user
from tests.scenes import labeled_chart_project


@pytest.fixture(autouse=True)
def short_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three steps (one per epoch on these few labels): the machine under the test suite is slow."""
    from app.config import get_settings

    monkeypatch.setenv("LABELWISE_TRAIN_STEPS", "3")
    get_settings.cache_clear()


def idle() -> None:
    from app.jobs import current_in_process_worker

    worker = current_in_process_worker()
    assert worker is not None and worker.wait_idle(timeout=120)


def test_train_now_runs_a_tracked_job_with_epoch_progress(client):
    pid = labeled_chart_project(n=8, labeled=3, size=32)
    csrf = login(client, "lead")
    page = client.get(f"/projects/{pid}", headers={"Accept": "text/html"}).text
    assert 'id="jobs-panel"' in page and "Train now" in page and f"/projects/{pid}/import" in page
    assert 'hx-trigger="every 1s"' not in page  # nothing runs: no polling
    r = client.post(f"/projects/{pid}/jobs/train", headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert r.status_code == 200 and "Training" in r.text
    idle()
    job = client.get(f"/api/v1/projects/{pid}/jobs").json()["items"][0]
    # epochs done of planned (fewer when the time limit stops training early)
    assert job["kind"] == "training" and job["status"] == "done" and 0 < job["done"] <= job["total"], job
    models = client.get(f"/api/v1/projects/{pid}/models").json()["items"]
    assert models[0]["status"] == "ready"
    panel = client.get(f"/projects/{pid}/jobs", headers={"HX-Request": "true"}).text
    assert panel.startswith("{#") is False and "done" in panel and "<html" not in panel


def test_train_now_says_why_it_cannot(client):
    from tests.factories import make_project

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    csrf = login(client, "lead")
    r = client.post(f"/projects/{pid}/jobs/train", headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert r.status_code == 409 and "Nothing is labeled" in r.text and 'id="jobs-panel"' in r.text
    make_user("ann")
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects import service
    from app.projects.models import Project

    with session_scope() as session:
        service.add_member(session=session, project=session.get(Project, pid),
                           user=auth_service.get_by_username(session=session, username="ann"))
    csrf = login(client, "ann")
    assert client.post(f"/projects/{pid}/jobs/train", headers={"X-CSRF-Token": csrf}).status_code == 403
    assert "Train now" not in client.get(f"/projects/{pid}", headers={"Accept": "text/html"}).text
    assert client.get(f"/projects/{pid}/import", headers={"Accept": "text/html"}).status_code == 403


def test_a_running_training_is_cancelled_from_the_panel(client, monkeypatch):
    from app.jobs import progress

    pid = labeled_chart_project(n=8, labeled=3, size=32)
    csrf = login(client, "lead")
    reached, go = threading.Event(), threading.Event()
    real = progress.report

    def held(done: int, total: int | None, message: str | None = None) -> None:
        if message == "training" and done == 1:
            reached.set()
            go.wait(timeout=30)
        real(done, total, message)

    monkeypatch.setattr(progress, "report", held)
    client.post(f"/projects/{pid}/jobs/train", headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert reached.wait(timeout=60)
    panel = client.get(f"/projects/{pid}/jobs", headers={"HX-Request": "true"}).text
    assert 'hx-trigger="every 1s"' in panel and "Cancel" in panel and "running" in panel  # it polls while running
    job_id = client.get(f"/api/v1/projects/{pid}/jobs").json()["items"][0]["id"]
    r = client.post(f"/projects/{pid}/jobs/{job_id}/cancel", headers={"X-CSRF-Token": csrf, "HX-Request": "true",
                                                                      "HX-Target": f"job-{job_id}"})
    assert r.status_code == 200 and "stopping" in r.text
    go.set()
    idle()
    job = client.get(f"/api/v1/projects/{pid}/jobs/{job_id}").json()
    assert job["status"] == "cancelled" and job["message"].startswith("cancelled after 1 of")
    models = client.get(f"/api/v1/projects/{pid}/models").json()["items"]
    assert models[0]["status"] == "failed" and models[0]["error"] == "cancelled"
    panel = client.get(f"/projects/{pid}/jobs", headers={"HX-Request": "true"}).text
    assert "every 1s" not in panel and "cancelled" in panel


def test_cancel_needs_csrf(client):
    pid = labeled_chart_project(n=6, labeled=2, size=32)
    csrf = login(client, "lead")
    client.post(f"/projects/{pid}/jobs/train", headers={"X-CSRF-Token": csrf})
    idle()
    job_id = client.get(f"/api/v1/projects/{pid}/jobs").json()["items"][0]["id"]
    assert client.post(f"/projects/{pid}/jobs/{job_id}/cancel").status_code == 403
    assert client.post(f"/api/v1/projects/{pid}/jobs/{job_id}/cancel").status_code == 403


def test_a_scoring_pass_shows_in_the_panel_while_it_runs(client):
    from sqlalchemy import select

    from app.db import session_scope
    from app.modeling.models import ModelStatus, ModelVersion, ScoringRun, ScoringRunStatus
    from tests.factories import make_project

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    login(client, "lead")
    with session_scope() as session:
        mv = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready)
        session.add(mv)
        session.flush()
        session.add(ScoringRun(project_id=pid, model_version_id=mv.id, chunks_total=4, chunks_done=1, tasks_total=60,
                               status=ScoringRunStatus.scoring))
    panel = client.get(f"/projects/{pid}/jobs", headers={"HX-Request": "true"}).text
    assert "model v1" in panel and "1 / 4 chunks of 60 tasks" in panel and 'hx-trigger="every 1s"' in panel
    with session_scope() as session:
        run = session.scalar(select(ScoringRun))
        assert run is not None
        run.chunks_done, run.status = 4, ScoringRunStatus.ranked
    panel = client.get(f"/projects/{pid}/jobs", headers={"HX-Request": "true"}).text
    assert "chunks" not in panel and "every 1s" not in panel
