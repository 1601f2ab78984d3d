"""The simulation's JSON API: start `labelwise simulate` on the well-log charts as a tracked job (follow and
cancel it under /jobs like any tracked job), and fetch a finished run's results.json."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from app import storage
from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import NotFound
from app.flows import simulations
from app.jobs import progress
from app.jobs.schemas import JobRead
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}/simulations", tags=["jobs"],
                   dependencies=[Depends(csrf_protect)])
_B = simulations.BOUNDS


class SimulationIn(BaseModel):
    pool: int = Field(default=40, ge=_B["pool"][0], le=_B["pool"][1], description="pool images")
    rounds: int = Field(default=2, ge=_B["rounds"][0], le=_B["rounds"][1])
    steps: int = Field(default=60, ge=_B["steps"][0], le=_B["steps"][1], description="training steps per run")
    strategies: list[str] = Field(default=["random", "hybrid"], min_length=1, max_length=6)


@router.post("", status_code=202)
def start_simulation(body: SimulationIn, project: ApiProject, user: ApiUser, session: SessionDep) -> JobRead:
    """Start a simulation (training queue); follow it at /jobs/{id}, cancel it at /jobs/{id}/cancel."""
    require_role(user, Role.lead)
    run = simulations.start(session=session, project=project, user=user, request=simulations.SimulationRequest(
        pool=body.pool, rounds=body.rounds, steps=body.steps, strategies=tuple(body.strategies)))
    return JobRead.of(run)


@router.get("/{job_id}/results.json", response_class=Response,
            responses={200: {"content": {"application/json": {}}, "description": "the simulator's results.json"}})
def simulation_results(job_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    run = progress.get(session=session, project_id=project.id, run_id=job_id)
    if run is None or run.name != simulations.JOB:
        raise NotFound("no such simulation in this project")
    path = storage.absolute(simulations.results_path(run))
    if not path.is_file():
        raise NotFound("this simulation has no results (it has not finished, or it was cancelled)")
    return Response(path.read_bytes(), media_type="application/json")
