"""The Validation tab of the project settings: the held-out share, a random redraw, picking images, and
the way into the labeling page's validation mode. (A dashboard: it reads the split through app.flows.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.auth.models import User
from app.deps import PageProject, PageUser, SessionDep, require_project_role
from app.errors import DomainError
from app.flows import validation
from app.items.models import Split
from app.projects.models import Project
from app.queue import validation as validation_queue
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)
SHOWN = 500  # images listed on the page (the API lists them all)


def _page(request: Request, session: Session, project: Project, user: User, error: str | None = None,
          share: str | None = None) -> Response:
    rows = validation.items(session=session, project_id=project.id)
    held_out = sum(1 for r in rows if r.item.split == Split.validation)
    done, total = validation_queue.progress(session=session, project_id=project.id)
    return render(request, "projects/settings/validation.html", {
        "user": user, "project": project, "tab": "validation", "error": error,
        "saved": request.query_params.get("saved"), "rows": rows[:SHOWN], "more": max(0, len(rows) - SHOWN),
        "count": len(rows), "held_out": held_out, "target": round(project.validation_share * len(rows)),
        "share": share if share is not None else f"{project.validation_share:g}",
        "labeled": done, "validation_tasks": total,
        "from_uploads": validation.held_out_on_upload(session=session, project_id=project.id),
    }, status_code=422 if error else 200)


@router.get("/projects/{project_id}/settings/validation")
def validation_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_project_role(session, project, user)
    return _page(request, session, project, user)


@router.post("/projects/{project_id}/settings/validation/redraw", dependencies=[Depends(csrf_protect)])
def redraw(request: Request, project: PageProject, user: PageUser, session: SessionDep,
           validation_share: Annotated[str, Form()] = "") -> Response:
    require_project_role(session, project, user)
    try:
        try:
            share = float(validation_share)
        except ValueError:
            raise DomainError(f"validation_share must be a number between 0 and 1, got {validation_share!r}") from None
        validation.redraw(session=session, project=project, by=user, share=share)
    except DomainError as exc:
        session.rollback()
        return _page(request, session, project, user, str(exc), share=validation_share)
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/settings/validation?saved=1", status_code=303)


@router.post("/projects/{project_id}/settings/validation/pick", dependencies=[Depends(csrf_protect)])
def pick(request: Request, project: PageProject, user: PageUser, session: SessionDep,
         split: Annotated[Split, Form()], item_ids: Annotated[list[int] | None, Form()] = None) -> Response:
    require_project_role(session, project, user)
    try:
        if not item_ids:
            raise DomainError("item_ids: tick at least one image")
        validation.set_split(session=session, project=project, item_ids=item_ids, split=split, by=user)
    except DomainError as exc:
        session.rollback()
        return _page(request, session, project, user, str(exc))
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/settings/validation?saved=1", status_code=303)
