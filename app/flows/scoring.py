"""Scoring a ready model version's open tasks in chunks, then ranking the queue."""

from __future__ import annotations

from app.db import session_scope
from app.flows import drift
from app.jobs import enqueue, job
from app.modeling import ranking, scoring
from app.modeling import service as model_service
from app.modeling.models import ModelVersion
from app.projects.models import Project
from app.queue import service as queue_service


def start_scoring(model_version_id: int) -> tuple[int, int]:
    """Open a scoring run over the open pool tasks the version has not scored yet and enqueue its chunks
    (none: the ranking at once, over the stored scores); returns (run id, chunks). A version that goes
    live again (a rollback) or a policy change re-ranks without rescoring what was scored."""
    with session_scope() as session:
        mv = session.get(ModelVersion, model_version_id)
        assert mv is not None
        open_ids = queue_service.open_pool_task_ids(session=session, project_id=mv.project_id)
        scored = model_service.scored_task_ids(session=session, model_version_id=mv.id)
        task_ids = [t for t in open_ids if t not in scored]
        run, chunks = scoring.start_run(session=session, model_version=mv, task_ids=task_ids)
        run_id = run.id
    # Enqueued only after the run is committed, so a fast worker always finds it.
    for chunk in chunks:
        enqueue("labelwise.score", run_id, chunk)
    if not chunks:
        enqueue("labelwise.rank", run_id)
    return run_id, len(chunks)


@job("labelwise.score", queue="scoring")
def score_chunk(scoring_run_id: int, task_ids: list[int]) -> dict:
    """Score one chunk; the worker that scores the run's last chunk enqueues the ranking."""
    with session_scope() as session:
        run = scoring.active_run(session=session, run_id=scoring_run_id)
        last = run is not None and scoring.score_tasks(
            session=session, run=run, tasks=queue_service.task_refs(session=session, task_ids=task_ids))
    if last:
        enqueue("labelwise.rank", scoring_run_id)
    return {"scoring_run_id": scoring_run_id, "tasks": len(task_ids), "last_chunk": last}


@job("labelwise.rank")
def rank(scoring_run_id: int) -> dict:
    """Rank the run's scores of the tasks still open (idempotent: a ranked run is left alone)."""
    with session_scope() as session:
        run = ranking.rankable_run(session=session, run_id=scoring_run_id)
        if run is None:
            return {"scoring_run_id": scoring_run_id, "ranked": 0}
        project = session.get(Project, run.project_id)
        assert project is not None
        ranked = ranking.rank(session=session, run=run, project=project,
                              open_tasks=queue_service.open_task_items(session=session, project_id=project.id),
                              boost=drift.ranking_boost(session=session, project_id=project.id))
    return {"scoring_run_id": scoring_run_id, "ranked": ranked}
