"""The annotator record's quality sections, read from the domains that measure them: gold answers
(app/quality), agreement with co-annotators (app/agreement), review verdicts (app/review) and the
combined quality score. Each gives None while it has no evidence for the annotator in these projects,
else its facts, label -> value, in the order shown."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.agreement.models import PairAgreement
from app.auth.models import User
from app.projects.models import Project
from app.quality.models import GoldAnswer, GoldTask, QualityScore
from app.review.models import ErrorType, Review, ReviewStatus

Facts = dict[str, object]
TOP_ERRORS = 3


def _iou(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def gold(session: Session, annotator: User, project_ids: list[int]) -> Facts | None:
    rows = session.execute(
        select(GoldAnswer.mean_iou, GoldAnswer.annotation_id).join(GoldTask, GoldTask.id == GoldAnswer.gold_task_id)
        .where(GoldAnswer.user_id == annotator.id, GoldTask.project_id.in_(project_ids))).all()
    scored = [float(iou) for iou, _ in rows if iou is not None]
    waiting = sum(1 for iou, annotation in rows if iou is None and annotation is not None)
    if not scored and not waiting:
        return None
    return {"gold answers scored": len(scored), "mean IoU with the known mask": _iou(
        sum(scored) / len(scored) if scored else None), "lowest IoU": _iou(min(scored) if scored else None),
        "submitted, not yet scored": waiting}


def agreement(session: Session, annotator: User, project_ids: list[int]) -> Facts | None:
    # One piece of evidence per task and co-annotator: the mean IoU over the classes either copy has
    # (the rule app/review/quality.py scores with).
    rows = session.execute(
        select(PairAgreement.task_id, PairAgreement.user_a_id, PairAgreement.user_b_id, func.avg(PairAgreement.iou))
        .where(or_(PairAgreement.user_a_id == annotator.id, PairAgreement.user_b_id == annotator.id),
               PairAgreement.project_id.in_(project_ids), PairAgreement.iou.is_not(None))
        .group_by(PairAgreement.task_id, PairAgreement.user_a_id, PairAgreement.user_b_id)).all()
    if not rows:
        return None
    by_peer: dict[int, list[float]] = defaultdict(list)
    for _task, a, b, mean in rows:
        by_peer[b if a == annotator.id else a].append(float(mean))
    means = [m for values in by_peer.values() for m in values]
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(by_peer))).all())
    lowest = min(by_peer, key=lambda peer: sum(by_peer[peer]) / len(by_peer[peer]))
    return {"tasks labeled with others": len({task for task, *_ in rows}), "pairs compared": len(means),
            "mean IoU with co-annotators": _iou(sum(means) / len(means)),
            "lowest with": f"{names.get(lowest, '?')} ({_iou(sum(by_peer[lowest]) / len(by_peer[lowest]))})"}


def review(session: Session, annotator: User, project_ids: list[int]) -> Facts | None:
    counts = dict(session.execute(
        select(Review.status, func.count()).where(Review.annotator_id == annotator.id,
                                                  Review.project_id.in_(project_ids))
        .group_by(Review.status)).all())
    if not counts:
        return None
    accepted, rejected = counts.get(ReviewStatus.accepted, 0), counts.get(ReviewStatus.rejected, 0)
    errors = session.execute(
        select(ErrorType.name, func.count()).join(Review, Review.error_type_id == ErrorType.id)
        .where(Review.annotator_id == annotator.id, Review.project_id.in_(project_ids),
               Review.status == ReviewStatus.rejected)
        .group_by(ErrorType.name).order_by(func.count().desc(), ErrorType.name).limit(TOP_ERRORS)).all()
    decided = accepted + rejected
    return {"accepted": accepted, "rejected": rejected, "waiting for a reviewer": counts.get(ReviewStatus.pending, 0),
            "acceptance rate": f"{accepted / decided:.0%}" if decided else "–",
            "most common errors": ", ".join(f"{name} ({n})" for name, n in errors) or "–"}


def quality_score(session: Session, annotator: User, project_ids: list[int]) -> Facts | None:
    rows = session.execute(
        select(Project.name, QualityScore.score, QualityScore.evidence)
        .join(Project, Project.id == QualityScore.project_id)
        .where(QualityScore.user_id == annotator.id, QualityScore.project_id.in_(project_ids))
        .order_by(Project.name)).all()
    if not rows:
        return None
    return {name: f"{score:.2f} from {evidence} {'piece' if evidence == 1 else 'pieces'} of evidence"
            for name, score, evidence in rows}
