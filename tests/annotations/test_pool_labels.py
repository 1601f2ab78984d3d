"""Counting a project's pool labels: the retrain check runs it on every submit."""

from __future__ import annotations

import re

import pytest


def _annotate(url: str, project_id: int, count: int, *, analyze: bool = False) -> None:
    """`count` submitted labels on the project's first open tasks, written straight in SQL."""
    import psycopg

    from bench.load import libpq

    with psycopg.connect(libpq(url)) as conn:
        conn.execute(
            "INSERT INTO annotation (task_id, item_id, project_id, version, author_id, mask_path, seconds_spent, "
            "status, labeled_pixels, adjudicated, created_at) "
            "SELECT t.id, t.item_id, t.project_id, 1, (SELECT min(id) FROM user_account), 'm.png', 1, 'submitted', "
            "1, false, now() FROM task t WHERE t.project_id = %(p)s ORDER BY t.id LIMIT %(n)s",
            {"p": project_id, "n": count})
        conn.commit()
        if analyze:
            conn.autocommit = True
            conn.execute("ANALYZE annotation")


@pytest.mark.parametrize("backend", ["postgres"])
def test_pool_labels_reads_only_the_projects_labels_whatever_the_statistics_say(env, backend):
    """Annotation statistics taken while only the first project had labels, then a later, larger project
    labelled: counting the first project's labels must not walk the later project's items. Through a join
    with item, Postgres chose a merge join that it costed by the stale largest item id and walked every item
    of every project (1.1M rows, 1.5-1.9 s per submit in bench/load.py after its 1M phase)."""
    import os

    from sqlalchemy import event

    from app.annotations import service as annotation_service
    from app.db import get_engine, session_scope
    from bench.load import seed_project, seed_users

    url = os.environ["LABELWISE_DATABASE_URL"]
    names = seed_users(1)
    first = seed_project(url, "first", 1_000, names)
    later = seed_project(url, "later", 50_000, names)
    _annotate(url, first, 60, analyze=True)  # the statistics: labels only on the first project's items
    _annotate(url, later, 40)  # labels with item ids far above anything the statistics know

    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        captured.append((statement, parameters))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope() as session:
            assert annotation_service.pool_labels(session=session, project_id=first) == 60
            assert annotation_service.pool_labels(session=session, project_id=later) == 40
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = next((s, p) for s, p in captured if "count(" in s.lower())
    with engine.connect() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters))  # type: ignore[arg-type]
    removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
    assert max(removed, default=0) < 100, plan
    assert "pk_item" not in plan, plan
