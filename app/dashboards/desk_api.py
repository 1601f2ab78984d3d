"""The dashboard's figures in the JSON API: each chart's table (as the CSV holds it) and its summary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.auth.models import Role
from app.dashboards import desk_data
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import NotFound
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}/dashboard", tags=["dashboard"],
                   dependencies=[Depends(csrf_protect)])


class ChartRead(BaseModel):
    name: str
    title: str
    columns: list[str]
    rows: list[list[float | int | str | None]]
    summary: dict[str, Any]


@router.get("")
def chart_names(project: ApiProject, user: ApiUser) -> list[str]:
    require_role(user, Role.lead)
    return list(desk_data.CHARTS)


@router.get("/{name}")
def chart(name: str, project: ApiProject, user: ApiUser, session: SessionDep) -> ChartRead:
    require_role(user, Role.lead)
    table = desk_data.chart(session, project, name)
    if table is None:
        raise NotFound(f"no chart named {name!r}; see GET /api/v1/projects/{project.id}/dashboard")
    session.commit()  # the labels classified on the way (label_pick) are kept
    return ChartRead(name=table.name, title=table.title, columns=table.columns, rows=table.rows,
                     summary=table.summary)
