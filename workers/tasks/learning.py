"""Thin tasks: ids in, call a service function, enqueue the next step. All idempotent."""

from __future__ import annotations

from workers.celery_app import celery_app
from workers.dispatch import enqueue

TIME_LIMITS = {"soft_time_limit": 3600, "time_limit": 3900}


@celery_app.task(name="labelwise.train", **TIME_LIMITS)
def train(model_version_id: int) -> dict:
    from app.db import session_scope
    from app.queue import scoring
    from app.training import service
    from app.training.models import ModelVersion

    if not service.run_training(model_version_id):
        return {"model_version_id": model_version_id, "ready": False}
    with session_scope() as session:
        mv = session.get(ModelVersion, model_version_id)
        assert mv is not None
        run, chunks = scoring.start_scoring(session=session, model_version=mv)
        run_id = run.id
    # Enqueued only after the run is committed, so a fast worker always finds it.
    for chunk in chunks:
        enqueue("labelwise.score", run_id, chunk)
    if not chunks:
        enqueue("labelwise.rank", run_id)
    return {"model_version_id": model_version_id, "ready": True, "scoring_run_id": run_id, "chunks": len(chunks)}


@celery_app.task(name="labelwise.score", **TIME_LIMITS)
def score(scoring_run_id: int, task_ids: list[int]) -> dict:
    from app.queue import scoring

    last = scoring.score_chunk(scoring_run_id, task_ids)
    if last:
        enqueue("labelwise.rank", scoring_run_id)
    return {"scoring_run_id": scoring_run_id, "tasks": len(task_ids), "last_chunk": last}


@celery_app.task(name="labelwise.rank", **TIME_LIMITS)
def rank(scoring_run_id: int) -> dict:
    from app.queue import scoring

    return {"scoring_run_id": scoring_run_id, "ranked": scoring.rank(scoring_run_id)}


@celery_app.task(name="labelwise.release_expired_leases")
def release_expired_leases() -> int:
    from app.db import session_scope
    from app.queue import service

    with session_scope() as session:
        return service.release_expired(session=session)
