from __future__ import annotations

from pydantic import BaseModel, Field

from app.pagination import Page
from app.review.models import ReviewStatus
from app.schemas import INT32_MAX, ReadModel, Timestamp


class ReviewRead(ReadModel):
    id: int
    task_id: int
    annotation_id: int
    annotator_id: int
    status: ReviewStatus
    reviewer_id: int | None
    error_type_id: int | None
    class_index: int | None
    note: str
    created_at: Timestamp
    reviewed_at: Timestamp | None


class RejectIn(BaseModel):
    error_type_id: int = Field(ge=1, le=INT32_MAX)
    class_index: int = Field(ge=0, le=255)
    note: str = Field(default="", max_length=2000)


class RejectionRead(BaseModel):
    """Why an earlier label of a task was rejected: what its next labeler reads."""

    review_id: int
    error_type: str
    class_index: int | None
    class_name: str
    note: str
    reviewed_at: str | None


class ErrorTypeRead(ReadModel):
    id: int
    name: str
    active: bool


class ErrorTypeIn(BaseModel):
    name: str = Field(max_length=200)


class ErrorTypeUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class QualitySettings(BaseModel):
    review_share: float
    gold_rate: float


class QualitySettingsUpdate(BaseModel):
    review_share: float | None = None
    gold_rate: float | None = None


class ErrorTableRead(BaseModel):
    """Rejections by error type (rows) per class and per annotator (columns)."""

    error_types: list[str]
    classes: list[str]
    annotators: list[str]
    by_class: list[list[int]]
    by_annotator: list[list[int]]
    reviewed: int
    rejected: int


class GoldTaskRead(ReadModel):
    id: int
    source_task_id: int
    item_id: int
    x: int
    y: int
    width: int
    height: int
    source_annotation_id: int | None
    active: bool
    created_at: Timestamp
    answers: int = 0
    mean_iou: float | None = None


class PromoteIn(BaseModel):
    annotation_id: int = Field(ge=1, le=INT32_MAX)


class QualityRead(ReadModel):
    user_id: int
    username: str = ""
    gold_mean: float | None
    gold_count: int
    agreement_mean: float | None
    agreement_count: int
    score: float
    evidence: int
    top_tier: bool = False


class ReviewPage(Page[ReviewRead]):
    pass


class RejectionPage(Page[RejectionRead]):
    pass


class ErrorTypePage(Page[ErrorTypeRead]):
    pass


class GoldTaskPage(Page[GoldTaskRead]):
    pass


class QualityPage(Page[QualityRead]):
    pass
