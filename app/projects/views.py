"""The project list, "New project", and the settings tabs of the projects domain (General, Classes,
Members). A refused form comes back as the same page with the message (naming the field), 422."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.deps import PageProject, PageUser, SessionDep, require_project_role, require_role
from app.errors import DomainError
from app.projects import service
from app.projects.models import Project, ProjectRole
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)
CSRF = [Depends(csrf_protect)]
NEW_CLASS_ROWS = 3  # blank rows a form offers for new classes (a row without a name is ignored)
DEFAULT_COLORS = ["#000000", "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6"]


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/")
def projects_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    projects = service.list_for_member(session=session, user=user)
    archived = service.list_for_member(session=session, user=user, archived=True) if user.at_least(Role.lead) else []
    return render(request, "projects/list.html", {"user": user, "projects": projects, "archived": archived})


ClassNames = Annotated[list[str] | None, Form()]
ClassColors = Annotated[list[str] | None, Form()]


def _class_rows(names: list[str] | None, colors: list[str] | None) -> list[tuple[str, str]]:
    """The form's class rows (name, colour) in order; rows left without a name are ignored."""
    return [(n, c) for n, c in zip(names or [], colors or [], strict=False) if n.strip()]


def _number(value: str, field: str, kind: type = float) -> Any:
    """A form's text as a number (None when empty), or a refusal naming the field."""
    if value.strip() == "":
        return None
    try:
        return kind(value)
    except ValueError:
        raise DomainError(f"{field} must be a {'whole ' if kind is int else ''}number, got {value!r}") from None


# --- New project -----------------------------------------------------------------------------------------
def _new_form(request: Request, user: User, values: dict[str, Any], error: str | None = None) -> Response:
    rows = values.get("classes") or [("background", DEFAULT_COLORS[0]), ("", DEFAULT_COLORS[1])]
    rows = list(rows) + [("", DEFAULT_COLORS[(len(rows) + i) % len(DEFAULT_COLORS)]) for i in range(NEW_CLASS_ROWS)]
    return render(request, "projects/new.html", {"user": user, "values": values, "rows": rows, "error": error,
                                                 "strategies": service.STRATEGIES},
                  status_code=422 if error else 200)


@router.get("/projects/new")
def new_project_page(request: Request, user: PageUser) -> Response:
    require_role(user, Role.lead)
    return _new_form(request, user, {"strategy": "hybrid", "steered_share": 0.1, "retrain_every": 10,
                                     "validation_share": 0.1})


@router.post("/projects/new", dependencies=CSRF)
def create_project(request: Request, user: PageUser, session: SessionDep,
                   class_name: ClassNames = None, class_color: ClassColors = None,
                         name: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
                         strategy: Annotated[str, Form()] = "hybrid", steered_share: Annotated[str, Form()] = "0.1",
                         retrain_every: Annotated[str, Form()] = "10", task_tile: Annotated[str, Form()] = "",
                         validation_share: Annotated[str, Form()] = "0.1") -> Response:
    require_role(user, Role.lead)
    classes = _class_rows(class_name, class_color)
    values = {"name": name, "description": description, "strategy": strategy, "steered_share": steered_share,
              "retrain_every": retrain_every, "task_tile": task_tile, "validation_share": validation_share,
              "classes": classes}
    try:
        share = _number(validation_share, "validation_share")
        if share is not None:
            service.check_validation_share(share)
        project = service.create(
            session=session, name=name, classes=classes, creator=user, description=description.strip(),
            retrain_every=_number(retrain_every, "retrain_every", int) or 10, strategy=strategy,
            steered_share=_number(steered_share, "steered_share") if steered_share.strip() else 0.1,
            task_tile=_number(task_tile, "task_tile", int))
        if share is not None:
            project.validation_share = share
    except DomainError as exc:
        session.rollback()
        return _new_form(request, user, values, str(exc))
    session.commit()
    return see_other(f"/projects/{project.id}/settings?created=1")


# --- Settings: General -------------------------------------------------------------------------------------
def _tab(request: Request, session: Session, project: Project, user: User, tab: str, context: dict[str, Any],
         error: str | None = None) -> Response:
    return render(request, f"projects/settings/{tab}.html", {
        "user": user, "project": project, "tab": tab, "error": error, "saved": request.query_params.get("saved"),
        "created": request.query_params.get("created"), **context}, status_code=422 if error else 200)


def _general(request: Request, session: Session, project: Project, user: User, values: dict[str, Any] | None = None,
             error: str | None = None) -> Response:
    values = values or {k: getattr(project, k) for k in ("name", "description", "strategy", "steered_share",
                                                          "retrain_every", "task_tile")}
    return _tab(request, session, project, user, "general", {"values": values, "strategies": service.STRATEGIES},
                error)


@router.get("/projects/{project_id}/settings")
def general_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_project_role(session, project, user)
    return _general(request, session, project, user)


