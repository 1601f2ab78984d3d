from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.pagination import Page
from app.schemas import Timestamp


class OverlapIn(BaseModel):
    overlap_share: float = Field(description="share of tasks (0..1) labeled by k annotators")
    overlap_k: int = Field(description="annotators per overlap task (2..number of project members)")
    overlap_uncertainty_threshold: float | None = Field(
        default=None, description="tasks with calibrated uncertainty (0..1) above this are overlapped too")
    agreement_threshold: float = Field(default=0.7, description="tasks whose copies agree less (mean IoU) need "
                                                               "an adjudicator")


class OverlapRead(OverlapIn):
    enabled: bool


class ClassSummaryRead(BaseModel):
    class_index: int
    name: str
    pairs: int
    mean_iou: float | None
    mean_dice: float | None


class WorstPairRead(BaseModel):
    user_a: str
    user_b: str
    class_name: str
    tasks: int
    mean_iou: float


class AgreementSummaryRead(BaseModel):
    measured_tasks: int
    below_threshold: int
    classes: list[ClassSummaryRead]
    worst_pairs: list[WorstPairRead]


class PairRead(BaseModel):
    user_a: str
    user_b: str
    annotation_a_id: int
    annotation_b_id: int
    class_name: str
    pixels_a: int
    pixels_b: int
    intersection: int
    iou: float | None
    dice: float | None


class CopyRead(BaseModel):
    annotation_id: int
    author: str
    version: int
    mask_url: str


class AdjudicationRead(BaseModel):
    id: int
    task_id: int
    annotation_id: int
    method: str
    sources: dict[str, Any]
    rationale: str
    adjudicator: str | None
    created_at: Timestamp


class TaskAgreementRead(BaseModel):
    task_id: int
    item_id: int
    overlap_copies: int | None
    mean_iou: float | None
    mean_dice: float | None
    worst_class: str | None
    pairs: list[PairRead]
    copies: list[CopyRead]
    adjudications: list[AdjudicationRead]


class DisagreementRead(BaseModel):
    task_id: int
    item_id: int
    mean_iou: float | None
    worst_class: str | None
    open_flags: int


class DisagreementPage(Page[DisagreementRead]):
    pass


class AdjudicationIn(BaseModel):
    method: Literal["pick", "merge"]
    rationale: str
    annotation_id: int | None = Field(default=None, description="pick: the copy to keep")
    classes: dict[str, int] | None = Field(default=None, description="merge: class name -> annotation id to take "
                                                                      "it from; other classes from the majority")
