"""JSON routes of the lead's levers: the sampling policy (read, history, change) and making a model
version live (promote, roll back). Changes go through the flows, which re-rank after their commit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import NotFound
from app.flows import policy as policy_flow
from app.flows import promotion as promotion_flow
from app.modeling import service as model_service
from app.modeling.schemas import MakeLiveIn, ModelVersionRead
from app.pagination import PageQuery, page_of_list
from app.projects import policy as policy_service
from app.projects.schemas import PolicyIn, PolicyPage, PolicyRead
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}", dependencies=[Depends(csrf_protect)])


def policy_changes(body: PolicyIn) -> dict[str, Any]:
    """The fields given; task_tile 0 means whole images and retrain_hours 0 no schedule."""
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    if changes.get("task_tile") == 0:
        changes["task_tile"] = None
    if changes.get("retrain_hours") == 0:
        changes["retrain_hours"] = None
    for key in ("strategy", "retrain_trigger", "retrain_every", "weight_uncertainty", "weight_diversity",
                "weight_class_boost", "steered_share"):
        if key in changes and changes[key] is None:
            changes.pop(key)  # null: keep the current value
    return changes


@router.get("/policy", tags=["policy"])
def get_policy(project: ApiProject, session: SessionDep) -> PolicyRead:
    return PolicyRead.model_validate(policy_service.current(session=session, project=project))


@router.get("/policy/versions", tags=["policy"])
def policy_versions(project: ApiProject, session: SessionDep, paging: PageQuery, response: Response) -> PolicyPage:
    """Every version, newest first, with who changed it, when and why."""
    rows = policy_service.history(session=session, project_id=project.id)
    return page_of_list(PolicyPage, rows, paging, response, PolicyRead.model_validate)


@router.post("/policy", status_code=201, tags=["policy"])
def change_policy(body: PolicyIn, project: ApiProject, user: ApiUser, session: SessionDep) -> PolicyRead:
    """A new policy version (the next ranking uses it; with a live model the queue is re-ranked now)."""
    require_role(user, Role.lead)
    row = policy_flow.change_policy(session=session, project=project, user=user, reason=body.reason,
                                    **policy_changes(body))
    return PolicyRead.model_validate(row)


def _make_live(action: str, model_version_id: int, body: MakeLiveIn, project: ApiProject, user: ApiUser,
               session: SessionDep) -> ModelVersionRead:
    require_role(user, Role.lead)
    mv = model_service.get_version(session=session, project_id=project.id, model_version_id=model_version_id)
    if mv is None:
        raise NotFound("no model version with that id in this project")
    promotion_flow.make_live(session=session, project=project, mv=mv, user=user, action=action, reason=body.reason)
    return ModelVersionRead.model_validate(mv).model_copy(update={"state": "live"})


@router.post("/models/{model_version_id}/promote", tags=["models"])
def promote(model_version_id: int, project: ApiProject, user: ApiUser, session: SessionDep,
            body: MakeLiveIn | None = None) -> ModelVersionRead:
    """Make a held-back (or newer) version live; the queue is rescored and re-ranked with it."""
    return _make_live("promote", model_version_id, body or MakeLiveIn(), project, user, session)


@router.post("/models/{model_version_id}/rollback", tags=["models"])
def rollback(model_version_id: int, project: ApiProject, user: ApiUser, session: SessionDep,
             body: MakeLiveIn | None = None) -> ModelVersionRead:
    """Make an earlier version live again; the queue is rescored and re-ranked with it."""
    return _make_live("rollback", model_version_id, body or MakeLiveIn(), project, user, session)

