from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from app.auth import service as auth_service
from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import DomainError, NotFound
from app.pagination import PageQuery, page
from app.projects import service
from app.projects.schemas import MemberIn, MemberRead, ProjectIn, ProjectPage, ProjectRead, ProjectUpdate
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects", tags=["projects"], dependencies=[Depends(csrf_protect)])


@router.get("")
def list_projects(user: ApiUser, session: SessionDep, paging: PageQuery, response: Response) -> ProjectPage:
    offset, limit = paging.fetch()
    rows = service.list_for_member(session=session, user=user, offset=offset, limit=limit)
    return page(ProjectPage, rows, paging, response, ProjectRead.model_validate)


@router.post("", status_code=201)
def create_project(body: ProjectIn, user: ApiUser, session: SessionDep) -> ProjectRead:
    require_role(user, Role.lead)
    project = service.create(session=session, name=body.name, creator=user, description=body.description,
                             classes=[(c.name, c.color) for c in body.classes],
                             retrain_every=body.retrain_every, strategy=body.strategy,
                             steered_share=body.steered_share, task_tile=body.task_tile)
    session.commit()
    return ProjectRead.model_validate(project)


@router.get("/{project_id}")
def get_project(project: ApiProject) -> ProjectRead:
    return ProjectRead.model_validate(project)


@router.patch("/{project_id}")
def update_project(body: ProjectUpdate, project: ApiProject, user: ApiUser, session: SessionDep) -> ProjectRead:
    require_role(user, Role.lead)
    changes = body.model_dump(exclude_unset=True)
    required = [k for k in ("description", "retrain_every", "strategy", "steered_share") if changes.get(k, 0) is None]
    if required:
        raise DomainError(f"{required[0]} cannot be null")
    service.update(session=session, project=project, user=user, **changes)
    session.commit()
    return ProjectRead.model_validate(project)


@router.post("/{project_id}/members", status_code=201)
def add_member(body: MemberIn, project: ApiProject, user: ApiUser, session: SessionDep) -> MemberRead:
    require_role(user, Role.lead)
    member = auth_service.get_by_username(session=session, username=body.username)
    if member is None:
        raise NotFound(f"no user named {body.username!r}")
    service.add_member(session=session, project=project, user=member, added_by=user)
    session.commit()
    return MemberRead(project_id=project.id, user_id=member.id)
