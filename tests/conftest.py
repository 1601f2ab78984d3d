"""Shared fixtures: a fresh data directory and database per test, on SQLite or on real Postgres.

Postgres, Redis and Chromium come from scripts/services.sh (LABELWISE_TEST_* variables). Without
them those tests are skipped locally, and fail in CI (CI=true), where they must run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.annotators import claimed_redis_database

POSTGRES_ADMIN_URL = os.environ.get("LABELWISE_TEST_POSTGRES_ADMIN_URL")
REDIS_URL = os.environ.get("LABELWISE_TEST_REDIS_URL")
CHROMIUM = os.environ.get("LABELWISE_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Tiny training so the suite stays fast; the loop is the same at any size.
FAST_SETTINGS = {
    "LABELWISE_TRAIN_STEPS": "12",
    "LABELWISE_TRAIN_CROP": "0",
    "LABELWISE_TRAIN_MAX_SECONDS": "60",
    "LABELWISE_UNET_BASE_CHANNELS": "8",
    "LABELWISE_SCORE_CHUNK_SIZE": "4",
    "LABELWISE_PRETRAIN_STEPS": "6",
    "LABELWISE_PRETRAIN_BATCH_SIZE": "4",
    "LABELWISE_PRETRAIN_CROP": "32",
    "LABELWISE_SECRET_KEY": "test-secret-key",
    # Models this small swing by more than the default 0.01 between versions: every new version goes live,
    # as the loop tests expect. The promotion tests (tests/flows/test_promotion.py) set their own margin.
    "LABELWISE_PROMOTION_MARGIN": "1",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by what they need, so `-m "not browser"` and the like select them: Chromium for the
    tests under a browser/ folder, Postgres for those that ask for a database or run on the
    `postgres` backend, Redis for those that start a Celery worker."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(item, "callspec", None)
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if "postgres_url" in fixtures or (params is not None and params.params.get("backend") == "postgres"):
            item.add_marker(pytest.mark.postgres)
        if "broker_url" in fixtures:
            item.add_marker(pytest.mark.redis)


def need(condition: bool, what: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (run the tests through scripts/test.sh)")
    pytest.skip(f"{what} not available (run through scripts/test.sh)")


def _reset_app_state() -> None:
    from app.config import get_settings
    from app.db import reset_engine

    get_settings.cache_clear()
    reset_engine()
    from app.jobs import current_in_process_worker

    worker = current_in_process_worker()
    if worker is not None:
        worker.wait_idle(timeout=120)
        worker.failures.clear()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database on the test Postgres, dropped afterwards."""
    need(bool(POSTGRES_ADMIN_URL), "Postgres (LABELWISE_TEST_POSTGRES_ADMIN_URL)")
    assert POSTGRES_ADMIN_URL
    name = f"lw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from app.db import reset_engine

        reset_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Path]:
    """Settings for one test: its own data directory and a migrated database (SQLite by default;
    a test that also asks for the `backend` fixture runs on both)."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("LABELWISE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("LABELWISE_BROKER_URL", raising=False)
    monkeypatch.delenv("LABELWISE_DATABASE_URL", raising=False)
    for key, value in FAST_SETTINGS.items():
        monkeypatch.setenv(key, value)
    if "backend" in request.fixturenames and request.getfixturevalue("backend") == "postgres":
        monkeypatch.setenv("LABELWISE_DATABASE_URL", request.getfixturevalue("postgres_url"))
    _reset_app_state()
    if "LABELWISE_DATABASE_URL" in os.environ:
        from app.migrate import upgrade_head

        upgrade_head()
    else:
        _migrated_sqlite(data_dir)
    yield data_dir
    _reset_app_state()
    shutil.rmtree(data_dir, ignore_errors=True)


_SQLITE_TEMPLATE: Path | None = None


def _migrated_sqlite(data_dir: Path) -> None:
    """The SQLite database at head, copied from one migrated once per test process: running the
    migrations for every test cost about a second each, a third of the suite. The template is the
    first test's own database, made by the migrations as any other (tests/test_migrations.py runs
    them from scratch)."""
    global _SQLITE_TEMPLATE
    from app.config import get_settings
    from app.db import reset_engine
    from app.migrate import upgrade_head

    db_file = get_settings().data_dir / "labelwise.sqlite3"
    if _SQLITE_TEMPLATE is None or not _SQLITE_TEMPLATE.exists():
        upgrade_head()
        reset_engine()  # closes the last connection, which folds the WAL into the file
        fd, name = tempfile.mkstemp(prefix="labelwise-template-", suffix=".sqlite3")
        os.close(fd)
        template = Path(name)
        atexit.register(template.unlink, missing_ok=True)
        shutil.copyfile(db_file, template)
        _SQLITE_TEMPLATE = template
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_SQLITE_TEMPLATE, db_file)


@pytest.fixture
def client(env: Path):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app()) as c:
        yield c




@pytest.fixture
def broker_url(env: Path) -> Iterator[str]:
    """The test Redis, in a database no other live test process holds: test runs that overlap on one
    machine (several shells) must not take each other's jobs. Claimed with an owner key, emptied first,
    released after."""
    need(bool(REDIS_URL), "Redis (LABELWISE_TEST_REDIS_URL)")
    assert REDIS_URL
    with claimed_redis_database(REDIS_URL) as url:  # LookupError (the setup fails) when all are held
        yield url



@pytest.fixture
def celery_worker(env: Path, broker_url: str):  # type: ignore[no-untyped-def]
    """A real Celery worker on the test Redis, and the app sending its jobs there; yields its log."""
    from app.config import get_settings
    from tests.celery_worker import celery_worker_process

    log = env.parent / "celery.log"
    os.environ["LABELWISE_BROKER_URL"] = broker_url
    get_settings.cache_clear()
    try:
        with celery_worker_process(env, log, LABELWISE_BROKER_URL=broker_url):
            yield log
    finally:
        os.environ.pop("LABELWISE_BROKER_URL", None)
        get_settings.cache_clear()
