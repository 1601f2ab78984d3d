"""The people pages: the user list (with the create form), a user's page (role, active, password,
projects), an annotator's record, and a project's people. Plain forms: a change answers with a redirect
to the page it was made on, a refusal with that page and the message; a generated password is shown on
the answer itself, once, never put in a URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError
from app.people import activity, sections, service
from app.people.deps import PageAdmin, readable_record
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)
CSRF = [Depends(csrf_protect)]

# What the user's page says after a change (keys travel in the redirect's query, never free text).
NOTICES = {
    "created": "User created.", "deactivated": "Deactivated: they cannot log in, and their sessions have ended.",
    "reactivated": "Reactivated: they can log in again.", "role": "Role changed.",
    "password": "Password reset; their sessions have ended.", "added": "Added to the project.",
    "removed": "Removed from the project; their labels stay.",
}


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@router.get("/people")
def people_page(request: Request, admin: PageAdmin, session: SessionDep, role: str | None = None,
                active: str | None = None, name: str | None = None, page: int = 1) -> Response:
    return _list_page(request, session, admin, role=role, active=active, name=name, page=page)


def _list_page(request: Request, session: Session, admin: User, *, role: str | None = None, active: str | None = None,
               name: str | None = None, page: int = 1, error: str | None = None, form: dict[str, str] | None = None,
               status_code: int = 200) -> Response:
    page = max(1, min(page, 1_000_000))
    role_filter = service.parse_role(role) if role else None
    rows, total = service.list_users(session=session, role=role_filter, active=_flag(active), name=(name or "")[:64],
                                     offset=(page - 1) * service.PAGE_SIZE, limit=service.PAGE_SIZE)
    filters = {k: v for k, v in {"role": role, "active": active, "name": name}.items() if v}
    return render(request, "people/list.html", {
        "user": admin, "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // service.PAGE_SIZE)),
        "filters": filters, "roles": list(Role), "error": error, "form": form or {}}, status_code=status_code)


@router.post("/people", dependencies=CSRF)
def create_user(request: Request, admin: PageAdmin, session: SessionDep, username: Annotated[str, Form()],
                role: Annotated[str, Form()], password: Annotated[str, Form()] = "") -> Response:
    try:
        user, generated = service.create_user(session=session, admin=admin, username=username.strip(),
                                              role=service.parse_role(role), password=password or None)
    except DomainError as exc:
        session.rollback()
        return _list_page(request, session, admin, error=str(exc), form={"username": username, "role": role},
                          status_code=exc.status)
    session.commit()
    if generated:
        return _user_page(request, session, admin, user, notice=NOTICES["created"], generated=generated)
    return RedirectResponse(f"/people/{user.id}?notice=created", status_code=303)


def _user_page(request: Request, session: Session, admin: User, target: User, *, notice: str | None = None,
               error: str | None = None, generated: str | None = None, status_code: int = 200) -> Response:
    member_of = service.projects_of(session=session, user_id=target.id)
    ids = {p.id for p in member_of}
    response = render(request, "people/user.html", {
        "user": admin, "target": target, "roles": list(Role), "projects": member_of,
        "addable": [p for p in service.all_projects(session=session) if p.id not in ids],
        "notice": notice, "error": error, "generated": generated}, status_code=status_code)
    if generated:  # the password is in this answer only: no cache may keep it
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/people/{user_id}")
def user_page(request: Request, user_id: int, admin: PageAdmin, session: SessionDep,
              notice: str | None = None) -> Response:
    target = service.get_user(session=session, user_id=user_id)
    return _user_page(request, session, admin, target, notice=NOTICES.get(notice or ""))


def _change(request: Request, session: Session, admin: User, user_id: int, notice: str,
            apply: Callable[[User], object]) -> Response:
    """Run one change to a user; on a refusal, nothing is written and their page shows why."""
    target = service.get_user(session=session, user_id=user_id)
    try:
        generated = apply(target)
    except DomainError as exc:
        session.rollback()
        return _user_page(request, session, admin, service.get_user(session=session, user_id=user_id),
                          error=str(exc), status_code=exc.status)
    session.commit()
    if isinstance(generated, str):
        return _user_page(request, session, admin, target, notice=NOTICES[notice], generated=generated)
    return RedirectResponse(f"/people/{user_id}?notice={notice}", status_code=303)


@router.post("/people/{user_id}/role", dependencies=CSRF)
def set_role(request: Request, user_id: int, admin: PageAdmin, session: SessionDep,
             role: Annotated[str, Form()]) -> Response:
    return _change(request, session, admin, user_id, "role", lambda u: service.set_role(
        session=session, admin=admin, user=u, role=service.parse_role(role)))


@router.post("/people/{user_id}/deactivate", dependencies=CSRF)
def deactivate(request: Request, user_id: int, admin: PageAdmin, session: SessionDep) -> Response:
    return _change(request, session, admin, user_id, "deactivated",
                   lambda u: service.deactivate(session=session, admin=admin, user=u))


@router.post("/people/{user_id}/reactivate", dependencies=CSRF)
def reactivate(request: Request, user_id: int, admin: PageAdmin, session: SessionDep) -> Response:
    return _change(request, session, admin, user_id, "reactivated",
                   lambda u: service.reactivate(session=session, admin=admin, user=u))


@router.post("/people/{user_id}/password", dependencies=CSRF)
def reset_password(request: Request, user_id: int, admin: PageAdmin, session: SessionDep,
                   password: Annotated[str, Form()] = "") -> Response:
    return _change(request, session, admin, user_id, "password", lambda u: service.reset_password(
        session=session, admin=admin, user=u, password=password or None))


@router.post("/people/{user_id}/projects", dependencies=CSRF)
def add_to_project(request: Request, user_id: int, admin: PageAdmin, session: SessionDep,
                   project_id: Annotated[int, Form()]) -> Response:
    return _change(request, session, admin, user_id, "added", lambda u: service.add_to_project(
        session=session, admin=admin, user=u, project_id=project_id))


@router.post("/people/{user_id}/projects/{project_id}/remove", dependencies=CSRF)
def remove_from_project(request: Request, user_id: int, project_id: int, admin: PageAdmin,
                        session: SessionDep) -> Response:
    return _change(request, session, admin, user_id, "removed", lambda u: service.remove_from_project(
        session=session, admin=admin, user=u, project_id=project_id))


@router.get("/people/{user_id}/record")
def record_page(request: Request, user_id: int, viewer: PageUser, session: SessionDep, project: int | None = None,
                days: int = 30) -> Response:
    """An annotator's record: admins see every project of theirs, a lead the projects they share."""
    days = days if days in activity.DAY_CHOICES else 30
    annotator, all_projects = readable_record(session=session, viewer=viewer, user_id=user_id, project_id=None)
    shown = [p for p in all_projects if project is None or p.id == project] or all_projects
    record = activity.activity(session=session, annotator=annotator, projects=shown, days=days)
    return render(request, "people/record.html", {
        "user": viewer, "annotator": annotator, "record": record, "days": days, "day_choices": activity.DAY_CHOICES,
        "all_projects": all_projects, "project": project if len(shown) == 1 and project is not None else None,
        "chart": {"days": [d.day.isoformat() for d in record.days], "labels": [d.labels for d in record.days],
                  "seconds": [d.median_seconds for d in record.days]},
        "sections": sections.load_all(session=session, annotator=annotator, project_ids=[p.id for p in shown])})


@router.get("/projects/{project_id}/people")
def project_people(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    """A project's members, each linked to their record in this project (leads and admins)."""
    require_role(user, Role.lead)
    members = activity.project_members(session=session, project_id=project.id)
    return render(request, "people/project.html", {"user": user, "project": project, "members": members})
