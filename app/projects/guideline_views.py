"""The guidelines page: read (everyone), confirm (whoever labels), edit and add example images (leads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app import imaging
from app.auth import service as auth_service
from app.auth.models import Role
from app.config import get_settings
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError, NotFound
from app.projects import guidelines
from app.projects.guideline_router import example_url
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, project, user, session, *, error: str | None = None,  # type: ignore[no-untyped-def]
          draft: str | None = None, status_code: int = 200) -> Response:
    guide = guidelines.current(session=session, project_id=project.id)
    versions = guidelines.history(session=session, project_id=project.id)
    authors = auth_service.usernames(session=session, user_ids=[v.author_id for v in versions if v.author_id])
    examples = [(e, example_url(project.id, e.id))
                for e in guidelines.examples(session=session, guideline_id=guide.id if guide else None)]
    return render(request, "projects/guidelines.html", {
        "user": user, "project": project, "guideline": guide, "examples": examples, "error": error,
        "html": guidelines.render(guide.text) if guide else None,
        "draft": draft if draft is not None else (guide.text if guide else ""),
        "versions": [(v, authors.get(v.author_id or 0, "–")) for v in versions],
        "unconfirmed": guidelines.unconfirmed_version(session=session, project_id=project.id, user_id=user.id),
    }, status_code=status_code)


@router.get("/projects/{project_id}/guidelines")
def guidelines_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    return _page(request, project, user, session)


@router.post("/projects/{project_id}/guidelines", dependencies=[Depends(csrf_protect)])
def save_guidelines(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                    text: Annotated[str, Form()]) -> Response:
    require_role(user, Role.lead)
    try:
        guidelines.save(session=session, project_id=project.id, text=text, author_id=user.id)
    except DomainError as exc:  # the page again, with what was typed kept
        session.rollback()
        return _page(request, project, user, session, error=str(exc), draft=text, status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/guidelines", status_code=303)


@router.post("/projects/{project_id}/guidelines/examples", dependencies=[Depends(csrf_protect)])
def add_example(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                image: Annotated[UploadFile, File()], caption: Annotated[str, Form()] = "") -> Response:
    require_role(user, Role.lead)
    guide = guidelines.current(session=session, project_id=project.id)
    if guide is None:
        raise NotFound("write the guidelines first, then add example images to them")
    try:
        data = imaging.read_bounded(image.file, limit=get_settings().max_upload_bytes, what="image")
        guidelines.add_example(session=session, guideline=guide, data=data, caption=caption, user_id=user.id)
    except DomainError as exc:
        session.rollback()
        return _page(request, project, user, session, error=str(exc), status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/guidelines", status_code=303)


@router.post("/projects/{project_id}/guidelines/confirm", dependencies=[Depends(csrf_protect)])
def confirm(request: Request, project: PageProject, user: PageUser, session: SessionDep,
            version: Annotated[int, Form()]) -> Response:
    guidelines.confirm(session=session, project_id=project.id, user_id=user.id, version=version)
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/label", status_code=303)
