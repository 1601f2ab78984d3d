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
from app.projects.models import Project
from app.queue.models import Score, ScoringRun, ScoringRunStatus, Task, TaskStatus
from app.training.models import ModelStatus, ModelVersion

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

    Each item gets calibrated MC-dropout maps (trunk once, dropout head sampled); each task gets its
    region's components (entropy, margin, BALD, class boost, ...) and the item's embedding, which the
    ranking uses for batch diversity. Idempotent: a redelivered chunk finds its scores stored and
    neither rescores nor recounts. Scores and the chunk count are committed in one transaction.
    """
    from app.learning.acquisition import Candidate, score_candidates
    from app.learning.mc_dropout import predict_with_uncertainty

    settings = get_settings()
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
        class_weights = mv.metrics.get("class_weights")
        maps = {}
        for task in todo:
            if task.item_id not in maps:
                item = session.get(Item, task.item_id)
                assert item is not None
                maps[task.item_id] = predict_with_uncertainty(
                    model, [item_service.load_pixels(item)], samples=settings.mc_samples, temperature=mv.temperature,
                    device=settings.device, seed=mv.id,
                )[0]
                _store_suggestion(mv, item.id, maps[task.item_id].probs, maps[task.item_id].entropy)
            u = maps[task.item_id]
            components = score_candidates([Candidate(0, task.region)], [u], class_weights=class_weights)[0]
            session.add(Score(task_id=task.id, model_version_id=mv.id, value=components["entropy_weighted"],
                              components={k: round(v, 6) for k, v in components.items()},
                              embedding=[round(float(v), 5) for v in u.embedding], strategy="unranked"))
        session.flush()
        row = session.execute(
            update(ScoringRun).where(ScoringRun.id == run_id)
            .values(chunks_done=ScoringRun.chunks_done + 1)
            .returning(ScoringRun.chunks_done, ScoringRun.chunks_total)
        ).one()
        return bool(row[0] >= row[1])


def suggested_classes(probs: np.ndarray, decision_bias: list[float] | None) -> np.ndarray:
    """Class ids [H,W] from calibrated probabilities [C,H,W]: the argmax after the version's per-class
    decision biases (tuned for foreground IoU on the validation split), the plain argmax without."""
    from app.learning.decision import biased_argmax

    if not decision_bias:
        return probs.argmax(0).astype(np.uint8)
    return biased_argmax(np.log(np.maximum(probs, 1e-12)), np.asarray(decision_bias, np.float32)).astype(np.uint8)


def _store_suggestion(mv: ModelVersion, item_id: int, probs: np.ndarray, entropy: np.ndarray) -> None:
    mask_rel = suggestion_path(mv.project_id, mv.id, item_id, "mask")
    storage.write_atomic(mask_rel, imaging.encode_png(suggested_classes(probs, mv.metrics.get("decision_bias"))))
    heat = np.clip(entropy * 255.0 + 0.5, 0, 255).astype(np.uint8)
    storage.write_atomic(suggestion_path(mv.project_id, mv.id, item_id, "uncertainty"), imaging.encode_png(heat))


def rank(run_id: int) -> int:
    """Rank the run's scores with the project's sampling policy; returns how many tasks were ranked.

    The policy's strategy orders the tasks (diversity-aware for core-set and hybrid, measured on the
    stored embeddings), a steered share is drawn at random, and each score keeps the components of
    its pick, so "why this task" can be answered later.
    """
    from app.learning.acquisition import select_from_scores

    with session_scope() as session:
        run = session.get(ScoringRun, run_id)
        if run is None or run.status == ScoringRunStatus.ranked:
            return 0
        project = session.get(Project, run.project_id)
        assert project is not None
        rows = session.execute(
            select(Score, Task.item_id).join(Task, Task.id == Score.task_id)
            .where(Score.model_version_id == run.model_version_id, Task.status == TaskStatus.open)
            .order_by(Score.task_id)
        ).all()
        scores = [s for s, _ in rows]
        embeddings = np.array([s.embedding for s in scores], np.float32) if scores and all(
            s.embedding for s in scores) else None
        picks = select_from_scores(
            project.strategy, [s.components for s in scores], len(scores), rng=np.random.default_rng(run.id),
            embeddings=embeddings, steered_share=project.steered_share, groups=[item for _, item in rows],
        ) if scores else []
        for position, (index, value, components) in enumerate(picks, start=1):
            score = scores[index]
            score.rank, score.value, score.strategy = position, float(value), project.strategy
            score.components = {**score.components, **{k: round(float(v), 6) for k, v in components.items()}}
        run.status, run.finished_at = ScoringRunStatus.ranked, utcnow()
        audit.record(session=session, action="queue.rank", entity="scoring_run", entity_id=run.id,
                     project_id=run.project_id,
                     detail={"model_version_id": run.model_version_id, "ranked": len(picks),
                             "strategy": project.strategy, "steered_share": project.steered_share})
        return len(picks)
