"""Engine, session factory and the declarative base shared by every domain's models."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, select, update
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.config import get_settings

# Explicit constraint names so Alembic migrations are stable and reversible on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
_lock = threading.Lock()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine() -> Engine:
    global _engine, _session_factory
    with _lock:
        if _engine is None:
            settings = get_settings()
            if settings.resolved_database_url.startswith("sqlite"):
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            _engine = _make_engine(settings.resolved_database_url)
            _session_factory = sessionmaker(bind=_engine, expire_on_commit=False)
        return _engine


def reset_engine() -> None:
    """Forget the engine (tests and the CLI switch databases through settings)."""
    global _engine, _session_factory
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _session_factory = None


def lock_row(session: Session, column: Any, row_id: int) -> None:
    """Hold one row's write lock until the session commits; callers queue behind it.

    `column` is a mapped attribute of the row's model that is not its key (say Task.status). Every
    statement after this sees what the previous holder committed: Postgres re-reads per statement
    (READ COMMITTED), and SQLite has one writer, whose reads cannot be stale. SQLite ignores FOR UPDATE,
    so there an UPDATE that changes nothing takes the database's write lock instead.
    """
    model = column.class_
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(model).where(model.id == row_id).values({column.key: column}))
    else:
        # FOR NO KEY UPDATE: lockers queue behind each other, but rows that merely reference this one
        # (a lease naming the user) can still be inserted by others.
        session.execute(select(model.id).where(model.id == row_id).with_for_update(key_share=True))


def new_session() -> Session:
    import app.models  # noqa: F401  (every mapper must be known before the first query)

    get_engine()
    assert _session_factory is not None
    return _session_factory()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
