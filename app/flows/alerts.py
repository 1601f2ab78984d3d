"""The lead's periodic desk check (Celery beat, or the in-process loop in the embedded mode): SLA
breaches found and stored, their webhook queued, due webhook deliveries attempted, drift checked."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.alerts import service as alert_service
from app.alerts import sla, webhooks
from app.alerts.models import AlertSettings
from app.audit import service as audit
from app.auth import service as auth_service
from app.db import lock_row, session_scope, utcnow
from app.jobs import job
from app.projects.models import Project

log = logging.getLogger(__name__)


@job("labelwise.desk_check", record=False)  # periodic and idempotent: nothing worth a job_run row
def desk_check() -> dict[str, int]:
    from app.flows import drift

    opened = check_slas()
    delivered = deliver_due()
    alerts = drift.check_all()
    return {"opened": opened, "delivered": delivered, "drift_alerts": alerts}


def check_slas(now: datetime | None = None) -> int:
    """Every project with alert settings, one transaction each; returns how many breaches opened."""
    now = now or utcnow()
    with session_scope() as session:
        project_ids = list(session.scalars(select(AlertSettings.project_id).order_by(AlertSettings.project_id)))
    return sum(check_project(project_id=pid, now=now) for pid in project_ids)


def check_project(*, project_id: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    with session_scope() as session:
        settings = alert_service.get_settings_row(session=session, project_id=project_id)
        project = session.get(Project, project_id)
        if settings is None or project is None:
            return 0
        lock_row(session, AlertSettings.updated_at, settings.id)  # two overlapping checks take turns
        opened = sla.sync(session=session, project_id=project_id,
                          found=sla.find(session=session, settings=settings, now=now), now=now)
        if opened:
            audit.record(session=session, action="sla.breach", entity="project", entity_id=project_id,
                         project_id=project_id, detail={"opened": [b.id for b in opened][:100], "count": len(opened)})
        if opened and settings.webhook_url:
            names = auth_service.usernames(session=session, user_ids=sorted({b.user_id for b in opened if b.user_id}))
            webhooks.queue_delivery(session=session, project_id=project_id, project_name=project.name,
                                    url=settings.webhook_url, breaches=opened, usernames=names, now=now)
        return len(opened)


def deliver_due(now: datetime | None = None) -> int:
    """Attempt every delivery that is due, each in its own transaction; returns how many got through."""
    now = now or utcnow()
    with session_scope() as session:
        ids = webhooks.due_ids(session=session, now=now)
    delivered = 0
    for delivery_id in ids:
        with session_scope() as session:
            delivery = webhooks.claim(session=session, delivery_id=delivery_id, now=now)
            if delivery is None:
                continue
            attempt = webhooks.attempt(session=session, delivery=delivery)
            delivered += attempt.error is None
            if attempt.error:
                log.warning("webhook delivery %s attempt %s failed: %s", delivery_id, attempt.number, attempt.error)
    return delivered
