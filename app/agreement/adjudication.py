"""Resolving a disagreement: pick one copy, merge per class, or redraw. The result is a new annotation
version marked adjudicated (training reads it from then on), an Adjudication row with the rationale, and
an audit entry; the task's open flags are answered with the rationale."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import imaging
from app.agreement.models import Adjudication
from app.annotations import consensus
from app.annotations import service as annotation_service
from app.annotations.models import Annotation
from app.audit import service as audit
from app.auth.models import User
from app.errors import DomainError
from app.projects.models import Project
from app.queue import overlap
from app.queue import service as queue_service
from app.queue.models import Flag, Task, TaskStatus

METHODS = ("pick", "merge", "redraw")


class AdjudicationError(DomainError):
    """A refused resolution (422); the message names the field. Nothing was written."""


def candidates(*, session: Session, task_id: int) -> list[Annotation]:
    """What an adjudicator chooses from: each author's latest plain (not adjudicated) version of the task;
    of an overlap task, its counted copies (a copy a reviewer rejected is not one)."""
    counted = {c.annotation_id for c in overlap.copies_of(session=session, task_id=task_id)} \
        if overlap.get_overlap(session=session, task_id=task_id) is not None else None
    latest: dict[int, Annotation] = {}
    for a in annotation_service.versions(session=session, task_id=task_id):
        if not a.adjudicated:
            latest[a.author_id] = a
    if counted is not None:
        latest = {author: a for author, a in latest.items() if a.id in counted}
    return sorted(latest.values(), key=lambda a: a.version)


def _candidate(session: Session, task: Task, annotation_id: int, field: str) -> Annotation:
    for a in candidates(session=session, task_id=task.id):
        if a.id == annotation_id:
            return a
    raise AdjudicationError(f"{field}: annotation {annotation_id} is not a copy of task {task.id}")


def merged_mask(*, project: Project, sources: Mapping[int, np.ndarray], default: np.ndarray) -> np.ndarray:
    """Class by class in index order, pixels a class's chosen copy gives that class take it; classes
    without a chosen copy come from `default`. Later classes paint over earlier ones, so a thin curve
    taken from one copy wins over the background taken from another."""
    out = np.full(default.shape, imaging.IGNORE, dtype=np.uint8)
    for c in project.classes:
        src = sources.get(c.index, default)
        out[src == c.index] = c.index
    return out


def resolve(*, session: Session, project: Project, task: Task, user: User, method: str, rationale: str,
            annotation_id: int | None = None, classes: Mapping[str, int] | None = None,
            mask: np.ndarray | None = None) -> Adjudication:
    """Write the adjudicated version. Every input is checked before anything is written."""
    rationale = rationale.strip()
    if not 1 <= len(rationale) <= 2000:
        raise AdjudicationError("rationale must be 1 to 2000 characters: say why this version is right")
    if method not in METHODS:
        raise AdjudicationError(f"method must be one of {', '.join(METHODS)}")
    sources: dict[str, object]
    if method == "pick":
        if annotation_id is None:
            raise AdjudicationError("annotation_id: pick needs the copy to keep")
        chosen = _candidate(session, task, annotation_id, "annotation_id")
        result = annotation_service.load_mask(chosen)
        sources = {"annotation_id": chosen.id, "author_id": chosen.author_id}
    elif method == "merge":
        if not classes:
            raise AdjudicationError("classes: merge needs at least one class and the copy to take it from")
        by_name = {c.name: c.index for c in project.classes}
        unknown = sorted(set(classes) - set(by_name))
        if unknown:
            raise AdjudicationError(f"classes: the project has no class named {unknown[0]!r}")
        picked = {by_name[name]: _candidate(session, task, aid, f"classes[{name!r}]") for name, aid in classes.items()}
        copies = candidates(session=session, task_id=task.id)
        default = consensus.majority_mask([annotation_service.load_mask(a) for a in copies])
        result = merged_mask(project=project, default=default,
                             sources={c: annotation_service.load_mask(a) for c, a in picked.items()})
        sources = {"classes": {name: int(aid) for name, aid in classes.items()}}
    else:
        if mask is None:
            raise AdjudicationError("mask: redraw needs the painted mask")
        result, sources = mask, {}
    annotation = annotation_service.add_adjudicated(session=session, project=project, task=task, user=user,
                                                    mask=result, detail={"method": method})
    row = Adjudication(project_id=project.id, task_id=task.id, annotation_id=annotation.id, adjudicator_id=user.id,
                       method=method, sources=sources, rationale=rationale)
    session.add(row)
    for flag in session.scalars(select(Flag).where(Flag.task_id == task.id, Flag.resolved_at.is_(None))):
        queue_service.resolve_flag(session=session, flag_row=flag, user=user, resolution=f"Adjudicated: {rationale}")
    task.status = TaskStatus.done
    session.flush()
    audit.record(session=session, action="task.adjudicate", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=project.id, detail={"method": method, "annotation_id": annotation.id, "sources": sources,
                                                "rationale": rationale})
    return row


def history(*, session: Session, task_id: int) -> list[Adjudication]:
    return list(session.scalars(select(Adjudication).where(Adjudication.task_id == task_id)
                                .order_by(Adjudication.id)))
