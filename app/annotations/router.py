from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app import storage
from app.annotations import service
from app.annotations.schemas import AnnotationPage, AnnotationRead, as_author_sees
from app.auth.models import User
from app.deps import ApiProject, ApiUser, SessionDep
from app.errors import NotFound
from app.pagination import PageQuery, page
from app.projects import service as project_service
from app.projects.models import Project, ProjectRole
from app.queue.deps import TaskDep
from app.security import csrf_protect

# Submitting a label crosses domains (queue, annotations, model versions): its route is in app/flows.
router = APIRouter(prefix="/api/v1/projects/{project_id}/tasks/{task_id}/annotations", tags=["annotations"],
                   dependencies=[Depends(csrf_protect)])


def _only_own(session: SessionDep, project: Project, user: User) -> int | None:
    """Whose versions `user` may read: everyone's for reviewers and leads; an annotator only their own, so
    overlap copies stay independent and a gold task's known mask cannot be looked up through its source."""
    if project_service.has_project_role(session=session, project=project, user=user, role=ProjectRole.reviewer):
        return None
    return user.id


@router.get("")
def versions(task: TaskDep, project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
             response: Response) -> AnnotationPage:
    """The task's versions, oldest first (an annotator sees only their own)."""
    offset, limit = paging.fetch()
    own = _only_own(session, project, user)
    rows = service.versions(session=session, task_id=task.id, offset=offset, limit=limit, author_id=own)
    read = AnnotationRead.model_validate if own is None else lambda a: as_author_sees(AnnotationRead.model_validate(a))
    return page(AnnotationPage, rows, paging, response, read)


@router.get("/{annotation_id}/mask")
def mask_png(annotation_id: int, task: TaskDep, project: ApiProject, user: ApiUser, session: SessionDep) -> Response:
    annotation = service.get_for_task(session=session, task_id=task.id, annotation_id=annotation_id)
    own = _only_own(session, project, user)
    if annotation is None or (own is not None and annotation.author_id != own):
        raise NotFound("annotation not found")
    return Response(storage.read(annotation.mask_path), media_type="image/png",
                    headers={"X-Content-Type-Options": "nosniff"})
