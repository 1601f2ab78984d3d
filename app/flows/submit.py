"""A label arrives: store it as the task's next version, and queue a retrain when enough have come."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from app.agreement import service as agreement_service
from app.annotations import service as annotation_service
from app.annotations.models import Annotation, AnnotationStatus
from app.auth.models import User
from app.autolabel import service as autolabel_service
from app.errors import DomainError
from app.flows import training
from app.jobs import BrokerUnavailable
from app.modeling import service as model_service
from app.modeling.models import ModelVersion
from app.projects.models import Project
from app.queue.models import Task
from app.review import hooks as review_hooks

log = logging.getLogger(__name__)


@dataclass
class Submitted:
    annotation: Annotation
    created: bool  # False: a retry of a submit that had arrived already (same client token)
    retrain: ModelVersion | None


def submit_label(
    *, session: Session, project: Project, task: Task, user: User, mask: np.ndarray, seconds_spent: float = 0.0,
    client_token: str | None = None, model_version_id: int | None = None, suggestion_fraction: float | None = None,
    trigger_retrain: bool = True,
) -> Submitted:
    """Store the mask, maybe queue a retrain, commit, and only then enqueue the training job."""
    if model_version_id is not None and model_service.get_version(
            session=session, project_id=project.id, model_version_id=model_version_id) is None:
        raise DomainError(f"model_version_id {model_version_id} is not a model version of this project")
    annotation, created = annotation_service.submit(
        session=session, project=project, task=task, user=user, mask=mask, seconds_spent=seconds_spent,
        client_token=client_token, model_version_id=model_version_id, suggestion_fraction=suggestion_fraction,
    )
    if created and annotation.status == AnnotationStatus.gold:  # an answer to a gold task: scored, nothing else
        review_hooks.after_submit(session=session, project=project, task=task, annotation=annotation)
    elif created:  # the k-th copy of an overlap task: measure how the copies agree, in the same transaction;
        agreement_service.compute(session=session, project=project, task=task)
        # then review sampling, gold scoring and quality scores (app/review/hooks.py)
        review_hooks.after_submit(session=session, project=project, task=task, annotation=annotation)
        # and an audit of a machine label answered: measure the machine against the human
        autolabel_service.record_audit_answer(session=session, task=task, annotation=annotation,
                                              num_classes=len(project.classes))
    retrain = training.maybe_retrain(session=session, project=project) if created and trigger_retrain else None
    session.commit()
    try:
        training.enqueue_training(retrain)
    except BrokerUnavailable:  # the label is saved; the retrain waits for the next trigger (the version failed)
        log.warning("label %s saved; its retrain could not be sent to the workers", annotation.id)
        retrain = None
    return Submitted(annotation=annotation, created=created, retrain=retrain)
