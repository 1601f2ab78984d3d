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


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_annotation_project_id_is_filled_from_the_item_on_upgrade(env, backend):
    """0020 copies each existing annotation's project from its item (the retrain check counts by it)."""
    from sqlalchemy import select, text

    from app.annotations.models import Annotation, AnnotationStatus
    from app.db import get_engine, reset_engine, session_scope
    from app.migrate import alembic_config
    from app.queue.models import Task
    from tests.factories import make_project, make_user
    from tests.scenes import add_tiny_tasks

    uid = make_user("lead", "lead")
    pids = [make_project(name=f"p{i}", owner="lead") for i in range(2)]
    for pid in pids:
        add_tiny_tasks(pid, 2)
    with session_scope() as session:
        for task in session.scalars(select(Task).order_by(Task.id)):
            session.add(Annotation(task_id=task.id, item_id=task.item_id, project_id=task.project_id, version=1,
                                   author_id=uid, mask_path="m.png", status=AnnotationStatus.submitted))
    reset_engine()
    command.downgrade(alembic_config(), "0019")
    reset_engine()
    with get_engine().connect() as conn:
        assert "project_id" not in {c["name"] for c in inspect(conn).get_columns("annotation")}
    command.upgrade(alembic_config(), "head")
    reset_engine()
    with get_engine().connect() as conn:
        rows = conn.execute(text("SELECT a.project_id, i.project_id FROM annotation a JOIN item i ON i.id = a.item_id"))
        pairs = [tuple(r) for r in rows]
    assert len(pairs) == 4 and {a for a, _ in pairs} == set(pids) and all(a == b for a, b in pairs)
