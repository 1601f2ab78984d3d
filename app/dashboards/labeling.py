"""The labeling page, its header strip and the "why this task" panel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.annotations import service as annotation_service
from app.deps import PageProject, PageUser, SessionDep
from app.modeling import service as model_service
from app.projects.models import Project
from app.queue import service as queue_service
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/label")
def labeling_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    return render(request, "labeling/page.html", {"user": user, "project": project,
                                                  "empty_queue": queue_service.EMPTY_QUEUE,
                                                  **_stats(session, project)})


@router.get("/projects/{project_id}/label/stats")
def labeling_stats(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    """The header strip, polled by HTMX."""
    return render(request, "labeling/_stats.html", {"project": project, **_stats(session, project)})


@router.get("/projects/{project_id}/label/why/{task_id}")
def why_fragment(request: Request, task_id: int, project: PageProject, user: PageUser,
                 session: SessionDep) -> Response:
    task = queue_service.get_task(session=session, project_id=project.id, task_id=task_id)
    if task is None:
        return render(request, "labeling/_why.html", {"task": None}, status_code=404)
    return render(request, "labeling/_why.html", {"task": task, "score": model_service.score_for(
        session=session, project_id=project.id, task_id=task.id)})


def _stats(session: Session, project: Project) -> dict:  # type: ignore[type-arg]
    return {
        "labels_today": annotation_service.labels_today(session=session, project_id=project.id),
        "labels_total": annotation_service.submitted_since(session=session, project_id=project.id, since=None),
        "label_budget": project.label_budget,
        "queue_depth": queue_service.count_open(session=session, project_id=project.id),
        "model": model_service.latest_ready(session=session, project_id=project.id),
        "training": model_service.pending_version(session=session, project_id=project.id),
    }
