"""The project overview: items, model versions, the stop advice and the head of the queue."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.alerts import service as alert_service
from app.autolabel import service as autolabel_service
from app.dashboards.jobs import jobs_panel_context
from app.deps import PageProject, PageUser, SessionDep
from app.items import service as item_service
from app.modeling import promotion
from app.modeling import service as model_service
from app.projects import policy as policy_service
from app.projects import service as project_service
from app.projects.models import ProjectRole
from app.queue import service as queue_service
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}")
def project_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    models = model_service.list_versions(session=session, project_id=project.id)
    run = model_service.ranked_run(session=session, project_id=project.id)
    ranked_by = run.model_version_id if run is not None else None
    live = promotion.live_version(session=session, project_id=project.id)
    return render(request, "projects/overview.html", {
        "user": user, "project": project, "models": models,
        "queue": queue_service.list_queue(session=session, project=project, limit=25),
        "items": item_service.count(session=session, project_id=project.id),
        # People read versions as "v3", never as database ids.
        "ranked_by": next((m.version for m in models if m.id == ranked_by), None),
        "stop": model_service.stop_advice(models),
        "manages": project_service.has_project_role(session=session, project=project, user=user,
                                                    role=ProjectRole.lead),
        "ranked_policy": run.policy_version if run is not None else None,
        "policy": policy_service.current(session=session, project=project),
        "live_version": live.version if live is not None else None,
        "drift": alert_service.latest_drift(session=session, project_id=project.id),
        **jobs_panel_context(session, project, user),
        "summary": autolabel_service.summary(session=session, project_id=project.id),  # machine labels' audit
    })
