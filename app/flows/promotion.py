"""A lead makes a model version live (promote a held-back one, or roll back to an earlier one): the
switch is committed, then the queue is rescored with it (only tasks it has not scored) and re-ranked."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import lock_row
from app.flows.scoring import start_scoring
from app.modeling import promotion
from app.modeling.models import ModelVersion
from app.projects.models import Project


def make_live(*, session: Session, project: Project, mv: ModelVersion, user: User, action: str,
              reason: str = "") -> tuple[int, int]:
    """Returns the scoring run enqueued with the version: (run id, chunks)."""
    lock_row(session, Project.name, project.id)  # no training gate or other promotion in between
    promotion.make_live(session=session, mv=mv, user=user, action=action, reason=reason)
    session.commit()
    return start_scoring(mv.id)
