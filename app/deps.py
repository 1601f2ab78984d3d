"""Request dependencies: the database session, the current user, and project access."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth import sessions, tokens
from app.auth.models import Role, User
from app.db import new_session
from app.projects import service as project_service
from app.projects.models import Project, ProjectRole
from app.security import bearer_token, session_id


def get_session() -> Iterator[Session]:
    session = new_session()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


class LoginRequired(Exception):
    """Raised for HTML pages; the app answers with a redirect to the login page."""


class PasswordChangeRequired(Exception):
    """Raised for HTML pages of a user whose password an admin set; the app answers with a redirect to
    the password change page."""


# What a user who must change their password may still reach: the change itself and who they are.
PASSWORD_CHANGE_PAGE = "/account/password"
_PASSWORD_CHANGE_API = frozenset({"/api/v1/auth/password", "/api/v1/auth/me", "/api/v1/auth/logout"})
MUST_CHANGE_PASSWORD = ("change your password first: an admin set it, so nothing else is open until you choose "
                        "your own (POST /api/v1/auth/password with current_password and new_password, or the "
                        f"page {PASSWORD_CHANGE_PAGE})")


def _user_from_session(request: Request, session: Session) -> User | None:
    token = session_id(request)
    if token is None:
        return None
    user = sessions.user_for(session=session, token=token)
    if session.dirty:  # last_seen_at moved on (at most once a minute): its own short transaction
        session.commit()
    return user


def _user_from_token(token: str, session: Session) -> User | None:
    user = tokens.user_for(session=session, token=token)
    if session.dirty:  # last_used_at moved on (at most once a minute)
        session.commit()
    return user


# Declares the bearer scheme in the OpenAPI schema (the Authorize button of /docs); the header is read below.
BEARER = HTTPBearer(auto_error=False, description="an API token from your account page or `labelwise users token`")


def api_user(request: Request, session: SessionDep,
             _declared: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None) -> User:
    """The JSON API's user: from the bearer token when one is sent (only from it), else the session."""
    bearer = bearer_token(request)
    if bearer is not None:
        user = _user_from_token(bearer, session)
        if user is None:
            raise HTTPException(status_code=401, detail="the API token is unknown, revoked or its user deactivated",
                                headers={"WWW-Authenticate": "Bearer"})
    else:
        user = _user_from_session(request, session)
    if user is None:
        raise HTTPException(status_code=401, detail="log in first")
    if user.must_change_password and request.url.path not in _PASSWORD_CHANGE_API:
        raise HTTPException(status_code=403, detail=MUST_CHANGE_PASSWORD)
    return user


def page_user(request: Request, session: SessionDep) -> User:
    user = _user_from_session(request, session)
    if user is None:
        raise LoginRequired()
    if user.must_change_password and request.url.path != PASSWORD_CHANGE_PAGE:
        raise PasswordChangeRequired()
    return user


ApiUser = Annotated[User, Depends(api_user)]
PageUser = Annotated[User, Depends(page_user)]


def _member_project(project_id: int, user: User, session: Session) -> Project:
    project = project_service.get_for_member(session=session, project_id=project_id, user=user)
    if project is None:  # 404, not 403: non-members must not learn that the project exists
        raise HTTPException(status_code=404, detail="project not found")
    return project


def api_project(project_id: int, user: ApiUser, session: SessionDep) -> Project:
    return _member_project(project_id, user, session)


def page_project(project_id: int, user: PageUser, session: SessionDep) -> Project:
    return _member_project(project_id, user, session)


ApiProject = Annotated[Project, Depends(api_project)]
PageProject = Annotated[Project, Depends(page_project)]


def require_role(user: User, role: Role) -> None:
    if not user.at_least(role):
        raise HTTPException(status_code=403, detail=f"this needs the {role.value} role")


def require_project_role(session: Session, project: Project, user: User, role: ProjectRole = ProjectRole.lead) -> None:
    """403 unless the user has at least `role` in this project (admins lead every project)."""
    if not project_service.has_project_role(session=session, project=project, user=user, role=role):
        raise HTTPException(status_code=403, detail=f"this needs the {role.value} role in this project")
