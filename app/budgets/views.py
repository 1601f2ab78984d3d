"""The Budget tab of the project settings and the burn-down page (a uPlot chart of spent against plan)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.auth.models import User
from app.budgets import burndown, service
from app.deps import PageProject, PageUser, SessionDep, require_project_role
from app.errors import DomainError
from app.projects.models import Project
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)

FIELDS = ("label_budget", "total_hours", "day_labels", "day_hours", "week_labels", "week_hours",
          "annotator_day_labels", "annotator_day_hours", "plan_start", "plan_end")


def _page(request: Request, session: Session, project: Project, user: User, values: dict[str, Any] | None = None,
          error: str | None = None) -> Response:
    budget = service.get(session=session, project_id=project.id)
    if values is None:
        values = {f: getattr(project if f == "label_budget" else budget, f, None) if budget or f == "label_budget"
                  else None for f in FIELDS}
        values = {k: ("" if v is None else v.isoformat() if hasattr(v, "isoformat") else f"{v:g}"
                      if isinstance(v, float) else v) for k, v in values.items()}
    return render(request, "budgets/budget.html", {
        "user": user, "project": project, "tab": "budget", "values": values, "error": error,
        "saved": request.query_params.get("saved"),
        "caps": service.cap_states(session=session, project=project, user=None, budget=budget),
        "per_label": service.seconds_per_label(session=session, project_id=project.id),
    }, status_code=422 if error else 200)


@router.get("/projects/{project_id}/settings/budget")
def budget_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_project_role(session, project, user)
    return _page(request, session, project, user)


@router.post("/projects/{project_id}/settings/budget", dependencies=[Depends(csrf_protect)])
def save_budget(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                label_budget: Annotated[str, Form()] = "", total_hours: Annotated[str, Form()] = "",
                day_labels: Annotated[str, Form()] = "", day_hours: Annotated[str, Form()] = "",
                week_labels: Annotated[str, Form()] = "", week_hours: Annotated[str, Form()] = "",
                annotator_day_labels: Annotated[str, Form()] = "", annotator_day_hours: Annotated[str, Form()] = "",
                plan_start: Annotated[str, Form()] = "", plan_end: Annotated[str, Form()] = "") -> Response:
    require_project_role(session, project, user)
    values = {"label_budget": label_budget, "total_hours": total_hours, "day_labels": day_labels,
              "day_hours": day_hours, "week_labels": week_labels, "week_hours": week_hours,
              "annotator_day_labels": annotator_day_labels, "annotator_day_hours": annotator_day_hours,
              "plan_start": plan_start, "plan_end": plan_end}
    try:
        service.save(session=session, project=project, by=user, values={k: v.strip() for k, v in values.items()})
    except DomainError as exc:
        session.rollback()
        return _page(request, session, project, user, values, str(exc))
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/settings/budget?saved=1", status_code=303)


@router.get("/projects/{project_id}/burndown")
def burndown_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_project_role(session, project, user)
    charts = service.burn_downs(session=session, project=project)
    return render(request, "budgets/burndown.html", {"user": user, "project": project, "charts": charts,
                                                     "chart_json": json.dumps([chart_series(b) for b in charts])})


def chart_series(b: burndown.BurnDown) -> dict[str, Any]:
    """The chart's columns: days (ISO), remaining, plan, and the forecast from today on at the current pace
    (extended to the forecast date, at most 90 days or to the plan's end)."""
    days = list(b.days)
    remaining: list[float | None] = list(b.remaining)
    plan: list[float | None] = list(b.plan)
    forecast: list[float | None] = [None] * (len(days) - 1) + [b.left]
    today = b.days[-1]
    if b.forecast_date and b.left > 0:
        # Far-off dates would flatten the chart: it shows 90 days ahead (or to the plan's end); the page
        # gives the forecast date itself.
        horizon = max(90, (b.plan_end - today).days if b.plan_end else 0)
        ahead = min((b.forecast_date - today).days, horizon)
        for k in range(1, ahead + 1):
            day = today + timedelta(days=k)
            days.append(day)
            remaining.append(None)
            forecast.append(max(b.left - b.pace_per_day * k, 0.0))
            plan.append(burndown.planned_remaining(b.total, day, b.plan_start, b.plan_end) if b.plan_end else None)
    return {"unit": b.unit, "total": b.total, "days": [d.isoformat() for d in days], "remaining": remaining,
            "plan": plan, "forecast": forecast}
