"""The people service under concurrency: two admins demoting each other at once leave one admin."""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.scenes import all_at_once


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize("change", ["demote", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_one_admin(env, backend, change):
    from sqlalchemy import func, select

    from app.auth.models import Role, User
    from app.db import session_scope
    from app.people import service
    from app.people.service import LastAdmin

    for round_no in range(5):  # a race is narrow: play it a few times
        a, b = make_user(f"a{round_no}", "admin"), make_user(f"b{round_no}", "admin")
        with session_scope() as session:  # only these two are active admins in this round
            for other in session.scalars(select(User).where(User.role == Role.admin, User.id.not_in([a, b]))):
                other.is_active = False

        def remove(actor_id: int, target_id: int):  # type: ignore[no-untyped-def]
            def call() -> None:
                with session_scope() as session:
                    actor, target = session.get(User, actor_id), session.get(User, target_id)
                    if change == "demote":
                        service.set_role(session=session, admin=actor, user=target, role=Role.lead)
                    else:
                        service.deactivate(session=session, admin=actor, user=target)
            return call

        results, errors = all_at_once([remove(a, b), remove(b, a)])
        assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], LastAdmin), errors
        with session_scope() as session:
            admins = session.scalar(select(func.count()).select_from(User)
                                    .where(User.role == Role.admin, User.is_active.is_(True)))
            assert admins == 1
