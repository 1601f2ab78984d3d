"""What the dashboard keeps between requests: how each label was picked, classified once.

A label's pick (from the steered random share, ranked by the strategy, or before any ranking) is fixed
once it is submitted, but finding it means reading the JSON of the score it was served under; over tens
of thousands of labels that reading dominated the dashboard's time. Each label is classified once into
this narrow table when the dashboard is shown (the labels new since the last look: the periodic job
cannot do it, flows do not import dashboards).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
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
