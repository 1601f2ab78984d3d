"""The simulation started from the browser: settings checked (refusals name the field, nothing started), the
job runs `labelwise simulate` on the well-log charts on the worker with progress after every training run,
shows its results (labels to the target, fg mIoU per round, results.json), and stops when cancelled."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.jobs.models import JobRun
from tests.factories import login, make_project, make_user


@pytest.fixture(autouse=True)
def tiny_runs(monkeypatch):  # type: ignore[no-untyped-def]
    """32 px charts on one torch thread: a run of 3 trainings of 5 steps takes a second or two."""
    from app.flows import simulations

    monkeypatch.setattr(simulations, "SIZE", 32)
    monkeypatch.setattr(simulations, "THREADS", 1)

TINY = {"pool": "8", "rounds": "1", "steps": "5", "strategies": ["random"]}  # 3 training runs of 5 steps


def finished(client, pid: int, run_id: int) -> dict:  # type: ignore[no-untyped-def]
    from app.jobs import current_in_process_worker

    worker = current_in_process_worker()
    assert worker is not None and worker.wait_idle(timeout=120)
    return dict(client.get(f"/api/v1/projects/{pid}/jobs/{run_id}").json())


def only_run_id() -> int:
    with session_scope() as session:
        return int(session.scalars(select(JobRun.id).where(JobRun.name == "labelwise.simulate")).one())


def test_start_progress_and_results_from_the_page(client, monkeypatch):
    from app.jobs import progress

    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    token = login(client, "lead")
    page = client.get(f"/projects/{pid}/simulation")
    assert page.status_code == 200 and 'data-testid="simulation-form"' in page.text
    assert f'href="/projects/{pid}/simulation"' in client.get(f"/projects/{pid}/dashboard").text  # the desk nav

    reports: list[tuple[int, int | None, str | None]] = []
    real = progress.report
    monkeypatch.setattr(progress, "report", lambda d, t, m=None: (reports.append((d, t, m)), real(d, t, m)))
    r = client.post(f"/projects/{pid}/simulation", data={"csrf_token": token, **TINY}, follow_redirects=False)
    assert r.status_code == 303, r.text
    run_id = only_run_id()
    job = finished(client, pid, run_id)
    assert job["status"] == "done" and job["kind"] == "simulation", job
    # progress after each of the 3 training runs (reference, seed set, round 1), out of 3
    assert [d for d, _, _ in reports if _ is not None][-1] == 3 and {t for _, t, _ in reports} == {3}
    assert any(m and m.startswith("round 1/1  random") and "fg mIoU" in m for _, _, m in reports), reports
    rounds = job["result"]["strategies"]["random"]["rounds"]
    assert [r["labeled_tasks"] for r in rounds] == [2, 4]  # a tenth of the pool per round, at least 2
    assert all(0.0 <= r["miou_fg"] <= 1.0 for r in rounds)

    card = client.get(f"/projects/{pid}/simulation/{run_id}", headers={"HX-Request": "true"}).text
    assert 'data-testid="sim-results"' in card and 'class="chart" data-plot=' in card and "hx-trigger" not in card
    assert f"/simulation/{run_id}/results.json" in card
    for url in (f"/projects/{pid}/simulation/{run_id}/results.json",
                f"/api/v1/projects/{pid}/simulations/{run_id}/results.json"):
        results = json.loads(client.get(url).content)
        assert results["config"]["pool"] == 8 and list(results["strategies"]) == ["random"]

    login(client, "ann")
    assert client.get(f"/projects/{pid}/simulation").status_code == 403


def test_bad_settings_are_refused_naming_the_field_and_start_nothing(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    for change, message in [({"pool": "1000"}, "pool: must be a whole number from 8 to 100"),
                            ({"rounds": "two"}, "rounds: must be a whole number"),
                            ({"steps": "0"}, "steps: must be a whole number from 5 to 150"),
                            ({"strategies": []}, "strategies: choose one or more")]:
        r = client.post(f"/projects/{pid}/simulation", data={"csrf_token": token, **TINY, **change})
        assert r.status_code == 422 and message in r.text, (change, r.text[:300])
    r = client.post(f"/api/v1/projects/{pid}/simulations", headers={"X-CSRF-Token": token},
                    json={"pool": 8, "rounds": 1, "steps": 5, "strategies": ["nope"]})
    assert r.status_code == 422 and "strategies" in r.text
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_the_job_runs_on_the_training_queue_and_a_celery_worker_knows_it():
    from app import jobs
    from workers.celery_app import celery_app

    assert jobs.registry()["labelwise.simulate"].queue == "training"
    assert "labelwise.simulate" in celery_app.tasks


def test_cancel_stops_at_the_next_training_run_and_keeps_no_results(client, monkeypatch):
    from app.jobs import progress

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    reached, go = threading.Event(), threading.Event()
    real = progress.report

    def held(done: int, total: int | None, message: str | None = None) -> None:
        real(done, total, message)  # raises Cancelled once the cancel is asked for
        if done == 1:
            reached.set()
            go.wait(timeout=30)

    monkeypatch.setattr(progress, "report", held)
    r = client.post(f"/api/v1/projects/{pid}/simulations", headers={"X-CSRF-Token": token},
                    json={"pool": 8, "rounds": 1, "steps": 5, "strategies": ["random"]})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    assert reached.wait(timeout=60)
    page = client.get(f"/projects/{pid}/simulation").text  # the running card polls itself
    assert f'hx-get="/projects/{pid}/simulation/{run_id}" hx-trigger="every 1s"' in page
    card = client.post(f"/projects/{pid}/simulation/{run_id}/cancel", headers={"X-CSRF-Token": token})
    assert card.status_code == 200 and "stopping after this training run" in card.text
    go.set()
    job = finished(client, pid, run_id)
    assert job["status"] == "cancelled" and "cancelled after 1 of 3" in job["message"], job
    assert client.get(f"/projects/{pid}/simulation/{run_id}/results.json").status_code == 404


def test_the_sweep_keeps_finished_results_and_removes_what_no_finished_run_points_at(env):  # type: ignore[no-untyped-def]
    from app import storage
    from app.flows.housekeeping import sweep_orphan_files
    from app.jobs import progress
    from app.jobs.models import JobStatus

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    folders = {}
    with session_scope() as session:
        for status in (JobStatus.done, JobStatus.dead, JobStatus.cancelled, JobStatus.running):
            run = progress.track(session=session, name="labelwise.simulate", args=[pid, {}], project_id=pid,
                                 user_id=None)
            run.status = status
            folders[status.value] = f"simulations/{run.job_id}"
    folders["no row"] = "simulations/sim-of-a-deleted-project"
    for folder in folders.values():
        storage.write_atomic(f"{folder}/results.json", b"{}")
    assert sweep_orphan_files(grace_seconds=3600) == []  # too fresh: a run may be writing them now
    removed = sweep_orphan_files(grace_seconds=0)
    assert sorted(removed) == sorted(folders[k] for k in ("dead", "cancelled", "no row"))
    assert [k for k, f in folders.items() if storage.absolute(f).exists()] == ["done", "running"]
