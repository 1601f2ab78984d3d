"""Model versions: when to train, and the training run itself (called by the `train` worker task)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import storage
from app.annotations.models import Annotation, AnnotationStatus
from app.audit import service as audit
from app.auth.models import User
from app.config import get_settings
from app.db import session_scope, utcnow
from app.items.models import Item, Split
from app.learning.stopping import stop_report
from app.projects.models import Project
from app.training.data import labeled_set
from app.training.models import ModelStatus, ModelVersion

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # a job redelivered after a worker died is not retried for ever


class TrainingError(ValueError):
    pass


def pending_version(*, session: Session, project_id: int) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.project_id == project_id,
            ModelVersion.status.in_([ModelStatus.queued, ModelStatus.training]),
        )
    )


def latest_ready(*, session: Session, project_id: int) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(ModelVersion.project_id == project_id, ModelVersion.status == ModelStatus.ready)
        .order_by(ModelVersion.version.desc()).limit(1)
    )


def request_training(
    *, session: Session, project: Project, reason: str, user: User | None = None
) -> ModelVersion | None:
    """Queue a new model version, unless one is already queued or training (returns None then).

    The project row is locked (Postgres) so two concurrent submits cannot both trigger a retrain.
    The caller commits and then enqueues the `train` task.
    """
    session.scalar(select(Project).where(Project.id == project.id).with_for_update())
    if pending_version(session=session, project_id=project.id) is not None:
        return None
    labeled = labeled_set_size(session=session, project_id=project.id)
    if labeled == 0:
        raise TrainingError("nothing is labeled in the pool yet: label some tasks before training")
    last = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.project_id == project.id))
    mv = ModelVersion(project_id=project.id, version=(last or 0) + 1, status=ModelStatus.queued)
    session.add(mv)
    session.flush()
    audit.record(session=session, action="model.queue", entity="model_version", entity_id=mv.id,
                 user_id=user.id if user else None, project_id=project.id,
                 detail={"reason": reason, "version": mv.version, "labels": labeled})
    return mv


def stop_advice(versions: Sequence[ModelVersion], patience: int = 3) -> dict | None:  # type: ignore[type-arg]
    """The learning core's stop report over a project's trained versions (validation foreground mIoU
    against the labels each was trained on), with the best version's number. For the lead to read;
    nothing is enforced. None before the first ready version with a validation score."""
    versions = sorted((v for v in versions if v.status == ModelStatus.ready and v.metrics.get("miou_fg") is not None),
                      key=lambda v: v.version)
    if not versions:
        return None
    report = stop_report([{"miou_fg": v.metrics["miou_fg"], "labeled": v.label_count} for v in versions],
                         patience=patience)
    report["best_version"] = versions[report["best_round"]].version
    report["patience"] = patience
    return report


def labeled_set_size(*, session: Session, project_id: int, since: datetime | None = None) -> int:
    """Submitted pool labels (the ones training uses), optionally only those newer than `since`."""
    stmt = (
        select(func.count()).select_from(Annotation).join(Item, Item.id == Annotation.item_id)
        .where(Item.project_id == project_id, Item.split == Split.pool,
               Annotation.status == AnnotationStatus.submitted)
    )
    if since is not None:
        stmt = stmt.where(Annotation.created_at > since)
    return int(session.scalar(stmt) or 0)


def maybe_retrain(*, session: Session, project: Project) -> ModelVersion | None:
    """Retrain once `retrain_every` pool labels have arrived since the newest model version was queued."""
    newest = session.scalar(
        select(ModelVersion).where(ModelVersion.project_id == project.id, ModelVersion.status != ModelStatus.failed)
        .order_by(ModelVersion.version.desc()).limit(1)
    )
    since = newest.created_at if newest is not None else None
    new_labels = labeled_set_size(session=session, project_id=project.id, since=since)
    if new_labels < project.retrain_every:
        return None
    return request_training(session=session, project=project, reason=f"{new_labels} new labels")


def run_training(model_version_id: int) -> bool:
    """Train the queued version; True when it is ready (then scoring should start). Idempotent."""
    from app.learning.calibration import calibration_report, flatten_pixels, logits_for
    from app.learning.decision import fit_decision_bias
    from app.learning.model import ModelConfig, save_checkpoint
    from app.learning.train import TrainConfig, train_segmenter

    settings = get_settings()
    with session_scope() as session:
        mv = session.get(ModelVersion, model_version_id)
        if mv is None or mv.status in (ModelStatus.ready, ModelStatus.failed):
            return False
        mv.attempts += 1
        if mv.attempts > MAX_ATTEMPTS:
            mv.status, mv.error, mv.finished_at = ModelStatus.failed, "gave up after repeated attempts", utcnow()
            return False
        mv.status, mv.started_at = ModelStatus.training, utcnow()
        project = session.get(Project, mv.project_id)
        assert project is not None
        num_classes = len(project.classes)
        project_id, version = project.id, mv.version
        train = labeled_set(session=session, project_id=project_id, split=Split.pool)
        val = labeled_set(session=session, project_id=project_id, split=Split.validation)
    try:
        if not train.images:
            raise TrainingError("no labeled pool images")
        started = time.monotonic()
        model_config = ModelConfig(num_classes=num_classes, base_channels=settings.unet_base_channels)
        batches_per_epoch = math.ceil(len(train.images) / settings.train_batch_size)
        config = TrainConfig(
            epochs=max(1, math.ceil(settings.train_steps / batches_per_epoch)),
            batch_size=settings.train_batch_size, lr=settings.train_lr, seed=version, device=settings.device,
            max_seconds=settings.train_max_seconds, crop_size=settings.train_crop or None,
        )
        model, history = train_segmenter(train.images, train.masks, num_classes, config=config,
                                         model_config=model_config)
        metrics = evaluate(model, val.images, val.masks, num_classes)
        temperature = 1.0
        if val.images:  # temperature scaling, fitted on the labeled validation split
            pixels, labels = flatten_pixels(logits_for(model, val.images, device=settings.device), val.masks)
            report = calibration_report(pixels, labels)
            temperature = report["temperature"]
            metrics["calibration"] = report
            # Suggestions use the argmax after these (the metrics above are the plain argmax's: the
            # biases are tuned on the same split, so its figures with them would flatter the model).
            metrics["decision_bias"] = [float(b) for b in fit_decision_bias(pixels / temperature, labels)]
        metrics["class_weights"] = history["class_weights"]
        metrics["train_seconds"] = round(time.monotonic() - started, 2)
        metrics["train_steps"] = history["steps"]
        metrics["train_images"] = len(train.images)
        weights = f"projects/{project_id}/models/v{version}.pt"
        save_checkpoint(storage.absolute(weights), model, model_config,
                        {"project_id": project_id, "version": version})
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the version, not lost
        log.exception("training model version %s failed", model_version_id)
        with session_scope() as session:
            mv = session.get(ModelVersion, model_version_id)
            assert mv is not None
            mv.status, mv.error, mv.finished_at = ModelStatus.failed, str(exc)[:2000], utcnow()
            audit.record(session=session, action="model.fail", entity="model_version", entity_id=mv.id,
                         project_id=mv.project_id, detail={"error": str(exc)[:500]})
        return False
    with session_scope() as session:
        mv = session.get(ModelVersion, model_version_id)
        assert mv is not None
        mv.status, mv.weights_path, mv.metrics = ModelStatus.ready, weights, metrics
        mv.temperature = temperature
        mv.trained_on, mv.label_count, mv.finished_at = train.annotation_ids, len(train.annotation_ids), utcnow()
        audit.record(session=session, action="model.ready", entity="model_version", entity_id=mv.id,
                     project_id=mv.project_id, detail={"miou_fg": metrics.get("miou_fg")})
    return True


def evaluate(model, images: list[np.ndarray], masks: list[np.ndarray], num_classes: int) -> dict:  # type: ignore[no-untyped-def]
    """Per-class IoU/F1 on the labeled validation split (empty when nothing is labeled there)."""
    from app.learning.inference import predict_proba
    from app.learning.metrics import confusion_matrix, segmentation_metrics

    if not images:
        return {"evaluated_on": 0}
    conf = np.zeros((num_classes, num_classes), dtype=np.int64)
    for image, mask in zip(images, masks, strict=True):
        probs = predict_proba(model, [image], device=get_settings().device)[0]
        conf += confusion_matrix(probs.argmax(0), mask, num_classes)
    metrics = segmentation_metrics(conf)
    metrics["evaluated_on"] = len(images)
    return metrics
