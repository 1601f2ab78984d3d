"""What the dashboard keeps between requests: how each label was picked, classified once.

A label's pick (from the steered random share, ranked by the strategy, or before any ranking) is fixed
once it is submitted, but finding it means reading the JSON of the score it was served under; over tens
of thousands of labels that reading dominated the dashboard's time. Each label is classified once into
this narrow table when the dashboard is shown (the labels new since the last look: the periodic job
cannot do it, flows do not import dashboards).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class LabelPick(Base):
    __tablename__ = "label_pick"

    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]  # the label's
    kind: Mapped[str] = mapped_column(String(16))  # random | ranked | unranked
    strategy: Mapped[str] = mapped_column(String(32))  # of the ranking that served it ("" before any)
    fg_fraction: Mapped[float | None] = mapped_column(Float)  # the model's expected foreground share


class LabelMixPixels(Base):
    """Pixels per class of the labels classified into label_pick, summed per pick kind and strategy as they are
    classified (app/dashboards/desk_data.py): the sampling mix by class reads a few rows, not every label's."""

    __tablename__ = "label_mix_pixels"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(32), primary_key=True)
    class_index: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    pixels: Mapped[int] = mapped_column(BigInteger)
