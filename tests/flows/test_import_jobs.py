"""Imports as tracked jobs (the browser's import page uses this API): many files and zips at once, duplicates
skipped and reported per file, a refused batch keeps nothing, and a cancel between files keeps nothing."""

from __future__ import annotations

import io
import threading
import zipfile

import numpy as np
import pytest

from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import wait_for


def _png(seed: int) -> bytes:
    return png_bytes(np.random.default_rng(seed).integers(0, 255, (12, 12, 3), dtype=np.uint8))


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def lead(client):  # type: ignore[no-untyped-def]
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    return pid, login(client, "lead")


def start(client, pid: int, csrf: str, files: list[tuple[str, bytes]], **extra):  # type: ignore[no-untyped-def]
    parts = [("files", f) for f in files] + [(k, v) for k, vs in extra.items() for v in vs]
    return client.post(f"/api/v1/projects/{pid}/import/jobs", headers={"X-CSRF-Token": csrf}, files=parts)


def finished(client, pid: int, job_id: int) -> dict:  # type: ignore[no-untyped-def]
    from app.jobs import current_in_process_worker

    worker = current_in_process_worker()
    assert worker is not None and worker.wait_idle(timeout=60)
    return dict(client.get(f"/api/v1/projects/{pid}/jobs/{job_id}").json())


def item_names(client, pid: int) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(i["name"] for i in client.get(f"/api/v1/projects/{pid}/items?limit=500").json()["items"])


def test_many_files_and_zips_import_with_duplicates_skipped_per_file(client, lead, backend):
    pid, csrf = lead
    assert start(client, pid, csrf, [("old.png", _png(9))]).status_code == 202
    finished(client, pid, client.get(f"/api/v1/projects/{pid}/jobs").json()["items"][0]["id"])
    files = [("a.png", _png(1)), ("b.png", _png(2)), ("again.png", _png(9)),
             ("one.zip", _zip({"c.png": _png(3), "copy-of-a.png": _png(1)})),
             ("two.zip", _zip({"c.png": _png(4)}))]  # the same name in two zips: both kept (their own folders)
    r = start(client, pid, csrf, files)
    assert r.status_code == 202, r.text
    assert r.json()["kind"] == "import" and r.json()["status"] in ("queued", "running", "done")
    job = finished(client, pid, r.json()["id"])
    assert job["status"] == "done" and job["done"] == job["total"] == 4, job  # the 4 new files
    skipped = {s["name"]: s["reason"] for s in job["result"]["skipped"]}
    assert set(skipped) == {"again.png", "copy-of-a.png"}
    assert "already in the project" in skipped["again.png"] and "'old.png'" in skipped["again.png"]
    assert "earlier in this import" in skipped["copy-of-a.png"] and "'a.png'" in skipped["copy-of-a.png"]
    assert sorted(i["name"] for i in job["result"]["imported"]) == ["a.png", "b.png", "c.png", "c.png"]
    assert "2 duplicates skipped" in job["message"]
    assert item_names(client, pid) == ["a.png", "b.png", "c.png", "c.png", "old.png"]
    listed = client.get(f"/api/v1/projects/{pid}/jobs").json()["items"]
    assert [j["id"] for j in listed][0] == job["id"]


def test_masks_and_coco_come_along(client, lead):
    pid, csrf = lead
    mask = png_bytes(np.ones((12, 12), np.uint8))
    r = start(client, pid, csrf, [("m.png", _png(5))], masks=[("m.png", mask)])
    job = finished(client, pid, r.json()["id"])
    assert job["status"] == "done" and job["result"]["kind"] == "images+masks" and job["result"]["annotations"] == 1


@pytest.mark.parametrize("files, message", [
    ([("a.png", _png(1)), ("notes.txt", b"hello")], "'images/notes.txt' is not an image"),
    ([("bad.zip", b"not a zip")], "not a zip archive"),
    ([("a.png", _png(1)), ("x/a.png", _png(2))], "two images are named 'a.png'"),
    ([("evil.zip", _zip({"../x.png": _png(1)}))], "a path outside the archive"),
])
def test_a_bad_file_refuses_the_whole_import(client, lead, env, files, message):
    pid, csrf = lead
    r = start(client, pid, csrf, files)
    if r.status_code == 202:  # found by the job: it ends failed with the reason, and keeps nothing
        job = finished(client, pid, r.json()["id"])
        assert job["status"] == "dead" and message in job["message"], job
    else:  # found while staging: the request says so at once
        assert r.status_code == 422 and message in r.json()["detail"], r.text
    assert item_names(client, pid) == []
    assert not any((env / "staging").glob("*/*")) if (env / "staging").exists() else True


