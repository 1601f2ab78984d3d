"""The validation split's JSON API: its images, the random draw, picking images, and the lead's line of
validation tasks (labeled with the usual submit route)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from app.deps import ApiProject, ApiUser, SessionDep, require_project_role
from app.errors import NotFound
from app.flows import validation
from app.items.models import Split
from app.pagination import Page, PageQuery, page_of_list
from app.queue import validation as validation_queue
from app.queue.router import task_read
from app.queue.schemas import TaskRead
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}/validation", tags=["validation"],
                   dependencies=[Depends(csrf_protect)])


class SplitItemRead(BaseModel):
    id: int
    name: str
    split: Split
    fixed: bool  # labeled or being labeled: its split stays
    held_out_on_upload: bool  # the upload draw put it in the validation split (not moved since)


class SplitItemPage(Page[SplitItemRead]):
    pass


class PickIn(BaseModel):
    item_ids: list[int] = Field(min_length=1, max_length=10_000)
    split: Split = Split.validation


class PickRead(BaseModel):
    moved: int


class RedrawIn(BaseModel):
    validation_share: float | None = Field(default=None, ge=0.0, lt=1.0)
    seed: int | None = None


class RedrawRead(BaseModel):
    validation_share: float
    target: int
    validation: int
    moved_in: int
    moved_out: int


@router.get("/items")
def list_items(project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
               response: Response) -> SplitItemPage:
    """Every image with its split, by id."""
    require_project_role(session, project, user)
    return page_of_list(SplitItemPage, validation.items(session=session, project_id=project.id), paging, response,
                        lambda r: SplitItemRead(id=r.item.id, name=r.item.original_name, split=r.item.split,
                                                fixed=r.fixed, held_out_on_upload=r.item.held_out_on_upload))


@router.post("/pick")
def pick(body: PickIn, project: ApiProject, user: ApiUser, session: SessionDep) -> PickRead:
    """Move images into the validation split (or, with split=pool, out of it); all or none."""
    require_project_role(session, project, user)
    moved = validation.set_split(session=session, project=project, item_ids=body.item_ids, split=body.split, by=user)
    session.commit()
    return PickRead(moved=moved)


@router.post("/redraw")
def redraw(body: RedrawIn, project: ApiProject, user: ApiUser, session: SessionDep) -> RedrawRead:
    """Set the held-out share (when given) and draw images at random to meet it."""
    require_project_role(session, project, user)
    done = validation.redraw(session=session, project=project, by=user, share=body.validation_share, seed=body.seed)
    session.commit()
    return RedrawRead(validation_share=project.validation_share, **done.__dict__)


@router.post("/next")
def next_validation_task(project: ApiProject, user: ApiUser, session: SessionDep) -> TaskRead:
    """Lease the next open validation task (in order: no ranking); 404 when none is left."""
    require_project_role(session, project, user)
    task = validation_queue.lease_next_validation(session=session, project=project, user=user)
    session.commit()
    if task is None:
        raise NotFound(validation_queue.EMPTY)
    return task_read(session, task, user)
