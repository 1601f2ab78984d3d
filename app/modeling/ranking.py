"""Ranking a scoring run's scores with the project's sampling policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db import utcnow
from app.modeling.models import Score, ScoringRun, ScoringRunStatus
from app.projects import policy as policy_service
from app.projects.models import Project


def rankable_run(*, session: Session, run_id: int) -> ScoringRun | None:
    run = session.get(ScoringRun, run_id)
    return None if run is None or run.status in (ScoringRunStatus.ranked, ScoringRunStatus.cancelled) else run


Pick = tuple[int, float, dict[str, float]]


def _boosted(picks: list[Pick], items: Sequence[int], boost: Mapping[int, float]) -> list[Pick]:
    """The picks re-ordered with each boosted item's position divided by its factor (ties keep order)."""
    def key(position: int) -> tuple[float, int]:
        return ((position + 1) / boost.get(items[picks[position][0]], 1.0), position)

    out = []
    for index, value, components in (picks[p] for p in sorted(range(len(picks)), key=key)):
        factor = boost.get(items[index])
        out.append((index, value, {**components, "drift_boost": factor} if factor else components))
    return out


def rank(*, session: Session, run: ScoringRun, project: Project, open_tasks: Sequence[tuple[int, int]],
         boost: Mapping[int, float] | None = None) -> int:
    """Rank the run's scores of the still-open tasks, given as (task id, item id) sorted by task id;
    returns how many were ranked.

    The project's current policy version decides: its strategy orders the tasks (diversity-aware for
    core-set and hybrid, measured on the stored embeddings; the hybrid mixes by the policy's weights), a
    steered share is drawn at random, and each score keeps the components of its pick (with the hybrid's
    weights), so "why this task" can be answered later. The run records the policy version it used.
    `boost` (item id -> factor > 1) moves those items' tasks up: each ranks as if its position were
    divided by the factor (drifted new images).
    """
    from app.learning.acquisition import select_from_scores

    item_of = dict(open_tasks)
    scores = [s for s in session.scalars(
        select(Score).where(Score.model_version_id == run.model_version_id).order_by(Score.task_id)
    ) if s.task_id in item_of]
    embeddings = np.array([s.embedding for s in scores], np.float32) if scores and all(
        s.embedding for s in scores) else None
    policy = policy_service.current(session=session, project=project)
    weights = policy_service.weights(policy)
    picks = select_from_scores(
        policy.strategy, [s.components for s in scores], len(scores), rng=np.random.default_rng(run.id),
        embeddings=embeddings, steered_share=policy.steered_share, groups=[item_of[s.task_id] for s in scores],
        hybrid_weights=weights,
    ) if scores else []
    used = {f"weight_{k}": v for k, v in weights.items()} if policy.strategy == "hybrid" else {}
    if boost:
        picks = _boosted(picks, [item_of[s.task_id] for s in scores], boost)
    for position, (index, value, components) in enumerate(picks, start=1):
        score = scores[index]
        score.rank, score.value, score.strategy = position, float(value), policy.strategy
        score.components = {**score.components, **{k: round(float(v), 6) for k, v in components.items()}, **used}
    run.status, run.finished_at = ScoringRunStatus.ranked, utcnow()
    run.policy_version = policy.version or None  # 0: a project from before policies were versioned
    audit.record(session=session, action="queue.rank", entity="scoring_run", entity_id=run.id,
                 project_id=run.project_id,
                 detail={"model_version_id": run.model_version_id, "ranked": len(picks),
                         "policy_version": run.policy_version, "strategy": policy.strategy,
                         "steered_share": policy.steered_share, "weights": weights})
    return len(picks)
