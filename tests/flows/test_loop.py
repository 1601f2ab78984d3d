"""The whole model-guided loop, end to end: on SQLite with the in-process worker, and on real
Postgres with a real Celery worker on real Redis."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

SMALL = dict(pool_images=14, validation_images=4, size=64, seed_labels=4, retrain_every=3, timeout=300.0)


def check_loop_rows(result) -> None:  # type: ignore[no-untyped-def]
    """Every step left its rows: versions trained on more labels, scores ranked, leases, audit."""
    from app.annotations.models import Annotation
    from app.audit.models import AuditLog
    from app.db import session_scope
    from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
    from app.queue.models import Lease, Task, TaskStatus

    assert len(result.model_versions) == 2
    assert len(result.labeled_task_ids) == SMALL["retrain_every"]
    with session_scope() as session:
        v1, v2 = (session.get(ModelVersion, i) for i in result.model_versions)
        assert v1.status == v2.status == ModelStatus.ready
        assert v2.label_count == v1.label_count + SMALL["retrain_every"]
        assert set(v1.trained_on) < set(v2.trained_on)
        assert v1.metrics["evaluated_on"] == SMALL["validation_images"]
        assert set(v1.metrics["per_class"]) == {"0", "1", "2"}
        runs = session.scalars(select(ScoringRun).order_by(ScoringRun.id)).all()
        assert [r.status for r in runs] == [ScoringRunStatus.ranked] * 2
        assert runs[0].chunks_done == runs[0].chunks_total > 1  # scoring was split into chunks
        # the labeled tasks were the top of the first ranking, in order
        top = session.scalars(select(Score.task_id).where(Score.model_version_id == v1.id)
                              .order_by(Score.rank).limit(len(result.labeled_task_ids))).all()
        assert list(top) == result.labeled_task_ids
        # the second ranking covers exactly the tasks still open
        open_ids = set(session.scalars(select(Task.id).where(Task.status == TaskStatus.open)))
        ranked = session.scalars(select(Score).where(Score.model_version_id == v2.id)).all()
        assert {s.task_id for s in ranked if s.rank is not None} <= open_ids
        assert sorted(s.rank for s in ranked if s.rank) == list(range(1, len(ranked) + 1))
        assert all({"entropy_weighted", "bald_weighted", "class_boost"} <= set(s.components) for s in ranked)
        assert {s.strategy for s in ranked} == {"hybrid"} and all(len(s.embedding) == 8 for s in ranked)
        assert sum("steered_random" in s.components for s in ranked) == round(0.1 * len(ranked))
        assert v1.metrics["calibration"]["temperature"] == v1.temperature > 0
        assert 0 <= v1.metrics["calibration"]["ece_after"] <= 1
        assert len(v1.metrics["decision_bias"]) == 3 and v1.metrics["decision_bias"][0] == 0.0
        for task_id in result.labeled_task_ids:
            assert session.scalar(select(func.count()).select_from(Lease).where(Lease.task_id == task_id)) == 1
            assert session.scalar(select(Annotation.status).where(Annotation.task_id == task_id)) == "submitted"
        actions = set(session.scalars(select(AuditLog.action)))
        assert {"project.create", "item.add", "annotation.submit", "model.queue", "model.ready",
                "queue.rank", "task.lease"} <= actions


@pytest.mark.slow
def test_loop_on_sqlite_in_process(env):
    from app import demo

    lines: list[str] = []
    result = demo.run_once(demo.DemoConfig(**SMALL), echo=lines.append)
    assert [line.split("]")[0] + "]" for line in lines] == [
        "[create]", "[seed]", "[train]", "[rank]", "[label]", "[retrain]", "[rerank]"]
    check_loop_rows(result)
    # a second run continues with the same project and keeps every label
    again = demo.run_once(demo.DemoConfig(**SMALL), echo=lines.append)
    assert again.project_id == result.project_id and len(again.model_versions) == 1


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgres"])
def test_loop_on_postgres_with_celery_worker_on_redis(env, backend, celery_worker):
    from app import demo
    from app.config import get_settings

    assert not get_settings().in_process_worker
    lines: list[str] = []
    try:
        result = demo.run_once(demo.DemoConfig(**SMALL), echo=lines.append)
    except demo.DemoError:
        print(celery_worker.read_text())
        raise
    check_loop_rows(result)
    log = celery_worker.read_text()
    # the work really went through the worker: train, score (chunked) and rank tasks
    for name in ("labelwise.train", "labelwise.score", "labelwise.rank"):
        assert f"Task {name}[" in log and "succeeded" in log, name
