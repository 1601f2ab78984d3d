"""JSON routes of the project's representation: list them, and start a pretraining (a tracked job)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.flows import pretrain as pretrain_flow
from app.modeling import representations
from app.modeling.representation_schemas import PretrainStarted, RepresentationRead, RepresentationsRead
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}/representations", tags=["models"],
                   dependencies=[Depends(csrf_protect)])


@router.get("")
def list_representations(project: ApiProject, session: SessionDep) -> RepresentationsRead:
    return representations.overview(session=session, project_id=project.id)


@router.post("/pretrain", status_code=202)
def start_pretrain(project: ApiProject, user: ApiUser, session: SessionDep) -> PretrainStarted:
    """Pretrain the trunk on the pool now (409 while one is queued or running). Under 20 pool images the job
    ends saying that model versions train end to end."""
    require_role(user, Role.lead)
    rep, run = pretrain_flow.start_pretrain_job(session=session, project=project, user=user)
    return PretrainStarted(representation=RepresentationRead.model_validate(rep), job_run_id=run.id)
