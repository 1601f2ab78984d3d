"""The simulator's levers of issue 11 beyond the acquisition itself: a trunk pretrained on the pool
(`--pretrain`), pseudo-labels of the unlabeled pool (`--pseudo-labels BAR`) and a centroid first batch
(`--first-batch centroid`).

Both keep the compute of every training run equal across strategies: pretraining happens once per
seed, on the pool's images only (never its labels), and every run of that seed -- the reference, round
0 and every strategy's rounds -- starts from a copy of that trunk and trains the same number of steps.
Pseudo-labels change what a run trains on, not how long it trains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from app.learning.calibration import reliability_bins
from app.learning.centroids import centroid_picks, descriptor
from app.learning.constants import IGNORE_INDEX
from app.learning.inference import logits_for, softmax
from app.learning.mc_dropout import image_embeddings
from app.learning.model import UNet
from app.learning.pretrain import PoolTooSmall, PretrainConfig, pretrain_trunk
from app.learning.pseudo import (
    bar_from_reliability,
    bars_per_predicted_class,
    cap_background,
    pseudo_labels_per_class,
)

__all__ = ["pretrained_start", "pseudo_samples", "mix_samples", "centroid_seed_set", "BIN_MIN_PIXELS"]

# a reliability bin with fewer validation pixels than this says nothing about its accuracy
BIN_MIN_PIXELS = 50


def pretrained_start(images: Sequence[np.ndarray], num_classes: int, *, steps: int, base_channels: int,
                     crop: int | None, seed: int) -> tuple[UNet | None, dict[str, Any]]:
    """Denoising-pretrain a trunk on the pool's images (app.learning.pretrain) -> (model, info).

    The model's trunk is pretrained and its 1x1 classifier fresh; runs fine-tune all of it. A pool too
    small to pretrain gives (None, info with "fallback"): the runs then train end to end, and say so.
    """
    side = min([crop or 64, 64, *(min(im.shape[:2]) for im in images)])
    cfg = PretrainConfig(task="denoise", steps=steps, batch_size=16, crop_size=side, base_channels=base_channels,
                         seed=seed)
    try:
        model, hist = pretrain_trunk(images, config=cfg, num_classes=num_classes)
    except PoolTooSmall as exc:
        return None, {"fallback": f"{exc}", "seconds": 0.0}
    return model, {"steps": hist["steps"], "seconds": round(hist["seconds"], 3), "first_loss": hist["first_loss"],
                   "last_loss": hist["last_loss"], "images": hist["images"]}


def centroid_seed_set(images: Sequence[np.ndarray], count: int, *, seed: Sequence[int], trunk: UNet | None = None,
                      device: str = "cpu") -> tuple[list[int], dict[str, Any]]:
    """The seed set of a centroid first batch (Gupte et al. 2024) -> (pool image indices, info).

    k-means with k = `count` over the pool images' embeddings, one image per cluster, the member nearest
    its centre (app.learning.centroids). The embedding: the pretrained `trunk`'s pooled features when there
    is one; otherwise a thumbnail + colour histogram descriptor, which covered the high-redundancy pool's
    templates better than a fixed random-init trunk's pooled features (150 charts of 48 px, 20 k-means seeds:
    4.8 / 7.3 templates at k = 6 / 12 against 4.5 / 6.3, random draws 3.9 / 5.7) at an eighth of the cost
    (bench/centroid_embeddings.py).
    """
    if trunk is not None:
        emb, name = image_embeddings(trunk, images, device), "pretrained trunk"
    else:
        emb, name = descriptor(images), "descriptor"
    picks = centroid_picks(emb, count, seed=list(seed))
    return picks, {"rule": "centroid", "embedding": name, "picks": picks}


def pseudo_samples(model: UNet, temperature: float, accuracy: float, images: Sequence[np.ndarray],
                   truth: Sequence[np.ndarray], val_images: Sequence[np.ndarray], val_masks: Sequence[np.ndarray],
                   *, device: str, background_share: float | None = None, per_class: bool = False,
                   seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray], dict[str, Any]]:
    """Pseudo-labelled copies of unlabeled pool `images` -> (images, masks, info).

    The bar is read off the reliability bins of `model` on the labeled validation split after temperature
    scaling: the lowest confidence from which every bin (with >= BIN_MIN_PIXELS pixels) is at least
    `accuracy` right (app.learning.pseudo). Pixels above it get the model's argmax, the rest IGNORE_INDEX.
    `truth` is the simulator's hidden ground truth, used only to report how right the pseudo-labels were
    (info "accuracy"), never for training. No validation split or no bin good enough: no pseudo-labels.
    With `background_share` (class-balanced), each image keeps at most that many background pixels per
    foreground pixel, drawn at random with `seed` (app.learning.pseudo.cap_background); 0 = foreground only.
    With `per_class`, one bar per class off the bins of the validation pixels predicted as that class
    (info "bars"; "bar" stays None); a class without a bar keeps no pixel. info "per_class" gives, for each
    predicted class, the pseudo-pixels kept and the share of them right (the figure that says if a bar works).
    """
    info: dict[str, Any] = {"bar": None, "images": 0, "pixels": 0, "accuracy": None, "foreground_pixels": 0}
    rng = np.random.default_rng([seed, 23])
    if not len(val_images) or not len(images):
        return [], [], info
    val_probs = [softmax(lg, temperature) for lg in logits_for(model, val_images, device=device, batch_size=16)]
    if per_class:
        bars = bars_per_predicted_class(val_probs, list(val_masks), accuracy, min_count=BIN_MIN_PIXELS)
        info["bars"] = bars
        if all(b is None for b in bars):
            return [], [], info
    else:
        bins = reliability_bins(val_probs, list(val_masks), per_class=False)["overall"]
        bar = bar_from_reliability(bins, accuracy, min_count=BIN_MIN_PIXELS)
        info["bar"] = bar
        if bar is None:
            return [], [], info
        bars = [bar] * val_probs[0].shape[0]  # one bar for every class: pseudo_labels' rule
    n_classes = val_probs[0].shape[0]
    kept_c, right_c = np.zeros(n_classes, np.int64), np.zeros(n_classes, np.int64)
    xs, ys, right = [], [], 0
    for image, true, lg in zip(images, truth, logits_for(model, images, device=device, batch_size=16), strict=True):
        mask = pseudo_labels_per_class(softmax(lg, temperature), bars)
        if background_share is not None:
            mask = cap_background(mask, background_share, rng)
        kept = mask != IGNORE_INDEX
        if not kept.any():
            continue
        xs.append(image)
        ys.append(mask)
        info["pixels"] += int(kept.sum())
        info["foreground_pixels"] += int((kept & (mask != 0)).sum())
        right += int((mask[kept] == true[kept]).sum())
        kept_c += np.bincount(mask[kept], minlength=n_classes)[:n_classes]
        right_c += np.bincount(mask[kept][mask[kept] == true[kept]], minlength=n_classes)[:n_classes]
    info["images"] = len(xs)
    info["accuracy"] = right / info["pixels"] if info["pixels"] else None
    info["per_class"] = {str(c): {"pixels": int(kept_c[c]),
                                  "accuracy": float(right_c[c] / kept_c[c]) if kept_c[c] else None}
                         for c in range(n_classes)}
    return xs, ys, info


def mix_samples(labeled: tuple[list[np.ndarray], list[np.ndarray]],
                pseudo: tuple[list[np.ndarray], list[np.ndarray]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Labeled samples repeated so they make up about half of the list, then the pseudo-labelled ones.

    Runs train a fixed number of steps on shuffled passes over this list: without the repeats a few
    labeled charts would drown among a pool's worth of (noisier) pseudo-labelled ones.
    """
    xs, ys = labeled
    pxs, pys = pseudo
    if not pxs:
        return list(xs), list(ys)
    k = max(1, math.ceil(len(pxs) / max(1, len(xs))))
    return list(xs) * k + list(pxs), list(ys) * k + list(pys)
