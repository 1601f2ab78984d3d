"""Simulator acquisition (app.simulation.acquire) on a tiny untrained model."""

from __future__ import annotations

import numpy as np
import torch

from app.learning import acquisition as acq
from app.learning.mc_dropout import predict_with_uncertainty
from app.learning.model import UNet
from app.simulation.acquire import AcquireConfig, _labeled_region_embeddings, acquire


def test_simulator_labeled_tiles_embed_like_the_same_tiles_as_candidates() -> None:
    """With region embeddings, a labeled tile and the same tile offered again sit at distance 0, and
    tiles of one image differ: the diversity term compares tiles, not their images."""
    torch.manual_seed(0)
    model = UNet(num_classes=3, base_channels=4, depth=2, dropout=0.3).eval()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(2)]
    tasks = [acq.Candidate(i, (x, y, 16, 16)) for i in range(2) for y in (0, 16) for x in (0, 16)]
    labeled = [1, 6]
    mine = _labeled_region_embeddings(model, tasks, labeled, images, "cpu")
    u = predict_with_uncertainty(model, images, samples=2)
    theirs = acq.candidate_embeddings([tasks[t] for t in labeled], u, region_embeddings=True)
    np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert not np.allclose(mine[0], acq.candidate_embeddings([tasks[0]], u, region_embeddings=True)[0])

    cfg = AcquireConfig(score_subset=0, mc_samples=2, region_embeddings=True)
    unlabeled = [t for t in range(len(tasks)) if t not in labeled]
    picks = [acquire("hybrid", tasks, unlabeled, labeled, model, images, 3, np.random.default_rng(1), cfg)[0]
             for _ in range(2)]
    assert picks[0] == picks[1] and len(set(picks[0])) == 3 and set(picks[0]) <= set(unlabeled)
