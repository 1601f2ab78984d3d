"""Thin Celery tasks: ids in, call the flow that owns the work (and enqueues what follows)."""

from __future__ import annotations

from workers.celery_app import celery_app

TIME_LIMITS = {"soft_time_limit": 3600, "time_limit": 3900}


@celery_app.task(name="labelwise.train", **TIME_LIMITS)
def train(model_version_id: int) -> dict:
    from app.flows import training

    return training.run_training(model_version_id)


@celery_app.task(name="labelwise.score", **TIME_LIMITS)
def score(scoring_run_id: int, task_ids: list[int]) -> dict:
    from app.flows import scoring

    return scoring.score_chunk(scoring_run_id, task_ids)


@celery_app.task(name="labelwise.rank", **TIME_LIMITS)
def rank(scoring_run_id: int) -> dict:
    from app.flows import scoring

    return scoring.rank(scoring_run_id)


@celery_app.task(name="labelwise.release_expired_leases")
def release_expired_leases() -> int:
    from app.flows import housekeeping

    return housekeeping.release_expired_leases()