@router.post("/projects/{project_id}/settings", dependencies=CSRF)
def save_general(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                 name: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
                 strategy: Annotated[str, Form()] = "hybrid", steered_share: Annotated[str, Form()] = "",
                 retrain_every: Annotated[str, Form()] = "", task_tile: Annotated[str, Form()] = "") -> Response:
    require_project_role(session, project, user)
    values = {"name": name, "description": description, "strategy": strategy, "steered_share": steered_share,
              "retrain_every": retrain_every, "task_tile": task_tile}
    try:
        changes = {"name": name, "description": description.strip(), "strategy": strategy,
                   "steered_share": _number(steered_share, "steered_share"),
                   "retrain_every": _number(retrain_every, "retrain_every", int),
                   "task_tile": _number(task_tile, "task_tile", int)}
        for field in ("steered_share", "retrain_every"):
            if changes[field] is None:
                raise DomainError(f"{field} is required")
        changed = {k: v for k, v in changes.items() if getattr(project, k) != v}
        if changed:
            service.update(session=session, project=project, user=user, **changed)
    except DomainError as exc:
        session.rollback()
        return _general(request, session, project, user, values, str(exc))
    session.commit()
    return see_other(f"/projects/{project.id}/settings?saved=1")


@router.post("/projects/{project_id}/archive", dependencies=CSRF)
def archive(project: PageProject, user: PageUser, session: SessionDep,
            archived: Annotated[bool, Form()] = True) -> Response:
    require_project_role(session, project, user)
    service.set_archived(session=session, project=project, archived=archived, by=user)
    session.commit()
    return see_other(f"/projects/{project.id}/settings?saved=1")


# --- Settings: Classes -------------------------------------------------------------------------------------
def _classes(request: Request, session: Session, project: Project, user: User,
             rows: list[tuple[str, str]] | None = None, error: str | None = None) -> Response:
    rows = rows if rows is not None else [(c.name, c.color) for c in project.classes]
    extra = [("", DEFAULT_COLORS[(len(rows) + i) % len(DEFAULT_COLORS)]) for i in range(NEW_CLASS_ROWS)]
    return _tab(request, session, project, user, "classes", {"rows": rows + extra, "fixed": len(project.classes)},
                error)


@router.get("/projects/{project_id}/settings/classes")
def classes_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_project_role(session, project, user)
    return _classes(request, session, project, user)


@router.post("/projects/{project_id}/settings/classes", dependencies=CSRF)
def save_classes(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                 class_name: ClassNames = None, class_color: ClassColors = None) -> Response:
    require_project_role(session, project, user)
    rows = _class_rows(class_name, class_color)
    try:
        service.set_classes(session=session, project=project, classes=rows, by=user)
    except DomainError as exc:
        session.rollback()
        session.refresh(project)
        return _classes(request, session, project, user, rows, str(exc))
    session.commit()
    return see_other(f"/projects/{project.id}/settings/classes?saved=1")


# --- Settings: Members -------------------------------------------------------------------------------------
def _members(request: Request, session: Session, project: Project, user: User, error: str | None = None,
             username: str = "") -> Response:
    rows = service.members(session=session, project_id=project.id)
    candidates = service.addable_users(session=session, project_id=project.id)
    return _tab(request, session, project, user, "members", {
        "rows": rows, "roles": list(ProjectRole), "candidates": candidates, "username": username}, error)


@router.get("/projects/{project_id}/settings/members")
def members_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_project_role(session, project, user)
    return _members(request, session, project, user)


@router.post("/projects/{project_id}/settings/members", dependencies=CSRF)
def add_member(request: Request, project: PageProject, user: PageUser, session: SessionDep,
               username: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "") -> Response:
    require_project_role(session, project, user)
    try:
        member = auth_service.get_by_username(session=session, username=username.strip())
        if member is None:
            raise DomainError(f"username: no user named {username.strip()!r}")
        chosen = ProjectRole(role) if role else None
        service.add_member(session=session, project=project, user=member, added_by=user, role=chosen)
    except ValueError as exc:  # DomainError, or a role that is not one
        session.rollback()
        message = str(exc) if isinstance(exc, DomainError) else f"role: unknown role {role!r}"
        return _members(request, session, project, user, message, username)
    session.commit()
    return see_other(f"/projects/{project.id}/settings/members?saved=1")


@router.post("/projects/{project_id}/settings/members/{user_id}/role", dependencies=CSRF)
def set_member_role(request: Request, user_id: int, project: PageProject, user: PageUser, session: SessionDep,
                    role: Annotated[str, Form()] = "") -> Response:
    require_project_role(session, project, user)
    row = service.membership(session=session, project_id=project.id, user_id=user_id)
    try:
        if row is None:
            raise DomainError("user: not a member of this project", status=404)
        if role not in {r.value for r in ProjectRole}:
            raise DomainError(f"role: unknown role {role!r}")
        service.set_role(session=session, project=project, member=row, role=ProjectRole(role), by=user)
    except DomainError as exc:
        session.rollback()
        return _members(request, session, project, user, str(exc))
    session.commit()
    return see_other(f"/projects/{project.id}/settings/members?saved=1")


@router.post("/projects/{project_id}/settings/members/{user_id}/remove", dependencies=CSRF)
def remove_member(request: Request, user_id: int, project: PageProject, user: PageUser,
                  session: SessionDep) -> Response:
    require_project_role(session, project, user)
    try:
        service.remove_member(session=session, project=project, user_id=user_id, by=user)
    except DomainError as exc:
        session.rollback()
        return _members(request, session, project, user, str(exc))
    session.commit()
    return see_other(f"/projects/{project.id}/settings/members?saved=1")
