"""What one submit costs the database: a guard on the statements of POST /tasks/{id}/annotations, the
other half of every annotator's cycle (bench/load.py runs next -> submit)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import event

from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items


def test_a_submit_reads_its_lease_once_in_at_most_26_statements(client):
    from app.db import get_engine

    make_user("lead", "lead")
    make_user("a")
    pid = make_project(owner="lead", members=("a",), retrain_every=100)
    add_items(pid, 2)
    client.headers["X-CSRF-Token"] = login(client, "a")
    task = client.post(f"/api/v1/projects/{pid}/tasks/next").json()
    mask = np.full((16, 16), 255, dtype=np.uint8)
    mask[:4, :4] = 1
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split())[:160])

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        r = client.post(f"/api/v1/projects/{pid}/tasks/{task['id']}/annotations",
                        files={"mask": ("m.png", png_bytes(mask), "image/png")}, data={"client_token": "t1"})
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    assert r.status_code == 201, r.text
    print(f"submit statements: {len(statements)}")
    # The session before the body (app/limits.py) and again in the route's dependency: a session revoked
    # while the body uploads is refused. The lease is read once, under the task's lock, and ended from that
    # read (29 statements when the release read it again; the project's classes come with the project).
    lease_reads = [s for s in statements if s.startswith("SELECT") and " FROM lease " in s]
    assert len(lease_reads) == 1, lease_reads
    # 26: a first version does not run the UPDATE that supersedes earlier versions (27 before).
    assert len(statements) <= 26, "\n".join(statements)
