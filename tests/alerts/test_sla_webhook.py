"""SLA breaches found by the periodic check, stored, and sent to the lead's webhook with retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.alerts import service
from app.alerts.models import DeliveryStatus, SlaBreach, WebhookAttempt, WebhookDelivery
from app.auth.models import User
from app.db import session_scope, utcnow
from app.flows import alerts as alert_flow
from app.queue.models import Flag, Task, TaskStatus
from tests.alerts.receiver import receiver
from tests.factories import login, make_project, make_user
from tests.scenes import add_items, lease


@pytest.fixture
def loopback_allowed(env, monkeypatch):  # type: ignore[no-untyped-def]
    from app.config import get_settings

    monkeypatch.setenv("LABELWISE_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("LABELWISE_WEBHOOK_BACKOFF_SECONDS", "10")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _age_tasks(pid: int, seconds: int) -> None:
    with session_scope() as session:
        session.execute(update(Task).where(Task.project_id == pid)
                        .values(created_at=utcnow() - timedelta(seconds=seconds)))


def _configure(pid: int, **changes) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        service.update_settings(session=session, project_id=pid, user_id=1, **changes)


def test_an_old_open_task_is_a_breach_and_its_webhook_is_retried_with_backoff(loopback_allowed, backend):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    add_items(pid, 3)
    _age_tasks(pid, 2 * 3600)
    with session_scope() as session:  # one task is new: inside the limit
        newest = session.scalar(select(Task).where(Task.project_id == pid).order_by(Task.id.desc()))
        newest.created_at = utcnow()
        newest_id = newest.id
    with receiver([500, 200]) as (url, received):
        _configure(pid, max_open_age_seconds=3600, webhook_url=url)
        assert alert_flow.check_slas() == 2
        # Found again on the next check: still the same two open breaches, nothing sent twice.
        assert alert_flow.check_slas() == 0
        with session_scope() as session:
            breaches = service.open_breaches(session=session, project_id=pid)
            assert {b.rule for b in breaches} == {"open_age"} and newest_id not in {b.task_id for b in breaches}
            assert all(b.detail["limit_seconds"] == 3600 and b.detail["age_seconds"] >= 7199 for b in breaches)
            assert len(session.scalars(select(WebhookDelivery)).all()) == 1

        # First attempt: the receiver answers 500; the delivery waits out the backoff.
        t0 = utcnow()
        assert alert_flow.deliver_due(now=t0) == 0
        with session_scope() as session:
            delivery = session.scalars(select(WebhookDelivery)).one()
            assert delivery.status == DeliveryStatus.pending and delivery.attempts == 1
            assert delivery.last_error == "HTTP 500"
            assert timedelta(seconds=9) < delivery.next_attempt_at - t0 < timedelta(seconds=12)
        assert alert_flow.deliver_due(now=t0 + timedelta(seconds=5)) == 0  # not yet due
        assert len(received) == 1
        # Second attempt, once due: delivered.
        assert alert_flow.deliver_due(now=t0 + timedelta(seconds=11)) == 1
        assert alert_flow.deliver_due(now=t0 + timedelta(seconds=60)) == 0  # delivered once only
    assert len(received) == 2 and received[0]["json"] == received[1]["json"]
    body = received[1]["json"]
    assert received[1]["content_type"] == "application/json" and received[1]["path"] == "/hooks/labelwise?k=1"
    assert body["event"] == "sla.breach" and body["project"] == {"id": pid, "name": "p"}
    assert sorted(b["task_id"] for b in body["breaches"]) == sorted(b.task_id for b in breaches)
    with session_scope() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        assert delivery.status == DeliveryStatus.delivered and delivery.attempts == 2
        attempts = session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.number)).all()
        assert [(a.number, a.status_code, a.error) for a in attempts] == [(1, 500, "HTTP 500"), (2, 200, None)]

    # A labeled task no longer breaches: its breach closes on the next check.
    with session_scope() as session:
        session.execute(update(Task).where(Task.id == breaches[0].task_id).values(status=TaskStatus.done))
    alert_flow.check_slas()
    with session_scope() as session:
        closed = session.get(SlaBreach, breaches[0].id)
        assert closed is not None and closed.closed_at is not None
        assert len(service.open_breaches(session=session, project_id=pid)) == 1


def test_a_delivery_that_keeps_failing_ends_dead_after_the_last_attempt(loopback_allowed, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("LABELWISE_WEBHOOK_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("LABELWISE_WEBHOOK_BACKOFF_SECONDS", "0")
    get_settings.cache_clear()
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    add_items(pid, 1)
    _age_tasks(pid, 100)
    with receiver([503]) as (url, received):
        _configure(pid, max_open_age_seconds=10, webhook_url=url)
        assert alert_flow.check_slas() == 1
        assert alert_flow.deliver_due() == 0 and alert_flow.deliver_due() == 0 and alert_flow.deliver_due() == 0
    assert len(received) == 2
    with session_scope() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        assert delivery.status == DeliveryStatus.dead and delivery.attempts == 2


def test_flag_and_throughput_rules_name_the_people(loopback_allowed, backend):
    make_user("lead", "lead")
    make_user("ann")
    make_user("slow")
    pid = make_project(owner="lead", members=("ann", "slow"))
    add_items(pid, 2)
    flagged = lease(pid, "ann")
    assert lease(pid, "slow") is not None  # "slow" worked today and labeled nothing
    with session_scope() as session:
        ann = session.scalar(select(User).where(User.username == "ann"))
        assert ann is not None
        flag = Flag(task_id=flagged, user_id=ann.id, note="which curve?", created_at=utcnow() - timedelta(hours=3))
        session.add(flag)
        session.flush()
        flag_id, ann_id = flag.id, ann.id
    _configure(pid, max_flag_seconds=3600, throughput_floor_per_day=5)
    alert_flow.check_slas()
    with session_scope() as session:
        found = {(b.rule, b.subject): b for b in service.open_breaches(session=session, project_id=pid)}
    assert found[("flag_resolution", f"flag:{flag_id}")].task_id == flagged
    assert found[("flag_resolution", f"flag:{flag_id}")].user_id == ann_id
    rules = sorted((rule, b.detail.get("username")) for (rule, _), b in found.items() if rule == "throughput")
    assert rules == [("throughput", "ann"), ("throughput", "slow")]
    # The review rule reads review times through one function; until reviews exist it finds nothing.
    _configure(pid, max_review_seconds=1)
    alert_flow.check_slas()
    with session_scope() as session:
        assert "review" not in service.breach_counts(session=session, project_id=pid)


def test_the_periodic_job_runs_in_the_in_process_loop(loopback_allowed):
    from app import jobs
    from app.jobs.periodic import Ticker

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    add_items(pid, 1)
    _age_tasks(pid, 100)
    _configure(pid, max_open_age_seconds=10)
    loop = Ticker({"labelwise.desk_check": 0.1}).start()  # what the app starts in embedded mode
    try:
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with session_scope() as session:
                if service.open_breaches(session=session, project_id=pid):
                    break
            time.sleep(0.1)
    finally:
        loop.stop()
        jobs.in_process_worker().wait_idle(timeout=30)
    with session_scope() as session:
        assert len(service.open_breaches(session=session, project_id=pid)) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"webhook_url": "ftp://example.org/hook"}, "webhook_url"),
    ({"webhook_url": "javascript:alert(1)"}, "webhook_url"),
    ({"webhook_url": "http://127.0.0.1:9/hook"}, "webhook_url"),
    ({"webhook_url": "http://10.1.2.3/hook"}, "webhook_url"),
    ({"webhook_url": "http://169.254.169.254/latest"}, "webhook_url"),
    ({"webhook_url": "http://[::1]/hook"}, "webhook_url"),
    ({"max_open_age_seconds": 0}, "max_open_age_seconds"),
    ({"max_flag_seconds": -5}, "max_flag_seconds"),
    ({"throughput_floor_per_day": 0}, "throughput_floor_per_day"),
    ({"drift_threshold": -1}, "drift_threshold"),
    ({"drift_threshold": None}, "drift_threshold"),
])
def test_bad_settings_are_refused_naming_the_field_and_nothing_is_applied(client, body, field):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    headers = {"X-CSRF-Token": login(client, "lead")}
    r = client.put(f"/api/v1/projects/{pid}/alerts/settings", json={"max_review_seconds": 60, **body},
                   headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(f"{field}:")
    assert client.get(f"/api/v1/projects/{pid}/alerts/settings").json()["max_review_seconds"] is None


def test_settings_through_the_api_for_leads_only(client):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    headers = {"X-CSRF-Token": login(client, "lead")}
    r = client.put(f"/api/v1/projects/{pid}/alerts/settings", headers=headers,
                   json={"max_open_age_seconds": 86400, "throughput_floor_per_day": 20, "drift_boost": True})
    assert r.status_code == 200 and r.json()["max_open_age_seconds"] == 86400 and r.json()["drift_boost"] is True
    assert client.put(f"/api/v1/projects/{pid}/alerts/settings", json={"max_open_age_seconds": 5}).status_code == 403
    assert client.get(f"/api/v1/projects/{pid}/alerts/breaches").json()["items"] == []
    headers = {"X-CSRF-Token": login(client, "ann")}
    assert client.put(f"/api/v1/projects/{pid}/alerts/settings", json={"max_open_age_seconds": 5},
                      headers=headers).status_code == 403


def test_celery_beat_runs_the_desk_check_on_the_same_period():
    from app.config import get_settings
    from workers.celery_app import celery_app
    from workers.schedule import BEAT_SCHEDULE

    assert "labelwise.desk_check" in celery_app.tasks
    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "labelwise.desk_check")
    assert entry["schedule"] == get_settings().periodic_seconds
