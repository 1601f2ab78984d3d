"""JSON API of machine labels: /api/v1/projects/{id}/autolabel (lead only for changes); applying the
policy is a flow, so its route is in app/flows/router.py."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.auth.models import Role
from app.autolabel import service
from app.autolabel.schemas import AutoLabelRead, PolicyIn
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects", tags=["machine labels"], dependencies=[Depends(csrf_protect)])


@router.get("/{project_id}/autolabel")
def get_autolabel(project: ApiProject, session: SessionDep) -> AutoLabelRead:
    return AutoLabelRead(**service.summary(session=session, project_id=project.id))


@router.put("/{project_id}/autolabel/policy")
def put_policy(body: PolicyIn, project: ApiProject, user: ApiUser, session: SessionDep) -> AutoLabelRead:
    require_role(user, Role.lead)
    service.set_policy(session=session, project=project, user=user, bar=body.bar, audit_share=body.audit_share)
    session.commit()
    return AutoLabelRead(**service.summary(session=session, project_id=project.id))
