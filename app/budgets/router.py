"""The budget's JSON API: read and set it, and its burn-down numbers."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.models import User
from app.budgets import service
from app.budgets.schemas import BudgetIn, BudgetRead, BurnDownRead, CapRead
from app.deps import ApiProject, ApiUser, SessionDep, require_project_role
from app.projects.models import Project
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}/budget", tags=["budget"],
                   dependencies=[Depends(csrf_protect)])

FIELDS = ("total_hours", "day_labels", "day_hours", "week_labels", "week_hours", "annotator_day_labels",
          "annotator_day_hours", "plan_start", "plan_end")


def budget_read(session: Session, project: Project, user: User) -> BudgetRead:
    budget = service.get(session=session, project_id=project.id)
    caps = service.cap_states(session=session, project=project, user=user, budget=budget)
    return BudgetRead(
        project_id=project.id, label_budget=project.label_budget,
        **{f: getattr(budget, f) for f in FIELDS} if budget else {},
        seconds_per_label=service.seconds_per_label(session=session, project_id=project.id),
        caps=[CapRead(field=c.field, name=c.name, unit=c.unit, limit=c.limit, used=c.used, reached=c.reached,
                      resets_at=c.resets_at) for c in caps])


@router.get("")
def get_budget(project: ApiProject, user: ApiUser, session: SessionDep) -> BudgetRead:
    return budget_read(session, project, user)


@router.put("")
def set_budget(body: BudgetIn, project: ApiProject, user: ApiUser, session: SessionDep) -> BudgetRead:
    """Set the fields given (null clears one): all are checked first; a refusal names the field."""
    require_project_role(session, project, user)
    service.save(session=session, project=project, by=user, values=body.model_dump(exclude_unset=True))
    session.commit()
    return budget_read(session, project, user)


@router.get("/burndown")
def burn_down(project: ApiProject, user: ApiUser, session: SessionDep) -> list[BurnDownRead]:
    require_project_role(session, project, user)
    return [BurnDownRead(unit=b.unit, total=b.total, left=b.left, days=b.days, spent=b.spent, remaining=b.remaining,
                         plan=b.plan, pace_per_day=b.pace_per_day, forecast_date=b.forecast_date,
                         plan_end=b.plan_end)
            for b in service.burn_downs(session=session, project=project)]


@router.get("/burndown.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "the burn-down as CSV"}})
def burn_down_csv(project: ApiProject, user: ApiUser, session: SessionDep) -> Response:
    """One row per budget unit and day: spent (cumulative), remaining, and the plan's remaining."""
    require_project_role(session, project, user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["unit", "day", "spent", "remaining", "plan_remaining"])
    for b in service.burn_downs(session=session, project=project):
        for day, spent, left, plan in zip(b.days, b.spent, b.remaining, b.plan, strict=True):
            writer.writerow([b.unit, day.isoformat(), f"{spent:g}", f"{left:g}", "" if plan is None else f"{plan:g}"])
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="burndown-project{project.id}.csv"'})
