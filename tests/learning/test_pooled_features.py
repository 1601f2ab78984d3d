"""Embeddings from batched trunk passes equal the one-image-at-a-time pass."""

from __future__ import annotations

import numpy as np
import torch


def test_pooled_features_match_one_image_at_a_time_in_order_across_sizes_and_chunks():
    from app.learning.head import pooled_features
    from app.learning.mc_dropout import image_embeddings
    from app.learning.model import ModelConfig, UNet

    torch.manual_seed(0)
    model = UNet.from_config(ModelConfig(num_classes=3, base_channels=8, depth=2)).eval()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for h, w in ((32, 32), (24, 40), (32, 32), (16, 16),
                                                                             (24, 40))]
    seen: list[tuple[int, tuple[int, ...]]] = []
    got = pooled_features(model, images, chunk=2, each=lambda i, f: seen.append((i, tuple(f.shape))))
    np.testing.assert_allclose(got, image_embeddings(model, images), atol=1e-5)
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4]
    assert [s[1:] for _, s in seen] == [im.shape[:2] for im in images] and all(s[0] == 8 for _, s in seen)
    assert pooled_features(model, []).shape == (0, 8)
