"""Labeling state of one simulated annotator run: which tasks (images or tiles) are labeled,
what the model may train on, and evaluation of a model on a held-out split.

The annotator is perfect: labeling a task reveals the ground truth of exactly its pixels;
everything else stays IGNORE_INDEX (255) in the training masks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.learning.acquisition import Candidate
from app.learning.calibration import expected_calibration_error, fit_temperature, flatten_pixels
from app.learning.constants import IGNORE_INDEX
from app.learning.decision import fit_decision_bias
from app.learning.evaluation import split_confusion
from app.learning.inference import logits_for, softmax
from app.learning.metrics import segmentation_metrics
from app.learning.model import ModelConfig, UNet
from app.learning.train import TrainConfig, train_segmenter
from app.learning.uncertainty import tile_grid

__all__ = ["LabelState", "all_candidates", "planned_steps", "train_round", "evaluate", "val_scorer"]

FIT_PIXELS = 60_000


def all_candidates(shapes: Sequence[tuple[int, int]], unit: str, tile: int) -> list[Candidate]:
    """Every task of the pool: one whole-image region per image, or its tiles (tile_grid)."""
    return [Candidate(i, r) for i, (h, w) in enumerate(shapes)
            for r in ([(0, 0, w, h)] if unit == "image" else tile_grid(h, w, tile))]


class LabelState:
    """Labeled tasks and the revealed pixels of each pool image."""

    def __init__(self, masks: Sequence[np.ndarray], tasks: Sequence[Candidate]) -> None:
        self.masks = masks
        self.tasks = list(tasks)
        self.labeled: set[int] = set()  # indices into self.tasks, in no particular order
        self.order: list[int] = []  # the same, in acquisition order
        self.revealed = [np.zeros(m.shape, bool) for m in masks]
        self.pool_pixels = int(sum(m.size for m in masks))
        self.labeled_pixels = 0

    def copy(self) -> LabelState:
        other = LabelState.__new__(LabelState)
        other.masks, other.tasks, other.pool_pixels = self.masks, self.tasks, self.pool_pixels
        other.labeled, other.order = set(self.labeled), list(self.order)
        other.revealed = [r.copy() for r in self.revealed]
        other.labeled_pixels = self.labeled_pixels
        return other

    def label(self, task_ids: Sequence[int]) -> None:
        for t in task_ids:
            if t in self.labeled:
                raise ValueError(f"task {t} is labeled already")
            self.labeled.add(t)
            self.order.append(t)
            c = self.tasks[t]
            x, y, w, h = c.region
            window = self.revealed[c.image_index][y:y + h, x:x + w]
            self.labeled_pixels += int((~window).sum())
            window[...] = True

    def unlabeled(self) -> list[int]:
        return [t for t in range(len(self.tasks)) if t not in self.labeled]

    @property
    def fraction(self) -> float:
        return self.labeled_pixels / self.pool_pixels

    def training_samples(self, images: Sequence[np.ndarray], unit: str,
                         margin: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(images, masks) to train on. Image units: the labeled images with their full masks.
        Region units: one sample per labeled tile, the tile plus `margin` px of context on each
        side, with every revealed pixel inside that window labeled and the rest IGNORE_INDEX -- so a
        training step costs the same for both units and no compute goes to unlabeled images."""
        xs, ys = [], []
        for t in sorted(self.order):
            c = self.tasks[t]
            img, mask, rev = images[c.image_index], self.masks[c.image_index], self.revealed[c.image_index]
            if unit == "image":
                xs.append(img)
                ys.append(mask)
                continue
            x, y, w, h = c.region
            hh, ww = mask.shape
            y0, y1, x0, x1 = max(0, y - margin), min(hh, y + h + margin), max(0, x - margin), min(ww, x + w + margin)
            window = (slice(y0, y1), slice(x0, x1))
            xs.append(img[window])
            ys.append(np.where(rev[window], mask[window], IGNORE_INDEX).astype(np.uint8))
        return xs, ys


def planned_steps(masks: Sequence[np.ndarray], *, steps: int | None, epochs: float | None, min_steps: int,
                  batch_size: int, crop: int | None) -> int:
    """Optimisation steps of one training run.

    steps: that fixed number whatever the labeled set (equal compute per round). epochs:
    `epochs` passes over the labeled PIXELS, i.e. ceil(epochs * labeled px / (batch * crop px)),
    never fewer than min_steps -- compute grows with the labels, so a large labeled set is not
    starved (the trap a fixed small step count falls into) and a small one is not under-fitted.
    """
    if steps is not None:
        return steps
    labeled = sum(int((m != IGNORE_INDEX).sum()) for m in masks)
    per_sample = crop * crop if crop else max(1.0, float(np.mean([m.size for m in masks])))
    return max(min_steps, math.ceil((epochs or 1.0) * labeled / (batch_size * per_sample)))


