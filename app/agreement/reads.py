"""Rows of the agreement domain turned into API responses (usernames and class names, not ids); the
JSON API and the pages read the same objects."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.agreement import adjudication, service
from app.agreement.models import Adjudication
from app.agreement.schemas import (
    AdjudicationRead,
    AgreementSummaryRead,
    ClassSummaryRead,
    CopyRead,
    DisagreementRead,
    OverlapRead,
    PairRead,
    TaskAgreementRead,
    WorstPairRead,
)
from app.auth import service as auth_service
from app.projects.models import Project
from app.queue import overlap
from app.queue.models import Task


def class_names(project: Project) -> dict[int, str]:
    return {c.index: c.name for c in project.classes}


def overlap_read(session: Session, project: Project) -> OverlapRead:
    p = overlap.get_policy(session=session, project_id=project.id)
    if p is None:
        return OverlapRead(enabled=False, overlap_share=0.0, overlap_k=2, overlap_uncertainty_threshold=None,
                           agreement_threshold=0.7)
    return OverlapRead(enabled=True, overlap_share=p.share, overlap_k=p.k,
                       overlap_uncertainty_threshold=p.uncertainty_threshold, agreement_threshold=p.agreement_threshold)


def summary_read(session: Session, project: Project) -> AgreementSummaryRead:
    names = class_names(project)
    worst = service.worst_pairs(session=session, project_id=project.id)
    users = auth_service.usernames(session=session, user_ids=[u for w in worst for u in (w.user_a_id, w.user_b_id)])
    measured, below = service.measured_counts(session=session, project=project)
    per_class = service.class_summary(session=session, project=project)
    return AgreementSummaryRead(
        measured_tasks=measured, below_threshold=below,
        classes=[ClassSummaryRead(class_index=c.class_index, name=c.name, pairs=c.pairs, mean_iou=c.mean_iou,
                                  mean_dice=c.mean_dice) for c in per_class],
        worst_pairs=[WorstPairRead(user_a=users.get(w.user_a_id, "?"), user_b=users.get(w.user_b_id, "?"),
                                   class_name=names.get(w.class_index, str(w.class_index)), tasks=w.tasks,
                                   mean_iou=w.mean_iou) for w in worst])


def adjudication_read(row: Adjudication, users: dict[int, str]) -> AdjudicationRead:
    return AdjudicationRead(id=row.id, task_id=row.task_id, annotation_id=row.annotation_id, method=row.method,
                            sources=row.sources, rationale=row.rationale,
                            adjudicator=users.get(row.adjudicator_id) if row.adjudicator_id else None,
                            created_at=row.created_at)


def task_read(session: Session, project: Project, task: Task) -> TaskAgreementRead:
    names = class_names(project)
    pairs = service.pair_rows(session=session, task_id=task.id)
    copies = adjudication.candidates(session=session, task_id=task.id)
    history = adjudication.history(session=session, task_id=task.id)
    users = auth_service.usernames(session=session, user_ids=[u for p in pairs for u in (p.user_a_id, p.user_b_id)]
                                   + [a.author_id for a in copies] + [h.adjudicator_id for h in history
                                                                      if h.adjudicator_id])
    summary = service.task_agreement(session=session, task_id=task.id)
    drawn = overlap.get_overlap(session=session, task_id=task.id)
    base = f"/api/v1/projects/{project.id}/tasks/{task.id}/annotations"
    return TaskAgreementRead(
        task_id=task.id, item_id=task.item_id, overlap_copies=drawn.copies if drawn else None,
        mean_iou=summary.mean_iou if summary else None, mean_dice=summary.mean_dice if summary else None,
        worst_class=names.get(summary.worst_class_index) if summary and summary.worst_class_index is not None
        else None,
        pairs=[PairRead(user_a=users.get(p.user_a_id, "?"), user_b=users.get(p.user_b_id, "?"),
                        annotation_a_id=p.annotation_a_id, annotation_b_id=p.annotation_b_id,
                        class_name=names.get(p.class_index, str(p.class_index)), pixels_a=p.pixels_a,
                        pixels_b=p.pixels_b, intersection=p.intersection, iou=p.iou, dice=p.dice) for p in pairs],
        copies=[CopyRead(annotation_id=a.id, author=users.get(a.author_id, "?"), version=a.version,
                         mask_url=f"{base}/{a.id}/mask") for a in copies],
        adjudications=[adjudication_read(h, users) for h in history])


def disagreements_read(session: Session, project: Project) -> list[DisagreementRead]:
    names = class_names(project)
    return [DisagreementRead(task_id=d.task.id, item_id=d.task.item_id,
                             mean_iou=d.agreement.mean_iou if d.agreement else None,
                             worst_class=names.get(d.agreement.worst_class_index)
                             if d.agreement and d.agreement.worst_class_index is not None else None,
                             open_flags=d.open_flags)
            for d in service.disagreement_queue(session=session, project=project)]
