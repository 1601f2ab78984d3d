"""Periodic jobs in the embedded mode: what Celery beat does with a broker (workers/schedule.py), a
ticker thread does for the in-process worker. Each entry: job name -> seconds between runs (read from
the settings when the ticker starts)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from app.config import get_settings

log = logging.getLogger(__name__)

# Expired leases stop counting at expiry, but until closed they stay in the live-lease index that every
# lease reads (app.queue.overlap): abandoned tasks would grow it without end.
LEASE_SWEEP_SECONDS = 60.0

PERIODIC: dict[str, Callable[[], float]] = {
    "labelwise.release_expired_leases": lambda: LEASE_SWEEP_SECONDS,
    "labelwise.scheduled_retrain": lambda: get_settings().retrain_schedule_check_seconds,
    # SLA breaches, due webhook deliveries and drift (app.flows.alerts); 0 = never in the embedded mode.
    "labelwise.desk_check": lambda: get_settings().periodic_seconds,
}


class Ticker:
    """Enqueues each periodic job on the in-process worker every interval (the first run one interval
    after the start, as beat does)."""

    def __init__(self, schedule: dict[str, float]) -> None:
        self._schedule = schedule
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="labelwise-ticker", daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from app.jobs import in_process_worker

        due = {name: time.monotonic() + every for name, every in self._schedule.items()}
        while not self._stop.is_set():
            now = time.monotonic()
            for name, at in due.items():
                if now >= at:
                    due[name] = now + self._schedule[name]
                    try:
                        in_process_worker().enqueue(name)
                    except Exception:  # noqa: BLE001 - a ticker that dies stops every periodic job
                        log.exception("could not enqueue the periodic job %s", name)
            self._stop.wait(max(0.05, min(due.values()) - time.monotonic()))


def start_ticker() -> Ticker | None:
    """The ticker, in the embedded mode only (with a broker, Celery beat runs the schedule)."""
    if not get_settings().in_process_worker:
        return None
    schedule = {name: every() for name, every in PERIODIC.items()}
    return Ticker({name: every for name, every in schedule.items() if every > 0}).start()
