from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app import limits, storage
from app.auth.models import Role, User
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import NotFound
from app.items.models import Item
from app.items.superpixels import superpixels_png
from app.modeling import service as model_service
from app.modeling import suggestions
from app.pagination import PageQuery, page
from app.queue import drafts, service, task_view
from app.queue.deps import TaskDep, read_task_mask
from app.queue.models import Task, TaskStatus
from app.queue.schemas import (
    DraftRef,
    DraftSaved,
    FlagIn,
    ImageRef,
    QueueEntryRead,
    QueueRead,
    Region,
    ResolveIn,
    ScoreRead,
    SkipIn,
    SuggestionRef,
    TaskRead,
)
from app.schemas import Ok
from app.security import csrf_protect

PNG_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["queue"], dependencies=[Depends(csrf_protect)])


def task_read(session: Session, task: Task, user: User) -> TaskRead:
    view = task_view.read(session=session, task=task, user=user)
    item, mv_id, score, draft = view.item, view.model_version_id, view.score, view.draft
    base = f"/api/v1/projects/{task.project_id}/tasks/{task.id}"
    return TaskRead(
        # A gold task is its source task, labeled already: to the annotator answering it, it is open.
        id=task.id, item_id=task.item_id,
        status=TaskStatus.open.value if view.gold_pending else task.status.value,
        region=Region(x=task.x, y=task.y, width=task.width, height=task.height),
        image=ImageRef(width=item.width, height=item.height,
                       url=f"/api/v1/projects/{task.project_id}/items/{item.id}/image"),
        lease_expires_at=view.lease_expires_at.isoformat() if view.lease_expires_at else None,
        why=ScoreRead.model_validate(score) if score else None,
        # The version is in the URL, so a cached PNG never outlives a retrain.
        suggestion=SuggestionRef(model_version_id=mv_id, mask_url=f"{base}/suggestion/mask?mv={mv_id}",
                                 uncertainty_url=f"{base}/suggestion/uncertainty?mv={mv_id}")
        if mv_id is not None and suggestions.has_suggestion(task.project_id, mv_id, task.item_id) else None,
        draft=DraftRef(url=f"{base}/draft", seconds_spent=draft.seconds_spent, client_token=draft.client_token,
                       updated_at=draft.updated_at.isoformat()) if draft else None,
        superpixels_url=f"{base}/superpixels",
    )


@router.get("/queue")
def queue(project: ApiProject, session: SessionDep, paging: PageQuery, response: Response) -> QueueRead:
    offset, limit = paging.fetch()
    entries = service.list_queue(session=session, project=project, limit=limit, offset=offset)
    return page(QueueRead, entries, paging, response, lambda e: QueueEntryRead(
        task_id=e.task.id, item_id=e.task.item_id, leased=e.leased_to is not None,
        why=ScoreRead.model_validate(e.score) if e.score else None),
        model_version_id=model_service.ranked_model_version_id(session=session, project_id=project.id))


# POST /tasks/next is in app/flows/router.py: the lease is held to the budget's caps (app.flows.leasing).


@router.get("/tasks/{task_id}")
def get_task(task: TaskDep, user: ApiUser, session: SessionDep) -> TaskRead:
    return task_read(session, task, user)


@router.post("/tasks/{task_id}/release")
def release(task: TaskDep, user: ApiUser, session: SessionDep) -> Ok:
    service.release(session=session, task=task, user=user)
    session.commit()
    return Ok()


@router.post("/tasks/{task_id}/skip")
def skip(task: TaskDep, body: SkipIn, user: ApiUser, session: SessionDep) -> Ok:
    service.skip(session=session, task=task, user=user, reason=body.reason)
    session.commit()
    return Ok()


@router.post("/tasks/{task_id}/flag")
def flag(task: TaskDep, body: FlagIn, user: ApiUser, session: SessionDep) -> Ok:
    service.flag(session=session, task=task, user=user, note=body.note)
    session.commit()
    return Ok()


@router.post("/flags/{flag_id}/resolve")
def resolve_flag(flag_id: int, body: ResolveIn, project: ApiProject, user: ApiUser, session: SessionDep) -> Ok:
    require_role(user, Role.lead)
    row = service.get_flag(session=session, project_id=project.id, flag_id=flag_id)
    if row is None:
        raise NotFound("flag not found")
    service.resolve_flag(session=session, flag_row=row, user=user, resolution=body.resolution)
    session.commit()
    return Ok()


@router.get("/tasks/{task_id}/superpixels")
def superpixels(task: TaskDep, session: SessionDep) -> Response:
    """SLIC superpixel ids of the task's item as RGB (id = R + 256 G + 65536 B)."""
    item = session.get(Item, task.item_id)
    assert item is not None
    return Response(superpixels_png(item), media_type="image/png", headers=PNG_HEADERS)


@router.get("/tasks/{task_id}/suggestion/{kind}")
def suggestion(task: TaskDep, kind: str, project: ApiProject, session: SessionDep, mv: int | None = None) -> Response:
    """A model version's prediction for the task's item: 'mask' (class ids) or 'uncertainty'.

    `mv` picks the version (default: the one the queue is ranked by).
    """
    if kind not in suggestions.KINDS:
        raise NotFound("unknown suggestion kind")
    if mv is not None and model_service.get_version(session=session, project_id=project.id,
                                                    model_version_id=mv) is None:
        raise NotFound("model version not found")
    mv_id = mv if mv is not None else model_service.ranked_model_version_id(session=session, project_id=project.id)
    if mv_id is None:
        raise NotFound("no model has scored this project yet")
    path = storage.absolute(suggestions.suggestion_path(project.id, mv_id, task.item_id, kind))
    if not path.exists():
        raise NotFound("no suggestion for this task")
    return Response(path.read_bytes(), media_type="image/png", headers=PNG_HEADERS | {"X-Model-Version": str(mv_id)})


@router.put("/tasks/{task_id}/draft", openapi_extra=limits.MASK)
def save_draft(
    task: TaskDep, project: ApiProject, user: ApiUser, session: SessionDep,
    mask: Annotated[UploadFile, File(description="PNG of class ids, 255 = unlabeled")],
    seconds_spent: Annotated[float, Form()] = 0.0,
    client_token: Annotated[str | None, Form(max_length=64)] = None,
) -> DraftSaved:
    pixels = read_task_mask(session, project, task, mask)
    draft = drafts.save(session=session, task=task, user=user, mask=pixels, seconds_spent=seconds_spent,
                        client_token=client_token)
    session.commit()
    return DraftSaved(saved_at=draft.updated_at.isoformat())


@router.get("/tasks/{task_id}/draft")
def get_draft(task: TaskDep, user: ApiUser, session: SessionDep) -> Response:
    draft = drafts.get(session=session, task_id=task.id, user_id=user.id)
    if draft is None:
        raise NotFound("no draft for this task")
    return Response(storage.read(draft.mask_path), media_type="image/png",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                             "X-Seconds-Spent": str(draft.seconds_spent)})
