"""Head-only MC dropout: exact without dropout, the full-MC distribution in expectation, deterministic."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from app.learning.inference import images_to_batch, predict_proba
from app.learning.mc_dropout import (
    GRID_CELL,
    PixelUncertainty,
    dropout_masks,
    head_sample_maps,
    predict_with_uncertainty,
    region_embedding,
    single_thread,
)
from app.learning.model import UNet
from app.learning.uncertainty import bald, least_confidence, margin, normalized_entropy

IMAGES = [np.random.default_rng(i).integers(0, 255, (16, 16, 3), dtype=np.uint8) for i in range(3)]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny tensors: on a busy 2-core machine each two-thread op can wait a scheduler slice for the
    other thread, which made 300 full MC passes of a 16x16 image take a minute instead of 0.1 s."""
    with single_thread():
        yield


def tiny_model(dropout: float, seed: int = 0) -> UNet:
    torch.manual_seed(seed)
    model = UNet(num_classes=3, base_channels=4, depth=1, dropout=dropout).eval()
    with torch.no_grad():  # a sharper head than the init, so dropout moves the probabilities visibly
        model.classifier.weight.mul_(4.0)
    return model


def test_without_dropout_equals_plain_forward() -> None:
    model = tiny_model(0.0)
    images = IMAGES + [IMAGES[0][:10, :13]]  # mixed sizes come back in input order
    u = predict_with_uncertainty(model, images, samples=4, temperature=1.5)
    plain = predict_proba(model, images, temperature=1.5)
    for x, p in zip(u, plain, strict=True):
        assert x.probs.shape == p.shape and np.allclose(x.probs, p, atol=1e-5)
        assert np.allclose(x.entropy, normalized_entropy(p), atol=1e-5)
        assert np.allclose(x.margin, margin(p), atol=1e-5)
        assert np.allclose(x.least_confidence, least_confidence(p), atol=1e-5)
        assert np.allclose(x.bald, 0.0, atol=1e-6)


def test_maps_shapes_ranges_and_embedding() -> None:
    model = tiny_model(0.5)
    u = predict_with_uncertainty(model, IMAGES, samples=6)
    with torch.inference_mode():
        f = model.features(images_to_batch(IMAGES))
    for x, feat in zip(u, f, strict=True):
        assert isinstance(x, PixelUncertainty) and x.probs.shape == (3, 16, 16)
        assert np.allclose(x.probs.sum(axis=0), 1.0, atol=1e-5)
        for m in (x.entropy, x.margin, x.least_confidence, x.bald):
            assert m.shape == (16, 16) and m.dtype == np.float32 and m.min() >= 0.0 and m.max() <= 1.0
        assert x.bald.max() > 0.0  # the samples disagree somewhere
        assert np.allclose(x.embedding, feat.mean(dim=(1, 2)).numpy(), atol=1e-5)
        assert x.feature_grid is not None and x.feature_grid.shape == (4, 16 // GRID_CELL, 16 // GRID_CELL)


def test_fused_head_equals_the_naive_computation() -> None:
    model = tiny_model(0.3)
    with torch.inference_mode():
        f = model.features(images_to_batch(IMAGES[:1]))[0]
        masks = dropout_masks(5, f.shape[0], 0.3, torch.Generator().manual_seed(3))
        samples = torch.stack([model.classifier(f.unsqueeze(0) * m.view(1, -1, 1, 1))[0] for m in masks])
        probs_t = torch.softmax(samples / 2.0, dim=1).numpy()  # [T, C, H, W]
        w, b = model.classifier.weight[:, :, 0, 0], model.classifier.bias
        assert b is not None
        fused = head_sample_maps(w, b, f, masks, temperature=2.0, chunk=37)  # chunks not dividing H*W
    assert np.allclose(fused["probs"].numpy(), probs_t.mean(axis=0), atol=1e-5)
    mi = fused["entropy"].numpy() - fused["mean_entropy"].numpy()
    assert np.allclose(mi, bald(probs_t), atol=1e-5)


def test_head_only_matches_full_mc_in_expectation() -> None:
    model = tiny_model(0.5)
    image = IMAGES[:1]
    head = predict_with_uncertainty(model, image, samples=300, seed=1)[0]
    full = predict_with_uncertainty(model, image, samples=300, seed=2, head_only=False)[0]
    assert np.abs(head.probs - full.probs).mean() < 0.02
    assert abs(float(head.entropy.mean()) - float(full.entropy.mean())) < 0.02
    assert abs(float(head.bald.mean()) - float(full.bald.mean())) < 0.15 * float(full.bald.mean())
    # pixel by pixel the BALD maps agree, not just on average
    assert np.corrcoef(head.bald.ravel(), full.bald.ravel())[0, 1] > 0.9


def test_deterministic_under_seed_and_leaves_global_rng_alone() -> None:
    model = tiny_model(0.5)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = predict_with_uncertainty(model, IMAGES, samples=4, seed=7)
    assert torch.equal(torch.rand(1), expected_next)
    for head_only in (True, False):
        a = predict_with_uncertainty(model, IMAGES, samples=4, seed=7, head_only=head_only)
        b = predict_with_uncertainty(model, IMAGES, samples=4, seed=7, head_only=head_only)
        c = predict_with_uncertainty(model, IMAGES, samples=4, seed=8, head_only=head_only)
        assert all(np.array_equal(x.bald, y.bald) and np.array_equal(x.probs, y.probs)
                   for x, y in zip(a, b, strict=True))
        assert not all(np.array_equal(x.probs, z.probs) for x, z in zip(a, c, strict=True))
    assert not model.training and not model.dropout.training


def test_temperature_softens_the_mean() -> None:
    model = tiny_model(0.3)
    sharp = predict_with_uncertainty(model, IMAGES[:1], samples=8, seed=0)[0]
    soft = predict_with_uncertainty(model, IMAGES[:1], samples=8, seed=0, temperature=4.0)[0]
    assert soft.entropy.mean() > sharp.entropy.mean()
    with pytest.raises(ValueError):
        predict_with_uncertainty(model, IMAGES[:1], temperature=0.0)


def test_bald_is_normalised_by_log_c() -> None:
    model = tiny_model(0.5)
    u = predict_with_uncertainty(model, IMAGES[:1], samples=6, seed=0, head_only=False)[0]
    assert u.bald.max() <= u.entropy.max() + 1e-6  # MI <= H(mean), both / log C
    assert np.isfinite(u.bald).all() and u.bald.max() > 0.0


def test_region_embedding_pools_the_grid() -> None:
    model = tiny_model(0.0)
    image = [np.random.default_rng(5).integers(0, 255, (24, 32, 3), dtype=np.uint8)]
    u = predict_with_uncertainty(model, image, samples=1)[0]
    with torch.inference_mode():
        f = model.features(images_to_batch(image))[0].numpy()
    assert np.allclose(region_embedding(u, (0, 0, 32, 24)), u.embedding)  # whole image: the embedding
    assert np.allclose(region_embedding(u, (8, 16, 16, 8)), f[:, 16:24, 8:24].mean(axis=(1, 2)), atol=1e-5)
    no_grid = PixelUncertainty(u.probs, u.entropy, u.margin, u.least_confidence, u.bald, u.embedding)
    assert np.array_equal(region_embedding(no_grid, (8, 16, 16, 8)), u.embedding)


def test_single_thread_restores_the_thread_count() -> None:
    torch.set_num_threads(2)
    with single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
