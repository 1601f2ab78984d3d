"""The lead's Simulation page: start `labelwise simulate` on the well-log demo charts with small settings,
follow each run's progress (HTMX polling), cancel it, and read its results (labels to the target per
strategy, the fg mIoU per round as a uPlot chart, results.json). The work is app/flows/simulations.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import storage
from app.auth.models import Role, User
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError, NotFound
from app.flows import simulations
from app.jobs import progress
from app.jobs.models import JobRun
from app.jobs.schemas import JobRead
from app.projects.models import Project
from app.projects.service import STRATEGIES
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)
SHOWN = 10


def chart(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """fg mIoU against labeled tasks, one line per strategy (static/js/dashboard/charts.js draws it)."""
    if not result or not result.get("strategies"):
        return None
    strategies = result["strategies"]
    x = [r["labeled_tasks"] for r in next(iter(strategies.values()))["rounds"]]
    series = [{"label": name, "values": [r["miou_fg"] for r in s["rounds"]]} for name, s in strategies.items()]
    if result.get("target_miou_fg") is not None:
        series.append({"label": "target", "values": [result["target_miou_fg"]] * len(x)})
    return {"kind": "line", "x": x, "ticks": None, "xlabel": "labeled images", "ylabel": "test fg mIoU",
            "counts": False, "whole_x": True, "series": series}


def run_context(run: JobRun, project: Project, user: User) -> dict[str, Any]:
    job = JobRead.of(run)
    return {"job": job, "options": run.args[1] if len(run.args) > 1 else {}, "plot": chart(job.result),
            "project": project, "user": user, "active_statuses": progress.ACTIVE}


def _run(session: Session, project: Project, run_id: int) -> JobRun:
    run = progress.get(session=session, project_id=project.id, run_id=run_id)
    if run is None or run.name != simulations.JOB:
        raise NotFound("no such simulation in this project")
    return run


def _page(request: Request, session: Session, project: Project, user: User, *, error: str | None = None,
          form: dict[str, Any] | None = None) -> Response:
    runs = session.scalars(select(JobRun).where(JobRun.project_id == project.id, JobRun.name == simulations.JOB)
                           .order_by(JobRun.id.desc()).limit(SHOWN))
    defaults = simulations.SimulationRequest()
    return render(request, "projects/simulation.html", {
        "project": project, "user": user, "error": error, "runs": [run_context(r, project, user) for r in runs],
        "form": form or {"pool": defaults.pool, "rounds": defaults.rounds, "steps": defaults.steps,
                         "strategies": list(defaults.strategies)},
        "strategies": STRATEGIES, "bounds": simulations.BOUNDS, "active_statuses": progress.ACTIVE,
    }, status_code=422 if error else 200)


@router.get("/projects/{project_id}/simulation")
def simulation_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    return _page(request, session, project, user)


def _whole(name: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise simulations.SimulationRequestError(f"{name}: must be a whole number, got {text!r}") from None


@router.post("/projects/{project_id}/simulation", dependencies=[Depends(csrf_protect)])
def start(request: Request, project: PageProject, user: PageUser, session: SessionDep,
          pool: Annotated[str, Form()] = "", rounds: Annotated[str, Form()] = "", steps: Annotated[str, Form()] = "",
          strategies: Annotated[list[str] | None, Form()] = None) -> Response:
    require_role(user, Role.lead)
    form = {"pool": pool, "rounds": rounds, "steps": steps, "strategies": strategies or []}
    try:
        wanted = simulations.SimulationRequest(pool=_whole("pool", pool), rounds=_whole("rounds", rounds),
                                               steps=_whole("steps", steps), strategies=tuple(strategies or ()))
        simulations.start(session=session, project=project, user=user, request=wanted)
    except DomainError as exc:
        session.rollback()
        return _page(request, session, project, user, error=str(exc), form=form)
    return RedirectResponse(f"/projects/{project.id}/simulation", status_code=303)


@router.get("/projects/{project_id}/simulation/{run_id}")
def run_fragment(request: Request, run_id: int, project: PageProject, user: PageUser,
                 session: SessionDep) -> Response:
    """One run's card, as its polling swaps it while it runs."""
    require_role(user, Role.lead)
    return render(request, "projects/_simulation_run.html", run_context(_run(session, project, run_id), project, user))


@router.post("/projects/{project_id}/simulation/{run_id}/cancel", dependencies=[Depends(csrf_protect)])
def cancel(request: Request, run_id: int, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    run = _run(session, project, run_id)
    progress.request_cancel(run=run, user_id=user.id)
    return render(request, "projects/_simulation_run.html", run_context(run, project, user))


@router.get("/projects/{project_id}/simulation/{run_id}/results.json")
def results_file(run_id: int, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    run = _run(session, project, run_id)
    path = storage.absolute(simulations.results_path(run))
    if not path.is_file():
        raise NotFound("this simulation has no results (it has not finished, or it was cancelled)")
    return Response(path.read_bytes(), media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="simulation-{run.id}-results.json"'})
