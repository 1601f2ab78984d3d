"""Machine labels for the tasks the ranked model is sure of (the lead's action), in one transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.autolabel import service as autolabel_service
from app.errors import DomainError
from app.modeling import service as model_service
from app.modeling.models import ModelVersion
from app.projects.models import Project


def apply_machine_labels(*, session: Session, project: Project, user: User) -> autolabel_service.Applied:
    """Under the version the queue is ranked by (its scores carry each task's confidence); commits."""
    mv_id = model_service.ranked_model_version_id(session=session, project_id=project.id)
    mv = session.get(ModelVersion, mv_id) if mv_id is not None else None
    if mv is None:
        raise DomainError("no ranked model version yet: train and score before accepting machine labels", status=409)
    applied = autolabel_service.apply(session=session, project=project, user=user, mv=mv)
    session.commit()
    return applied
