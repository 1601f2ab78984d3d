"""The people desk's JSON API: users, roles, membership and passwords (admin), the audit log (admin), and
an annotator's record (admin, or a lead of a project the annotator is in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.audit import queries as audit_queries
from app.auth import service as auth_service
from app.auth.models import Role
from app.deps import ApiUser, SessionDep
from app.pagination import PageQuery, envelope, page
from app.people import activity, sections, service
from app.people.deps import ApiAdmin, readable_record
from app.people.schemas import (
    ActivityRead,
    AuditEntry,
    AuditPageRead,
    DayRead,
    PasswordResetIn,
    PasswordResetOut,
    ProjectActivity,
    ProjectRef,
    RoleIn,
    SectionRead,
    UserCreate,
    UserCreated,
    UserDetail,
    UserListRow,
    UserPage,
    UserRead,
)
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1", tags=["people"], dependencies=[Depends(csrf_protect)])


def _detail(session: SessionDep, user_id: int) -> UserDetail:
    user = service.get_user(session=session, user_id=user_id)
    projects = service.projects_of(session=session, user_id=user.id)
    return UserDetail(**UserRead.model_validate(user).model_dump(),
                      projects=[ProjectRef.model_validate(p) for p in projects])


@router.get("/users")
def list_users(admin: ApiAdmin, session: SessionDep, paging: PageQuery, response: Response, role: Role | None = None,
               active: bool | None = None, name: Annotated[str | None, Query(max_length=64)] = None) -> UserPage:
    """By username; `total` counts every user matching the filters."""
    offset, limit = paging.fetch()
    rows, total = service.list_users(session=session, role=role, active=active, name=name, offset=offset, limit=limit)
    return page(UserPage, rows, paging, response, lambda r: UserListRow(
        **UserRead.model_validate(r.user).model_dump(), projects=r.projects, last_login=r.last_login), total=total)


@router.post("/users", status_code=201)
def create_user(body: UserCreate, admin: ApiAdmin, session: SessionDep) -> UserCreated:
    user, generated = service.create_user(session=session, admin=admin, username=body.username, role=body.role,
                                          password=body.password)
    session.commit()
    return UserCreated(user=UserRead.model_validate(user), generated_password=generated)


@router.get("/users/{user_id}")
def get_user(user_id: int, admin: ApiAdmin, session: SessionDep) -> UserDetail:
    return _detail(session, user_id)


@router.post("/users/{user_id}/deactivate")
def deactivate(user_id: int, admin: ApiAdmin, session: SessionDep) -> UserDetail:
    """The user can no longer log in; their sessions end now; their labels stay."""
    service.deactivate(session=session, admin=admin, user=service.get_user(session=session, user_id=user_id))
    session.commit()
    return _detail(session, user_id)


@router.post("/users/{user_id}/reactivate")
def reactivate(user_id: int, admin: ApiAdmin, session: SessionDep) -> UserDetail:
    service.reactivate(session=session, admin=admin, user=service.get_user(session=session, user_id=user_id))
    session.commit()
    return _detail(session, user_id)


@router.put("/users/{user_id}/role")
def set_role(user_id: int, body: RoleIn, admin: ApiAdmin, session: SessionDep) -> UserDetail:
    service.set_role(session=session, admin=admin, user=service.get_user(session=session, user_id=user_id),
                     role=body.role)
    session.commit()
    return _detail(session, user_id)


@router.post("/users/{user_id}/password")
def reset_password(user_id: int, body: PasswordResetIn, admin: ApiAdmin, session: SessionDep) -> PasswordResetOut:
    """Set the given password, or a generated one returned this once; every session of the user ends."""
    generated = service.reset_password(session=session, admin=admin, password=body.password,
                                       user=service.get_user(session=session, user_id=user_id))
    session.commit()
    return PasswordResetOut(generated_password=generated)


@router.put("/users/{user_id}/projects/{project_id}")
def add_to_project(user_id: int, project_id: int, admin: ApiAdmin, session: SessionDep) -> UserDetail:
    service.add_to_project(session=session, admin=admin, project_id=project_id,
                           user=service.get_user(session=session, user_id=user_id))
    session.commit()
    return _detail(session, user_id)


@router.delete("/users/{user_id}/projects/{project_id}")
def remove_from_project(user_id: int, project_id: int, admin: ApiAdmin, session: SessionDep) -> UserDetail:
    service.remove_from_project(session=session, admin=admin, project_id=project_id,
                                user=service.get_user(session=session, user_id=user_id))
    session.commit()
    return _detail(session, user_id)


@router.get("/users/{user_id}/activity")
def user_activity(user_id: int, viewer: ApiUser, session: SessionDep, project_id: int | None = None,
                  days: Annotated[int, Query(ge=1, le=366)] = 30) -> ActivityRead:
    """Admins read every project's record; a lead, the projects they share with the annotator."""
    annotator, projects = readable_record(session=session, viewer=viewer, user_id=user_id, project_id=project_id)
    record = activity.activity(session=session, annotator=annotator, projects=projects, days=days)
    loaded = sections.load_all(session=session, annotator=annotator, project_ids=[p.id for p in projects])
    return ActivityRead(
        user=UserRead.model_validate(annotator), days=days, labels=record.labels,
        labels_in_window=record.labels_in_window, timed_labels=record.timed_labels,
        mean_seconds_per_label=record.mean_seconds, median_seconds_per_label=record.median_seconds,
        skips=record.skips, flags=record.flags, open_flags=record.open_flags,
        projects=[ProjectActivity(project=ProjectRef.model_validate(x.project), labels=x.labels, skips=x.skips,
                                  flags=x.flags) for x in record.projects],
        per_day=[DayRead(day=d.day, labels=d.labels, median_seconds=d.median_seconds) for d in record.days],
        sections=[SectionRead(key=s.key, title=s.title, has_data=facts is not None,
                              message=s.empty if facts is None else None, facts=facts or {}) for s, facts in loaded])


@router.get("/audit")
def audit_log(admin: ApiAdmin, session: SessionDep, paging: PageQuery, response: Response,
              user_id: int | None = None, project_id: int | None = None,
              action: Annotated[str | None, Query(max_length=64)] = None,
              entity: Annotated[str | None, Query(max_length=32)] = None, entity_id: int | None = None,
              before: int | None = None, after: int | None = None) -> AuditPageRead:
    """Newest first; follow `next` (or `older` as `before`, `newer` as `after`) to page. The cursor is a
    keyset position (an id), so entries logged while one pages shift nothing."""
    found = audit_queries.page(session=session, user_id=user_id, project_id=project_id, action=action,
                               entity=entity, entity_id=entity_id, before=paging.offset or before, after=after,
                               limit=paging.limit)
    names = auth_service.usernames(session=session, user_ids=sorted({r.user_id for r in found.rows if r.user_id}))
    items = [AuditEntry.model_validate(r).model_copy(update={"username": names.get(r.user_id or 0)})
             for r in found.rows]
    return envelope(AuditPageRead, list(items), found.older, paging, response, newer=found.newer, older=found.older)
