"""One model version's training: its attempts and outcome in the database, and the fit itself
(train, evaluate on the labeled validation split, calibrate, fit decision biases, save weights)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app import storage
from app.audit import service as audit
from app.config import get_settings
from app.db import utcnow
from app.modeling.models import ModelStatus, ModelVersion

MAX_ATTEMPTS = 3  # a job redelivered after a worker died is not retried for ever


@dataclass
class FitResult:
    model: Any  # the trained torch module
    model_config: Any
    metrics: dict[str, Any] = field(default_factory=dict)
    temperature: float = 1.0


def begin_attempt(*, session: Session, model_version_id: int) -> ModelVersion | None:
    """Mark the version as training and count the attempt; None when there is nothing to do (ready,
    failed, unknown) or it has been tried too often (then it is marked failed)."""
    mv = session.get(ModelVersion, model_version_id)
    if mv is None or mv.status in (ModelStatus.ready, ModelStatus.failed):
        return None
    mv.attempts += 1
    if mv.attempts > MAX_ATTEMPTS:
        mv.status, mv.error, mv.finished_at = ModelStatus.failed, "gave up after repeated attempts", utcnow()
        return None
    mv.status, mv.started_at = ModelStatus.training, utcnow()
    return mv


def fit(train_images: list[np.ndarray], train_masks: list[np.ndarray], val_images: list[np.ndarray],
        val_masks: list[np.ndarray], *, num_classes: int, seed: int,
        progress: Callable[..., None] | None = None, initial_model: Any | None = None) -> FitResult:
    """Train with the settings' schedule, then measure and calibrate on the labeled validation split.
    `progress(epoch, epochs, what)` after each epoch (what it raises stops the training). `initial_model`:
    a U-Net to fine-tune (the project's pretrained trunk, app.modeling.representations.initial_model);
    None trains end to end from scratch."""
    from app.learning.model import ModelConfig
    from app.learning.train import TrainConfig, train_segmenter

    settings = get_settings()
    started = time.monotonic()
    model_config = ModelConfig(num_classes=num_classes, base_channels=settings.unet_base_channels)
    batches_per_epoch = math.ceil(len(train_images) / settings.train_batch_size)
    config = TrainConfig(
        epochs=max(1, math.ceil(settings.train_steps / batches_per_epoch)),
        batch_size=settings.train_batch_size, lr=settings.train_lr, seed=seed, device=settings.device,
        max_seconds=settings.train_max_seconds, crop_size=settings.train_crop or None,
    )
    model, history = train_segmenter(
        train_images, train_masks, num_classes, config=config, model_config=model_config,
        progress=None if progress is None else lambda epoch, _loss: progress(epoch, config.epochs, "training"),
        initial_model=initial_model)
    metrics, temperature = _evaluate(model, val_images, val_masks, num_classes)
    metrics["class_weights"] = history["class_weights"]
    metrics["train_seconds"] = round(time.monotonic() - started, 2)
    metrics["train_steps"] = history["steps"]
    metrics["train_images"] = len(train_images)
    metrics["initialised_from"] = "representation" if initial_model is not None else "scratch"
    metrics["train_mode"] = "finetune" if initial_model is not None else "scratch"
    return FitResult(model=model, model_config=model_config, metrics=metrics, temperature=temperature)


def fit_head(trunk: Any, train_features: list[Any], train_masks: list[np.ndarray], val_images: list[np.ndarray],
             val_masks: list[np.ndarray], *, num_classes: int, seed: int) -> FitResult:
    """Head mode: a light head (app.learning.head.train_head) on the frozen representation trunk's cached
    features [F,H,W] of the labeled pool images; measured and calibrated on the validation split as `fit`."""
    from app.learning.head import HeadConfig, train_head
    from app.learning.mc_dropout import single_thread

    started = time.monotonic()
    # One thread: the head's small ops on 2 threads of a busy machine took 87 s a round against 12 s
    # (bench/README.md, cachedscore).
    with single_thread():
        model, history = train_head(trunk, train_features, train_masks, num_classes,
                                    config=HeadConfig(steps=get_settings().head_steps, seed=seed))
    metrics, temperature = _evaluate(model, val_images, val_masks, num_classes)
    metrics["class_weights"] = history["class_weights"]
    metrics["train_seconds"] = round(time.monotonic() - started, 2)
    metrics["train_steps"] = history["steps"]
    metrics["train_images"] = len(train_features)
    metrics["initialised_from"] = "representation"
    metrics["train_mode"] = "head"
    metrics["head"] = model.head_config.to_dict()
    return FitResult(model=model, model_config=model.config, metrics=metrics, temperature=temperature)


def _evaluate(model: Any, val_images: list[np.ndarray], val_masks: list[np.ndarray],
              num_classes: int) -> tuple[dict[str, Any], float]:
    """Per-class figures, temperature scaling and decision biases on the labeled validation split."""
    from app.learning.calibration import calibration_report, flatten_pixels
    from app.learning.decision import fit_decision_bias
    from app.learning.evaluation import split_confusion
    from app.learning.inference import logits_for
    from app.learning.metrics import segmentation_metrics

    if not val_images:
        return {"evaluated_on": 0}, 1.0
    logits = logits_for(model, val_images, device=get_settings().device)
    metrics: dict[str, Any] = segmentation_metrics(split_confusion(logits, val_masks, num_classes))
    metrics["evaluated_on"] = len(val_images)
    pixels, labels = flatten_pixels(logits, val_masks)
    report = calibration_report(pixels, labels)
    temperature = float(report["temperature"])
    metrics["calibration"] = report
    # Suggestions use the argmax after these (the metrics above are the plain argmax's: the
    # biases are tuned on the same split, so its figures with them would flatter the model).
    metrics["decision_bias"] = [float(b) for b in fit_decision_bias(pixels / temperature, labels)]
    return metrics, temperature


def weights_path(project_id: int, version: int) -> str:
    return f"projects/{project_id}/models/v{version}.pt"


def save_weights(result: FitResult, *, project_id: int, version: int) -> str:
    from app.learning.head import HeadedUNet, save_headed
    from app.learning.model import save_checkpoint

    relative = weights_path(project_id, version)
    extra = {"project_id": project_id, "version": version}
    if isinstance(result.model, HeadedUNet):  # head mode: trunk copy + adapter + classifier, one file
        save_headed(storage.absolute(relative), result.model, extra)
    else:
        save_checkpoint(storage.absolute(relative), result.model, result.model_config, extra)
    return relative


def mark_ready(*, session: Session, model_version_id: int, result: FitResult, weights: str,
               annotation_ids: list[int]) -> None:
    mv = session.get(ModelVersion, model_version_id)
    assert mv is not None
    mv.status, mv.weights_path, mv.metrics = ModelStatus.ready, weights, result.metrics
    mv.temperature = result.temperature
    mv.trained_on, mv.label_count, mv.finished_at = annotation_ids, len(annotation_ids), utcnow()
    audit.record(session=session, action="model.ready", entity="model_version", entity_id=mv.id,
                 project_id=mv.project_id, detail={"miou_fg": result.metrics.get("miou_fg")})


def mark_failed(*, session: Session, model_version_id: int, error: str) -> None:
    mv = session.get(ModelVersion, model_version_id)
    assert mv is not None
    mv.status, mv.error, mv.finished_at = ModelStatus.failed, error[:2000], utcnow()
    audit.record(session=session, action="model.fail", entity="model_version", entity_id=mv.id,
                 project_id=mv.project_id, detail={"error": error[:500]})
