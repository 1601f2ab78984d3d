from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import storage
from app.annotations import drafts
from app.auth.models import Role, User
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.items.models import Item
from app.items.superpixels import superpixels_png
from app.projects.models import Project
from app.queue import scoring, service
from app.queue.models import Flag, Score, Task
from app.security import csrf_protect

PNG_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["queue"], dependencies=[Depends(csrf_protect)])


def score_out(score: Score | None) -> dict | None:
    if score is None:
        return None
    return {"value": score.value, "rank": score.rank, "strategy": score.strategy,
            "model_version_id": score.model_version_id, "components": score.components}


def task_out(session: Session, task: Task, user: User) -> dict:
    item = session.get(Item, task.item_id)
    assert item is not None
    lease = service.active_lease(session=session, task_id=task.id)
    mv_id = service.ranked_model_version_id(session=session, project_id=task.project_id)
    has_suggestion = mv_id is not None and storage.absolute(
        scoring.suggestion_path(task.project_id, mv_id, task.item_id, "mask")).exists()
    base = f"/api/v1/projects/{task.project_id}/tasks/{task.id}"
    draft = drafts.get(session=session, task_id=task.id, user_id=user.id)
    return {
        "id": task.id, "item_id": task.item_id, "status": task.status.value,
        "region": {"x": task.x, "y": task.y, "width": task.width, "height": task.height},
        "image": {"width": item.width, "height": item.height,
                  "url": f"/api/v1/projects/{task.project_id}/items/{item.id}/image"},
        "lease_expires_at": lease.expires_at.isoformat() if lease else None,
        "why": score_out(service.score_for(session=session, task=task)),
        # The version is in the URL, so a cached PNG never outlives a retrain.
        "suggestion": {"model_version_id": mv_id, "mask_url": f"{base}/suggestion/mask?mv={mv_id}",
                       "uncertainty_url": f"{base}/suggestion/uncertainty?mv={mv_id}"} if has_suggestion else None,
        "draft": {"url": f"{base}/draft", "seconds_spent": draft.seconds_spent, "client_token": draft.client_token,
                  "updated_at": draft.updated_at.isoformat()} if draft else None,
        "superpixels_url": f"{base}/superpixels",
    }


def get_task(session: Session, project: Project, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.project_id != project.id:
        raise HTTPException(status_code=404, detail="task not found")
    return task


@router.get("/queue")
def queue(project: ApiProject, session: SessionDep, limit: int = 50) -> dict:
    entries = service.list_queue(session=session, project=project, limit=max(1, min(limit, 500)))
    return {
        "model_version_id": service.ranked_model_version_id(session=session, project_id=project.id),
        "tasks": [{"task_id": e.task.id, "item_id": e.task.item_id, "leased": e.leased_to is not None,
                   "why": score_out(e.score)} for e in entries],
    }


@router.post("/tasks/next")
def next_task(project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    task = service.lease_next(session=session, project=project, user=user)
    session.commit()
    if task is None:
        raise HTTPException(status_code=404, detail=service.EMPTY_QUEUE)
    return task_out(session, task, user)


@router.get("/tasks/{task_id}")
def get_task_route(task_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    return task_out(session, get_task(session, project, task_id), user)


@router.post("/tasks/{task_id}/release")
def release(task_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    service.release(session=session, task=get_task(session, project, task_id), user=user)
    session.commit()
    return {"ok": True}


class SkipIn(BaseModel):
    reason: str


class FlagIn(BaseModel):
    note: str


class ResolveIn(BaseModel):
    resolution: str


def _queue_action(session: Session, action) -> dict:  # type: ignore[no-untyped-def]
    try:
        action()
    except service.QueueError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
    session.commit()
    return {"ok": True}


@router.post("/tasks/{task_id}/skip")
def skip(task_id: int, body: SkipIn, project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    task = get_task(session, project, task_id)
    return _queue_action(session, lambda: service.skip(session=session, task=task, user=user, reason=body.reason))


@router.post("/tasks/{task_id}/flag")
def flag(task_id: int, body: FlagIn, project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    task = get_task(session, project, task_id)
    return _queue_action(session, lambda: service.flag(session=session, task=task, user=user, note=body.note))


@router.post("/flags/{flag_id}/resolve")
def resolve_flag(flag_id: int, body: ResolveIn, project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    require_role(user, Role.lead)
    row = session.get(Flag, flag_id)
    if row is None or get_task(session, project, row.task_id) is None:
        raise HTTPException(status_code=404, detail="flag not found")
    return _queue_action(session, lambda: service.resolve_flag(session=session, flag_row=row, user=user,
                                                                  resolution=body.resolution))


@router.get("/tasks/{task_id}/superpixels")
def superpixels(task_id: int, project: ApiProject, session: SessionDep) -> Response:
    """SLIC superpixel ids of the task's item as RGB (id = R + 256 G + 65536 B)."""
    item = session.get(Item, get_task(session, project, task_id).item_id)
    assert item is not None
    return Response(superpixels_png(item), media_type="image/png", headers=PNG_HEADERS)


@router.get("/tasks/{task_id}/suggestion/{kind}")
def suggestion(task_id: int, kind: str, project: ApiProject, session: SessionDep, mv: int | None = None) -> Response:
    """A model version's prediction for the task's item: 'mask' (class ids) or 'uncertainty'.

    `mv` picks the version (default: the one the queue is ranked by).
    """
    if kind not in ("mask", "uncertainty"):
        raise HTTPException(status_code=404, detail="unknown suggestion kind")
    task = get_task(session, project, task_id)
    mv_id = mv if mv is not None else service.ranked_model_version_id(session=session, project_id=project.id)
    if mv is not None:
        from app.training.models import ModelVersion

        version = session.get(ModelVersion, mv)
        if version is None or version.project_id != project.id:
            raise HTTPException(status_code=404, detail="model version not found")
    if mv_id is None:
        raise HTTPException(status_code=404, detail="no model has scored this project yet")
    path = storage.absolute(scoring.suggestion_path(project.id, mv_id, task.item_id, kind))
    if not path.exists():
        raise HTTPException(status_code=404, detail="no suggestion for this task")
    return Response(path.read_bytes(), media_type="image/png", headers=PNG_HEADERS | {"X-Model-Version": str(mv_id)})
