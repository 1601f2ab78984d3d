"""JSON API of overlap settings, agreement and adjudication (leads and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from app import limits
from app.agreement import adjudication, reads
from app.agreement.models import Adjudication
from app.agreement.schemas import (
    AdjudicationIn,
    AdjudicationRead,
    AgreementSummaryRead,
    DisagreementPage,
    OverlapIn,
    OverlapRead,
    TaskAgreementRead,
)
from app.auth import service as auth_service
from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.pagination import PageQuery, page_of_list
from app.queue import overlap
from app.queue.deps import TaskDep, read_task_mask
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["agreement"], dependencies=[Depends(csrf_protect)])


@router.get("/overlap")
def get_overlap(project: ApiProject, user: ApiUser, session: SessionDep) -> OverlapRead:
    return reads.overlap_read(session, project)


@router.put("/overlap")
def set_overlap(body: OverlapIn, project: ApiProject, user: ApiUser, session: SessionDep) -> OverlapRead:
    require_role(user, Role.lead)
    overlap.set_policy(session=session, project=project, user=user, share=body.overlap_share, k=body.overlap_k,
                       uncertainty_threshold=body.overlap_uncertainty_threshold,
                       agreement_threshold=body.agreement_threshold)
    session.commit()
    return reads.overlap_read(session, project)


@router.get("/agreement")
def agreement_summary(project: ApiProject, user: ApiUser, session: SessionDep) -> AgreementSummaryRead:
    require_role(user, Role.lead)
    return reads.summary_read(session, project)


@router.get("/disagreements")
def disagreements(project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
                  response: Response) -> DisagreementPage:
    require_role(user, Role.lead)
    return page_of_list(DisagreementPage, reads.disagreements_read(session, project), paging, response, lambda d: d)


@router.get("/tasks/{task_id}/agreement")
def task_agreement(task: TaskDep, project: ApiProject, user: ApiUser, session: SessionDep) -> TaskAgreementRead:
    require_role(user, Role.lead)
    return reads.task_read(session, project, task)


def _adjudication_read(session: SessionDep, row: Adjudication) -> AdjudicationRead:
    users = auth_service.usernames(session=session, user_ids=[row.adjudicator_id] if row.adjudicator_id else [])
    return reads.adjudication_read(row, users)


@router.post("/tasks/{task_id}/adjudication", status_code=201)
def adjudicate(body: AdjudicationIn, task: TaskDep, project: ApiProject, user: ApiUser,
               session: SessionDep) -> AdjudicationRead:
    """Pick one copy or merge per class; the result is a new annotation version marked adjudicated."""
    require_role(user, Role.lead)
    row = adjudication.resolve(session=session, project=project, task=task, user=user, method=body.method,
                               rationale=body.rationale, annotation_id=body.annotation_id, classes=body.classes)
    session.commit()
    return _adjudication_read(session, row)


@router.post("/tasks/{task_id}/adjudication/redraw", status_code=201, openapi_extra=limits.MASK)
def adjudicate_redrawn(task: TaskDep, project: ApiProject, user: ApiUser, session: SessionDep,
                       mask: Annotated[UploadFile, File(description="PNG of class ids, 255 = unlabeled")],
                       rationale: Annotated[str, Form()]) -> AdjudicationRead:
    """The adjudicator's own mask, painted on the adjudication page's canvas."""
    require_role(user, Role.lead)
    pixels = read_task_mask(session, project, task, mask)
    row = adjudication.resolve(session=session, project=project, task=task, user=user, method="redraw",
                               rationale=rationale, mask=pixels)
    session.commit()
    return _adjudication_read(session, row)
