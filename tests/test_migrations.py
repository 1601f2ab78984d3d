"""The schema comes from the migrations, and the models match them."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_upgrade_head_on_an_empty_database_matches_the_models(env, backend):
    import app.models  # noqa: F401
    from app.db import Base, get_engine

    engine = get_engine()  # `env` already ran `alembic upgrade head` on a fresh database
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], diff
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables


@pytest.mark.parametrize("backend", ["postgres"])
def test_downgrade_to_base_and_back(env, backend):
    from app.db import get_engine, reset_engine
    from app.migrate import alembic_config

    command.downgrade(alembic_config(), "base")
    assert set(inspect(get_engine()).get_table_names()) <= {"alembic_version"}
    reset_engine()
    command.upgrade(alembic_config(), "head")
    assert "annotation" in inspect(create_engine(str(get_engine().url))).get_table_names()
