"""Annotator quality scores: gold accuracy and agreement, with their counts of evidence, combined by
app/quality/scores.py and stored for the queue's tiered routing."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.agreement.models import PairAgreement
from app.db import utcnow
from app.quality import scores
from app.quality.models import QualityScore
from app.review import gold


def agreement_by_user(*, session: Session, project_id: int) -> dict[int, tuple[float, int]]:
    """user id -> (mean agreement with co-annotators, number of (task, co-annotator) pairs).

    One pair on one task is one piece of evidence, like one gold answer: its agreement is the mean IoU
    over the classes either copy has (app/agreement stores them per class)."""
    rows = session.execute(
        select(PairAgreement.user_a_id, PairAgreement.user_b_id, func.avg(PairAgreement.iou))
        .where(PairAgreement.project_id == project_id, PairAgreement.iou.is_not(None))
        .group_by(PairAgreement.task_id, PairAgreement.user_a_id, PairAgreement.user_b_id))
    per_user: dict[int, list[float]] = defaultdict(list)
    for a, b, mean in rows:
        per_user[a].append(float(mean))
        per_user[b].append(float(mean))
    return {uid: (sum(v) / len(v), len(v)) for uid, v in per_user.items()}


def refresh(*, session: Session, project_id: int) -> list[QualityScore]:
    """Recompute every annotator's score in the project from the stored evidence."""
    gold_scores = gold.gold_by_user(session=session, project_id=project_id)
    agreement = agreement_by_user(session=session, project_id=project_id)
    rows = {q.user_id: q for q in session.scalars(select(QualityScore).where(QualityScore.project_id == project_id))}
    for uid in set(gold_scores) | set(agreement) | set(rows):
        g_mean, g_n = gold_scores.get(uid, (None, 0))
        a_mean, a_n = agreement.get(uid, (None, 0))
        row = rows.get(uid)
        if row is None:
            row = rows[uid] = QualityScore(project_id=project_id, user_id=uid, score=scores.PRIOR)
            session.add(row)
        row.gold_mean, row.gold_count, row.agreement_mean, row.agreement_count = g_mean, g_n, a_mean, a_n
        row.score = scores.combine(gold_mean=g_mean, gold_count=g_n, agreement_mean=a_mean, agreement_count=a_n)
        row.evidence = g_n + a_n
        row.updated_at = utcnow()
    session.flush()
    return table(session=session, project_id=project_id)


def table(*, session: Session, project_id: int) -> list[QualityScore]:
    """The project's scores, best first."""
    return list(session.scalars(select(QualityScore).where(QualityScore.project_id == project_id)
                                .order_by(QualityScore.score.desc(), QualityScore.user_id)))
