from __future__ import annotations

from fastapi import APIRouter

from app.deps import ApiProject, SessionDep
from app.modeling import service
from app.modeling.schemas import ModelVersionRead

router = APIRouter(prefix="/api/v1/projects/{project_id}/models", tags=["models"])


@router.get("")
def list_models(project: ApiProject, session: SessionDep) -> list[ModelVersionRead]:
    return [ModelVersionRead.model_validate(mv) for mv in service.list_versions(session=session, project_id=project.id)]
