from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.deps import PageProject, PageUser, SessionDep
from app.items import service as item_service
from app.projects import service
from app.queue import service as queue_service
from app.templating import render
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
    })
