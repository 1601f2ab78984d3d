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
from app.projects import guidelines
from app.queue import service
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/escalations")
def escalations_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    flags = service.open_flags(session=session, project_id=project.id)
    answered = service.recently_answered(session=session, project_id=project.id)
    authors = auth_service.usernames(session=session, user_ids=[f.user_id for f, _ in flags + answered] +
                                     [f.resolved_by_id for f, _ in answered if f.resolved_by_id])
    return render(request, "projects/escalations.html", {
        "user": user, "project": project, "flags": [(f, t, authors.get(f.user_id, "?")) for f, t in flags],
        "answered": [(f, t, authors.get(f.user_id, "?"), authors.get(f.resolved_by_id or 0, "?"))
                     for f, t in answered],
        "promoted": guidelines.promoted_flag_ids(session=session, project_id=project.id)})


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
    return render(request, "projects/_answered.html", {"project": project, "flag": row, "promoted": False,
                                                       "back": True})


@router.post("/projects/{project_id}/escalations/{flag_id}/promote", dependencies=[Depends(csrf_protect)])
def promote_answer(request: Request, flag_id: int, project: PageProject, user: PageUser,
                   session: SessionDep) -> Response:
    """One click: the lead's answer to a flag becomes an entry of the project's guidelines."""
    require_role(user, Role.lead)
    row = service.get_flag(session=session, project_id=project.id, flag_id=flag_id)
    if row is None or row.resolution is None:
        raise NotFound("no answered flag with this id")
    try:
        version = guidelines.add_answer(session=session, project_id=project.id, question=row.note,
                                        answer=row.resolution, author_id=user.id, flag_id=row.id)
    except DomainError as exc:
        return HTMLResponse(f'<span class="error">{escape(str(exc))}</span>', status_code=exc.status)
    session.commit()
    return HTMLResponse(f'<span class="ok" data-testid="promoted">In the guidelines (v{version.version}).</span>')
