"""Labeling state of one simulated annotator run: which tasks (images or tiles) are labeled,
what the model may train on, and evaluation of a model on a held-out split.

The annotator is perfect: labeling a task reveals the ground truth of exactly its pixels;
everything else stays IGNORE_INDEX (255) in the training masks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from app.learning.constants import IGNORE_INDEX
from app.learning.inference import predict_proba
from app.learning.metrics import confusion_matrix, segmentation_metrics
from app.learning.model import UNet
from app.learning.simulate_acquire import Candidate, expected_calibration_error, tile_grid
from app.learning.train import TrainConfig, train_segmenter

__all__ = ["LabelState", "all_candidates", "train_round", "evaluate"]

Region = tuple[int, int, int, int]


def all_candidates(shapes: Sequence[tuple[int, int]], unit: str, tile: int) -> list[Candidate]:
    """Every task of the pool: one whole-image region per image, or its tiles (tile_grid)."""
    out: list[Candidate] = []
    for i, (h, w) in enumerate(shapes):
        regions = [(0, 0, w, h)] if unit == "image" else [tuple(int(v) for v in r) for r in tile_grid(h, w, tile)]
        out.extend(Candidate(i, r) for r in regions)
    return out


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
        side, with every revealed pixel inside that window labeled and the rest 255 -- so a
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


def train_round(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], num_classes: int, *,
                steps: int | None, epochs: int | None, batch_size: int, lr: float, crop: int | None,
                seed: int, device: str) -> tuple[UNet, dict[str, Any]]:
    """Train from scratch on a cosine schedule.

    steps: a fixed number of optimisation steps whatever the labeled set (equal compute for
    every strategy and round); the sample list is whole shuffled passes over the labeled
    samples, cut at steps * batch_size, and never shorter than one pass. epochs: instead, that
    many passes (compute grows with the labeled set).
    """
    n = len(images)
    if steps is not None:
        rng = np.random.default_rng([seed, 7])
        want = max(steps * batch_size, n)
        order = np.concatenate([rng.permutation(n) for _ in range(math.ceil(want / n))])[:want]
        images = [images[int(i)] for i in order]
        masks = [masks[int(i)] for i in order]
        epochs = 1
    cfg = TrainConfig(epochs=epochs or 1, batch_size=batch_size, lr=lr, cosine=True, crop_size=crop,
                      seed=seed, device=device)
    return train_segmenter(images, masks, num_classes, config=cfg)


def evaluate(model: UNet, images: Sequence[np.ndarray], masks: Sequence[np.ndarray], classes: Sequence[str], *,
             device: str, temperature: float = 1.0) -> dict[str, Any]:
    """Foreground mIoU, per-class IoU (by class name) and ECE (void pixels skipped) on a split."""
    c = len(classes)
    conf = np.zeros((c, c), np.int64)
    ece_probs, ece_labels = [], []
    for start in range(0, len(images), 16):
        batch = list(images[start:start + 16])
        probs = predict_proba(model, batch, device=device, temperature=temperature)
        for p, m in zip(probs, masks[start:start + 16], strict=True):
            conf += confusion_matrix(p.argmax(0), m, c)
            ece_probs.append(p)
            ece_labels.append(m)
    metrics = segmentation_metrics(conf)
    ece = float(expected_calibration_error(_stack(ece_probs), _stack(ece_labels)))
    return {"miou_fg": metrics["miou_fg"],
            "per_class_iou": {name: metrics["per_class"][str(i)]["iou"] for i, name in enumerate(classes)},
            "ece": ece}


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    if len({a.shape for a in arrays}) == 1:
        return np.stack(arrays)
    # mixed sizes: flatten each to [C, 1, P] / [1, P] so the pixels can be concatenated
    if arrays[0].ndim == 3:
        return np.concatenate([a.reshape(a.shape[0], 1, -1) for a in arrays], axis=2)[None]
    return np.concatenate([a.reshape(1, -1) for a in arrays], axis=1)[None]


def torch_threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)
