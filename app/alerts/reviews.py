"""The one place the SLA rule "submit to review" reads review timestamps from.

Reviews are being built in their own domain; until they exist no label awaits a review, so the rule
finds nothing. When they land, this function returns each submitted label that needs a review with
its review time (None while unreviewed), and the rule works unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class AwaitingReview:
    annotation_id: int
    task_id: int
    author_id: int
    submitted_at: datetime
    reviewed_at: datetime | None


def awaiting_review(*, session: Session, project_id: int) -> list[AwaitingReview]:
    """Submitted labels of the project that need a review, with when they got it (None: not yet)."""
    return []
