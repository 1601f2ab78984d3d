"""The lead's levers on the loop: a sampling-policy change (a new version, then the queue re-ranked
under it) and the scheduled retrain (a periodic job: Celery beat, or the in-process ticker)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotations import service as annotation_service
from app.auth.models import User
from app.db import session_scope, utcnow
from app.errors import DomainError
from app.flows import training
from app.flows.scoring import start_scoring
from app.items.models import Item
from app.jobs import BrokerUnavailable, job
from app.modeling import promotion
from app.modeling import service as model_service
from app.modeling.models import ModelVersion
from app.projects import policy as policy_service
from app.projects.models import Project, SamplingPolicy

log = logging.getLogger(__name__)


def smallest_image(*, session: Session, project_id: int) -> policy_service.ImageSize | None:
    width, height = session.execute(select(func.min(Item.width), func.min(Item.height))
                                    .where(Item.project_id == project_id)).one()
    return policy_service.ImageSize(width, height) if width is not None else None


def change_policy(*, session: Session, project: Project, user: User, reason: str,
                  **changes: Any) -> SamplingPolicy:
    """Store the next policy version (checked against the project's images), commit, then re-rank the
    queue under it with the live model, if there is one."""
    row = policy_service.change(session=session, project=project, user=user, reason=reason,
                                smallest_image=smallest_image(session=session, project_id=project.id), **changes)
    live = promotion.live_version(session=session, project_id=project.id)
    live_id = live.id if live is not None else None
    session.commit()
    if live_id is not None:
        start_scoring(live_id)
    return row


def retrain_due(*, session: Session, project: Project, policy: SamplingPolicy,
                now: Any = None) -> tuple[bool, int]:
    """(due, new labels): a scheduled retrain is due once retrain_hours have passed since the newest
    version was queued (at once when there is none) and some pool label arrived since."""
    assert policy.retrain_hours is not None
    newest = model_service.newest_unfailed(session=session, project_id=project.id)
    since = newest.created_at if newest is not None else None
    if since is not None and (now or utcnow()) - since < timedelta(hours=policy.retrain_hours):
        return False, 0
    new_labels = annotation_service.pool_labels(session=session, project_id=project.id, since=since)
    return new_labels > 0, new_labels


@job("labelwise.scheduled_retrain", record=False)  # every minute or so: nothing worth a row
def scheduled_retrain() -> list[int]:
    """Queue a retrain in every project whose schedule is due; returns the versions queued."""
    with session_scope() as session:
        project_ids = [p.id for p, _ in policy_service.scheduled_projects(session=session)]
    queued: list[int] = []
    for project_id in project_ids:  # one transaction each: one project's refusal must not stop the others
        with session_scope() as session:
            project = session.get(Project, project_id)
            if project is None:
                continue
            policy = policy_service.current(session=session, project=project)
            if not policy_service.retrains_on_schedule(policy):
                continue
            due, labels = retrain_due(session=session, project=project, policy=policy)
            mv: ModelVersion | None = None
            if due:
                try:
                    mv = training.request_training(session=session, project=project,
                                                   reason=f"scheduled (every {policy.retrain_hours:g} h), "
                                                          f"{labels} new labels")
                except DomainError as exc:
                    log.info("scheduled retrain of project %s skipped: %s", project_id, exc)
            session.commit()
        if mv is not None:
            try:
                training.enqueue_training(mv)
                queued.append(mv.id)
            except BrokerUnavailable:
                log.warning("the scheduled retrain of project %s could not be sent to the workers", project_id)
    return queued
