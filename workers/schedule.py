"""The whole beat schedule in one place."""

from app.config import get_settings

BEAT_SCHEDULE = {
    "release-expired-leases": {"task": "labelwise.release_expired_leases", "schedule": 60.0},
    # Projects whose sampling policy retrains on a schedule (app.flows.policy); the in-process ticker
    # runs the same job in the embedded mode (app.jobs.periodic).
    "scheduled-retrain": {"task": "labelwise.scheduled_retrain",
                          "schedule": get_settings().retrain_schedule_check_seconds},
    # SLA breaches, due webhook deliveries, drift (app/flows/alerts.py); the embedded loop uses the same period.
    "desk-check": {"task": "labelwise.desk_check", "schedule": get_settings().periodic_seconds or 60.0},
}
