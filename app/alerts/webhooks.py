"""Webhook deliveries: one per check that opened breaches, attempted until a 2xx answer, with
exponential backoff between attempts; every attempt is a row the dashboard shows."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts import urls
from app.alerts.models import DeliveryStatus, SlaBreach, WebhookAttempt, WebhookDelivery
from app.config import get_settings
from app.db import utcnow


def breach_payload(breach: SlaBreach, usernames: dict[int, str]) -> dict[str, object]:
    return {"id": breach.id, "rule": breach.rule, "subject": breach.subject, "task_id": breach.task_id,
            "user": usernames.get(breach.user_id) if breach.user_id else None, "user_id": breach.user_id,
            "detail": breach.detail, "opened_at": breach.opened_at.isoformat()}


def queue_delivery(*, session: Session, project_id: int, project_name: str, url: str,
                   breaches: Sequence[SlaBreach], usernames: dict[int, str], now: datetime) -> WebhookDelivery:
    payload = {"event": "sla.breach", "project": {"id": project_id, "name": project_name},
               "created_at": now.isoformat(), "breaches": [breach_payload(b, usernames) for b in breaches]}
    row = WebhookDelivery(project_id=project_id, url=url, payload=payload, status=DeliveryStatus.pending,
                          attempts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    session.flush()
    return row


def due_ids(*, session: Session, now: datetime, limit: int = 50) -> list[int]:
    return list(session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == DeliveryStatus.pending, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)))


def claim(*, session: Session, delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """The delivery, locked for this attempt, if it is still due (another worker may have sent it)."""
    return session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.pending,
        WebhookDelivery.next_attempt_at <= now).with_for_update(skip_locked=True))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt number attempts + 1: the base, doubled after every failure."""
    return timedelta(seconds=get_settings().webhook_backoff_seconds * 2 ** (attempts - 1))


def attempt(*, session: Session, delivery: WebhookDelivery) -> WebhookAttempt:
    """Send once (the URL checked again, its checked address used), record the attempt, and mark the
    delivery delivered, due again after the backoff, or dead when out of attempts."""
    settings = get_settings()
    status_code, error = None, None
    started = time.monotonic()
    try:
        target = urls.resolve(delivery.url, allow_private=settings.webhook_allow_private)
        status_code = urls.post_json(target, json.dumps(delivery.payload).encode(),
                                     timeout=settings.webhook_timeout_seconds)
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except Exception as exc:  # noqa: BLE001 - refused URL, DNS, connection, TLS, timeout: all a failed attempt
        error = f"{type(exc).__name__}: {exc}"[:500]
    now = utcnow()
    delivery.attempts += 1
    row = WebhookAttempt(delivery_id=delivery.id, number=delivery.attempts, status_code=status_code, error=error,
                         duration_ms=round((time.monotonic() - started) * 1000, 1), created_at=now)
    session.add(row)
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.delivered, now, None
    elif delivery.attempts >= settings.webhook_max_attempts:
        delivery.status, delivery.next_attempt_at, delivery.last_error = DeliveryStatus.dead, None, error
    else:
        delivery.next_attempt_at, delivery.last_error = now + backoff(delivery.attempts), error
    return row
