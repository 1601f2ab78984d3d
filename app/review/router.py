"""The JSON API of reviews, the error taxonomy, gold tasks and quality scores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from app import limits, storage
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.config import get_settings
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import NotFound
from app.pagination import PageQuery, page_of_list
from app.projects.models import Project
from app.quality import scores
from app.queue import routing
from app.queue.deps import TaskDep, read_task_mask, valid_task
from app.review import gold, quality, taxonomy
from app.review import service as review_service
from app.review.models import ReviewStatus
from app.review.schemas import (
    ErrorTableRead,
    ErrorTypeIn,
    ErrorTypePage,
    ErrorTypeRead,
    ErrorTypeUpdate,
    GoldTaskPage,
    GoldTaskRead,
    PromoteIn,
    QualityPage,
    QualityRead,
    QualitySettings,
    QualitySettingsUpdate,
    RejectIn,
    RejectionPage,
    RejectionRead,
    ReviewPage,
    ReviewRead,
)
from app.schemas import INT32_MAX
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["review"], dependencies=[Depends(csrf_protect)])


def _reviewer(user: User, project: Project) -> None:
    review_service.require_reviewer(user, project)


@router.get("/reviews")
def list_reviews(project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery, response: Response,
                 status: ReviewStatus = ReviewStatus.pending) -> ReviewPage:
    """Pending reviews oldest first; decided ones (the latest 500 decisions) newest first."""
    _reviewer(user, project)
    offset, size = paging.fetch()
    rows = (review_service.pending(session=session, project_id=project.id, limit=offset + size)
            if status == ReviewStatus.pending
            else [r for r in review_service.decided(session=session, project_id=project.id, limit=500)
                  if r.status == status])
    return page_of_list(ReviewPage, rows, paging, response, ReviewRead.model_validate)


@router.get("/reviews/errors")
def error_table(project: ApiProject, user: ApiUser, session: SessionDep) -> ErrorTableRead:
    _reviewer(user, project)
    table = review_service.error_table(session=session, project=project)
    return ErrorTableRead(**{k: getattr(table, k) for k in ErrorTableRead.model_fields})


@router.get("/reviews/{review_id}")
def get_review(review_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> ReviewRead:
    _reviewer(user, project)
    return ReviewRead.model_validate(review_service.get_or_404(session=session, project_id=project.id,
                                                               review_id=review_id))


@router.post("/reviews/{review_id}/accept")
def accept(review_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> ReviewRead:
    review = review_service.get_or_404(session=session, project_id=project.id, review_id=review_id)
    review_service.accept(session=session, project=project, review=review, user=user)
    session.commit()
    return ReviewRead.model_validate(review)


@router.post("/reviews/{review_id}/reject")
def reject(review_id: int, body: RejectIn, project: ApiProject, user: ApiUser, session: SessionDep) -> ReviewRead:
    review = review_service.get_or_404(session=session, project_id=project.id, review_id=review_id)
    review_service.reject(session=session, project=project, review=review, user=user,
                          error_type_id=body.error_type_id, class_index=body.class_index, note=body.note)
    session.commit()
    return ReviewRead.model_validate(review)


@router.get("/tasks/{task_id}/rejections")
def rejections(task: TaskDep, project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
               response: Response) -> RejectionPage:
    """Why earlier labels of this task were rejected (empty for most tasks); any member may read it,
    except that a gold task reads to its annotators as the fresh task it looks like (empty)."""
    rows = [] if routing.answers_gold(session=session, task_id=task.id, user_id=user.id) else \
        review_service.rejections_for_task(session=session, project=project, task_id=task.id)
    return page_of_list(RejectionPage, rows, paging, response, lambda r: RejectionRead(
        review_id=r.review.id, error_type=r.error_type, class_index=r.review.class_index, class_name=r.class_name,
        note=r.review.note, reviewed_at=r.review.reviewed_at.isoformat() if r.review.reviewed_at else None))


@router.get("/error-types")
def list_error_types(project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
                     response: Response) -> ErrorTypePage:
    require_role(user, Role.lead)
    rows = taxonomy.error_types(session=session, project_id=project.id)
    session.commit()  # the defaults, the first time
    return page_of_list(ErrorTypePage, rows, paging, response, ErrorTypeRead.model_validate)


@router.post("/error-types", status_code=201)
def add_error_type(body: ErrorTypeIn, project: ApiProject, user: ApiUser, session: SessionDep) -> ErrorTypeRead:
    require_role(user, Role.lead)
    row = taxonomy.add(session=session, project=project, user=user, name=body.name)
    session.commit()
    return ErrorTypeRead.model_validate(row)


@router.patch("/error-types/{error_type_id}")
def update_error_type(error_type_id: int, body: ErrorTypeUpdate, project: ApiProject, user: ApiUser,
                      session: SessionDep) -> ErrorTypeRead:
    require_role(user, Role.lead)
    row = taxonomy.update(session=session, project=project, user=user, error_type_id=error_type_id,
                          name=body.name, active=body.active)
    session.commit()
    return ErrorTypeRead.model_validate(row)


@router.get("/quality-settings")
def get_quality_settings(project: ApiProject, user: ApiUser) -> QualitySettings:
    require_role(user, Role.lead)
    return QualitySettings(review_share=project.review_share, gold_rate=project.gold_rate)


@router.put("/quality-settings")
def put_quality_settings(body: QualitySettingsUpdate, project: ApiProject, user: ApiUser,
                         session: SessionDep) -> QualitySettings:
    require_role(user, Role.lead)
    taxonomy.update_settings(session=session, project=project, user=user, review_share=body.review_share,
                             gold_rate=body.gold_rate)
    session.commit()
    return QualitySettings(review_share=project.review_share, gold_rate=project.gold_rate)


def gold_read(row: gold.GoldTask, answers: int = 0, mean_iou: float | None = None) -> GoldTaskRead:
    return GoldTaskRead.model_validate(row).model_copy(update={"answers": answers, "mean_iou": mean_iou})


@router.get("/gold")
def list_gold(project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
              response: Response) -> GoldTaskPage:
    require_role(user, Role.lead)
    rows = gold.gold_tasks(session=session, project_id=project.id)
    return page_of_list(GoldTaskPage, rows, paging, response, lambda row: gold_read(*row))


@router.post("/gold", status_code=201, openapi_extra=limits.MASK)
def mark_gold(project: ApiProject, user: ApiUser, session: SessionDep,
              task_id: Annotated[int, Form(ge=1, le=INT32_MAX)],
              mask: Annotated[UploadFile, File(description="the known mask: PNG of class ids, 255 = unknown")],
              ) -> GoldTaskRead:
    require_role(user, Role.lead)
    task = valid_task(task_id, project, session)
    pixels = read_task_mask(session, project, task, mask)
    row = gold.mark_with_mask(session=session, project=project, task=task, user=user, mask=pixels)
    session.commit()
    return gold_read(row)


@router.post("/gold/promote", status_code=201)
def promote_gold(body: PromoteIn, project: ApiProject, user: ApiUser, session: SessionDep) -> GoldTaskRead:
    require_role(user, Role.lead)
    row = gold.promote(session=session, project=project, user=user, annotation_id=body.annotation_id)
    session.commit()
    return gold_read(row)


@router.post("/gold/{gold_id}/retire")
def retire_gold(gold_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> GoldTaskRead:
    require_role(user, Role.lead)
    row = gold.retire(session=session, project=project, user=user, gold_id=gold_id)
    session.commit()
    return gold_read(row)


@router.get("/gold/{gold_id}/mask")
def gold_mask(gold_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    row = gold.get(session=session, project_id=project.id, gold_id=gold_id)
    if row is None:
        raise NotFound("gold task not found")
    return Response(storage.read(row.mask_path), media_type="image/png",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


def quality_rows(session: SessionDep, project_id: int) -> list[QualityRead]:
    rows = quality.table(session=session, project_id=project_id)
    names = auth_service.usernames(session=session, user_ids=[q.user_id for q in rows])
    top = scores.top_tier({q.user_id: scores.Standing(q.score, q.evidence) for q in rows},
                          get_settings().quality_min_evidence)
    return [QualityRead.model_validate(q).model_copy(update={"username": names.get(q.user_id, "?"),
                                                             "top_tier": q.user_id in top}) for q in rows]


@router.get("/quality-scores")
def quality_scores(project: ApiProject, user: ApiUser, session: SessionDep, paging: PageQuery,
                   response: Response) -> QualityPage:
    require_role(user, Role.lead)
    return page_of_list(QualityPage, quality_rows(session, project.id), paging, response, lambda q: q)
