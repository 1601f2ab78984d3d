"""Recorded jobs: attempts counted across retries and redeliveries, a dead-letter state after the last."""

from __future__ import annotations

import pytest
from sqlalchemy import select


@pytest.fixture
def flaky_jobs(env):  # type: ignore[no-untyped-def]
    from app import jobs

    calls: list[str] = []

    def always_fails(x: int) -> None:
        calls.append(f"fail{x}")
        raise RuntimeError(f"broken input {x}")

    def fails_once(x: int) -> int:
        calls.append(f"once{x}")
        if calls.count(f"once{x}") == 1:
            raise RuntimeError("a passing hiccup")
        return x * 2

    jobs.job("test.always_fails")(always_fails)
    jobs.job("test.fails_once")(fails_once)
    yield calls
    jobs.REGISTRY.pop("test.always_fails")
    jobs.REGISTRY.pop("test.fails_once")


def job_rows(name):  # type: ignore[no-untyped-def]
    from app.db import session_scope
    from app.jobs.models import JobRun

    with session_scope() as session:
        return [(r.status.value, r.attempts, r.last_error) for r in session.scalars(
            select(JobRun).where(JobRun.name == name))]


def test_a_job_that_keeps_failing_is_retried_then_dead_with_its_error(flaky_jobs):
    from app.jobs import in_process_worker
    from app.jobs.service import MAX_ATTEMPTS

    worker = in_process_worker()
    worker.backoff_scale = 0.0
    worker.submit("test.always_fails", (7,))
    assert worker.wait_idle(timeout=30)
    assert flaky_jobs == ["fail7"] * MAX_ATTEMPTS
    assert job_rows("test.always_fails") == [("dead", MAX_ATTEMPTS, "RuntimeError: broken input 7")]
    assert worker.failures and "broken input 7" in worker.failures[-1]
    worker.failures.clear()


def test_a_passing_failure_is_retried_and_ends_done(flaky_jobs):
    from app.jobs import in_process_worker

    worker = in_process_worker()
    worker.backoff_scale = 0.0
    assert worker.submit("test.fails_once", (3,)).result(timeout=30) == 6
    assert job_rows("test.fails_once") == [("done", 2, "RuntimeError: a passing hiccup")]
    assert worker.failures == []


def test_a_job_redelivered_after_its_worker_died_on_every_attempt_is_dead_and_not_run(flaky_jobs):
    from app import jobs
    from app.db import session_scope
    from app.jobs import service

    for _ in range(service.MAX_ATTEMPTS):  # the worker died mid-run each time: attempts begun, none ended
        with session_scope() as session:
            assert service.begin_attempt(session=session, job_id="celery-1", name="test.fails_once", args=[1])
    assert jobs.execute("test.fails_once", (1,), job_id="celery-1") is None
    assert flaky_jobs == []
    assert job_rows("test.fails_once") == [("dead", service.MAX_ATTEMPTS, "the worker stopped during every attempt")]


def test_a_delivered_twice_job_that_is_done_runs_once(flaky_jobs):
    from app import jobs

    calls = flaky_jobs
    with pytest.raises(RuntimeError):
        jobs.execute("test.fails_once", (5,), job_id="celery-2")
    assert jobs.execute("test.fails_once", (5,), job_id="celery-2") == 10
    assert jobs.execute("test.fails_once", (5,), job_id="celery-2") is None  # redelivered after it was done
    assert calls == ["once5", "once5"]
