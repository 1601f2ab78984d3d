"""The escalation queue: flagged tasks waiting for a lead, and their resolution."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.auth import service as auth_service
from app.auth.models import Role
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError, NotFound
from app.queue import service
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/escalations")
def escalations_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    flags = service.open_flags(session=session, project_id=project.id)
    authors = auth_service.usernames(session=session, user_ids=[f.user_id for f, _ in flags])
    return render(request, "projects/escalations.html", {
        "user": user, "project": project, "flags": [(f, t, authors.get(f.user_id, "?")) for f, t in flags]})


@router.post("/projects/{project_id}/escalations/{flag_id}/resolve", dependencies=[Depends(csrf_protect)])
def resolve_escalation(request: Request, flag_id: int, project: PageProject, user: PageUser, session: SessionDep,
                       resolution: Annotated[str, Form()]) -> Response:
    require_role(user, Role.lead)
    row = service.get_flag(session=session, project_id=project.id, flag_id=flag_id)
    if row is None:
        raise NotFound("flag not found")
    try:
        service.resolve_flag(session=session, flag_row=row, user=user, resolution=resolution)
    except DomainError as exc:
        return HTMLResponse(f'<tr><td colspan="6" class="error">{escape(str(exc))}</td></tr>', status_code=exc.status)
    session.commit()
    return HTMLResponse(f'<tr><td colspan="6" class="muted">Task {row.task_id} is back in the queue.</td></tr>')
