"""The project's Jobs panel (on the overview) and the import page: live progress by HTMX polling, Cancel and
Train buttons. The import page's script uploads with progress to the JSON API (static/js/imports/), then
hands the new job to the same polling row."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError, NotFound
from app.flows import training
from app.items.models import Split
from app.jobs import progress
from app.jobs.models import JobRun
from app.jobs.schemas import JobRead
from app.modeling import scoring as scoring_service
from app.modeling.models import ModelVersion, ScoringRun, ScoringRunStatus
from app.projects.models import Project
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)
PANEL_SIZE = 8


def jobs_panel_context(session: Session, project: Project, user: User) -> dict:
    """What templates/projects/_jobs.html needs (the overview includes it): the tracked jobs, and the
    scoring pass that follows a training while it runs (its chunks are many small jobs; a lead may stop it,
    and the queue keeps its ranking before it)."""
    runs = progress.of_project(session=session, project_id=project.id, limit=PANEL_SIZE)
    jobs = [JobRead.of(r) for r in runs]
    scoring = session.scalar(select(ScoringRun).where(ScoringRun.project_id == project.id,
                                                      ScoringRun.status == ScoringRunStatus.scoring)
                             .order_by(ScoringRun.id.desc()).limit(1))
    version = session.get(ModelVersion, scoring.model_version_id) if scoring is not None else None
    return {"jobs": jobs, "jobs_active": scoring is not None or any(j.status in progress.ACTIVE for j in jobs),
            "project": project, "user": user, "active_statuses": progress.ACTIVE, "scoring": scoring,
            "scoring_version": version.version if version is not None else None}


def _job(session: Session, project: Project, job_id: int) -> JobRun:
    run = progress.get(session=session, project_id=project.id, run_id=job_id)
    if run is None:
        raise NotFound("no such job in this project")
    return run


@router.get("/projects/{project_id}/jobs")
def jobs_panel(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    """The panel alone (its polling swaps it), or as a page of its own."""
    name = "projects/_jobs.html" if request.headers.get("HX-Request") == "true" else "projects/jobs.html"
    return render(request, name, jobs_panel_context(session, project, user))


@router.get("/projects/{project_id}/jobs/{job_id}")
def job_row(request: Request, job_id: int, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    """One job's progress (the import page polls it while the job runs)."""
    run = _job(session, project, job_id)
    return render(request, "projects/_job.html", {"job": JobRead.of(run), "project": project, "user": user,
                                                  "active_statuses": progress.ACTIVE, "polling": True})


@router.post("/projects/{project_id}/jobs/{job_id}/cancel", dependencies=[Depends(csrf_protect)])
def cancel_job(request: Request, job_id: int, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    run = _job(session, project, job_id)
    progress.request_cancel(run=run, user_id=user.id)
    return render(request, "projects/_job.html", {"job": JobRead.of(run), "project": project, "user": user,
                                                  "active_statuses": progress.ACTIVE,
                                                  "polling": request.headers.get("HX-Target", "").startswith("job-")})


@router.post("/projects/{project_id}/scoring/{scoring_run_id}/cancel", dependencies=[Depends(csrf_protect)])
def cancel_scoring(request: Request, scoring_run_id: int, project: PageProject, user: PageUser,
                   session: SessionDep) -> Response:
    """Answers the panel; a pass that ended meanwhile says so."""
    require_role(user, Role.lead)
    error = None
    try:
        scoring_service.cancel_run(session=session, project_id=project.id, run_id=scoring_run_id, user_id=user.id)
        session.commit()
    except DomainError as exc:
        session.rollback()
        error = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    return render(request, "projects/_jobs.html", jobs_panel_context(session, project, user) | {"error": error},
                  status_code=409 if error else 200)


@router.post("/projects/{project_id}/jobs/train", dependencies=[Depends(csrf_protect)])
def start_training(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    """Answers the panel, with the reason when no training could start (nothing labeled, one running)."""
    require_role(user, Role.lead)
    error = None
    try:
        if training.start_training_job(session=session, project=project, user=user) is None:
            error = "A model version is already queued or training: cancel it first, or wait."
    except DomainError as exc:
        session.rollback()
        error = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    return render(request, "projects/_jobs.html", jobs_panel_context(session, project, user) | {"error": error},
                  status_code=409 if error else 200)


@router.get("/projects/{project_id}/import")
def import_page(request: Request, project: PageProject, user: PageUser) -> Response:
    require_role(user, Role.lead)
    return render(request, "projects/import.html", {"project": project, "user": user,
                                                    "splits": [s.value for s in Split]})
