"""The audit log page (admin): who did what, when, on which object; filtered by user, project and
action, newest first, paged by keyset (newer / older links). It lives with the people desk, not in
app/audit: naming the users and projects needs app/auth and app/projects, which themselves write to the
audit log (app/audit importing them would be a cycle)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from app.audit import queries
from app.auth.models import User
from app.deps import SessionDep
from app.people.deps import PageAdmin
from app.projects.models import Project
from app.templating import render

router = APIRouter(include_in_schema=False)


def _id(value: str | None) -> int | None:
    """A filter's id from the query; empty (the "any" choice) or not a number means no filter."""
    return int(value) if value and value.isdigit() and len(value) < 10 else None


@router.get("/audit")
def audit_page(request: Request, admin: PageAdmin, session: SessionDep, user: str | None = None,
               project: str | None = None, action: Annotated[str | None, Query(max_length=64)] = None,
               entity: Annotated[str | None, Query(max_length=32)] = None, entity_id: str | None = None,
               before: str | None = None, after: str | None = None) -> Response:
    user_id, project_id, about_id = _id(user), _id(project), _id(entity_id)
    page = queries.page(session=session, user_id=user_id, project_id=project_id, action=action or None,
                        entity=entity or None, entity_id=about_id, before=_id(before), after=_id(after))
    people = dict(session.execute(select(User.id, User.username).order_by(func.lower(User.username))).all())
    projects = dict(session.execute(select(Project.id, Project.name).order_by(Project.name)).all())
    kept = {k: v for k, v in {"user": user_id, "project": project_id, "action": action or None,
                              "entity": entity or None, "entity_id": about_id}.items() if v is not None}
    return render(request, "people/audit.html", {
        "user": admin, "page": page, "filters": kept, "people": people, "projects": projects,
        "actions": queries.actions(session=session),
        "details": {r.id: json.dumps(r.detail, indent=1, sort_keys=True, ensure_ascii=False) for r in page.rows}})
