"""Acquisition for the simulator: score a random subset of the unlabeled pool with the current
model (head-only MC dropout) and let app.learning.acquisition.select_batch pick the tasks.

Beside the product's strategies, the simulator knows `typical` (TypiClust, app.learning.typicality): no
model, no scoring; the pool images' label-free descriptors (app.learning.centroids.descriptor, the
centroid first batch's embedding) are clustered and the densest image of the least-covered cluster
is labeled. Image units only (a tile would need its own embedding, never measured)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.learning import acquisition
from app.learning.acquisition import Candidate, select_batch
from app.learning.centroids import descriptor
from app.learning.mc_dropout import (
    GRID_CELL,
    feature_grids,
    grid_region_mean,
    image_embeddings,
    predict_with_uncertainty,
)
from app.learning.model import UNet
from app.learning.typicality import typical_picks

__all__ = ["STRATEGIES", "SIMULATOR_ONLY", "AcquireConfig", "acquire", "typical_tasks"]

SIMULATOR_ONLY = ("typical",)  # measured here before the product's queue may offer them
STRATEGIES = (*acquisition.STRATEGIES, *SIMULATOR_ONLY)

_NEEDS_EMBEDDINGS = ("hybrid", "coreset")


@dataclass(frozen=True)
class AcquireConfig:
    score_subset: int = 64  # unlabeled images scored per round (random subset); 0 = all
    mc_samples: int = 8
    steered_share: float = 0.0
    region_embeddings: bool = False  # diversity between regions' own pooled features, not their images'
    device: str = "cpu"


def _by_image(tasks: Sequence[Candidate], ids: Sequence[int]) -> dict[int, list[int]]:
    """Task ids grouped by their image, each group in the order of `ids`."""
    out: dict[int, list[int]] = {}
    for t in ids:
        out.setdefault(tasks[t].image_index, []).append(t)
    return out


def _labeled_region_embeddings(model: UNet, tasks: Sequence[Candidate], labeled: Sequence[int],
                               images: Sequence[np.ndarray], device: str) -> np.ndarray:
    """[M, F]: each labeled task's region-pooled trunk features (as candidate_embeddings with regions)."""
    by_image = _by_image(tasks, labeled)
    ids = sorted(by_image)
    grids = feature_grids(model, [images[i] for i in ids], device)
    return np.stack([grid_region_mean(g, GRID_CELL, tasks[t].region)
                     for i, g in zip(ids, grids, strict=True) for t in by_image[i]]).astype(np.float32)


def acquire(strategy: str, tasks: Sequence[Candidate], unlabeled: Sequence[int], labeled: Sequence[int],
            model: UNet, images: Sequence[np.ndarray], n: int, rng: np.random.Generator, cfg: AcquireConfig, *,
            class_weights: np.ndarray | None = None) -> tuple[list[int], int]:
    """Pick `n` of the `unlabeled` task ids -> (task ids in rank order, number of images scored).

    random draws from the whole unlabeled pool without scoring. Other strategies score the
    unlabeled tasks of at most `score_subset` randomly chosen images; class weights come from
    the labeled set; hybrid and core-set also see the embeddings of what is labeled (the tasks
    on up to score_subset labeled images), so they can prefer what is unlike the labels: whole
    images' embeddings, or with `region_embeddings` each region's own.
    """
    n = min(n, len(unlabeled))
    if strategy == "typical":
        return typical_tasks(tasks, unlabeled, labeled, images, n, rng), 0
    if strategy == "random":
        cands = [tasks[t] for t in unlabeled]
        picks = select_batch("random", cands, None, n, rng=rng)
        index = {c: t for c, t in zip(cands, unlabeled, strict=True)}
        return [index[p.candidate] for p in picks], 0
    by_image = _by_image(tasks, unlabeled)
    img_ids = sorted(by_image)
    if cfg.score_subset and len(img_ids) > cfg.score_subset:
        img_ids = sorted(int(i) for i in rng.choice(img_ids, size=cfg.score_subset, replace=False))
    uncertainty = predict_with_uncertainty(model, [images[i] for i in img_ids], samples=cfg.mc_samples,
                                           device=cfg.device, seed=int(rng.integers(2**31)))
    # candidates index the scored subset (position j), as select_batch reads uncertainty[image_index]
    local: list[Candidate] = []
    task_of: dict[Candidate, int] = {}
    for j, i in enumerate(img_ids):
        for t in by_image[i]:
            c = Candidate(j, tasks[t].region)
            local.append(c)
            task_of[c] = t
    labeled_emb = None
    if strategy in _NEEDS_EMBEDDINGS and labeled:
        ids = sorted({tasks[t].image_index for t in labeled})
        if cfg.score_subset and len(ids) > cfg.score_subset:
            ids = sorted(int(i) for i in rng.choice(ids, size=cfg.score_subset, replace=False))
        if cfg.region_embeddings:
            kept = set(ids)
            labeled_emb = _labeled_region_embeddings(model, tasks, [t for t in labeled if tasks[t].image_index in kept],
                                                     images, cfg.device)
        else:
            labeled_emb = image_embeddings(model, [images[i] for i in ids], cfg.device)
    picks = select_batch(strategy, local, uncertainty, n, rng=rng, class_weights=class_weights,
                         steered_share=cfg.steered_share, labeled_embeddings=labeled_emb,
                         region_embeddings=cfg.region_embeddings)
    picked = [task_of[p.candidate] for p in picks]
    if len(picked) < n:  # the scored subset held too few tasks: fill at random from the rest
        rest = np.asarray(sorted(set(unlabeled) - set(picked)))
        picked += [int(t) for t in rng.choice(rest, size=n - len(picked), replace=False)]
    return picked, len(img_ids)


def typical_tasks(tasks: Sequence[Candidate], unlabeled: Sequence[int], labeled: Sequence[int],
                  images: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> list[int]:
    """`n` unlabeled whole-image task ids by TypiClust over the pool images' descriptors, k-means seeded
    from `rng` -> task ids in pick order. Region tasks are refused (ValueError): see the module doc."""
    if len(tasks) != len(images) or any(tasks[t].image_index != t for t in range(len(tasks))):
        raise ValueError("typical works with image units only (one task per pool image)")
    emb = descriptor(images)
    return typical_picks(emb, sorted(labeled), n, seed=int(rng.integers(2**31)))
