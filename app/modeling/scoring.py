"""Scoring open tasks with a model version, in chunks that any number of workers share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.items import service as item_service
from app.items.models import Item
from app.modeling import feature_cache, inference, representations, suggestions
from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
from app.modeling.representation_models import Representation


@dataclass(frozen=True)
class TaskRef:
    """What scoring needs of a queue task: its id, its item and its region (x, y, width, height)."""

    task_id: int
    item_id: int
    region: tuple[int, int, int, int]


def start_run(*, session: Session, model_version: ModelVersion,
              task_ids: Sequence[int]) -> tuple[ScoringRun, list[list[int]]]:
    """Create a scoring run over these tasks; returns it with the task-id chunks to enqueue."""
    size = get_settings().score_chunk_size
    chunks = [list(task_ids[i : i + size]) for i in range(0, len(task_ids), size)]
    run = ScoringRun(
        project_id=model_version.project_id, model_version_id=model_version.id, chunks_total=len(chunks),
        tasks_total=len(task_ids), status=ScoringRunStatus.scoring,
    )
    session.add(run)
    session.flush()
    return run, chunks


def active_run(*, session: Session, run_id: int) -> ScoringRun | None:
    run = session.get(ScoringRun, run_id)
    return run if run is not None and run.status == ScoringRunStatus.scoring else None


def cancel_run(*, session: Session, project_id: int, run_id: int, user_id: int) -> ScoringRun:
    """Stop a scoring pass: chunks not yet scored score nothing, and it is not ranked (the queue keeps its
    ranking before it). A chunk being scored now finishes; a pass that already ended is refused."""
    run = session.get(ScoringRun, run_id, with_for_update=True)
    if run is None or run.project_id != project_id:
        raise NotFound("no such scoring pass in this project")
    if run.status != ScoringRunStatus.scoring:
        raise Conflict(f"this scoring pass has already ended ({run.status.value})", code="scoring_ended")
    run.status, run.finished_at = ScoringRunStatus.cancelled, utcnow()
    audit.record(session=session, action="scoring.cancel", entity="scoring_run", entity_id=run.id,
                 user_id=user_id, project_id=project_id,
                 detail={"chunks_done": run.chunks_done, "chunks_total": run.chunks_total})
    return run


def score_tasks(*, session: Session, run: ScoringRun, tasks: Sequence[TaskRef]) -> bool:
    """Score these tasks of the run; True when this was the run's last chunk (then ranking follows).

    Each item gets calibrated MC-dropout maps and its stored suggestion; each task gets its region's
    components (entropy, margin, BALD, class boost, ...) and the item's embedding, which the ranking
    uses for batch diversity. Idempotent: a redelivered chunk finds its scores stored and neither
    rescores nor recounts. The caller commits scores and the chunk count together.
    """
    from app.learning.acquisition import Candidate, score_candidates
    from app.learning.confidence import expected_iou

    mv = session.get(ModelVersion, run.model_version_id)
    assert mv is not None and mv.status == ModelStatus.ready and mv.weights_path
    ids = [t.task_id for t in tasks]
    done = set(session.scalars(select(Score.task_id).where(Score.model_version_id == mv.id, Score.task_id.in_(ids))))
    todo = [t for t in tasks if t.task_id not in done]
    if not todo:
        return False
    class_weights = mv.metrics.get("class_weights")
    # Diversity is measured on the representation's cached embeddings when the version was built on one.
    cached = {}
    rep = representations.of_version(session=session, project_id=mv.project_id, version=mv.representation_version)
    if rep is not None:
        items = [session.get(Item, item_id) for item_id in dict.fromkeys(t.item_id for t in todo)]
        cached = representations.embeddings_for(session=session, rep=rep, items=[i for i in items if i is not None],
                                                load_pixels=item_service.load_pixels)
    # A head-mode version on a representation scores from the items' cached trunk features (a head pass).
    features = _cached_features(session=session, mv=mv, rep=rep, item_ids=[t.item_id for t in todo])
    maps = {}
    for task in todo:
        if task.item_id not in maps:
            item = session.get(Item, task.item_id)
            assert item is not None
            maps[task.item_id] = (inference.uncertainty_maps(mv, item_service.load_pixels(item))
                                  if task.item_id not in features else
                                  inference.maps_from_features(mv, features[task.item_id]))
            suggestions.store(mv, item.id, maps[task.item_id].probs, maps[task.item_id].entropy)
        u = maps[task.item_id]
        components = score_candidates([Candidate(0, task.region)], [u], class_weights=class_weights)[0]
        x, y, w, h = task.region  # how sure the version is of the whole task: what auto-accept reads
        components["expected_iou"] = expected_iou(u.probs[:, y:y + h, x:x + w])
        session.add(Score(task_id=task.task_id, model_version_id=mv.id, value=components["entropy_weighted"],
                          components={k: round(v, 6) for k, v in components.items()},
                          embedding=[round(float(v), 5) for v in cached.get(task.item_id, u.embedding)],
                          strategy="unranked"))
    session.flush()
    row = session.execute(
        update(ScoringRun).where(ScoringRun.id == run.id)
        .values(chunks_done=ScoringRun.chunks_done + 1)
        .returning(ScoringRun.chunks_done, ScoringRun.chunks_total)
    ).one()
    return bool(row[0] >= row[1])


def _cached_features(*, session: Session, mv: ModelVersion, rep: Representation | None,
                     item_ids: Sequence[int]) -> dict[int, Any]:
    """Item id -> trunk features for a head-mode version built on `rep` (read from the cache, computed and
    stored on a miss); empty for any other version."""
    if rep is None or mv.train_mode != "head" or not mv.weights_path:
        return {}
    ids = list(dict.fromkeys(item_ids))

    def pixels(item_id: int) -> Any:
        item = session.get(Item, item_id)
        assert item is not None
        return item_service.load_pixels(item)

    feats = feature_cache.features_for(project_id=mv.project_id, rep_version=rep.version,
                                       model=inference.load_model(mv.weights_path), item_ids=ids, pixels=pixels)
    return dict(zip(ids, feats, strict=True))
