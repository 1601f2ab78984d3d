from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from app.auth.models import Role, User
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.items import service as item_service
from app.projects import service
from app.queue import service as queue_service
from app.queue.models import Flag, Task
from app.security import csrf_protect
from app.templating import render
from app.training import service as training_service
from app.training.models import ModelVersion

router = APIRouter(include_in_schema=False)


@router.get("/")
def projects_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    projects = service.list_for_member(session=session, user=user)
    return render(request, "projects/list.html", {"user": user, "projects": projects})


@router.get("/projects/{project_id}")
def project_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    models = list(session.scalars(
        select(ModelVersion).where(ModelVersion.project_id == project.id).order_by(ModelVersion.version.desc())
    ))
    return render(request, "projects/overview.html", {
        "user": user, "project": project, "models": models,
        "queue": queue_service.list_queue(session=session, project=project, limit=25),
        "items": item_service.count(session=session, project_id=project.id),
        "ranked_by": queue_service.ranked_model_version_id(session=session, project_id=project.id),
        "stop": training_service.stop_advice(models),
    })


@router.get("/projects/{project_id}/escalations")
def escalations_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    flags = queue_service.open_flags(session=session, project_id=project.id)
    authors = {u.id: u.username for u in session.scalars(select(User).where(
        User.id.in_([f.user_id for f, _ in flags])))} if flags else {}
    return render(request, "projects/escalations.html", {
        "user": user, "project": project, "flags": [(f, t, authors.get(f.user_id, "?")) for f, t in flags]})


@router.post("/projects/{project_id}/escalations/{flag_id}/resolve", dependencies=[Depends(csrf_protect)])
def resolve_escalation(request: Request, flag_id: int, project: PageProject, user: PageUser, session: SessionDep,
                       resolution: Annotated[str, Form()]) -> Response:
    require_role(user, Role.lead)
    row = session.get(Flag, flag_id)
    task = session.get(Task, row.task_id) if row else None
    if row is None or task is None or task.project_id != project.id:
        raise HTTPException(status_code=404, detail="flag not found")
    try:
        queue_service.resolve_flag(session=session, flag_row=row, user=user, resolution=resolution)
    except queue_service.QueueError as exc:
        return HTMLResponse(f'<tr><td colspan="6" class="error">{escape(str(exc))}</td></tr>', status_code=exc.status)
    session.commit()
    return HTMLResponse(f'<tr><td colspan="6" class="muted">Task {task.id} is back in the queue.</td></tr>')
