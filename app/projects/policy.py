"""A project's sampling policy, versioned: strategy and its weights, task unit, steered share and the
retraining trigger. A change adds a version (who, when, why) and mirrors the values on the project row,
which the queue, the uploads and the retrain check read. No commits here.

Refusals name the field and come before anything is written, so a refused change leaves no trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.projects.models import Project, SamplingPolicy
from app.projects.service import STRATEGIES, ProjectError

# app.learning.acquisition.DEFAULT_HYBRID_WEIGHTS (a test keeps them equal; importing it here would pull
# torch into the web process for three numbers).
DEFAULT_WEIGHTS = {"uncertainty": 1.0, "diversity": 0.5, "class_boost": 0.5}
MAX_WEIGHT = 1000.0
TRIGGERS = ("labels", "schedule", "both")
MIN_TILE, MAX_TILE = 16, 4096
MAX_RETRAIN_EVERY = 100_000
MAX_RETRAIN_HOURS = 24 * 365
MAX_REASON = 500
FIELDS = ("strategy", "weight_uncertainty", "weight_diversity", "weight_class_boost", "steered_share", "task_tile",
          "retrain_trigger", "retrain_every", "retrain_hours")


@dataclass(frozen=True)
class ImageSize:
    """The smallest width and height among the project's images: a tile must fit in every image."""

    width: int
    height: int


def current(*, session: Session, project: Project) -> SamplingPolicy:
    """The newest version; a project from before policies were versioned (no row) reads as an unsaved
    version 0 made of its columns."""
    row = session.scalar(select(SamplingPolicy).where(SamplingPolicy.project_id == project.id)
                         .order_by(SamplingPolicy.version.desc()).limit(1))
    return row if row is not None else _from_project(project)


def history(*, session: Session, project_id: int) -> list[SamplingPolicy]:
    """Newest first."""
    return list(session.scalars(select(SamplingPolicy).where(SamplingPolicy.project_id == project_id)
                                .order_by(SamplingPolicy.version.desc())))


def get_version(*, session: Session, project_id: int, version: int) -> SamplingPolicy | None:
    return session.scalar(select(SamplingPolicy).where(SamplingPolicy.project_id == project_id,
                                                       SamplingPolicy.version == version))


def weights(policy: SamplingPolicy) -> dict[str, float]:
    """The hybrid weights as app.learning.acquisition takes them."""
    return {"uncertainty": policy.weight_uncertainty, "diversity": policy.weight_diversity,
            "class_boost": policy.weight_class_boost}


def values(policy: SamplingPolicy) -> dict[str, Any]:
    return {key: getattr(policy, key) for key in FIELDS}


def _from_project(project: Project) -> SamplingPolicy:
    return SamplingPolicy(
        project_id=project.id, version=0, strategy=project.strategy,
        weight_uncertainty=DEFAULT_WEIGHTS["uncertainty"], weight_diversity=DEFAULT_WEIGHTS["diversity"],
        weight_class_boost=DEFAULT_WEIGHTS["class_boost"], steered_share=project.steered_share,
        task_tile=project.task_tile, retrain_trigger="labels", retrain_every=project.retrain_every,
        retrain_hours=None, reason="", author_id=None)


