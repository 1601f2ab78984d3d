"""The whole beat schedule in one place."""

from app.config import get_settings
from app.jobs.periodic import LEASE_SWEEP_SECONDS

BEAT_SCHEDULE = {
    "release-expired-leases": {"task": "labelwise.release_expired_leases", "schedule": LEASE_SWEEP_SECONDS},
    # Projects whose sampling policy retrains on a schedule (app.flows.policy); the in-process ticker
    # runs the same job in the embedded mode (app.jobs.periodic).
    "scheduled-retrain": {"task": "labelwise.scheduled_retrain",
                          "schedule": get_settings().retrain_schedule_check_seconds},
    # SLA breaches, due webhook deliveries, drift (app/flows/alerts.py); the embedded loop uses the same period.
    "desk-check": {"task": "labelwise.desk_check", "schedule": get_settings().periodic_seconds or 60.0},
}
