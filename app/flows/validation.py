"""The validation split, managed by a lead: a share of the project's images held out at random, and single
images picked in or out. An image that has a label or is being labeled keeps its split: moving it would
put a label the model trained on into its measurement, or the other way round."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotations.models import Annotation
from app.audit import service as audit
from app.auth.models import User
from app.db import utcnow
from app.errors import DomainError
from app.items.models import Item, Split
from app.projects import service as project_service
from app.projects.models import Project
from app.queue.models import Lease, Task


@dataclass(frozen=True)
class ItemRow:
    item: Item
    fixed: bool  # labeled or being labeled: its split stays


def _fixed_item_ids(session: Session, project_id: int) -> set[int]:
    labeled = select(Annotation.item_id).join(Item, Item.id == Annotation.item_id).where(Item.project_id == project_id)
    leased = (select(Task.item_id).join(Lease, Lease.task_id == Task.id)
              .where(Task.project_id == project_id, Lease.released_at.is_(None), Lease.expires_at > utcnow()))
    return set(session.scalars(labeled)) | set(session.scalars(leased))


def items(*, session: Session, project_id: int) -> list[ItemRow]:
    fixed = _fixed_item_ids(session, project_id)
    rows = session.scalars(select(Item).where(Item.project_id == project_id).order_by(Item.id))
    return [ItemRow(item=i, fixed=i.id in fixed) for i in rows]


def set_split(*, session: Session, project: Project, item_ids: list[int], split: Split, by: User) -> int:
    """Pick images into (or out of) the validation split; all or none. Returns how many moved."""
    found = {i.id: i for i in session.scalars(select(Item).where(Item.project_id == project.id,
                                                                Item.id.in_(item_ids)))}
    missing = [i for i in item_ids if i not in found]
    if missing:
        raise DomainError(f"item_ids: no image {missing[0]} in this project", status=404)
    fixed = _fixed_item_ids(session, project.id)
    moving = [found[i] for i in item_ids if found[i].split != split]
    stuck = [i for i in moving if i.id in fixed]
    if stuck:
        raise DomainError(f"item_ids: image {stuck[0].id} ({stuck[0].original_name}) has a label or is being "
                          "labeled; its split stays", status=409)
    for item in moving:
        item.split, item.held_out_on_upload = split, False
    audit.record(session=session, action="validation.pick", entity="project", entity_id=project.id, user_id=by.id,
                 project_id=project.id, detail={"split": split.value, "item_ids": [i.id for i in moving]})
    return len(moving)


@dataclass(frozen=True)
class Redrawn:
    target: int  # validation images the share asks for
    validation: int  # validation images after the draw
    moved_in: int
    moved_out: int


def redraw(*, session: Session, project: Project, by: User, share: float | None = None,
           seed: int | None = None) -> Redrawn:
    """Set the share (when given) and draw images at random, among those free to move, until the validation
    split holds round(share x images). Images with labels stay where they are, so the split may miss the
    target; the result says by how much."""
    if share is not None:
        project_service.check_validation_share(share)
        project.validation_share = share
    rows = items(session=session, project_id=project.id)
    target = round(project.validation_share * len(rows))
    held_out = [r.item for r in rows if r.item.split == Split.validation]
    rng = random.Random(seed)
    moved_in = moved_out = 0
    if len(held_out) < target:
        free = [r.item for r in rows if r.item.split == Split.pool and not r.fixed]
        for item in rng.sample(free, min(len(free), target - len(held_out))):
            item.split, item.held_out_on_upload, moved_in = Split.validation, False, moved_in + 1
    elif len(held_out) > target:
        free = [r.item for r in rows if r.item.split == Split.validation and not r.fixed]
        for item in rng.sample(free, min(len(free), len(held_out) - target)):
            item.split, item.held_out_on_upload, moved_out = Split.pool, False, moved_out + 1
    result = Redrawn(target=target, validation=len(held_out) + moved_in - moved_out, moved_in=moved_in,
                     moved_out=moved_out)
    audit.record(session=session, action="validation.redraw", entity="project", entity_id=project.id,
                 user_id=by.id, project_id=project.id,
                 detail={"share": project.validation_share, **result.__dict__})
    return result


def upload_rank(project_id: int, checksum: str) -> int:
    """Where an image stands in the upload draw: a hash of the project and the image's pixels, so the same
    image in the same project is always drawn the same way (and a test can compute the draw by hand)."""
    return int.from_bytes(hashlib.sha256(f"{project_id}:{checksum}".encode()).digest()[:8], "big")


def hold_out_uploads(*, session: Session, project: Project, new_items: list[Item], by: User | None) -> list[Item]:
    """Hold out part of a batch of new pool images so that the validation split keeps the project's share as
    the pool grows: the split is topped up to round(share x all images), from the new images only (older
    ones keep their split), lowest upload_rank first. Returns the images held out; the caller commits."""
    fresh = [i for i in new_items if i.split == Split.pool]
    if not fresh or project.validation_share <= 0:
        return []
    new_ids = [i.id for i in new_items if i.id is not None]
    with session.no_autoflush:  # the older images only; the batch's own rows are counted from the list
        counts = dict(session.execute(select(Item.split, func.count())
                                      .where(Item.project_id == project.id, Item.id.not_in(new_ids))
                                      .group_by(Item.split)).all())
    target = round(project.validation_share * (sum(counts.values()) + len(new_items)))
    need = min(len(fresh), target - counts.get(Split.validation, 0))
    if need <= 0:
        return []
    drawn = sorted(fresh, key=lambda i: upload_rank(project.id, i.checksum))[:need]
    for item in drawn:
        item.split, item.held_out_on_upload = Split.validation, True
    audit.record(session=session, action="validation.upload_draw", entity="project", entity_id=project.id,
                 user_id=by.id if by else None, project_id=project.id,
                 detail={"share": project.validation_share, "item_ids": [i.id for i in drawn]})
    return drawn


def held_out_on_upload(*, session: Session, project_id: int) -> int:
    """Validation images that came there by the upload draw (not moved since)."""
    return int(session.scalar(select(func.count()).select_from(Item).where(
        Item.project_id == project_id, Item.split == Split.validation, Item.held_out_on_upload.is_(True))) or 0)