def val_scorer(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], num_classes: int, *,
               device: str) -> Callable[[UNet], float | None]:
    """model -> its foreground mIoU on a labeled validation split (train_segmenter's `validate`)."""
    def score(model: UNet) -> float | None:
        logits = logits_for(model, images, device=device, batch_size=16)
        return segmentation_metrics(split_confusion(logits, masks, num_classes))["miou_fg"]
    return score


def train_round(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], num_classes: int, *,
                steps: int, batch_size: int, lr: float, crop: int | None, seed: int,
                device: str, base_channels: int = 16, val_images: Sequence[np.ndarray] = (),
                val_masks: Sequence[np.ndarray] = (), eval_every: int = 0, patience: int = 4,
                max_seconds: float | None = None, initial_model: UNet | None = None,
                encoder_lr_scale: float = 1.0) -> tuple[UNet, dict[str, Any]]:
    """Train from scratch (or from a copy of `initial_model`, e.g. a pretrained trunk) for `steps`
    optimisation steps on one cosine schedule.

    The sample list is whole shuffled passes over the samples, cut at steps * batch_size (so
    the step count is exact and class weights see every sample about equally often); never
    shorter than one pass. With a validation split and eval_every > 0, `steps` is the most the run
    may take: it keeps the weights best on that split and stops when the split stops improving
    (patience scores) or after max_seconds (train_segmenter).
    """
    n = len(images)
    rng = np.random.default_rng([seed, 7])
    want = max(steps * batch_size, n)
    order = np.concatenate([rng.permutation(n) for _ in range(math.ceil(want / n))])[:want]
    watch = eval_every > 0 and len(val_images) > 0
    cfg = TrainConfig(epochs=1, batch_size=batch_size, lr=lr, cosine=True, crop_size=crop, seed=seed, device=device,
                      eval_every=eval_every if watch else 0, patience=patience, max_seconds=max_seconds,
                      encoder_lr_scale=encoder_lr_scale)
    validate = val_scorer(val_images, val_masks, num_classes, device=device) if watch else None
    return train_segmenter([images[int(i)] for i in order], [masks[int(i)] for i in order], num_classes, config=cfg,
                           model_config=ModelConfig(num_classes=num_classes, base_channels=base_channels),
                           validate=validate, initial_model=initial_model)


def evaluate(model: UNet, images: Sequence[np.ndarray], masks: Sequence[np.ndarray], classes: Sequence[str], *,
             device: str, val_images: Sequence[np.ndarray] = (), val_masks: Sequence[np.ndarray] = (),
             decision_bias: bool = False) -> dict[str, Any]:
    """Foreground mIoU, per-class IoU (by class name) and ECE (void pixels skipped) on a split.

    With a validation split, also the temperature fitted there (NLL, app.learning.calibration)
    and the test ECE after scaling by it ("ece_calibrated"); with `decision_bias`, the IoU figures
    come from the argmax after per-class biases fitted there (app.learning.decision), and
    "miou_fg_raw" keeps the plain argmax's.
    """
    c = len(classes)
    logits = logits_for(model, images, device=device, batch_size=16)
    val = flatten_pixels(logits_for(model, val_images, device=device), list(val_masks)) if len(val_images) else None
    bias = fit_decision_bias(*val) if decision_bias and val is not None else np.zeros(c, np.float32)
    conf_raw = split_confusion(logits, masks, c)
    # the tuned argmax is scored beside the plain one, not instead of it
    conf = split_confusion(logits, masks, c, bias=bias) if decision_bias else conf_raw
    metrics = segmentation_metrics(conf)
    out: dict[str, Any] = {
        "miou_fg": metrics["miou_fg"],
        "per_class_iou": {name: metrics["per_class"][str(i)]["iou"] for i, name in enumerate(classes)},
        "ece": expected_calibration_error([softmax(lg, 1.0) for lg in logits], list(masks)),
    }
    if decision_bias:
        out["decision_bias"] = [float(b) for b in bias]
        out["miou_fg_raw"] = segmentation_metrics(conf_raw)["miou_fg"]
    if val is not None:
        # at most a fixed random 60k of the validation pixels: the fit is much cheaper than on all of them
        t = fit_temperature(*val, max_pixels=FIT_PIXELS)
        out["temperature"] = t
        out["ece_calibrated"] = expected_calibration_error([softmax(lg, t) for lg in logits], list(masks))
    return out
