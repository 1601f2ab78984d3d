from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.deps import ApiProject, ApiUser, SessionDep, require_project_role, require_role
from app.errors import DomainError, NotFound
from app.pagination import PageQuery, page, page_of_list
from app.projects import service
from app.projects.models import Membership, Project
from app.projects.schemas import (
    ClassesIn,
    MemberIn,
    MemberPage,
    MemberRead,
    MemberRoleIn,
    ProjectIn,
    ProjectPage,
    ProjectRead,
    ProjectUpdate,
)
from app.schemas import Ok
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects", tags=["projects"], dependencies=[Depends(csrf_protect)])


def member_read(project: Project, member: Membership, user: User) -> MemberRead:
    return MemberRead(project_id=project.id, user_id=user.id, username=user.username, role=member.role)


@router.get("")
def list_projects(user: ApiUser, session: SessionDep, paging: PageQuery, response: Response,
                  archived: bool = False) -> ProjectPage:
    """The caller's projects; `archived=true` lists the archived ones instead (leads and admins)."""
    offset, limit = paging.fetch()
    rows = [] if archived and not user.at_least(Role.lead) else service.list_for_member(
        session=session, user=user, archived=archived, offset=offset, limit=limit)
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
    require_project_role(session, project, user)
    changes = body.model_dump(exclude_unset=True)
    required = [k for k in ("name", "description", "retrain_every", "strategy", "steered_share", "validation_share")
                if changes.get(k, 0) is None]
    if required:
        raise DomainError(f"{required[0]} cannot be null")
    service.update(session=session, project=project, user=user, **changes)
    session.commit()
    return ProjectRead.model_validate(project)


@router.put("/{project_id}/classes")
def set_classes(body: ClassesIn, project: ApiProject, user: ApiUser, session: SessionDep) -> ProjectRead:
    """Rename and recolour classes, or add new ones at the end (none is removed: masks store indices)."""
    require_project_role(session, project, user)
    service.set_classes(session=session, project=project, classes=[(c.name, c.color) for c in body.classes], by=user)
    session.commit()
    return ProjectRead.model_validate(project)


@router.post("/{project_id}/archive")
def archive(project: ApiProject, user: ApiUser, session: SessionDep) -> ProjectRead:
    require_project_role(session, project, user)
    service.set_archived(session=session, project=project, archived=True, by=user)
    session.commit()
    return ProjectRead.model_validate(project)


@router.post("/{project_id}/unarchive")
def unarchive(project: ApiProject, user: ApiUser, session: SessionDep) -> ProjectRead:
    require_project_role(session, project, user)
    service.set_archived(session=session, project=project, archived=False, by=user)
    session.commit()
    return ProjectRead.model_validate(project)


@router.get("/{project_id}/members")
def list_members(project: ApiProject, session: SessionDep, paging: PageQuery, response: Response) -> MemberPage:
    """By username (unique, so the order is stable)."""
    rows = service.members(session=session, project_id=project.id)
    return page_of_list(MemberPage, rows, paging, response, lambda row: member_read(project, *row))


@router.post("/{project_id}/members", status_code=201)
def add_member(body: MemberIn, project: ApiProject, user: ApiUser, session: SessionDep) -> MemberRead:
    require_project_role(session, project, user)
    member = auth_service.get_by_username(session=session, username=body.username)
    if member is None:
        raise NotFound(f"username: no user named {body.username!r}")
    row = service.add_member(session=session, project=project, user=member, added_by=user, role=body.role)
    session.commit()
    return member_read(project, row, member)


@router.patch("/{project_id}/members/{user_id}")
def set_member_role(user_id: int, body: MemberRoleIn, project: ApiProject, user: ApiUser,
                    session: SessionDep) -> MemberRead:
    require_project_role(session, project, user)
    row = service.membership(session=session, project_id=project.id, user_id=user_id)
    member = session.get(User, user_id)
    if row is None or member is None:
        raise NotFound("user: not a member of this project")
    service.set_role(session=session, project=project, member=row, role=body.role, by=user)
    session.commit()
    return member_read(project, row, member)


@router.delete("/{project_id}/members/{user_id}")
def remove_member(user_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> Ok:
    require_project_role(session, project, user)
    service.remove_member(session=session, project=project, user_id=user_id, by=user)
    session.commit()
    return Ok()