def test_an_import_needs_a_lead_and_csrf(client, lead):
    pid, csrf = lead
    make_user("ann")
    from app.db import session_scope
    from app.projects import service
    from app.projects.models import Project

    r = client.post(f"/api/v1/projects/{pid}/import/jobs", files=[("files", ("a.png", _png(1)))])
    assert r.status_code == 403
    with session_scope() as session:
        from app.auth import service as auth_service

        service.add_member(session=session, project=session.get(Project, pid),
                           user=auth_service.get_by_username(session=session, username="ann"))
    csrf_ann = login(client, "ann")
    assert start(client, pid, csrf_ann, [("a.png", _png(1))]).status_code == 403


def test_cancel_between_files_keeps_nothing(client, lead, backend, monkeypatch):
    """The job is held after its second file; a cancel arrives (answered at once, though the import's open
    transaction holds SQLite's write lock); the import stops at its next file and rolls back."""
    from app.jobs import progress

    pid, csrf = lead
    reached, go = threading.Event(), threading.Event()
    real = progress.report

    def held(done: int, total: int | None, message: str | None = None) -> None:
        if message == "importing" and done == 2:
            reached.set()
            go.wait(timeout=30)
        real(done, total, message)

    monkeypatch.setattr(progress, "report", held)
    r = start(client, pid, csrf, [(f"{n}.png", _png(n)) for n in range(5)])
    job_id = r.json()["id"]
    assert reached.wait(timeout=30)
    from fastapi.testclient import TestClient

    other = TestClient(client.app)
    other.cookies = client.cookies
    answers: list = []
    canceller = threading.Thread(target=lambda: answers.append(
        other.post(f"/api/v1/projects/{pid}/jobs/{job_id}/cancel", headers={"X-CSRF-Token": csrf})))
    canceller.start()
    wait_for(lambda: progress.cancel_was_requested(progress_job_id(job_id)), 10, "the cancel marker")
    go.set()
    canceller.join(timeout=60)
    assert answers and answers[0].status_code == 200, answers
    job = finished(client, pid, job_id)
    assert job["status"] == "cancelled" and job["cancel_requested"], job
    assert "cancelled after 2 of 5" in job["message"]
    assert item_names(client, pid) == []
    from sqlalchemy import select

    from app.audit.models import AuditLog
    from app.db import session_scope

    with session_scope() as session:  # who asked is on record (written when the job stopped)
        cancels = session.scalars(select(AuditLog).where(AuditLog.action == "job.cancel")).all()
        assert [(a.entity_id, a.user_id) for a in cancels] == [(job_id, 1)]
    # A job that has ended cannot be cancelled again; it says how it ended.
    assert client.post(f"/api/v1/projects/{pid}/jobs/{job_id}/cancel",
                       headers={"X-CSRF-Token": csrf}).json()["status"] == "cancelled"


def progress_job_id(run_id: int) -> str:
    from app.db import session_scope
    from app.jobs.models import JobRun

    with session_scope() as session:
        run = session.get(JobRun, run_id)
        assert run is not None
        return run.job_id


def test_jobs_of_another_project_are_404(client, lead):
    pid, csrf = lead
    r = start(client, pid, csrf, [("a.png", _png(1))])
    finished(client, pid, r.json()["id"])
    make_user("other", "lead")
    other_pid = make_project(name="q", owner="other")
    assert client.get(f"/api/v1/projects/{other_pid}/jobs/{r.json()['id']}").status_code == 404
    make_project(name="mine", owner="lead")
    mine = [p["id"] for p in client.get("/api/v1/projects").json()["items"] if p["name"] == "mine"][0]
    assert client.get(f"/api/v1/projects/{mine}/jobs/{r.json()['id']}").status_code == 404
    assert client.post(f"/api/v1/projects/{mine}/jobs/{r.json()['id']}/cancel",
                       headers={"X-CSRF-Token": csrf}).status_code == 404


def test_the_sweep_on_start_removes_what_ended_jobs_left_and_keeps_what_running_ones_need(env):
    from app import storage
    from app.db import session_scope
    from app.flows.housekeeping import sweep_orphan_files
    from app.jobs.models import JobRun, JobStatus

    with session_scope() as session:
        for job_id, status in (("tracked-dead", JobStatus.dead), ("tracked-running", JobStatus.running)):
            session.add(JobRun(job_id=job_id, name="labelwise.import", args=[], status=status))
    for job_id in ("tracked-dead", "tracked-running", "tracked-unknown"):
        storage.write_atomic(f"staging/{job_id}/images/a.png", b"x")
        storage.write_atomic(f"jobs/{job_id}.json", b"{}")
    removed = sweep_orphan_files(grace_seconds=0)
    assert sorted(removed) == ["jobs/tracked-dead.json", "jobs/tracked-unknown.json", "staging/tracked-dead",
                               "staging/tracked-unknown"]
    assert (env / "staging" / "tracked-running" / "images" / "a.png").exists()
    assert (env / "jobs" / "tracked-running.json").exists()
    assert sweep_orphan_files() == []  # within the grace period nothing goes
