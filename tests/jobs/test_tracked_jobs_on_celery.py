"""A tracked job through a real Celery worker: the job is sent under its row's id, so the worker's attempt
lands on that row (one row, not two), and the worker's progress and result reach it."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from tests.celery_worker import celery_worker_process
from tests.factories import make_project, make_user, png_bytes
from tests.scenes import wait_for


@pytest.mark.parametrize("backend", ["postgres"])
def test_an_import_job_runs_on_a_celery_worker_under_its_rows_id(env, backend, broker_url, monkeypatch):
    from app.auth import service as auth_service
    from app.config import get_settings
    from app.db import session_scope
    from app.flows import import_jobs
    from app.items.models import Item, Split
    from app.jobs.models import JobRun, JobStatus
    from app.projects.models import Project

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    monkeypatch.setenv("LABELWISE_BROKER_URL", broker_url)
    get_settings.cache_clear()
    rng = np.random.default_rng(2)
    images = [(f"{n}.png", png_bytes(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8))) for n in range(3)]
    log = env.parent / "celery.log"
    with celery_worker_process(env, log, LABELWISE_BROKER_URL=broker_url):
        with session_scope() as session:
            lead = auth_service.get_by_username(session=session, username="lead")
            assert lead is not None
            bundle = import_jobs.bundle_of(images=[*images, ("again.png", images[0][1])])
            run = import_jobs.start_import(session=session, project=session.get(Project, pid), user=lead,
                                           bundle=bundle, split=Split.pool)
            job_id, run_id = run.job_id, run.id

        def ended() -> JobRun | None:
            with session_scope() as session:
                row = session.get(JobRun, run_id)
                return row if row is not None and row.status not in (JobStatus.queued, JobStatus.running) else None

        try:
            row = wait_for(ended, 120, "the import job to end on the worker")
        except AssertionError:
            print(log.read_text()[-6000:])
            raise
    assert row.status == JobStatus.done and row.attempts == 1, (row.status, row.last_error)
    assert row.progress_done == row.progress_total == 3 and row.result is not None
    assert [s["name"] for s in row.result["skipped"]] == ["again.png"]
    with session_scope() as session:
        assert len(session.scalars(select(JobRun).where(JobRun.job_id == job_id)).all()) == 1
        assert sorted(session.scalars(select(Item.original_name).where(Item.project_id == pid))) == [
            "0.png", "1.png", "2.png"]
    assert not (env / "staging" / job_id).exists() and not list((env / "jobs").glob(f"{job_id}.*"))
