"""Gathering labeled data for training and evaluation from the database and the data directory."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotations import service as annotation_service
from app.annotations.models import Annotation, AnnotationStatus
from app.items import service as item_service
from app.items.models import Item, Split


@dataclass
class LabeledSet:
    images: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    annotation_ids: list[int] = field(default_factory=list)


def labeled_set(*, session: Session, project_id: int, split: Split) -> LabeledSet:
    """Latest submitted mask per task, merged per item (several region tasks may cover one item)."""
    rows = session.execute(
        select(Annotation, Item).join(Item, Item.id == Annotation.item_id)
        .where(Item.project_id == project_id, Item.split == split,
               Annotation.status == AnnotationStatus.submitted)
        .order_by(Item.id, Annotation.id)
    ).all()
    out = LabeledSet()
    by_item: dict[int, int] = {}
    for annotation, item in rows:
        mask = annotation_service.load_mask(annotation)
        if item.id in by_item:
            merged = out.masks[by_item[item.id]]
            labeled = mask != 255
            merged[labeled] = mask[labeled]
        else:
            by_item[item.id] = len(out.images)
            out.images.append(item_service.load_pixels(item))
            out.masks.append(mask.copy())
        out.annotation_ids.append(annotation.id)
    return out
