"""Who may use the people desk: admins (403 for anyone else), and the annotator record's readers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

from app.auth.models import Role, User
from app.deps import ApiUser, PageUser, SessionDep, require_role
from app.people import activity
from app.projects.models import Project


def api_admin(user: ApiUser) -> User:
    require_role(user, Role.admin)
    return user


def page_admin(user: PageUser) -> User:
    require_role(user, Role.admin)
    return user


ApiAdmin = Annotated[User, Depends(api_admin)]
PageAdmin = Annotated[User, Depends(page_admin)]


def readable_record(*, session: SessionDep, viewer: User, user_id: int,
                    project_id: int | None) -> tuple[User, list[Project]]:
    """The annotator and the projects of theirs the viewer may read (optionally one of them). 404 when
    there are none, so a lead learns nothing of people outside their projects."""
    annotator = session.get(User, user_id)
    projects = activity.visible_projects(session=session, viewer=viewer, annotator=annotator) if annotator else []
    if annotator is None or (not projects and viewer.role != Role.admin):
        raise HTTPException(status_code=404, detail="user not found")
    if project_id is not None:
        projects = [p for p in projects if p.id == project_id]
        if not projects:
            raise HTTPException(status_code=404, detail="project_id: no such project of this annotator's")
    return annotator, projects

