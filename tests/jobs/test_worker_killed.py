"""A real Celery worker on real Redis, SIGKILLed in the middle of scoring: once another worker takes
the job over, every open task is scored exactly once and the queue is ranked."""

from __future__ import annotations

import signal
import time

import numpy as np
import pytest
from sqlalchemy import func, select

from tests.celery_worker import celery_worker_process, stop
from tests.factories import make_project, make_user

VISIBILITY = 6  # seconds before Redis hands a dead worker's job to another (the tiny jobs here take < 1 s)


def wait_for(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgres"])
def test_scores_complete_once_after_a_worker_is_killed_mid_scoring(env, backend, broker_url, monkeypatch):
    from app.config import get_settings
    from app.db import session_scope
    from app.flows import submit, training, uploads
    from app.items.models import Split
    from app.jobs.models import JobRun, JobStatus
    from app.learning.welllog import generate_dataset
    from app.modeling.models import Score, ScoringRun, ScoringRunStatus
    from app.projects.models import Project
    from app.queue import service as queue_service
    from app.queue.models import Task

    make_user("lead", "lead")
    pid = make_project(owner="lead", retrain_every=1000)
    charts = generate_dataset(24, seed=5, size=64)
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.scalar(select(Project.created_by_id).where(Project.id == pid))
        for i, (image, _mask) in enumerate(charts):
            uploads.add_image(session=session, project=project, filename=f"c{i}.png", pixels=image, split=Split.pool,
                              user=None)
    with session_scope() as session:
        project = session.get(Project, pid)
        from app.auth.models import User

        user = session.get(User, lead)
        for task in session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id).limit(4)).all():
            item_mask = charts[task.item_id - 1][1]
            submit.submit_label(session=session, project=project, task=task, user=user, mask=item_mask.astype(np.uint8))

    # Slow scoring down (an import-time patch in the worker is not possible), so a chunk is still running
    # when the worker is killed: one task per chunk, many chunks.
    settings = {"LABELWISE_SCORE_CHUNK_SIZE": "1", "LABELWISE_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY),
                "LABELWISE_BROKER_URL": broker_url}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    log = env.parent / "celery.log"

    def score_jobs(*statuses: JobStatus) -> list[JobRun]:
        with session_scope() as session:
            return list(session.scalars(select(JobRun).where(JobRun.name == "labelwise.score",
                                                            JobRun.status.in_(statuses))))

    with celery_worker_process(env, log, **settings) as first:
        with session_scope() as session:
            mv = training.request_training(session=session, project=session.get(Project, pid), reason="test")
        training.enqueue_training(mv)
        assert mv is not None
        try:
            wait_for(lambda: score_jobs(JobStatus.done) and score_jobs(JobStatus.running), 240,
                     "scoring to be under way")
        except AssertionError:
            print(log.read_text()[-6000:])
            raise
        stop(first, signal.SIGKILL)  # the whole process group: main process and pool children
    killed = {r.job_id for r in score_jobs(JobStatus.running)}
    assert killed, "no score job was running when the worker was killed"

    with celery_worker_process(env, log, **settings):
        def ranked() -> bool:
            with session_scope() as session:
                run = session.scalar(select(ScoringRun).where(ScoringRun.model_version_id == mv.id))
                return run is not None and run.status == ScoringRunStatus.ranked
        wait_for(ranked, 240, "the queue to be ranked by the second worker")

    with session_scope() as session:
        run = session.scalar(select(ScoringRun).where(ScoringRun.model_version_id == mv.id))
        open_ids = queue_service.open_pool_task_ids(session=session, project_id=pid)
        scored = session.scalars(select(Score.task_id).where(Score.model_version_id == mv.id)).all()
        assert sorted(scored) == sorted(open_ids) == sorted(set(scored))  # every open task once, no duplicates
        assert run.chunks_done == run.chunks_total == len(open_ids)
        assert session.scalar(select(func.count()).select_from(Score).where(
            Score.model_version_id == mv.id, Score.rank.is_not(None))) == len(open_ids)
        rows = {r.job_id: r for r in session.scalars(select(JobRun).where(JobRun.job_id.in_(killed)))}
        assert all(r.status == JobStatus.done and r.attempts == 2 for r in rows.values()), \
            [(r.status, r.attempts) for r in rows.values()]
        assert not session.scalars(select(JobRun).where(JobRun.status == JobStatus.dead)).all()
