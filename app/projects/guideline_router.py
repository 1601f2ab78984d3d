"""The guidelines in the JSON API: read the current version, save a new one (leads), add an example
image (leads), confirm a version (whoever labels), and fetch an example image."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app import imaging, limits, storage
from app.auth.models import Role, User
from app.config import get_settings
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import NotFound
from app.projects import guidelines
from app.projects.guideline_schemas import ConfirmIn, ExampleRead, GuidelineIn, GuidelineRead
from app.projects.models import Guideline
from app.schemas import Ok
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}/guidelines", tags=["guidelines"],
                   dependencies=[Depends(csrf_protect)])


def example_url(project_id: int, example_id: int) -> str:
    return f"/api/v1/projects/{project_id}/guidelines/examples/{example_id}/image"


def guideline_read(session: Session, guide: Guideline, user: User) -> GuidelineRead:
    examples = [ExampleRead.model_validate(e).model_copy(update={"image_url": example_url(guide.project_id, e.id)})
                for e in guidelines.examples(session=session, guideline_id=guide.id)]
    unconfirmed = guidelines.unconfirmed_version(session=session, project_id=guide.project_id, user_id=user.id)
    return GuidelineRead(version=guide.version, text=guide.text, html=str(guidelines.render(guide.text)),
                         author_id=guide.author_id, created_at=guide.created_at, examples=examples,
                         confirmed=unconfirmed != guide.version)


@router.get("")
def current(project: ApiProject, user: ApiUser, session: SessionDep) -> GuidelineRead:
    guide = guidelines.current(session=session, project_id=project.id)
    if guide is None:
        raise NotFound("this project has no guidelines yet")
    return guideline_read(session, guide, user)


@router.post("", status_code=201)
def save(body: GuidelineIn, project: ApiProject, user: ApiUser, session: SessionDep) -> GuidelineRead:
    require_role(user, Role.lead)
    guide = guidelines.save(session=session, project_id=project.id, text=body.text, author_id=user.id)
    session.commit()
    return guideline_read(session, guide, user)


@router.post("/confirm")
def confirm(body: ConfirmIn, project: ApiProject, user: ApiUser, session: SessionDep) -> Ok:
    guidelines.confirm(session=session, project_id=project.id, user_id=user.id, version=body.version)
    session.commit()
    return Ok()


@router.post("/examples", status_code=201, openapi_extra=limits.UPLOAD)
def add_example(project: ApiProject, user: ApiUser, session: SessionDep,
                image: Annotated[UploadFile, File(description="PNG or JPEG")],
                caption: Annotated[str, Form(max_length=500)] = "") -> ExampleRead:
    """Add an example image to the current version of the guidelines."""
    require_role(user, Role.lead)
    guide = guidelines.current(session=session, project_id=project.id)
    if guide is None:
        raise NotFound("write the guidelines first, then add example images to them")
    data = imaging.read_bounded(image.file, limit=get_settings().max_upload_bytes, what="image")
    row = guidelines.add_example(session=session, guideline=guide, data=data, caption=caption, user_id=user.id)
    session.commit()
    return ExampleRead.model_validate(row).model_copy(update={"image_url": example_url(project.id, row.id)})


@router.get("/examples/{example_id}/image")
def example_image(example_id: int, project: ApiProject, session: SessionDep) -> Response:
    row = guidelines.get_example(session=session, project_id=project.id, example_id=example_id)
    if row is None:
        raise NotFound("example image not found")
    return Response(storage.read(row.storage_path), media_type="image/png",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})
