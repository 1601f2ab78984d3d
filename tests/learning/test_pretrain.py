import numpy as np
import pytest
import torch

from app.learning.head import cache_features
from app.learning.model import UNet
from app.learning.pretrain import (
    PoolTooSmall,
    PretrainConfig,
    corrupt,
    info_nce,
    pretrain_trunk,
    random_trunk,
)
from app.learning.welllog import generate_dataset


def _images(n: int, size: int, seed: int = 0) -> list[np.ndarray]:
    return [a for a, _ in generate_dataset(n, seed=seed, size=size)]


@pytest.mark.parametrize("task", ["masked", "denoise"])
def test_pretraining_lowers_its_own_loss(task: str) -> None:
    cfg = PretrainConfig(task=task, steps=40, batch_size=8, crop_size=24, base_channels=8, log_every=10)
    model, hist = pretrain_trunk(_images(20, 40), config=cfg)
    assert len(hist["loss"]) == 4 and hist["steps"] == 40
    assert hist["last_loss"] < 0.92 * hist["first_loss"], hist["loss"]  # measured: masked -11%, denoise more
    assert not model.training


def test_small_pool_falls_back_with_a_message() -> None:
    with pytest.raises(PoolTooSmall, match="end to end"):
        pretrain_trunk(_images(19, 32), config=PretrainConfig(steps=1))
    assert issubclass(PoolTooSmall, ValueError)
    with pytest.raises(ValueError, match="unknown pretext task"):
        pretrain_trunk(_images(20, 32), config=PretrainConfig(task="jigsaw", steps=1))


def test_corruptions_and_info_nce() -> None:
    x = torch.randn(4, 3, 32, 32)
    gen = torch.Generator().manual_seed(0)
    masked, where = corrupt(x, PretrainConfig(task="masked", patch=8, mask_ratio=0.5), gen)
    assert torch.all(masked[where.expand_as(x) > 0] == 0)  # blanked where the loss counts
    assert torch.equal(masked[where.expand_as(x) == 0], x[where.expand_as(x) == 0])
    assert 0.2 < float(where.mean()) < 0.8
    _, where = corrupt(x, PretrainConfig(task="denoise"), gen)
    assert float(where.mean()) == 1.0
    z = torch.randn(6, 8)
    assert float(info_nce(z, z, 0.2)) < float(info_nce(z, torch.randn(6, 8), 0.2))


def test_pretraining_is_deterministic() -> None:
    cfg = PretrainConfig(steps=3, batch_size=4, crop_size=16, base_channels=4)
    images = _images(20, 24)
    a, _ = pretrain_trunk(images, config=cfg)
    b, _ = pretrain_trunk(images, config=cfg)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k


def _pixel_class_separation(model: UNet, train: list, test: list) -> float:
    """Balanced accuracy of nearest-centroid (z-scored per-pixel trunk features) over the 3 classes."""
    def pixels(data: list) -> tuple[np.ndarray, np.ndarray]:
        f = torch.stack(cache_features(model, [a for a, _ in data])).float()
        labels = np.concatenate([b.ravel() for _, b in data])
        return f.permute(0, 2, 3, 1).reshape(-1, model.num_features).numpy(), labels
    ftr, ytr = pixels(train)
    fte, yte = pixels(test)
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
    cents = np.stack([ftr[ytr == c].mean(0) for c in range(3)])
    pred = ((fte[:, None, :] - cents[None]) ** 2).sum(-1).argmin(1)
    return float(np.mean([(pred[yte == c] == c).mean() for c in range(3)]))


def test_pretrained_features_separate_curves_better_than_random_trunks() -> None:
    """Measured check on a tiny pool (24 charts of 48 px, 60 masked-reconstruction steps): nearest-centroid
    balanced accuracy of the curve classes on held-out charts' pixel features. Measured: random trunks
    0.41-0.46 (4 seeds), pretrained 0.51. Stated margin: +0.04 over the best of 3 random trunks.

    (Chart STYLES, by contrast, were not separated better than by random trunks at this scale: pooled
    features' nearest-centroid style accuracy was 0.58-0.85 for random trunks and 0.52-0.75 for
    masked, denoising and contrastive pretraining; see the closing note of issue 11's first pieces.)"""
    train, test = generate_dataset(24, seed=7, size=48), generate_dataset(12, seed=8, size=48)
    random_best = max(_pixel_class_separation(random_trunk(base_channels=8, seed=s), train, test) for s in range(3))
    cfg = PretrainConfig(task="masked", steps=60, batch_size=8, crop_size=32, base_channels=8, log_every=20)
    model, _ = pretrain_trunk([a for a, _ in train], config=cfg)
    pretrained = _pixel_class_separation(model, train, test)
    print(f"random best {random_best:.3f}, pretrained {pretrained:.3f}")
    assert pretrained >= random_best + 0.04, (pretrained, random_best)
