"""Scoring open tasks with a model version (in chunks, for any number of workers) and ranking them."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import imaging, storage
from app.audit import service as audit
from app.config import get_settings
from app.db import session_scope, utcnow
from app.items import service as item_service
from app.items.models import Item, Split
from app.queue.models import Score, ScoringRun, ScoringRunStatus, Task, TaskStatus
from app.training.models import ModelStatus, ModelVersion

STRATEGY = "entropy-fg-weighted"

_model_cache: OrderedDict[str, object] = OrderedDict()
_model_cache_lock = threading.Lock()


def _load_model(weights_path: str):  # type: ignore[no-untyped-def]
    from app.learning.model import load_checkpoint

    path = storage.absolute(weights_path)
    key = str(path)  # absolute: two data directories may hold the same relative path
    with _model_cache_lock:
        if key in _model_cache:
            _model_cache.move_to_end(key)
            return _model_cache[key]
        model, _config, _extra = load_checkpoint(path, device=get_settings().device)
        _model_cache[key] = model
        while len(_model_cache) > 2:
            _model_cache.popitem(last=False)
        return model


def suggestion_path(project_id: int, model_version_id: int, item_id: int, kind: str) -> str:
    """kind: 'mask' (argmax class ids) or 'uncertainty' (normalised entropy, 0-255)."""
    return f"projects/{project_id}/suggestions/mv{model_version_id}/item{item_id}-{kind}.png"


def start_scoring(*, session: Session, model_version: ModelVersion) -> tuple[ScoringRun, list[list[int]]]:
    """Create a scoring run over the open pool tasks; returns it with the task-id chunks to enqueue."""
    task_ids = list(session.scalars(
        select(Task.id).join(Item, Item.id == Task.item_id)
        .where(Task.project_id == model_version.project_id, Task.status == TaskStatus.open,
               Item.split == Split.pool).order_by(Task.id)
    ))
    size = get_settings().score_chunk_size
    chunks = [task_ids[i : i + size] for i in range(0, len(task_ids), size)]
    run = ScoringRun(
        project_id=model_version.project_id, model_version_id=model_version.id, chunks_total=len(chunks),
        tasks_total=len(task_ids), status=ScoringRunStatus.scoring,
    )
    session.add(run)
    session.flush()
    return run, chunks


def score_chunk(run_id: int, task_ids: list[int]) -> bool:
    """Score these tasks; True when this was the run's last chunk (then ranking should follow).

    Idempotent: a redelivered chunk finds its scores stored and neither rescores nor recounts.
    Scores and the chunk count are committed in one transaction.
    """
    from app.learning.inference import predict_proba
    from app.learning.uncertainty import normalized_entropy, region_score
    from app.training.service import predict_one

    with session_scope() as session:
        run = session.get(ScoringRun, run_id)
        if run is None or run.status != ScoringRunStatus.scoring:
            return False
        mv = session.get(ModelVersion, run.model_version_id)
        assert mv is not None and mv.status == ModelStatus.ready and mv.weights_path
        done = set(session.scalars(
            select(Score.task_id).where(Score.model_version_id == mv.id, Score.task_id.in_(task_ids))
        ))
        todo = [t for t in session.scalars(select(Task).where(Task.id.in_(task_ids))) if t.id not in done]
        if not todo:
            return False
        model = _load_model(mv.weights_path)
        per_item: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for task in todo:
            if task.item_id not in per_item:
                item = session.get(Item, task.item_id)
                assert item is not None
                probs = predict_one(model, item_service.load_pixels(item), predict_proba, mv.temperature)
                entropy = normalized_entropy(probs)
                per_item[task.item_id] = (probs, entropy)
                _store_suggestion(mv, item.id, probs, entropy)
            probs, entropy = per_item[task.item_id]
            fg = 1.0 - probs[0]
            components = region_score(entropy, task.region, fg_prob=fg)
            session.add(Score(task_id=task.id, model_version_id=mv.id, value=float(components["score"]),
                              components={k: round(float(v), 6) for k, v in components.items()},
                              strategy=STRATEGY))
        session.flush()
        row = session.execute(
            update(ScoringRun).where(ScoringRun.id == run_id)
            .values(chunks_done=ScoringRun.chunks_done + 1)
            .returning(ScoringRun.chunks_done, ScoringRun.chunks_total)
        ).one()
        return bool(row[0] >= row[1])


def _store_suggestion(mv: ModelVersion, item_id: int, probs: np.ndarray, entropy: np.ndarray) -> None:
    mask_rel = suggestion_path(mv.project_id, mv.id, item_id, "mask")
    storage.write_atomic(mask_rel, imaging.encode_png(probs.argmax(0).astype(np.uint8)))
    heat = np.clip(entropy * 255.0 + 0.5, 0, 255).astype(np.uint8)
    storage.write_atomic(suggestion_path(mv.project_id, mv.id, item_id, "uncertainty"), imaging.encode_png(heat))


def rank(run_id: int) -> int:
    """Order the run's scores (highest first) into ranks; returns how many tasks were ranked."""
    with session_scope() as session:
        run = session.get(ScoringRun, run_id)
        if run is None or run.status == ScoringRunStatus.ranked:
            return 0
        scores = list(session.scalars(
            select(Score).join(Task, Task.id == Score.task_id)
            .where(Score.model_version_id == run.model_version_id, Task.status == TaskStatus.open)
            .order_by(Score.value.desc(), Score.task_id)
        ))
        for position, score in enumerate(scores, start=1):
            score.rank = position
        run.status, run.finished_at = ScoringRunStatus.ranked, utcnow()
        audit.record(session=session, action="queue.rank", entity="scoring_run", entity_id=run.id,
                     project_id=run.project_id,
                     detail={"model_version_id": run.model_version_id, "ranked": len(scores),
                             "strategy": STRATEGY})
        return len(scores)
