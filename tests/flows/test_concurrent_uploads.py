"""Two uploads of the same images at the same moment, in opposite orders.

Without a turn per project each request inserts its first image and then waits for the other's
uncommitted row of its second: Postgres breaks the deadlock by failing one request with a 500, and the
loser's clean-up can delete a file the winner is about to commit. Uploads to one project now take
turns, so the second finds the first's images and is refused as a duplicate, with every file in place.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sqlalchemy import select

from tests.factories import make_project, make_user, png_bytes
from tests.scenes import all_at_once

ROUNDS = 6


def upload_as(pid: int, files: list[tuple[str, bytes]]) -> list[int]:
    from app.db import session_scope
    from app.flows import uploads
    from app.items.models import Split
    from app.projects.models import Project

    with session_scope() as session:
        items = uploads.upload_items(session=session, project=session.get(Project, pid), uploads=files,
                                    split=Split.pool, user=None)
        return [item.id for item in items]


def stored(pid: int) -> list[tuple[str, bool]]:
    from app import storage
    from app.db import session_scope
    from app.items.models import Item

    with session_scope() as session:
        items = session.scalars(select(Item).where(Item.project_id == pid).order_by(Item.original_name)).all()
        return [(i.original_name, storage.absolute(i.storage_path).exists()) for i in items]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_same_images_uploaded_at_once_in_opposite_orders_are_stored_once(env, backend):
    from app.items.service import DuplicateItem

    make_user("lead", "lead")
    rng = np.random.default_rng(0)
    for round_no in range(ROUNDS):
        pid = make_project(name=f"u{round_no}", owner="lead")
        a, b = (png_bytes(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)) for _ in range(2))
        results, errors = all_at_once([partial(upload_as, pid, [("a.png", a), ("b.png", b)]),
                                       partial(upload_as, pid, [("b.png", b), ("a.png", a)])])
        assert len(results) == 1 and len(errors) == 1, (results, errors)
        assert isinstance(errors[0], DuplicateItem) and "same image" in str(errors[0]), errors
        assert stored(pid) == [("a.png", True), ("b.png", True)]  # once each, files in place
