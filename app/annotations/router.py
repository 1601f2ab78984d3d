from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import imaging, storage
from app.annotations import drafts, service
from app.annotations.errors import SubmitError
from app.annotations.models import Annotation
from app.deps import ApiProject, ApiUser, SessionDep
from app.items.models import Item
from app.projects.models import Project
from app.queue.models import Task
from app.queue.router import get_task
from app.security import csrf_protect
from app.training import service as training_service
from workers.dispatch import enqueue

router = APIRouter(prefix="/api/v1/projects/{project_id}/tasks/{task_id}/annotations", tags=["annotations"],
                   dependencies=[Depends(csrf_protect)])
drafts_router = APIRouter(prefix="/api/v1/projects/{project_id}/tasks/{task_id}/draft", tags=["annotations"],
                          dependencies=[Depends(csrf_protect)])


def annotation_out(a: Annotation) -> dict:
    return {"id": a.id, "task_id": a.task_id, "version": a.version, "author_id": a.author_id,
            "status": a.status.value, "seconds_spent": a.seconds_spent, "labeled_pixels": a.labeled_pixels,
            "suggestion_fraction": a.suggestion_fraction, "created_at": a.created_at.isoformat()}


def read_task_mask(session: Session, project: Project, task: Task, upload: UploadFile):  # type: ignore[no-untyped-def]
    """The uploaded mask checked against the task's image and the project's classes (422 if not).

    Read through the sync file object: routes that decode or wait on row locks are plain `def`, so
    FastAPI runs them in its thread pool instead of stalling the event loop."""
    item = session.get(Item, task.item_id)
    assert item is not None
    try:
        return imaging.decode_mask(upload.file.read(), width=item.width, height=item.height,
                                   num_classes=len(project.classes))
    except imaging.InvalidImage as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


@router.post("", status_code=201)
def submit(
    task_id: int, project: ApiProject, user: ApiUser, session: SessionDep,
    mask: Annotated[UploadFile, File(description="PNG of class ids, 255 = unlabeled")],
    seconds_spent: Annotated[float, Form()] = 0.0,
    client_token: Annotated[str | None, Form(max_length=64)] = None,
    model_version_id: Annotated[int | None, Form()] = None,
    suggestion_fraction: Annotated[float | None, Form()] = None,
) -> JSONResponse:
    task = get_task(session, project, task_id)
    pixels = read_task_mask(session, project, task, mask)
    try:
        annotation, created = service.submit(
            session=session, project=project, task=task, user=user, mask=pixels, seconds_spent=seconds_spent,
            client_token=client_token, model_version_id=model_version_id,
            suggestion_fraction=suggestion_fraction,
        )
    except SubmitError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
    retrain = training_service.maybe_retrain(session=session, project=project) if created else None
    session.commit()
    if retrain is not None:
        enqueue("labelwise.train", retrain.id)
    body = annotation_out(annotation) | {"retrain_queued": retrain is not None}
    return JSONResponse(body, status_code=201 if created else 200)


@drafts_router.put("")
def save_draft(
    task_id: int, project: ApiProject, user: ApiUser, session: SessionDep,
    mask: Annotated[UploadFile, File(description="PNG of class ids, 255 = unlabeled")],
    seconds_spent: Annotated[float, Form()] = 0.0,
    client_token: Annotated[str | None, Form(max_length=64)] = None,
) -> dict:
    task = get_task(session, project, task_id)
    pixels = read_task_mask(session, project, task, mask)
    try:
        draft = drafts.save(session=session, task=task, user=user, mask=pixels, seconds_spent=seconds_spent,
                            client_token=client_token)
    except SubmitError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
    session.commit()
    return {"saved_at": draft.updated_at.isoformat()}


@drafts_router.get("")
def get_draft(task_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> Response:
    task = get_task(session, project, task_id)
    draft = drafts.get(session=session, task_id=task.id, user_id=user.id)
    if draft is None:
        raise HTTPException(status_code=404, detail="no draft for this task")
    return Response(storage.read(draft.mask_path), media_type="image/png",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                             "X-Seconds-Spent": str(draft.seconds_spent)})


@router.get("")
def versions(task_id: int, project: ApiProject, session: SessionDep) -> list[dict]:
    task = get_task(session, project, task_id)
    rows = session.scalars(select(Annotation).where(Annotation.task_id == task.id).order_by(Annotation.version))
    return [annotation_out(a) for a in rows]


@router.get("/{annotation_id}/mask")
def mask_png(task_id: int, annotation_id: int, project: ApiProject, session: SessionDep) -> Response:
    task = get_task(session, project, task_id)
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or annotation.task_id != task.id:
        raise HTTPException(status_code=404, detail="annotation not found")
    return Response(storage.read(annotation.mask_path), media_type="image/png",
                    headers={"X-Content-Type-Options": "nosniff"})
