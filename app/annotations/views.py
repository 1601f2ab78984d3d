from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from app.annotations import service
from app.deps import PageProject, PageUser, SessionDep
from app.projects.models import Project
from app.queue import service as queue_service
from app.queue.models import Task, TaskStatus
from app.templating import render
from app.training import service as training_service

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/label")
def labeling_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    return render(request, "labeling/page.html", {"user": user, "project": project,
                                                  "empty_queue": queue_service.EMPTY_QUEUE,
                                                  **_stats(session, project.id)})


@router.get("/projects/{project_id}/label/stats")
def labeling_stats(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    """The header strip, polled by HTMX."""
    return render(request, "labeling/_stats.html", {"project": project, **_stats(session, project.id)})


@router.get("/projects/{project_id}/label/why/{task_id}")
def why_fragment(request: Request, task_id: int, project: PageProject, user: PageUser,
                 session: SessionDep) -> Response:
    task = session.get(Task, task_id)
    if task is None or task.project_id != project.id:
        return render(request, "labeling/_why.html", {"task": None}, status_code=404)
    return render(request, "labeling/_why.html", {"task": task, "score": queue_service.score_for(
        session=session, task=task)})


def _stats(session, project_id: int) -> dict:  # type: ignore[no-untyped-def]
    model = training_service.latest_ready(session=session, project_id=project_id)
    open_tasks = session.scalar(select(func.count()).select_from(Task).where(
        Task.project_id == project_id, Task.status == TaskStatus.open))
    return {
        "labels_today": service.labels_today(session=session, project_id=project_id),
        "labels_total": service.submitted_since(session=session, project_id=project_id, since=None),
        "label_budget": session.get(Project, project_id).label_budget,
        "queue_depth": int(open_tasks or 0),
        "model": model,
        "training": training_service.pending_version(session=session, project_id=project_id),
    }
