"""A project's representation: the U-Net trunk learned without labels from its own pool (app.learning.pretrain),
versioned per project, and each image's pooled embedding under it (what diversity and drift read)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class RepresentationStatus(enum.StrEnum):
    queued = "queued"
    training = "training"
    ready = "ready"
    failed = "failed"


class Representation(Base):
    __tablename__ = "representation"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_representation_project_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    status: Mapped[RepresentationStatus] = mapped_column(
        Enum(RepresentationStatus, name="representation_status", native_enum=False, length=16), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")  # "pool reached 20 images", "requested", ...
    weights_path: Mapped[str | None] = mapped_column(String(500))  # a checkpoint (torch.save; weights_only load)
    pool_size: Mapped[int] = mapped_column(default=0)  # the pool images it learned from
    loss_before: Mapped[float | None] = mapped_column(Float)  # pretext loss, first logged window
    loss_after: Mapped[float | None] = mapped_column(Float)  # and last
    steps: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[float | None] = mapped_column(Float)  # wall time of the pretraining
    error: Mapped[str | None] = mapped_column(Text)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ItemEmbedding(Base):
    """One image's globally pooled trunk features [F] under one representation, cached so that diversity
    and drift do not run the trunk again."""

    __tablename__ = "item_embedding"
    __table_args__ = (
        UniqueConstraint("item_id", "representation_id", name="uq_item_embedding_item_id_representation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    representation_id: Mapped[int] = mapped_column(ForeignKey("representation.id", ondelete="CASCADE"), index=True)
    vector: Mapped[list[float]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