def validate(fields: dict[str, Any], *, smallest_image: ImageSize | None = None) -> None:
    """Refuse with a message naming the field; `fields` holds every value of the policy."""
    if fields["strategy"] not in STRATEGIES:
        raise ProjectError(f"strategy: unknown strategy {fields['strategy']!r}; choose one of {', '.join(STRATEGIES)}")
    for key in ("weight_uncertainty", "weight_diversity", "weight_class_boost"):
        value = fields[key]
        if not isinstance(value, int | float) or not math.isfinite(value) or not 0.0 <= value <= MAX_WEIGHT:
            raise ProjectError(f"{key}: a weight must be a finite number from 0 to {MAX_WEIGHT:g}, got {value!r}")
    share = fields["steered_share"]
    if not isinstance(share, int | float) or not math.isfinite(share) or not 0.0 <= share <= 1.0:
        raise ProjectError(f"steered_share: must be between 0 and 1, got {share!r}")
    tile = fields["task_tile"]
    if tile is not None:
        if not isinstance(tile, int) or not MIN_TILE <= tile <= MAX_TILE:
            raise ProjectError(f"task_tile: a tile must be {MIN_TILE} to {MAX_TILE} pixels (or none for whole "
                               f"images), got {tile!r}")
        if smallest_image is not None and tile > min(smallest_image.width, smallest_image.height):
            raise ProjectError(f"task_tile: a {tile} px tile is larger than the project's images (the smallest is "
                               f"{smallest_image.width}x{smallest_image.height} px)")
    if fields["retrain_trigger"] not in TRIGGERS:
        raise ProjectError(f"retrain_trigger: choose one of {', '.join(TRIGGERS)}, got {fields['retrain_trigger']!r}")
    every = fields["retrain_every"]
    if not isinstance(every, int) or not 1 <= every <= MAX_RETRAIN_EVERY:
        raise ProjectError(f"retrain_every: must be a whole number of labels from 1 to {MAX_RETRAIN_EVERY}, "
                           f"got {every!r}")
    hours = fields["retrain_hours"]
    if hours is not None and (not isinstance(hours, int | float) or not math.isfinite(hours)
                              or not 0 < hours <= MAX_RETRAIN_HOURS):
        raise ProjectError(f"retrain_hours: must be more than 0 and at most {MAX_RETRAIN_HOURS} hours, got {hours!r}")
    if fields["retrain_trigger"] in ("schedule", "both") and hours is None:
        raise ProjectError("retrain_hours: a scheduled retrain needs its interval in hours")


def change(*, session: Session, project: Project, user: User | None, reason: str,
           smallest_image: ImageSize | None = None, **changes: Any) -> SamplingPolicy:
    """Add the next policy version: the current values with `changes` applied (keys of FIELDS), after
    checking them all. The project row takes the new values; the audit log the old and the new."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ProjectError(f"{unknown[0]}: not a policy setting")
    reason = (reason or "").strip()
    if not reason:
        raise ProjectError("reason: say why the policy changes (it is kept with the version)")
    if len(reason) > MAX_REASON:
        raise ProjectError(f"reason: at most {MAX_REASON} characters")
    before = current(session=session, project=project)
    fields = {**values(before), **changes}
    validate(fields, smallest_image=smallest_image)
    last = session.scalar(select(func.max(SamplingPolicy.version)).where(SamplingPolicy.project_id == project.id))
    row = SamplingPolicy(project_id=project.id, version=(last or 0) + 1, reason=reason,
                         author_id=user.id if user else None, **fields)
    session.add(row)
    project.strategy, project.steered_share, project.task_tile = row.strategy, row.steered_share, row.task_tile
    project.retrain_every = row.retrain_every
    session.flush()
    audit.record(session=session, action="policy.change", entity="sampling_policy", entity_id=row.id,
                 user_id=user.id if user else None, project_id=project.id,
                 detail={"version": row.version, "reason": reason,
                         "before": {k: v for k, v in values(before).items() if fields[k] != v},
                         "after": {k: v for k, v in fields.items() if values(before)[k] != v}})
    return row


def first_version(*, session: Session, project: Project, user: User | None) -> SamplingPolicy:
    """Version 1, from the settings a new project was created with."""
    return change(session=session, project=project, user=user, reason="the project was created")


def retrains_on_labels(policy: SamplingPolicy) -> bool:
    return policy.retrain_trigger in ("labels", "both")


def retrains_on_schedule(policy: SamplingPolicy) -> bool:
    return policy.retrain_trigger in ("schedule", "both") and policy.retrain_hours is not None


def scheduled_projects(*, session: Session) -> list[tuple[Project, SamplingPolicy]]:
    """Projects whose current policy retrains on a schedule."""
    newest = (select(SamplingPolicy.project_id, func.max(SamplingPolicy.version).label("v"))
              .group_by(SamplingPolicy.project_id).subquery())
    rows = session.execute(
        select(Project, SamplingPolicy).join(SamplingPolicy, SamplingPolicy.project_id == Project.id)
        .join(newest, (newest.c.project_id == SamplingPolicy.project_id) & (newest.c.v == SamplingPolicy.version))
        .where(SamplingPolicy.retrain_trigger.in_(("schedule", "both")))
        .order_by(Project.id)).all()
    return [(p, pol) for p, pol in rows]
