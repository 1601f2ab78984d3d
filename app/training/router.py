from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select

from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.security import csrf_protect
from app.training import service
from app.training.models import ModelVersion
from workers.dispatch import enqueue

router = APIRouter(prefix="/api/v1/projects/{project_id}/models", tags=["models"],
                   dependencies=[Depends(csrf_protect)])


def model_out(mv: ModelVersion) -> dict:
    return {"id": mv.id, "version": mv.version, "status": mv.status.value, "metrics": mv.metrics,
            "temperature": mv.temperature, "label_count": mv.label_count, "error": mv.error,
            "created_at": mv.created_at.isoformat(),
            "finished_at": mv.finished_at.isoformat() if mv.finished_at else None}


@router.get("")
def list_models(project: ApiProject, session: SessionDep) -> list[dict]:
    rows = session.scalars(select(ModelVersion).where(ModelVersion.project_id == project.id)
                           .order_by(ModelVersion.version.desc()))
    return [model_out(mv) for mv in rows]


@router.post("/train", status_code=202)
def train(project: ApiProject, user: ApiUser, session: SessionDep) -> dict:
    require_role(user, Role.lead)
    try:
        mv = service.request_training(session=session, project=project, reason="requested", user=user)
    except service.TrainingError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    if mv is None:
        raise HTTPException(status_code=409, detail="a model version is already queued or training")
    session.commit()
    enqueue("labelwise.train", mv.id)
    return model_out(mv)
