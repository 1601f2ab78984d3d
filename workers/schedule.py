"""The whole beat schedule in one place."""

BEAT_SCHEDULE = {
    "release-expired-leases": {"task": "labelwise.release_expired_leases", "schedule": 60.0},
}
