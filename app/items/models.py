from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Split(enum.StrEnum):
    pool = "pool"  # labeled through the queue, used for training
    validation = "validation"  # labeled to measure the model, never trained on


class Item(Base):
    """An uploaded image, stored re-encoded as PNG under the data directory."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("project_id", "checksum", name="uq_item_project_id_checksum"),
                      # the dashboard tells pool from validation rows by the few validation items
                      Index("ix_item_project_id_split", "project_id", "split"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    storage_path: Mapped[str] = mapped_column(String(500))  # relative to the data directory
    width: Mapped[int]
    height: Mapped[int]
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 of the stored (re-encoded) pixels
    split: Mapped[Split] = mapped_column(Enum(Split, name="split", native_enum=False, length=16))
    # drawn into the validation split as it was uploaded (the project's share); a lead's pick or redraw clears it
    held_out_on_upload: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
