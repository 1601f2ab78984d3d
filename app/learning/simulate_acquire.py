"""Acquisition for the simulator: score a random subset of the unlabeled pool with the
current model and pick a batch of tasks.

TEMPORARY stand-ins (Candidate, tile_grid, expected_calibration_error, "random"/"entropy")
until app.learning.acquisition / calibration / mc_dropout land; then this module only adapts
the simulator's state to select_batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from app.learning.inference import predict_proba
from app.learning.model import UNet
from app.learning.uncertainty import softmax_entropy

STRATEGIES = ("random", "entropy")


class Candidate(NamedTuple):
    image_index: int
    region: tuple[int, int, int, int]


def tile_grid(h: int, w: int, tile: int) -> list[tuple[int, int, int, int]]:
    return [(x, y, min(tile, w - x), min(tile, h - y)) for y in range(0, h, tile) for x in range(0, w, tile)]


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    conf = probs.max(axis=1).ravel()
    correct = (probs.argmax(axis=1).ravel() == labels.ravel())
    keep = labels.ravel() != 255
    conf, correct = conf[keep], correct[keep]
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            total += sel.sum() * abs(conf[sel].mean() - correct[sel].mean())
    return float(total / max(len(conf), 1))


@dataclass(frozen=True)
class AcquireConfig:
    score_subset: int = 64  # unlabeled images scored per round (random subset); 0 = all
    mc_samples: int = 8
    steered_share: float = 0.0
    device: str = "cpu"


def acquire(strategy: str, tasks: Sequence[Candidate], unlabeled: Sequence[int], model: UNet | None,
            images: Sequence[np.ndarray], n: int, rng: np.random.Generator,
            cfg: AcquireConfig) -> tuple[list[int], int]:
    """-> (task ids to label, number of images scored)."""
    n = min(n, len(unlabeled))
    if strategy == "random" or model is None:
        return [int(t) for t in rng.choice(np.asarray(unlabeled), size=n, replace=False)], 0
    by_image: dict[int, list[int]] = {}
    for t in unlabeled:
        by_image.setdefault(tasks[t].image_index, []).append(t)
    img_ids = sorted(by_image)
    if cfg.score_subset and len(img_ids) > cfg.score_subset:
        img_ids = sorted(int(i) for i in rng.choice(img_ids, size=cfg.score_subset, replace=False))
    probs = predict_proba(model, [images[i] for i in img_ids], device=cfg.device)
    scores: list[tuple[float, int]] = []
    for i, p in zip(img_ids, probs, strict=True):
        ent = softmax_entropy(p)
        for t in by_image[i]:
            x, y, w, h = tasks[t].region
            scores.append((float(ent[y:y + h, x:x + w].mean()), t))
    scores.sort(key=lambda s: (-s[0], s[1]))
    picked = [t for _, t in scores[:n]]
    if len(picked) < n:  # subset too small: fill at random from the rest
        rest = np.asarray(sorted(set(unlabeled) - set(picked)))
        picked += [int(t) for t in rng.choice(rest, size=n - len(picked), replace=False)]
    return picked, len(img_ids)
