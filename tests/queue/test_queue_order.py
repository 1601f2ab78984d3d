"""The order the queue hands tasks out in: the ranking by rank, then the tasks it did not place (new since
the ranking) oldest first; labeled tasks and other projects' tasks never in the way."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.factories import make_project, make_user
from tests.scenes import add_items, lease


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_ranked_tasks_by_rank_then_the_unplaced_oldest_first(env, backend):
    from app.db import session_scope
    from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
    from app.queue.models import Task, TaskStatus

    make_user("lead", "lead")
    people = [f"u{i}" for i in range(7)]
    for name in people:
        make_user(name)
    other = make_project(name="other", owner="lead", members=tuple(people))
    add_items(other, 3)  # another project's tasks come first in the table
    pid = make_project(name="p", owner="lead", members=tuple(people))
    add_items(pid, 6)
    with session_scope() as session:
        tasks = list(session.scalars(select(Task.id).where(Task.project_id == pid).order_by(Task.id)))
        session.execute(update(Task).where(Task.id == tasks[0]).values(status=TaskStatus.done))
        mv = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready)
        session.add(mv)
        session.flush()
        session.add(ScoringRun(project_id=pid, model_version_id=mv.id, chunks_total=1, chunks_done=1,
                               tasks_total=5, status=ScoringRunStatus.ranked))
        # tasks[1..3] ranked 2, 0, 1; tasks[4] scored but not placed; tasks[5] not scored at all.
        for task_id, rank in ((tasks[1], 2), (tasks[2], 0), (tasks[3], 1), (tasks[4], None)):
            session.add(Score(task_id=task_id, model_version_id=mv.id, value=0.5, strategy="entropy", rank=rank))
    handed = [lease(pid, name) for name in people[:6]]
    assert handed == [tasks[2], tasks[3], tasks[1], tasks[4], tasks[5], None]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_before_any_ranking_the_oldest_open_task_first(env, backend):
    from app.db import session_scope
    from app.queue.models import Task, TaskStatus

    make_user("lead", "lead")
    for name in ("a", "b", "c"):
        make_user(name)
    other = make_project(name="other", owner="lead", members=("a", "b", "c"))
    add_items(other, 2)
    pid = make_project(name="p", owner="lead", members=("a", "b", "c"))
    add_items(pid, 3)
    with session_scope() as session:
        tasks = list(session.scalars(select(Task.id).where(Task.project_id == pid).order_by(Task.id)))
        session.execute(update(Task).where(Task.id == tasks[0]).values(status=TaskStatus.done))
    assert [lease(pid, n) for n in ("a", "b", "c")] == [tasks[1], tasks[2], None]


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_lease_starts_at_the_projects_first_open_task_without_walking_other_projects_rows(env, backend):
    """A project created after a large one: the lease's lower bound (the project's first open task) must
    come off the (project_id, status, id) index. Postgres answered a plain min(id) by walking the primary
    key from the table's first row, through every row of the earlier project (101,000 rows and 19 ms a
    lease in bench/load.py's 1M project)."""
    import os
    import re

    import psycopg

    from bench.load import explain, libpq, seed_project, seed_users, user_ids

    url = os.environ["LABELWISE_DATABASE_URL"]
    names = seed_users(1)
    seed_project(url, "first", 5_000, names)
    pid = seed_project(url, "later", 50_000, names)  # most of the table, as the 1M project
    with psycopg.connect(libpq(url)) as conn:
        first_open = conn.execute("SELECT min(id) FROM task WHERE project_id = %s", (pid,)).fetchone()[0]
        conn.execute("UPDATE task SET status = 'done' WHERE id = %s", (first_open,))  # the bound moves past it
        conn.commit()
    plan = explain(url, pid, user_ids(url, names)[0])
    removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
    assert max(removed, default=0) < 100, plan
    assert "ix_task_project_id_status_id" in plan, plan

