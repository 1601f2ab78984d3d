from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import imaging, storage
from app.audit import service as audit
from app.auth.models import User
from app.config import get_settings
from app.db import lock_row
from app.items.models import Item, Split
from app.projects.models import Project
from app.queue.models import Task


class DuplicateItem(ValueError):
    pass


def pixel_checksum(image: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(f"{image.shape}".encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()


def add_uploads(
    *, session: Session, project: Project, uploads: Iterable[tuple[str, bytes]], split: Split, user: User | None,
) -> list[Item]:
    """Store (filename, bytes) uploads all or nothing, and commit: one refused file stores none.
    `uploads` may be lazy: each file is read when its turn comes, so one is in memory at a time.

    Raises imaging.InvalidImage (its message names the file) or DuplicateItem. Uploads to one project
    take turns: two requests carrying the same images in opposite orders would otherwise each wait for
    the other's uncommitted row (a deadlock on Postgres, a 500 for one of them); in turn, the second
    finds the first's images and is refused as a duplicate.
    """
    lock_row(session, Project.name, project.id)
    created: list[Item] = []
    try:
        for name, data in uploads:
            try:
                created.append(add_item(session=session, project=project, filename=name, data=data, split=split,
                                        user=user))
            except imaging.InvalidImage as exc:
                raise imaging.InvalidImage(f"{name}: {exc}") from None
        session.commit()  # inside: a constraint that still fires rolls back and discards like any refusal
    except BaseException:
        paths = [item.storage_path for item in created]
        session.rollback()
        discard_unstored_files(session=session, paths=paths)
        raise
    return created


def add_item(
    *, session: Session, project: Project, filename: str, data: bytes, split: Split, user: User | None,
) -> Item:
    """Decode, re-encode and store an upload, and put its task(s) in the queue (one per tile, if tiled).

    Raises imaging.InvalidImage (not an image, corrupt) or DuplicateItem; nothing is stored then.
    """
    settings = get_settings()
    if len(data) > settings.max_upload_bytes:
        raise imaging.InvalidImage(f"the file is larger than {settings.max_upload_bytes} bytes")
    pixels = imaging.decode_image(data, max_pixels=settings.max_image_pixels)
    return add_pixels(session=session, project=project, filename=filename, pixels=pixels, split=split, user=user)


def add_pixels(
    *, session: Session, project: Project, filename: str, pixels: np.ndarray, split: Split, user: User | None,
) -> Item:
    checksum = pixel_checksum(pixels)
    existing = session.scalar(select(Item).where(Item.project_id == project.id, Item.checksum == checksum))
    if existing is not None:
        raise DuplicateItem(f"{filename!r} is the same image as item {existing.id} ({existing.original_name!r})")
    height, width = pixels.shape[:2]
    relative = f"projects/{project.id}/items/{checksum}.png"
    item = Item(
        project_id=project.id, original_name=filename[:255], storage_path=relative, width=width,
        height=height, checksum=checksum, split=split, created_by_id=user.id if user else None,
    )
    session.add(item)
    session.flush()
    for x, y, w, h in task_regions(width, height, project.task_tile):
        session.add(Task(project_id=project.id, item_id=item.id, x=x, y=y, width=w, height=h))
    storage.write_atomic(relative, imaging.encode_png(pixels))
    audit.record(session=session, action="item.add", entity="item", entity_id=item.id,
                 user_id=user.id if user else None, project_id=project.id,
                 detail={"name": filename[:255], "split": split.value})
    return item


def discard_unstored_files(*, session: Session, paths: list[str]) -> None:
    """Delete the files of item rows that were rolled back.

    Files are named by pixel checksum, so a path may also belong to the same image that another
    request committed a moment ago: a path some stored item uses is kept.
    """
    if not paths:
        return
    used = set(session.scalars(select(Item.storage_path).where(Item.storage_path.in_(paths))))
    for path in set(paths) - used:
        storage.absolute(path).unlink(missing_ok=True)


def task_regions(width: int, height: int, tile: int | None) -> list[tuple[int, int, int, int]]:
    """The whole image, or square tiles covering it (edge tiles are cut to the image)."""
    if not tile:
        return [(0, 0, width, height)]
    return [(x, y, min(tile, width - x), min(tile, height - y))
            for y in range(0, height, tile) for x in range(0, width, tile)]


def load_pixels(item: Item) -> np.ndarray:
    return imaging.decode_png_array(storage.read(item.storage_path))


def get(*, session: Session, project: Project, item_id: int) -> Item | None:
    item = session.get(Item, item_id)
    return item if item is not None and item.project_id == project.id else None


def count(*, session: Session, project_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Item.split, func.count()).where(Item.project_id == project_id).group_by(Item.split)
    ).all()
    return {split.value: n for split, n in rows}
