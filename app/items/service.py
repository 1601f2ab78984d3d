from __future__ import annotations

import hashlib

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import imaging, storage
from app.audit import service as audit
from app.auth.models import User
from app.config import get_settings
from app.errors import Conflict
from app.items.models import Item, Split
from app.projects.models import Project


class DuplicateItem(Conflict):
    """The same pixels are already an item of the project (409)."""


def pixel_checksum(image: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(f"{image.shape}".encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()


def add_item(
    *, session: Session, project: Project, filename: str, data: bytes, split: Split, user: User | None,
) -> Item:
    """Decode, re-encode and store an upload as an item (the caller queues its tasks and commits).

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


def list_items(*, session: Session, project_id: int, offset: int = 0, limit: int | None = None) -> list[Item]:
    return list(session.scalars(select(Item).where(Item.project_id == project_id).order_by(Item.id)
                                .offset(offset).limit(limit)))
