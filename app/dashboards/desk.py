"""The lead's dashboard: charts (uPlot, refreshed by HTMX, each also a CSV), the SLA breaches with the
tasks and people involved, the alert settings and every webhook delivery attempt."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.alerts import service as alert_service
from app.auth.models import Role, User
from app.dashboards import desk_data
from app.dashboards.desk_plots import plot
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError, NotFound
from app.projects.models import Project
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)

ORDER = ("efficiency", "iou", "calibration", "mix", "mix_classes", "throughput", "queue", "breaches")
REFRESH_SECONDS = 60


def chart_context(session: Session, project: Project, name: str) -> dict[str, Any]:
    table = desk_data.chart(session, project, name)
    if table is None:
        raise NotFound(f"no chart named {name!r}")
    return {"project": project, "table": table, "plot": plot(table), "refresh": REFRESH_SECONDS}


def _page(request: Request, project: Project, user: User, session: Session, *, error: str | None = None,
          form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "dashboards/desk.html", {
        "user": user, "project": project, "charts": [chart_context(session, project, n) for n in ORDER],
        "settings": alert_service.settings_or_default(session=session, project_id=project.id),
        "deliveries": alert_service.recent_deliveries(session=session, project_id=project.id),
        "error": error, "form": form or {}, "refresh": REFRESH_SECONDS,
    }, status_code=status_code)


@router.get("/projects/{project_id}/dashboard")
def dashboard(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    page = _page(request, project, user, session)
    session.commit()  # the labels classified on the way (label_pick) are kept
    return page


@router.get("/projects/{project_id}/dashboard/charts/{name}")
def chart_fragment(request: Request, name: str, project: PageProject, user: PageUser,
                   session: SessionDep) -> Response:
    """One chart's card, as HTMX refreshes it."""
    require_role(user, Role.lead)
    fragment = render(request, "dashboards/_chart.html", {"chart": chart_context(session, project, name)})
    session.commit()
    return fragment


@router.get("/projects/{project_id}/dashboard/{name}.csv")
def chart_csv(name: str, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    table = desk_data.chart(session, project, name)
    if table is None:
        raise NotFound(f"no chart named {name!r}")
    session.commit()
    return Response(to_csv(table), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="project-{project.id}-{name}.csv"'})


def to_csv(table: desk_data.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        # A cell a spreadsheet would run as a formula is written as text (user names, details).
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else
                         ("" if v is None else v) for v in row])
    return out.getvalue()


FORM_FIELDS = ("max_open_age_hours", "max_flag_hours", "max_review_hours", "throughput_floor_per_day",
               "webhook_url", "drift_threshold")


def _number(form: dict[str, str], key: str, cast: type) -> Any:
    value = form.get(key, "").strip()
    if not value:
        return None
    try:
        return cast(value)
    except ValueError:
        raise DomainError(f"{key}: {value!r} is not a number") from None


def settings_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The form's hours as the settings' seconds; an empty field clears its limit."""
    changes: dict[str, Any] = {}
    for field, key in (("max_open_age_hours", "max_open_age_seconds"), ("max_flag_hours", "max_flag_seconds"),
                       ("max_review_hours", "max_review_seconds")):
        hours = _number(form, field, float)
        if hours is not None and not hours > 0:
            raise DomainError(f"{field}: must be above 0 hours, or empty for no limit")
        changes[key] = None if hours is None else max(1, round(hours * 3600))
    changes["throughput_floor_per_day"] = _number(form, "throughput_floor_per_day", float)
    changes["drift_threshold"] = _number(form, "drift_threshold", float)
    changes["webhook_url"] = form.get("webhook_url", "").strip() or None
    changes["drift_boost"] = form.get("drift_boost") == "on"
    return changes


@router.post("/projects/{project_id}/dashboard/alerts", dependencies=[Depends(csrf_protect)])
def save_alerts(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                max_open_age_hours: Annotated[str, Form()] = "", max_flag_hours: Annotated[str, Form()] = "",
                max_review_hours: Annotated[str, Form()] = "", throughput_floor_per_day: Annotated[str, Form()] = "",
                webhook_url: Annotated[str, Form(max_length=2000)] = "",
                drift_threshold: Annotated[str, Form()] = "0.5", drift_boost: Annotated[str, Form()] = "") -> Response:
    require_role(user, Role.lead)
    form = {"max_open_age_hours": max_open_age_hours, "max_flag_hours": max_flag_hours,
            "max_review_hours": max_review_hours, "throughput_floor_per_day": throughput_floor_per_day,
            "webhook_url": webhook_url, "drift_threshold": drift_threshold, "drift_boost": drift_boost}
    try:
        alert_service.update_settings(session=session, project_id=project.id, user_id=user.id,
                                      **settings_from_form(form))
    except DomainError as exc:  # the page again with the message and what was typed; nothing saved
        session.rollback()
        return _page(request, project, user, session, error=str(exc), form=form, status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/dashboard#alerts", status_code=303)
