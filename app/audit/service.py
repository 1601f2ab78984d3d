from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.audit.models import AuditLog


def record(
    *,
    session: Session,
    action: str,
    entity: str,
    entity_id: int | None = None,
    user_id: int | None = None,
    project_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(
            action=action,
            entity=entity,
            entity_id=entity_id,
            user_id=user_id,
            project_id=project_id,
            detail=detail or {},
        )
    )
