"""Alerts in the JSON API: the SLA and webhook settings, open breaches, webhook deliveries, drift."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from app.alerts import service
from app.alerts.schemas import (
    AlertSettingsIn,
    AlertSettingsRead,
    AttemptRead,
    BreachPage,
    BreachRead,
    DeliveryPage,
    DeliveryRead,
    DriftRead,
)
from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.pagination import PageQuery, page_of_list
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
def breaches(project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
             response: Response) -> BreachPage:
    """Open breaches, oldest first."""
    require_role(user, Role.lead)
    offset, size = paging.fetch()
    rows = service.open_breaches(session=session, project_id=project.id, limit=offset + size)
    return page_of_list(BreachPage, rows, paging, response, BreachRead.model_validate)


@router.get("/deliveries")
def deliveries(project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
               response: Response) -> DeliveryPage:
    """Webhook deliveries, newest first, each with its attempts."""
    require_role(user, Role.lead)
    offset, size = paging.fetch()
    rows = service.recent_deliveries(session=session, project_id=project.id, limit=offset + size)
    return page_of_list(DeliveryPage, rows, paging, response, lambda row: DeliveryRead.model_validate(
        row[0]).model_copy(update={"attempt_log": [AttemptRead.model_validate(a) for a in row[1]]}))


@router.get("/drift")
def drift(project: ApiProject, user: ApiUser, session: SessionDep) -> DriftRead | None:
    require_role(user, Role.lead)
    check = service.latest_drift(session=session, project_id=project.id)
    return DriftRead.model_validate(check) if check else None
