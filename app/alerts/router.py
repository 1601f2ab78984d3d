"""Alerts in the JSON API: the SLA and webhook settings, open breaches, webhook deliveries, drift."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.alerts import service
from app.alerts.schemas import (
    AlertSettingsIn,
    AlertSettingsRead,
    AttemptRead,
    BreachRead,
    DeliveryRead,
    DriftRead,
)
from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}/alerts", tags=["alerts"],
                   dependencies=[Depends(csrf_protect)])


@router.get("/settings")
def get_settings(project: ApiProject, user: ApiUser, session: SessionDep) -> AlertSettingsRead:
    require_role(user, Role.lead)
    return AlertSettingsRead.model_validate(service.settings_or_default(session=session, project_id=project.id))


@router.put("/settings")
def update_settings(body: AlertSettingsIn, project: ApiProject, user: ApiUser,
                    session: SessionDep) -> AlertSettingsRead:
    require_role(user, Role.lead)
    row = service.update_settings(session=session, project_id=project.id, user_id=user.id,
                                  **body.model_dump(exclude_unset=True))
    session.commit()
    return AlertSettingsRead.model_validate(row)


@router.get("/breaches")
def breaches(project: ApiProject, user: ApiUser, session: SessionDep) -> list[BreachRead]:
    require_role(user, Role.lead)
    return [BreachRead.model_validate(b) for b in service.open_breaches(session=session, project_id=project.id)]


@router.get("/deliveries")
def deliveries(project: ApiProject, user: ApiUser, session: SessionDep) -> list[DeliveryRead]:
    require_role(user, Role.lead)
    return [DeliveryRead.model_validate(d).model_copy(update={"attempt_log": [AttemptRead.model_validate(a)
                                                                              for a in attempts]})
            for d, attempts in service.recent_deliveries(session=session, project_id=project.id)]


@router.get("/drift")
def drift(project: ApiProject, user: ApiUser, session: SessionDep) -> DriftRead | None:
    require_role(user, Role.lead)
    check = service.latest_drift(session=session, project_id=project.id)
    return DriftRead.model_validate(check) if check else None
