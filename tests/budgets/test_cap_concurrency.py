"""The daily cap is checked under the queue's project lock: concurrent annotators cannot overshoot it."""

from __future__ import annotations

from functools import partial

import pytest

from tests.factories import make_project, make_user
from tests.scenes import add_items, all_at_once


def lease_with_caps(pid: int, username: str) -> int | None:
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.flows import leasing
    from app.projects.models import Project

    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username=username)
        assert user is not None
        task = leasing.next_task(session=session, project=session.get(Project, pid), user=user)
        return task.id if task else None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_daily_cap_holds_under_twelve_concurrent_leases(env, backend):
    from app.auth.models import User
    from app.budgets import service as budget_service
    from app.budgets.service import CapReached
    from app.db import session_scope
    from app.projects.models import Project

    make_user("lead", "lead")
    users = [f"u{i}" for i in range(12)]
    for u in users:
        make_user(u)
    pid = make_project(owner="lead", members=tuple(users), retrain_every=1000)
    add_items(pid, 20)
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.query(User).filter_by(username="lead").one()
        budget_service.save(session=session, project=project, by=lead, values={"day_labels": 4})
    handed, errors = all_at_once([partial(lease_with_caps, pid, u) for u in users])
    assert len(handed) == 4 and len(set(handed)) == 4 and None not in handed, (handed, errors)
    assert len(errors) == 8 and all(isinstance(e, CapReached) for e in errors), errors
    assert "daily cap of 4 labels is reached (4 labels spent or being labeled)" in str(errors[0])
