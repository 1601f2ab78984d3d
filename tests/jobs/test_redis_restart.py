"""Redis restarted while jobs flow: a Redis of this test's own (never the shared one other runs use),
with an append-only file as production runs it, is SIGKILLed in the middle of scoring and started
again on the same port. The Celery worker reconnects and the queued model version is still trained,
scored once per open task and ranked."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import redis
from sqlalchemy import func, select

from bench.annotators import free_port
from tests.celery_worker import celery_worker_process
from tests.factories import make_project, make_user
from tests.jobs.test_worker_killed import wait_for

VISIBILITY = 6  # seconds before Redis hands a job whose acknowledgement was lost to a worker again


class OwnRedis:
    """redis-server on 127.0.0.1:port with its data (AOF, fsync always) in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.dir, self.port = directory, free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: self._ping(client), 20, "redis to answer")

    @staticmethod
    def _ping(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=20)


@pytest.fixture
def own_redis(tmp_path: Path):  # type: ignore[no-untyped-def]
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed (run through scripts/test.sh)")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = OwnRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgres"])
def test_queued_version_is_trained_scored_and_ranked_across_a_redis_restart(env, backend, own_redis, monkeypatch):
    from app.auth.models import User
    from app.config import get_settings
    from app.db import session_scope
    from app.flows import submit, training, uploads
    from app.items.models import Split
    from app.jobs.models import JobRun, JobStatus
    from app.learning.welllog import generate_dataset
    from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
    from app.projects.models import Project
    from app.queue import service as queue_service
    from app.queue.models import Task

    make_user("lead", "lead")
    pid = make_project(owner="lead", retrain_every=1000)
    charts = generate_dataset(24, seed=5, size=64)
    with session_scope() as session:
        project = session.get(Project, pid)
        for i, (image, _mask) in enumerate(charts):
            uploads.add_image(session=session, project=project, filename=f"c{i}.png", pixels=image, split=Split.pool,
                              user=None)
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.get(User, project.created_by_id)
        for task in session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id).limit(4)).all():
            submit.submit_label(session=session, project=project, task=task, user=lead,
                                mask=charts[task.item_id - 1][1].astype(np.uint8), trigger_retrain=False)

    # One task per scoring chunk, so many jobs are queued and flowing when Redis goes away.
    settings = {"LABELWISE_SCORE_CHUNK_SIZE": "1", "LABELWISE_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY),
                "LABELWISE_BROKER_URL": own_redis.url}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()

    def score_jobs(*statuses: JobStatus) -> list[JobRun]:
        with session_scope() as session:
            return list(session.scalars(select(JobRun).where(JobRun.name == "labelwise.score",
                                                            JobRun.status.in_(statuses))))

    log = env.parent / "celery.log"
    with celery_worker_process(env, log, **settings) as worker:
        with session_scope() as session:
            mv = training.request_training(session=session, project=session.get(Project, pid), reason="test")
        assert mv is not None
        training.enqueue_training(mv)
        wait_for(lambda: score_jobs(JobStatus.done, JobStatus.running), 240, "scoring to be under way")
        own_redis.kill()  # SIGKILL mid-scoring: what the AOF holds is what comes back
        with session_scope() as session:
            chunks = session.scalar(select(ScoringRun.chunks_total).where(ScoringRun.model_version_id == mv.id))
        assert len(score_jobs(JobStatus.done)) < chunks, "scoring had finished before Redis went away"
        time.sleep(2.0)  # the worker sees the connection go and retries it
        assert worker.poll() is None, "the worker exited when Redis went away"
        own_redis.start()

        def ranked() -> bool:
            with session_scope() as session:
                run = session.scalar(select(ScoringRun).where(ScoringRun.model_version_id == mv.id))
                return run is not None and run.status == ScoringRunStatus.ranked
        wait_for(ranked, 240, "the queue to be ranked after the Redis restart")
        assert worker.poll() is None

    with session_scope() as session:
        assert session.get(ModelVersion, mv.id).status == ModelStatus.ready
        run = session.scalar(select(ScoringRun).where(ScoringRun.model_version_id == mv.id))
        open_ids = queue_service.open_pool_task_ids(session=session, project_id=pid)
        scored = session.scalars(select(Score.task_id).where(Score.model_version_id == mv.id)).all()
        assert sorted(scored) == sorted(open_ids) == sorted(set(scored))  # every open task once, no duplicates
        assert run.chunks_done == run.chunks_total == len(open_ids)
        assert session.scalar(select(func.count()).select_from(Score).where(
            Score.model_version_id == mv.id, Score.rank.is_not(None))) == len(open_ids)
        assert not session.scalars(select(JobRun).where(JobRun.status == JobStatus.dead)).all()
    text = log.read_text()
    assert "Connection" in text or "connection" in text, "the worker never noticed Redis going away"


@pytest.mark.parametrize("backend", ["postgres"])
def test_training_requested_while_redis_is_down_says_so_and_the_next_request_works(env, backend, own_redis,
                                                                                  monkeypatch):
    from fastapi.testclient import TestClient

    from app.config import get_settings
    from app.db import session_scope
    from app.flows import submit
    from app.main import create_app
    from app.projects.models import Project
    from app.queue.models import Task
    from tests.factories import login
    from tests.scenes import add_tiny_tasks

    make_user("lead", "lead")
    pid = make_project(owner="lead", retrain_every=1000)
    add_tiny_tasks(pid, 3)
    with session_scope() as session:
        project = session.get(Project, pid)
        from app.auth.models import User

        lead = session.get(User, project.created_by_id)
        task = session.scalars(select(Task).where(Task.project_id == pid).limit(1)).one()
        submit.submit_label(session=session, project=project, task=task, user=lead,
                            mask=np.zeros((8, 8), np.uint8), trigger_retrain=False)
    monkeypatch.setenv("LABELWISE_BROKER_URL", own_redis.url)
    get_settings.cache_clear()
    own_redis.kill()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        client.headers["X-CSRF-Token"] = login(client, "lead")
        r = client.post(f"/api/v1/projects/{pid}/models/train")
        assert r.status_code == 503 and r.headers.get("Retry-After"), (r.status_code, r.text)
        assert "cannot be reached" in r.json()["detail"]
        from app.modeling.models import ModelStatus, ModelVersion

        with session_scope() as session:  # the version that could not be sent does not block the next one
            versions = session.scalars(select(ModelVersion).where(ModelVersion.project_id == pid)).all()
            assert [(v.status, "broker" in (v.error or "")) for v in versions] == [(ModelStatus.failed, True)]
        own_redis.start()
        r = client.post(f"/api/v1/projects/{pid}/models/train")
        assert r.status_code == 202, (r.status_code, r.text)
