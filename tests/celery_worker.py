"""A real Celery worker process on the test Redis, for the tests that need one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import FAST_SETTINGS


@contextmanager
def celery_worker_process(env: Path, log: Path, **settings: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker on every queue, with the test's settings (and `settings` on top, LABELWISE_BROKER_URL
    among them: see the broker_url fixture), in its own process group so a test can SIGKILL it whole;
    stopped on exit."""
    worker_env = {**os.environ, **FAST_SETTINGS, "LABELWISE_DATA_DIR": str(env),
                  "LABELWISE_DATABASE_URL": os.environ["LABELWISE_DATABASE_URL"], **settings}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel=INFO",
         "-Q", "default,training,scoring", "--concurrency=2", "--pool=prefork", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        env=worker_env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
