"""The reviewer's and the lead's pages: review queue and review page, error taxonomy and settings, gold
tasks, quality scores. Forms post here (CSRF field), then redirect; a refused form shows its page again
with the message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.annotations.models import Annotation
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.config import get_settings
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError, NotFound
from app.items.models import Item
from app.projects.models import Project
from app.quality import scores
from app.queue import service as queue_service
from app.queue.deps import read_task_mask
from app.review import gold, taxonomy
from app.review import service as review_service
from app.review.router import quality_rows
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)
CSRF = [Depends(csrf_protect)]


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _attempt(session: Session, action: Callable[[], Any], on_error: Callable[[DomainError], Response],
             then: str) -> Response:
    """Run a form's action and commit, or roll back and show the page again with the message."""
    try:
        action()
    except DomainError as exc:
        session.rollback()
        return on_error(exc)
    session.commit()
    return _see_other(then)


# --- review queue and review page -------------------------------------------------------------------

@router.get("/projects/{project_id}/reviews")
def review_queue(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    review_service.require_reviewer(user, project)
    pending = review_service.pending(session=session, project_id=project.id)
    decided = review_service.decided(session=session, project_id=project.id, limit=20)
    names = auth_service.usernames(session=session, user_ids=[r.annotator_id for r in pending + decided] +
                                   [r.reviewer_id for r in decided if r.reviewer_id])
    table = review_service.error_table(session=session, project=project)
    session.commit()  # the default taxonomy, the first time
    return render(request, "review/queue.html", {
        "user": user, "project": project, "pending": pending, "decided": decided, "names": names,
        "table": table, "total_pending": review_service.count_pending(session=session, project_id=project.id),
        "error_names": {t.id: t.name for t in taxonomy.error_types(session=session, project_id=project.id)},
        "class_names": {c.index: c.name for c in project.classes}})


def _review_page(request: Request, project: Project, user: User, session: Session, review_id: int,
                 error: str | None = None, status_code: int = 200) -> Response:
    review_service.require_reviewer(user, project)
    review = review_service.get_or_404(session=session, project_id=project.id, review_id=review_id)
    annotation = session.get(Annotation, review.annotation_id)
    task = queue_service.get_task(session=session, project_id=project.id, task_id=review.task_id)
    assert annotation is not None and task is not None
    item = session.get(Item, task.item_id)
    names = auth_service.usernames(session=session, user_ids=[review.annotator_id, review.reviewer_id or 0])
    types = taxonomy.error_types(session=session, project_id=project.id)
    session.commit()
    return render(request, "review/review.html", {
        "user": user, "project": project, "review": review, "annotation": annotation, "task": task, "item": item,
        "names": names, "error_types": [t for t in types if t.active], "all_types": {t.id: t.name for t in types},
        "rejections": review_service.rejections_for_task(session=session, project=project, task_id=task.id),
        "next_pending": next((r.id for r in review_service.pending(session=session, project_id=project.id)
                              if r.id != review.id), None),
        "error": error}, status_code=status_code)


@router.get("/projects/{project_id}/reviews/{review_id}")
def review_page(request: Request, review_id: int, project: PageProject, user: PageUser,
                session: SessionDep) -> Response:
    return _review_page(request, project, user, session, review_id)


def _after_decision(session: Session, project: Project) -> str:
    nxt = review_service.pending(session=session, project_id=project.id, limit=1)
    return f"/projects/{project.id}/reviews/{nxt[0].id}" if nxt else f"/projects/{project.id}/reviews"


@router.post("/projects/{project_id}/reviews/{review_id}/accept", dependencies=CSRF)
def accept_form(request: Request, review_id: int, project: PageProject, user: PageUser,
                session: SessionDep) -> Response:
    review = review_service.get_or_404(session=session, project_id=project.id, review_id=review_id)
    try:
        review_service.accept(session=session, project=project, review=review, user=user)
    except DomainError as exc:
        session.rollback()
        return _review_page(request, project, user, session, review_id, str(exc), exc.status)
    session.commit()
    return _see_other(_after_decision(session, project))


@router.post("/projects/{project_id}/reviews/{review_id}/reject", dependencies=CSRF)
def reject_form(request: Request, review_id: int, project: PageProject, user: PageUser, session: SessionDep,
                error_type_id: Annotated[int, Form()], class_index: Annotated[int, Form()],
                note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    review = review_service.get_or_404(session=session, project_id=project.id, review_id=review_id)
    try:
        review_service.reject(session=session, project=project, review=review, user=user,
                              error_type_id=error_type_id, class_index=class_index, note=note)
    except DomainError as exc:
        session.rollback()
        return _review_page(request, project, user, session, review_id, str(exc), exc.status)
    session.commit()
    return _see_other(_after_decision(session, project))


# --- taxonomy and settings --------------------------------------------------------------------------

def _settings_page(request: Request, project: Project, user: User, session: Session, error: str | None = None,
                   status_code: int = 200) -> Response:
    require_role(user, Role.lead)
    types = taxonomy.error_types(session=session, project_id=project.id)
    session.commit()
    return render(request, "review/settings.html", {"user": user, "project": project, "error_types": types,
                                                    "error": error}, status_code=status_code)


@router.get("/projects/{project_id}/review-settings")
def settings_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    return _settings_page(request, project, user, session)


@router.post("/projects/{project_id}/review-settings", dependencies=CSRF)
def save_settings(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                  review_share: Annotated[str, Form()], gold_rate: Annotated[str, Form()]) -> Response:
    require_role(user, Role.lead)

    def action() -> None:
        shares = {}
        for field, text in (("review_share", review_share), ("gold_rate", gold_rate)):
            try:
                shares[field] = float(text)
            except ValueError:
                raise DomainError(f"{field} must be a number between 0 and 1 (got {text!r})") from None
        taxonomy.update_settings(session=session, project=project, user=user, **shares)

    return _attempt(session, action, lambda e: _settings_page(request, project, user, session, str(e), e.status),
                    f"/projects/{project.id}/review-settings")


@router.post("/projects/{project_id}/error-types", dependencies=CSRF)
def add_error_type(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                   name: Annotated[str, Form(max_length=200)]) -> Response:
    require_role(user, Role.lead)
    return _attempt(session, lambda: taxonomy.add(session=session, project=project, user=user, name=name),
                    lambda e: _settings_page(request, project, user, session, str(e), e.status),
                    f"/projects/{project.id}/review-settings")


@router.post("/projects/{project_id}/error-types/{error_type_id}", dependencies=CSRF)
def update_error_type(request: Request, error_type_id: int, project: PageProject, user: PageUser,
                      session: SessionDep, name: Annotated[str | None, Form(max_length=200)] = None,
                      active: Annotated[str | None, Form()] = None) -> Response:
    require_role(user, Role.lead)
    return _attempt(session, lambda: taxonomy.update(
        session=session, project=project, user=user, error_type_id=error_type_id, name=name,
        active=None if active is None else active == "true"),
        lambda e: _settings_page(request, project, user, session, str(e), e.status),
        f"/projects/{project.id}/review-settings")


# --- gold tasks -------------------------------------------------------------------------------------

def _gold_page(request: Request, project: Project, user: User, session: Session, error: str | None = None,
               status_code: int = 200) -> Response:
    require_role(user, Role.lead)
    return render(request, "review/gold.html", {
        "user": user, "project": project, "rows": gold.gold_tasks(session=session, project_id=project.id),
        "error": error}, status_code=status_code)


@router.get("/projects/{project_id}/gold")
def gold_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    return _gold_page(request, project, user, session)


@router.post("/projects/{project_id}/gold", dependencies=CSRF)
def mark_gold(request: Request, project: PageProject, user: PageUser, session: SessionDep,
              task_id: Annotated[int, Form()], mask: Annotated[UploadFile, File()]) -> Response:
    require_role(user, Role.lead)

    def action() -> None:
        task = queue_service.get_task(session=session, project_id=project.id, task_id=task_id)
        if task is None:
            raise NotFound(f"task_id: no task {task_id} in this project")
        pixels = read_task_mask(session, project, task, mask)
        gold.mark_with_mask(session=session, project=project, task=task, user=user, mask=pixels)

    return _attempt(session, action, lambda e: _gold_page(request, project, user, session, str(e), e.status),
                    f"/projects/{project.id}/gold")


@router.post("/projects/{project_id}/gold/promote", dependencies=CSRF)
def promote_gold(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                 annotation_id: Annotated[int, Form()]) -> Response:
    require_role(user, Role.lead)
    return _attempt(session, lambda: gold.promote(session=session, project=project, user=user,
                                                  annotation_id=annotation_id),
                    lambda e: _gold_page(request, project, user, session, str(e), e.status),
                    f"/projects/{project.id}/gold")


@router.post("/projects/{project_id}/gold/{gold_id}/retire", dependencies=CSRF)
def retire_gold(request: Request, gold_id: int, project: PageProject, user: PageUser,
                session: SessionDep) -> Response:
    require_role(user, Role.lead)
    return _attempt(session, lambda: gold.retire(session=session, project=project, user=user, gold_id=gold_id),
                    lambda e: _gold_page(request, project, user, session, str(e), e.status),
                    f"/projects/{project.id}/gold")


# --- quality scores ---------------------------------------------------------------------------------

@router.get("/projects/{project_id}/quality-scores")
def quality_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    settings = get_settings()
    return render(request, "review/quality.html", {
        "user": user, "project": project, "rows": quality_rows(session, project.id),
        "min_evidence": settings.quality_min_evidence, "reserve": settings.tier_reserve,
        "prior": scores.PRIOR, "prior_weight": scores.PRIOR_WEIGHT})
