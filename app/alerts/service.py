"""A project's alert settings (SLA limits, webhook, drift), and the breaches and deliveries to show."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.alerts import urls
from app.alerts.models import AlertSettings, DriftCheck, SlaBreach, WebhookAttempt, WebhookDelivery
from app.audit import service as audit
from app.config import get_settings
from app.db import utcnow
from app.errors import DomainError

# Every setting a lead may change, with what it must be.
POSITIVE_INTS = ("max_open_age_seconds", "max_flag_seconds", "max_review_seconds")
FIELDS = (*POSITIVE_INTS, "throughput_floor_per_day", "webhook_url", "drift_threshold", "drift_boost")
MAX_SECONDS = 10 * 365 * 24 * 3600


def get_settings_row(*, session: Session, project_id: int) -> AlertSettings | None:
    return session.scalar(select(AlertSettings).where(AlertSettings.project_id == project_id))


def settings_or_default(*, session: Session, project_id: int) -> AlertSettings:
    """The stored row, or an unsaved one with the defaults (nothing checked, no webhook)."""
    row = get_settings_row(session=session, project_id=project_id)
    return row if row is not None else AlertSettings(project_id=project_id, drift_threshold=0.5, drift_boost=False)


def _validated(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes cleaned, or DomainError naming the first bad field; nothing is applied before."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise DomainError(f"{sorted(unknown)[0]}: not a setting of alerts")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key in POSITIVE_INTS and value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SECONDS:
                raise DomainError(f"{key}: must be a whole number of seconds above 0 (at most {MAX_SECONDS}), "
                                  "or empty for no limit")
        elif key in ("throughput_floor_per_day", "drift_threshold") and (value is not None or key == "drift_threshold"):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise DomainError(f"{key}: must be a finite number above 0"
                                  + ("" if key == "drift_threshold" else ", or empty for no floor"))
            value = float(value)
        elif key == "drift_boost":
            value = bool(value)
        elif key == "webhook_url" and value is not None:
            value = str(value).strip() or None
            if value is not None:
                urls.resolve(value, allow_private=get_settings().webhook_allow_private)
        clean[key] = value
    return clean


def update_settings(*, session: Session, project_id: int, user_id: int, **changes: Any) -> AlertSettings:
    """Validate every change first (422 naming the field; nothing applied), then apply and audit."""
    clean = _validated(changes)
    row = get_settings_row(session=session, project_id=project_id)
    if row is None:
        row = AlertSettings(project_id=project_id, drift_threshold=0.5, drift_boost=False)
        session.add(row)
    before = {key: getattr(row, key) for key in clean}
    for key, value in clean.items():
        setattr(row, key, value)
    row.updated_by_id, row.updated_at = user_id, utcnow()
    session.flush()
    audit.record(session=session, action="alerts.update", entity="alert_settings", entity_id=row.id, user_id=user_id,
                 project_id=project_id, detail={"before": before, "after": clean})
    return row


def open_breaches(*, session: Session, project_id: int, limit: int = 200) -> list[SlaBreach]:
    return list(session.scalars(select(SlaBreach).where(SlaBreach.project_id == project_id,
                                                        SlaBreach.closed_at.is_(None))
                                .order_by(SlaBreach.opened_at, SlaBreach.id).limit(limit)))


def breach_counts(*, session: Session, project_id: int) -> dict[str, int]:
    """Open breaches by rule."""
    rows = session.execute(select(SlaBreach.rule, func.count()).where(
        SlaBreach.project_id == project_id, SlaBreach.closed_at.is_(None)).group_by(SlaBreach.rule)).all()
    return {rule: int(n) for rule, n in rows}


def recent_deliveries(*, session: Session, project_id: int,
                      limit: int = 20) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    deliveries = list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.project_id == project_id)
                                      .order_by(WebhookDelivery.id.desc()).limit(limit)))
    attempts: dict[int, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        for a in session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(list(attempts)))
                                 .order_by(WebhookAttempt.number)):
            attempts[a.delivery_id].append(a)
    return [(d, attempts[d.id]) for d in deliveries]


def latest_drift(*, session: Session, project_id: int) -> DriftCheck | None:
    return session.scalar(select(DriftCheck).where(DriftCheck.project_id == project_id)
                          .order_by(DriftCheck.id.desc()).limit(1))
