from __future__ import annotations

from app.modeling.representation_models import RepresentationStatus
from app.schemas import ReadModel, Timestamp


class RepresentationRead(ReadModel):
    id: int
    version: int
    status: RepresentationStatus
    reason: str
    pool_size: int  # the pool images it learned from (or found, when too few)
    loss_before: float | None  # pretext loss, first logged window
    loss_after: float | None  # and last
    steps: int
    seconds: float | None  # wall time of the pretraining
    error: str | None
    created_at: Timestamp
    finished_at: Timestamp | None


class RepresentationsRead(ReadModel):
    """The project's representations, newest first (at most 20), and what new model versions start from."""

    pool: int  # pool images now
    min_pool: int
    current_version: int | None  # the newest ready one: new model versions fine-tune from its trunk
    fallback: str | None  # "training end to end: pool too small to pretrain (N < 20)", when it applies
    representations: list[RepresentationRead]


class PretrainStarted(ReadModel):
    representation: RepresentationRead
    job_run_id: int  # the tracked job (/jobs): progress and cancel
