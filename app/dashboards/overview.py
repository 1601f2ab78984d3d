"""The project overview: items, model versions, the stop advice and the head of the queue."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.autolabel import service as autolabel_service
from app.deps import PageProject, PageUser, SessionDep
from app.items import service as item_service
from app.modeling import service as model_service
from app.queue import service as queue_service
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}")
def project_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    models = model_service.list_versions(session=session, project_id=project.id)
    ranked_by = model_service.ranked_model_version_id(session=session, project_id=project.id)
    return render(request, "projects/overview.html", {
        "user": user, "project": project, "models": models,
        "queue": queue_service.list_queue(session=session, project=project, limit=25),
        "items": item_service.count(session=session, project_id=project.id),
        # People read versions as "v3", never as database ids.
        "ranked_by": next((m.version for m in models if m.id == ranked_by), None),
        "stop": model_service.stop_advice(models),
        "summary": autolabel_service.summary(session=session, project_id=project.id),  # machine labels' audit
    })
