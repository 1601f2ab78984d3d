"""The JSON routes that start a cross-domain flow. They live here, above the domains, so that no
domain package imports the flows that import it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import JSONResponse

from app import limits
from app.annotations.schemas import AnnotationRead, SubmitRead
from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import Conflict
from app.flows import submit, training, uploads
from app.items.models import Split
from app.items.schemas import ItemRead, UploadRead
from app.modeling.schemas import ModelVersionRead
from app.queue.deps import TaskDep, read_task_mask
from app.schemas import INT32_MAX
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}", dependencies=[Depends(csrf_protect)])


@router.post("/tasks/{task_id}/annotations", status_code=201, tags=["annotations"], response_model=SubmitRead,
             openapi_extra=limits.MASK)
def submit_label(
    task: TaskDep, project: ApiProject, user: ApiUser, session: SessionDep,
    mask: Annotated[UploadFile, File(description="PNG of class ids, 255 = unlabeled")],
    seconds_spent: Annotated[float, Form()] = 0.0,
    client_token: Annotated[str | None, Form(max_length=64)] = None,
    model_version_id: Annotated[int | None, Form(ge=1, le=INT32_MAX)] = None,
    suggestion_fraction: Annotated[float | None, Form()] = None,
) -> JSONResponse:
    """201 with the new version; 200 with the first answer when the same client token arrives again."""
    pixels = read_task_mask(session, project, task, mask)
    done = submit.submit_label(session=session, project=project, task=task, user=user, mask=pixels,
                               seconds_spent=seconds_spent, client_token=client_token,
                               model_version_id=model_version_id, suggestion_fraction=suggestion_fraction)
    body = SubmitRead(**AnnotationRead.model_validate(done.annotation).model_dump(),
                      retrain_queued=done.retrain is not None)
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if done.created else 200)


@router.post("/models/train", status_code=202, tags=["models"])
def request_training(project: ApiProject, user: ApiUser, session: SessionDep) -> ModelVersionRead:
    require_role(user, Role.lead)
    mv = training.request_training(session=session, project=project, reason="requested", user=user)
    if mv is None:
        raise Conflict("a model version is already queued or training")
    session.commit()
    training.enqueue_training(mv)
    return ModelVersionRead.model_validate(mv)


@router.post("/items", status_code=201, tags=["items"], openapi_extra=limits.UPLOAD)
def upload_items(
    project: ApiProject, user: ApiUser, session: SessionDep,
    files: Annotated[list[UploadFile], File(description="images")],
    split: Annotated[Split, Form()] = Split.pool,
) -> UploadRead:
    """All or nothing: if any file is refused, none is stored. Plain `def` (thread pool): decoding is
    CPU work and the project's upload lock may mean a wait."""
    require_role(user, Role.lead)
    files_read = uploads.read_files((upload.filename or "upload", upload.file) for upload in files)
    created = uploads.upload_items(session=session, project=project, uploads=files_read, split=split, user=user)
    return UploadRead(items=[ItemRead.model_validate(i) for i in created])
