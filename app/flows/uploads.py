"""Images arrive: each is stored as an item and its task(s) go into the queue, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import numpy as np
from sqlalchemy.orm import Session

from app import imaging
from app.auth.models import User
from app.config import get_settings
from app.db import lock_row
from app.flows import pretrain, validation
from app.items import service as item_service
from app.items.models import Item, Split
from app.projects.models import Project
from app.queue import service as queue_service


def read_files(files: Iterable[tuple[str, BinaryIO]]) -> Iterator[tuple[str, bytes]]:
    """(filename, bytes) of each file in turn, each read up to the per-file limit (413 past it, naming
    the file), so that one file at a time, and never more than the limit, is in memory."""
    limit = get_settings().max_upload_bytes
    for name, file in files:
        yield name, imaging.read_bounded(file, limit=limit, what=f"file {name!r}")


def upload_items(
    *, session: Session, project: Project, uploads: Iterable[tuple[str, bytes]], split: Split, user: User | None,
    after_each: Callable[[int, Item], None] | None = None,
) -> list[Item]:
    """Store (filename, bytes) uploads all or nothing, and commit: one refused file stores none.
    `uploads` may be lazy: each file is read when its turn comes, so one is in memory at a time.

    Raises imaging.InvalidImage (its message names the file) or DuplicateItem. Uploads to one project
    take turns: two requests carrying the same images in opposite orders would otherwise each wait for
    the other's uncommitted row (a deadlock on Postgres, a 500 for one of them); in turn, the second
    finds the first's images and is refused as a duplicate.

    Pool uploads hold out the project's validation share (flows.validation.hold_out_uploads).

    `after_each(n, item)` runs in the same transaction once the n-th item and its tasks are added (an
    import adds its starting annotations there); what it raises refuses the whole batch.
    """
    lock_row(session, Project.name, project.id)
    created: list[Item] = []
    try:
        for name, data in uploads:
            try:
                item = item_service.add_item(session=session, project=project, filename=name, data=data,
                                             split=split, user=user)
            except imaging.InvalidImage as exc:
                raise imaging.InvalidImage(f"{name}: {exc}") from None
            created.append(item)
            queue_service.add_tasks(session=session, project=project, item=item)
            if after_each is not None:
                session.flush()
                after_each(len(created) - 1, item)
        # a pool upload holds out the project's validation share (an import's starting labels go with it)
        validation.hold_out_uploads(session=session, project=project, new_items=created, by=user)
        session.commit()  # inside: a constraint that still fires rolls back and discards like any refusal
    except BaseException:
        paths = [item.storage_path for item in created]
        session.rollback()
        item_service.discard_unstored_files(session=session, paths=paths)
        raise
    if created:  # a pretraining may be due now; else the new images' embeddings are cached
        pretrain.after_upload(project_id=project.id, item_ids=[item.id for item in created])
    return created


def add_image(*, session: Session, project: Project, filename: str, pixels: np.ndarray, split: Split,
              user: User | None) -> Item:
    """Decoded pixels (the demo's generator, tests) as an item with its tasks; the caller commits."""
    item = item_service.add_pixels(session=session, project=project, filename=filename, pixels=pixels, split=split,
                                   user=user)
    queue_service.add_tasks(session=session, project=project, item=item)
    return item
