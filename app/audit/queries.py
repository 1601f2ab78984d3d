"""Reading the audit log: filtered pages, newest first, by keyset on the id (stable while rows are added,
and as fast on page 1,000 as on page 1)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditLog

PAGE_SIZE = 50


@dataclass
class AuditPage:
    rows: list[AuditLog]  # newest first
    newer: int | None  # pass as `after` for the page before this one (None: this is the newest)
    older: int | None  # pass as `before` for the next page (None: nothing older)


def page(*, session: Session, user_id: int | None = None, project_id: int | None = None, action: str | None = None,
         entity: str | None = None, entity_id: int | None = None, before: int | None = None,
         after: int | None = None, limit: int = PAGE_SIZE) -> AuditPage:
    """Entries matching every filter given; `before` gives the page older than that id, `after` the
    page newer than it (one of the two at most; `before` wins)."""
    where = []
    if user_id is not None:
        where.append(AuditLog.user_id == user_id)
    if project_id is not None:
        where.append(AuditLog.project_id == project_id)
    if action:
        where.append(AuditLog.action == action)
    if entity:
        where.append(AuditLog.entity == entity)
    if entity_id is not None:
        where.append(AuditLog.entity_id == entity_id)
    stmt = select(AuditLog).where(*where)
    if before is None and after is not None:
        # The `limit` entries just above `after`, read upwards, then turned newest first.
        rows = list(session.scalars(stmt.where(AuditLog.id > after).order_by(AuditLog.id).limit(limit + 1)))
        more_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        more_older = session.scalar(select(AuditLog.id).where(*where, AuditLog.id <= after).limit(1)) is not None
    else:
        if before is not None:
            stmt = stmt.where(AuditLog.id < before)
        rows = list(session.scalars(stmt.order_by(AuditLog.id.desc()).limit(limit + 1)))
        more_older = len(rows) > limit
        rows = rows[:limit]
        more_newer = before is not None and session.scalar(
            select(AuditLog.id).where(*where, AuditLog.id >= before).limit(1)) is not None
    return AuditPage(rows=rows, newer=rows[0].id if rows and more_newer else None,
                     older=rows[-1].id if rows and more_older else None)


def actions(*, session: Session) -> list[str]:
    """Every action name the log holds, for the filter's choices."""
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
