from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from app.auth import service as auth_service
from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.projects import service
from app.projects.models import Project
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects", tags=["projects"], dependencies=[Depends(csrf_protect)])


class ClassIn(BaseModel):
    name: str
    color: str


class ProjectIn(BaseModel):
    name: str
    classes: list[ClassIn]
    description: str = ""
    retrain_every: int = Field(default=10)
    strategy: str = "hybrid"
    steered_share: float = 0.1
    task_tile: int | None = None


class ProjectUpdate(BaseModel):
    description: str | None = None
    retrain_every: int | None = Field(default=None, ge=1, le=100_000)
    label_budget: int | None = Field(default=None, ge=0, le=100_000_000)
    strategy: str | None = None
    steered_share: float | None = None
    task_tile: int | None = None


class MemberIn(BaseModel):
    username: str


def project_out(project: Project) -> dict:
    return {
        "id": project.id, "name": project.name, "description": project.description,
        "retrain_every": project.retrain_every, "label_budget": project.label_budget,
        "strategy": project.strategy, "steered_share": project.steered_share, "task_tile": project.task_tile,
        "classes": [{"index": c.index, "name": c.name, "color": c.color} for c in project.classes],
    }


@router.get("")
def list_projects(user: ApiUser, session: SessionDep) -> list[dict]:
    return [project_out(p) for p in service.list_for_member(session=session, user=user)]


@router.post("", status_code=201)
def create_project(body: ProjectIn, user: ApiUser, session: SessionDep) -> dict:
    require_role(user, Role.lead)
    try:
        project = service.create(session=session, name=body.name, creator=user, description=body.description,
                                 classes=[(c.name, c.color) for c in body.classes],
                                 retrain_every=body.retrain_every, strategy=body.strategy,
                                 steered_share=body.steered_share, task_tile=body.task_tile)
    except service.ProjectError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    session.commit()
    return project_out(project)


@router.get("/{project_id}")
def get_project(project: ApiProject) -> dict:
    return project_out(project)


@router.patch("/{project_id}")
def update_project(body: ProjectUpdate, project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    require_role(user, Role.lead)
    changes = body.model_dump(exclude_unset=True)
    required = [k for k in ("description", "retrain_every", "strategy", "steered_share") if changes.get(k, 0) is None]
    if required:
        raise HTTPException(status_code=422, detail=f"{required[0]} cannot be null")
    try:
        service.update(session=session, project=project, user=user, **changes)
    except service.ProjectError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    session.commit()
    return project_out(project)


@router.post("/{project_id}/members", status_code=201)
def add_member(body: MemberIn, project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    require_role(user, Role.lead)
    member = auth_service.get_by_username(session=session, username=body.username)
    if member is None:
        raise HTTPException(status_code=404, detail=f"no user named {body.username!r}")
    service.add_member(session=session, project=project, user=member, added_by=user)
    session.commit()
    return {"project_id": project.id, "user_id": member.id}
