"""A project's error taxonomy (the reasons a reviewer rejects for) and its quality-control settings."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.errors import Conflict, DomainError, NotFound
from app.projects.models import Project
from app.review.models import DEFAULT_ERROR_TYPES, ErrorType

NAME_LIMIT = 100


def error_types(*, session: Session, project_id: int, active_only: bool = False) -> list[ErrorType]:
    """The project's error types, oldest first; a project that has none yet gets the defaults."""
    rows = list(session.scalars(select(ErrorType).where(ErrorType.project_id == project_id).order_by(ErrorType.id)))
    if not rows:
        rows = [ErrorType(project_id=project_id, name=name) for name in DEFAULT_ERROR_TYPES]
        session.add_all(rows)
        session.flush()
    return [r for r in rows if r.active] if active_only else rows


def get(*, session: Session, project_id: int, error_type_id: int) -> ErrorType | None:
    row = session.get(ErrorType, error_type_id)
    return row if row is not None and row.project_id == project_id else None


def _clean_name(*, session: Session, project_id: int, name: str, except_id: int | None = None) -> str:
    name = " ".join(name.split())
    if not name or len(name) > NAME_LIMIT:
        raise DomainError(f"name: an error type's name must be 1 to {NAME_LIMIT} characters")
    clash = session.scalar(select(ErrorType.id).where(ErrorType.project_id == project_id,
                                                      func.lower(ErrorType.name) == name.lower()))
    if clash is not None and clash != except_id:
        raise Conflict(f"name: the error type {name!r} exists already")
    return name


def add(*, session: Session, project: Project, user: User, name: str) -> ErrorType:
    error_types(session=session, project_id=project.id)  # the defaults first, so adding keeps them
    row = ErrorType(project_id=project.id, name=_clean_name(session=session, project_id=project.id, name=name))
    session.add(row)
    session.flush()
    audit.record(session=session, action="error_type.add", entity="error_type", entity_id=row.id, user_id=user.id,
                 project_id=project.id, detail={"name": row.name})
    return row


def update(*, session: Session, project: Project, user: User, error_type_id: int, name: str | None = None,
           active: bool | None = None) -> ErrorType:
    """Rename, retire (active=False: no longer offered, old reviews keep it) or bring back an error type."""
    row = get(session=session, project_id=project.id, error_type_id=error_type_id)
    if row is None:
        raise NotFound("error type not found")
    before = {"name": row.name, "active": row.active}
    if name is not None:
        row.name = _clean_name(session=session, project_id=project.id, name=name, except_id=row.id)
    if active is not None:
        if not active and row.active and len(error_types(session=session, project_id=project.id,
                                                         active_only=True)) <= 1:
            raise Conflict("active: the last error type cannot be retired; reviewers need a reason to reject")
        row.active = active
    audit.record(session=session, action="error_type.update", entity="error_type", entity_id=row.id,
                 user_id=user.id, project_id=project.id,
                 detail={"before": before, "after": {"name": row.name, "active": row.active}})
    return row


def check_share(value: float, field: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0 or value != value:
        raise DomainError(f"{field} must be between 0 and 1 (got {value})")
    return value


def update_settings(*, session: Session, project: Project, user: User, review_share: float | None = None,
                    gold_rate: float | None = None) -> None:
    """Both checked before either is written: a bad value changes nothing."""
    changes = {}
    if review_share is not None:
        changes["review_share"] = check_share(review_share, "review_share")
    if gold_rate is not None:
        changes["gold_rate"] = check_share(gold_rate, "gold_rate")
    before = {k: getattr(project, k) for k in changes}
    for key, value in changes.items():
        setattr(project, key, value)
    audit.record(session=session, action="project.quality_settings", entity="project", entity_id=project.id,
                 user_id=user.id, project_id=project.id, detail={"before": before, "after": changes})
