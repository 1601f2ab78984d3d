from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app import storage
from app.annotations import service
from app.annotations.schemas import AnnotationPage, AnnotationRead
from app.deps import SessionDep
from app.errors import NotFound
from app.pagination import PageQuery, page
from app.queue.deps import TaskDep
from app.security import csrf_protect

# Submitting a label crosses domains (queue, annotations, model versions): its route is in app/flows.
router = APIRouter(prefix="/api/v1/projects/{project_id}/tasks/{task_id}/annotations", tags=["annotations"],
                   dependencies=[Depends(csrf_protect)])


@router.get("")
def versions(task: TaskDep, session: SessionDep, paging: PageQuery, response: Response) -> AnnotationPage:
    offset, limit = paging.fetch()
    rows = service.versions(session=session, task_id=task.id, offset=offset, limit=limit)
    return page(AnnotationPage, rows, paging, response, AnnotationRead.model_validate)


@router.get("/{annotation_id}/mask")
def mask_png(annotation_id: int, task: TaskDep, session: SessionDep) -> Response:
    annotation = service.get_for_task(session=session, task_id=task.id, annotation_id=annotation_id)
    if annotation is None:
        raise NotFound("annotation not found")
    return Response(storage.read(annotation.mask_path), media_type="image/png",
                    headers={"X-Content-Type-Options": "nosniff"})
