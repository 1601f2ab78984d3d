"""What one next-task request costs the database: a guard on the statements folded for bench/load.py
(21 before: session and user, project and membership, eleven for the lease, five for the answer). The
answer's gold flag is a column of its one statement (app/queue/task_view.py), not a statement of its own;
the project comes with its classes; the answer is read on the lease's connection, before the commit (a
second checkout pinged the database again: a round trip the statement count did not show)."""

from __future__ import annotations

from sqlalchemy import event

from tests.factories import login, make_project, make_user
from tests.scenes import add_items


def test_a_next_task_request_runs_ten_statements_on_one_connection_and_gives_back_the_held_task(client):
    from app.db import get_engine

    make_user("lead", "lead")
    make_user("a")
    pid = make_project(owner="lead", members=("a",))
    add_items(pid, 3)
    client.headers["X-CSRF-Token"] = login(client, "a")
    statements: list[str] = []
    checkouts: list[object] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement.split(None, 1)[0])

    def checkout(*args):  # type: ignore[no-untyped-def]
        checkouts.append(args[1])

    event.listen(get_engine(), "before_cursor_execute", count)
    event.listen(get_engine(), "checkout", checkout)
    try:
        first = client.post(f"/api/v1/projects/{pid}/tasks/next")
        fresh, fresh_checkouts = len(statements), len(checkouts)
        statements.clear()
        again = client.post(f"/api/v1/projects/{pid}/tasks/next")
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
        event.remove(get_engine(), "checkout", checkout)
    assert first.status_code == 200 and again.status_code == 200, (first.text, again.text)
    assert again.json()["id"] == first.json()["id"]  # the held task, read with the lease's context
    assert first.json()["lease_expires_at"] is not None and first.json()["draft"] is None
    # session+user 1, project and its classes 1, budget 1, user lock 1, context 1, lease 1, look again 1,
    # audit and lease rows 2, the answer 1 (its gold flag included); SQLite's lock is an UPDATE, counted the same.
    print(f"next-task statements: {fresh} fresh, {len(statements)} held")
    assert fresh <= 10, fresh
    assert fresh_checkouts == 1, fresh_checkouts  # each checkout of a Postgres connection pings it first
    assert len(statements) <= 7, statements  # held: no lease statement, look-again or rows; the task by id
