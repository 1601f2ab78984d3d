"""Model versions: when to train, and a training run from labeled data to a ranked queue."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.annotations import service as annotation_service
from app.auth.models import User
from app.config import get_settings
from app.db import lock_row, session_scope
from app.items.models import Split
from app.jobs import BrokerUnavailable, enqueue, job, progress
from app.jobs.models import JobRun, JobStatus
from app.modeling import feature_cache, promotion, representations, training
from app.modeling import service as model_service
from app.modeling.models import ModelVersion
from app.modeling.service import TrainingError
from app.projects import policy as policy_service
from app.projects.models import Project

JOB = "labelwise.train"  # the tracked training job (workers/tasks/learning.py runs it)

log = logging.getLogger(__name__)


def request_training(*, session: Session, project: Project, reason: str,
                     user: User | None = None) -> ModelVersion | None:
    """Queue a new model version, unless one is already queued or training (returns None then).

    The project row is locked so two concurrent submits cannot both trigger a retrain. The caller
    commits and then enqueues the `train` job (see `enqueue_training`).
    """
    lock_row(session, Project.name, project.id)
    pending = model_service.pending_version(session=session, project_id=project.id)
    if pending is not None and progress.stopped_before_running(session=session, project_id=project.id,
                                                              name=JOB, row_id=pending.id):
        training.mark_failed(session=session, model_version_id=pending.id, error="cancelled")  # not a blocker
        pending = None
    if pending is not None:
        return None
    labeled = annotation_service.pool_labels(session=session, project_id=project.id)
    if labeled == 0:
        raise TrainingError("nothing is labeled in the pool yet: label some tasks before training")
    return model_service.queue_version(session=session, project_id=project.id, reason=reason, labels=labeled,
                                       user=user)


def maybe_retrain(*, session: Session, project: Project) -> ModelVersion | None:
    """Retrain once `retrain_every` pool labels have arrived since the newest model version was queued,
    when the project's policy retrains on labels (not on a schedule only)."""
    if not policy_service.retrains_on_labels(policy_service.current(session=session, project=project)):
        return None
    newest = model_service.newest_unfailed(session=session, project_id=project.id)
    since = newest.created_at if newest is not None else None
    new_labels = annotation_service.pool_labels(session=session, project_id=project.id, since=since)
    if new_labels < project.retrain_every:
        return None
    return request_training(session=session, project=project, reason=f"{new_labels} new labels")


def enqueue_training(mv: ModelVersion | None) -> None:
    """After the commit that queued `mv` (if any). When the job cannot be sent (the broker is down), the
    version is marked failed, so the next request can queue a new one, and BrokerUnavailable (503) is
    raised for the caller to report."""
    if mv is None:
        return
    try:
        enqueue(JOB, mv.id)
    except BrokerUnavailable as exc:
        with session_scope() as session:
            training.mark_failed(session=session, model_version_id=mv.id, error=str(exc))
        raise


def start_training_job(*, session: Session, project: Project, user: User) -> tuple[ModelVersion, JobRun] | None:
    """A training a person asked for, as a tracked job (progress per epoch, cancellable: app/jobs/progress.py).
    None when a version is queued or training already. Commits, then sends the job."""
    mv = request_training(session=session, project=project, reason="requested", user=user)
    if mv is None:
        return None
    run = progress.track(session=session, name=JOB, args=[mv.id], project_id=project.id,
                         user_id=user.id, message=f"training model v{mv.version}")
    session.commit()
    try:
        enqueue(JOB, mv.id, job_id=run.job_id)
    except BrokerUnavailable as exc:
        with session_scope() as s:
            training.mark_failed(session=s, model_version_id=mv.id, error=str(exc))
            progress.settle(session=s, job_id=run.job_id, status=JobStatus.dead, message=str(exc))
        raise
    return mv, run


@job(JOB, queue="training")
def run_training(model_version_id: int) -> dict:
    """Train the queued version from the project's labels, then start scoring with it. Idempotent:
    a version that is ready, failed or unknown is left alone."""
    from app.flows.scoring import start_scoring

    with session_scope() as session:
        mv = training.begin_attempt(session=session, model_version_id=model_version_id)
        if mv is None:
            return {"model_version_id": model_version_id, "ready": False}
        project = session.get(Project, mv.project_id)
        assert project is not None
        num_classes, project_id, version = len(project.classes), project.id, mv.version
        train = annotation_service.labeled_set(session=session, project_id=project_id, split=Split.pool)
        val = annotation_service.labeled_set(session=session, project_id=project_id, split=Split.validation)
        rep = representations.current(session=session, project_id=project_id)
        rep_version, rep_weights = (rep.version, rep.weights_path) if rep is not None else (None, None)
    settings = get_settings()
    try:
        if not train.images:
            raise TrainingError("no labeled pool images")
        # Fine-tuned from the project's pretrained trunk when there is one ("finetune"), or a light head on
        # it frozen ("head", on cached features); end to end otherwise.
        initial = representations.initial_model(rep_weights, num_classes=num_classes,
                                                base_channels=settings.unet_base_channels)
        if settings.train_mode == "head" and initial is not None and rep_version is not None:
            images = dict(zip(train.item_ids, train.images, strict=True))
            features = feature_cache.features_for(project_id=project_id, rep_version=rep_version, model=initial,
                                                  item_ids=train.item_ids, pixels=images.__getitem__)
            result = training.fit_head(initial, features, train.masks, val.images, val.masks,
                                       num_classes=num_classes, seed=version)
        else:
            result = training.fit(train.images, train.masks, val.images, val.masks, num_classes=num_classes,
                                  seed=version, progress=progress.report, initial_model=initial)
            if settings.train_mode == "head":  # asked for a head, but there is no representation to put it on
                result.metrics["train_mode_note"] = "head mode needs a representation: trained end to end"
        weights = training.save_weights(result, project_id=project_id, version=version)
    except progress.Cancelled:  # a person stopped it (a tracked job): the version ends failed, saying so
        with session_scope() as session:
            training.mark_failed(session=session, model_version_id=model_version_id, error="cancelled")
        raise
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the version, not lost
        log.exception("training model version %s failed", model_version_id)
        with session_scope() as session:
            training.mark_failed(session=session, model_version_id=model_version_id, error=str(exc))
        return {"model_version_id": model_version_id, "ready": False}
    with session_scope() as session:
        lock_row(session, Project.name, project_id)  # one gate at a time: a promotion must not interleave
        training.mark_ready(session=session, model_version_id=model_version_id, result=result, weights=weights,
                            annotation_ids=train.annotation_ids)
        mv = session.get(ModelVersion, model_version_id)
        assert mv is not None
        mv.representation_version = str(rep_version) if initial is not None else None
        gate = promotion.apply_gate(session=session, mv=mv, margin=settings.promotion_margin)
    if not gate.passed:  # kept, held back: the queue stays ranked by the live version
        return {"model_version_id": model_version_id, "ready": True, "live": False, "gate": gate.reason}
    run_id, chunks = start_scoring(model_version_id)
    return {"model_version_id": model_version_id, "ready": True, "live": True, "scoring_run_id": run_id,
            "chunks": chunks}
