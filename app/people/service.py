"""Users as an admin manages them: list, create, deactivate and reactivate, reset a password, set the
global role, add to and remove from projects. Plain functions; the caller commits. Every change is in the
audit log with the admin as who did it; passwords never are."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth import service as auth_service
from app.auth import sessions
from app.auth.models import Role, User, UserSession
from app.auth.passwords import PasswordRefused, check_password, hash_password
from app.errors import Conflict, DomainError, NotFound
from app.projects import service as project_service
from app.projects.models import Membership, Project
from app.queue import service as queue_service

PAGE_SIZE = 25
GENERATED_PASSWORD_BYTES = 12  # 16 URL-safe characters


class LastAdmin(Conflict):
    """Refused: the change would leave the site with no active admin (409)."""


@dataclass
class UserRow:
    user: User
    projects: int
    last_login: datetime | None


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise DomainError(f"role: choose one of {', '.join(r.value for r in Role)}, not {value[:32]!r}") from None


def list_users(*, session: Session, role: Role | None = None, active: bool | None = None, name: str | None = None,
               offset: int = 0, limit: int = PAGE_SIZE) -> tuple[list[UserRow], int]:
    """One page of users by name, with how many projects each is in and when they last logged in, and
    the count of all users that match the filters."""
    where = []
    if role is not None:
        where.append(User.role == role)
    if active is not None:
        where.append(User.is_active.is_(active))
    if name:
        where.append(func.lower(User.username).contains(name.lower(), autoescape=True))
    total = int(session.scalar(select(func.count()).select_from(User).where(*where)) or 0)
    projects = (select(Membership.user_id, func.count().label("n")).group_by(Membership.user_id).subquery())
    logins = (select(UserSession.user_id, func.max(UserSession.created_at).label("at"))
              .group_by(UserSession.user_id).subquery())
    rows = session.execute(
        select(User, func.coalesce(projects.c.n, 0), logins.c.at)
        .outerjoin(projects, projects.c.user_id == User.id).outerjoin(logins, logins.c.user_id == User.id)
        .where(*where).order_by(func.lower(User.username), User.id).offset(max(0, offset)).limit(limit)
    ).all()
    return [UserRow(user=u, projects=int(n), last_login=at) for u, n, at in rows], total


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def generate_password(username: str) -> str:
    """A random password that passes the policy (shown once to the admin, never stored in clear)."""
    while True:
        candidate = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
        try:
            check_password(candidate, username=username)
        except PasswordRefused:  # vanishingly rare (it held the user name): draw again
            continue
        return candidate


def create_user(*, session: Session, admin: User, username: str, role: Role,
                password: str | None) -> tuple[User, str | None]:
    """A new user; with no password given, a generated one, returned (once) as the second value, which
    the user must change at their first login. The user name rules, the password policy and the
    unused-name rule (any letter case) apply."""
    generated = generate_password(username) if not password else None
    user = auth_service.create_user(session=session, username=username, password=password or generated or "",
                                    role=role, created_by=admin, must_change_password=generated is not None)
    return user, generated


def _by(admin: User | None) -> dict[str, str]:
    """No admin: the change came from the command line (`labelwise users ...`), which the log says."""
    return {} if admin is not None else {"by": "cli"}


def _refuse_if_last_admin(session: Session, user: User, doing: str) -> None:
    """Deactivating or demoting the only active admin would lock everyone out of this desk. The active
    admins are locked (Postgres) so that two admins demoting each other at once cannot both pass."""
    if user.role != Role.admin or not user.is_active:
        return
    admins = session.scalars(select(User.id).where(User.role == Role.admin, User.is_active.is_(True))
                             .order_by(User.id).with_for_update()).all()
    if set(admins) <= {user.id}:
        raise LastAdmin(f"{user.username} is the last active admin; {doing} would leave nobody to manage users. "
                        "Make another user admin first.")


def deactivate(*, session: Session, admin: User | None, user: User) -> int:
    """The user can no longer log in and every session of theirs ends now; the tasks they hold go back
    to the queue; their labels stay. Returns how many sessions were live."""
    if not user.is_active:
        return 0
    _refuse_if_last_admin(session, user, "deactivating them")
    user.is_active = False
    revoked = sessions.revoke_all(session=session, user_id=user.id)
    released = queue_service.release_held(session=session, user_id=user.id)
    audit.record(session=session, action="user.deactivate", entity="user", entity_id=user.id,
                 user_id=admin.id if admin else None, detail={"username": user.username, "sessions_revoked": revoked,
                                                              "leases_released": released, **_by(admin)})
    return revoked


def reactivate(*, session: Session, admin: User, user: User) -> None:
    if user.is_active:
        return
    user.is_active = True
    audit.record(session=session, action="user.reactivate", entity="user", entity_id=user.id, user_id=admin.id,
                 detail={"username": user.username})


def set_role(*, session: Session, admin: User | None, user: User, role: Role) -> None:
    if role == user.role:
        return
    if role != Role.admin:
        _refuse_if_last_admin(session, user, f"making them {role.value}")
    before = user.role
    user.role = role
    audit.record(session=session, action="user.set_role", entity="user", entity_id=user.id,
                 user_id=admin.id if admin else None,
                 detail={"username": user.username, "from": before.value, "to": role.value, **_by(admin)})


def reset_password(*, session: Session, admin: User, user: User, password: str | None) -> str | None:
    """Set the password the admin chose (the policy applies) or a generated one, which is returned to be
    shown once. Every session of the user ends, and either way the admin has seen the password: the user
    must choose their own at their next login."""
    generated = None
    if password:
        check_password(password, username=user.username)
    else:
        password = generated = generate_password(user.username)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    revoked = sessions.revoke_all(session=session, user_id=user.id)
    audit.record(session=session, action="user.password_reset", entity="user", entity_id=user.id,
                 user_id=admin.id, detail={"username": user.username, "generated": generated is not None,
                                           "sessions_revoked": revoked, "must_change_password": True})
    return generated


def projects_of(*, session: Session, user_id: int) -> list[Project]:
    return list(session.scalars(select(Project).join(Membership, Membership.project_id == Project.id)
                                .where(Membership.user_id == user_id).order_by(Project.name)))


def all_projects(*, session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.name)))


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project_id: no project with id {project_id}")
    return project


def add_to_project(*, session: Session, admin: User, user: User, project_id: int) -> Project:
    project = _project(session, project_id)
    project_service.add_member(session=session, project=project, user=user, added_by=admin)
    return project


def remove_from_project(*, session: Session, admin: User, user: User, project_id: int) -> Project:
    """Their labels in the project stay; the tasks they hold there go back to the queue."""
    project = _project(session, project_id)
    # Not a member: 404; the project's last lead: 409 (projects.service says which).
    project_service.remove_member(session=session, project=project, user_id=user.id, by=admin)
    queue_service.release_held(session=session, user_id=user.id, project_id=project.id)
    return project
