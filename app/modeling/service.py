"""Model versions and their scores: which version is queued, live or ranking the queue. No commits here."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.errors import Conflict
from app.learning.stopping import stop_report
from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus


class TrainingError(Conflict):
    """Training cannot start (nothing labeled yet)."""


def pending_version(*, session: Session, project_id: int) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.project_id == project_id,
            ModelVersion.status.in_([ModelStatus.queued, ModelStatus.training]),
        )
    )


def latest_ready(*, session: Session, project_id: int) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(ModelVersion.project_id == project_id, ModelVersion.status == ModelStatus.ready)
        .order_by(ModelVersion.version.desc()).limit(1)
    )


def newest_unfailed(*, session: Session, project_id: int) -> ModelVersion | None:
    """The newest version that is queued, training or ready: new labels count from its creation."""
    return session.scalar(
        select(ModelVersion).where(ModelVersion.project_id == project_id, ModelVersion.status != ModelStatus.failed)
        .order_by(ModelVersion.version.desc()).limit(1)
    )


def list_versions(*, session: Session, project_id: int, offset: int = 0,
                  limit: int | None = None) -> list[ModelVersion]:
    """Newest first."""
    return list(session.scalars(
        select(ModelVersion).where(ModelVersion.project_id == project_id).order_by(ModelVersion.version.desc())
        .offset(offset).limit(limit)
    ))


def get_version(*, session: Session, project_id: int, model_version_id: int) -> ModelVersion | None:
    mv = session.get(ModelVersion, model_version_id)
    return mv if mv is not None and mv.project_id == project_id else None


def queue_version(*, session: Session, project_id: int, reason: str, labels: int,
                  user: User | None = None) -> ModelVersion:
    """Add the project's next model version as queued (the caller holds the project's lock)."""
    last = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.project_id == project_id))
    mv = ModelVersion(project_id=project_id, version=(last or 0) + 1, status=ModelStatus.queued)
    session.add(mv)
    session.flush()
    audit.record(session=session, action="model.queue", entity="model_version", entity_id=mv.id,
                 user_id=user.id if user else None, project_id=project_id,
                 detail={"reason": reason, "version": mv.version, "labels": labels})
    return mv


def stop_advice(versions: Sequence[ModelVersion], patience: int = 3,
                info_gain_per_label: float | None = None) -> dict | None:  # type: ignore[type-arg]
    """The learning core's stop report over a project's trained versions (validation foreground mIoU
    against the labels each was trained on), with the best version's number. For the lead to read;
    nothing is enforced. None before the first ready version with a validation score.
    `info_gain_per_label`: the next batch's expected information per label (next_batch_information)."""
    versions = sorted((v for v in versions if v.status == ModelStatus.ready and v.metrics.get("miou_fg") is not None),
                      key=lambda v: v.version)
    if not versions:
        return None
    report = stop_report([{"miou_fg": v.metrics["miou_fg"], "labeled": v.label_count} for v in versions],
                         patience=patience,
                         info_gain_per_label=[info_gain_per_label] if info_gain_per_label is not None else None)
    report["best_version"] = versions[report["best_round"]].version
    report["patience"] = patience
    return report


def ranked_version_query(project_id: int) -> Select[int]:
    """The statement of ranked_model_version_id, for callers that fold it into one of theirs."""
    return (select(ScoringRun.model_version_id)
            .where(ScoringRun.project_id == project_id, ScoringRun.status == ScoringRunStatus.ranked)
            .order_by(ScoringRun.id.desc()).limit(1))


def ranked_model_version_id(*, session: Session, project_id: int) -> int | None:
    """The model version whose ranking the queue follows: the newest fully ranked scoring run."""
    return session.scalar(ranked_version_query(project_id))


def score_for(*, session: Session, project_id: int, task_id: int) -> Score | None:
    """The task's score under the version the queue is ranked by."""
    mv_id = ranked_model_version_id(session=session, project_id=project_id)
    if mv_id is None:
        return None
    return session.scalar(select(Score).where(Score.task_id == task_id, Score.model_version_id == mv_id))


def scores_for(*, session: Session, model_version_id: int, task_ids: Sequence[int]) -> dict[int, Score]:
    if not task_ids:
        return {}
    return {s.task_id: s for s in session.scalars(
        select(Score).where(Score.model_version_id == model_version_id, Score.task_id.in_(list(task_ids))))}


def scored_task_ids(*, session: Session, model_version_id: int) -> set[int]:
    return set(session.scalars(select(Score.task_id).where(Score.model_version_id == model_version_id)))


def ranked_run(*, session: Session, project_id: int) -> ScoringRun | None:
    """The newest fully ranked scoring run: the queue's order, its model and its policy version."""
    return session.scalar(
        select(ScoringRun).where(ScoringRun.project_id == project_id, ScoringRun.status == ScoringRunStatus.ranked)
        .order_by(ScoringRun.id.desc()).limit(1))


def next_batch_information(*, session: Session, project_id: int, size: int) -> float | None:
    """The expected information gain per label of the next `size` ranked tasks: their mean BALD
    (class-weighted mutual information between the prediction and the model) under the queue's ranking.
    None without a ranking or BALD scores."""
    run = ranked_run(session=session, project_id=project_id)
    if run is None or size < 1:
        return None
    values = [s.components.get("bald_weighted") for s in session.scalars(
        select(Score).where(Score.model_version_id == run.model_version_id, Score.rank.is_not(None))
        .order_by(Score.rank).limit(size))]
    known = [float(v) for v in values if v is not None]
    return sum(known) / len(known) if known else None
