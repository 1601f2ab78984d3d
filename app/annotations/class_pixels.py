"""How many pixels of each class a label holds, counted once when it is stored: the dashboard's sampling
mix sums these in SQL (per pick kind and strategy) instead of reading tens of thousands of mask files."""

from __future__ import annotations

import numpy as np
from sqlalchemy import ForeignKey, SmallInteger
from sqlalchemy.orm import Mapped, Session, mapped_column

from app import imaging
from app.db import Base


class AnnotationClassPixels(Base):
    __tablename__ = "annotation_class_pixels"

    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"), primary_key=True)
    class_index: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    pixels: Mapped[int]


def record(*, session: Session, annotation_id: int, mask: np.ndarray) -> None:
    """One row per class the mask labels (unlabeled pixels are not a class); the caller commits."""
    counts = np.bincount(mask[mask != imaging.IGNORE].ravel().astype(np.int64))
    session.add_all(AnnotationClassPixels(annotation_id=annotation_id, class_index=int(k), pixels=int(n))
                    for k, n in enumerate(counts) if n)
