import numpy as np
import pytest
import torch

from app.learning.calibration import fit_temperature, logits_for
from app.learning.head import HeadConfig, HeadedUNet, cache_features, train_head
from app.learning.inference import images_to_batch
from app.learning.mc_dropout import predict_with_uncertainty
from app.learning.metrics import confusion_matrix, segmentation_metrics
from app.learning.model import ModelConfig
from app.learning.pretrain import random_trunk
from app.learning.train import TrainConfig, train_segmenter
from app.learning.welllog import generate_dataset


def _miou(model: torch.nn.Module, images: list[np.ndarray], masks: list[np.ndarray]) -> float:
    conf = np.zeros((3, 3), np.int64)
    for lg, m in zip(logits_for(model, images), masks, strict=True):  # type: ignore[arg-type]
        conf += confusion_matrix(lg.argmax(0), m, 3)
    value = segmentation_metrics(conf)["miou_fg"]
    return 0.0 if value is None else float(value)


def test_cached_features_give_the_live_models_logits() -> None:
    data = generate_dataset(3, seed=1, size=32)
    images, masks = [a for a, _ in data], [b for _, b in data]
    trunk = random_trunk(base_channels=8)
    feats = cache_features(trunk, images)
    assert feats[0].shape == (8, 32, 32) and feats[0].dtype == torch.float16
    model, hist = train_head(trunk, feats, masks, 3, config=HeadConfig(hidden=8, kernel=3, steps=5, crop_size=24))
    assert hist["steps"] == 5
    with torch.inference_mode():
        live = model(images_to_batch(images))
        cached = model.head_from_cached(torch.stack(feats).float())
    assert torch.allclose(live, cached, atol=2e-2), float((live - cached).abs().max())
    # the trunk is frozen: its weights are the random trunk's
    for key, value in trunk.state_dict().items():
        if not key.startswith("classifier."):
            assert torch.equal(model.state_dict()[key], value), key


def test_head_on_cached_features_matches_end_to_end_model() -> None:
    """Small case: 6 charts of 48 px. A U-Net trained end to end (80 steps), then a fresh head trained
    only on its cached trunk features (80 steps). Stated tolerance: fg mIoU within 0.06 on the
    training charts."""
    data = generate_dataset(6, seed=2, size=48)
    images, masks = [a for a, _ in data], [b for _, b in data]
    order = np.concatenate([np.random.default_rng(0).permutation(6) for _ in range(80)])
    e2e, _ = train_segmenter([images[i] for i in order], [masks[i] for i in order], 3,
                             config=TrainConfig(epochs=1, batch_size=6, lr=1e-2, crop_size=None),
                             model_config=ModelConfig(num_classes=3, base_channels=8))
    head, _ = train_head(e2e, cache_features(e2e, images), masks, 3,
                         config=HeadConfig(hidden=16, kernel=1, steps=80, batch_size=6, crop_size=48, lr=1e-2))
    m_e2e, m_head = _miou(e2e, images, masks), _miou(head, images, masks)
    print(f"end to end {m_e2e:.3f}, head on cached features {m_head:.3f}")
    assert m_e2e > 0.2, m_e2e
    assert abs(m_head - m_e2e) <= 0.06, (m_e2e, m_head)


def test_headed_model_works_with_mc_dropout_and_calibration() -> None:
    data = generate_dataset(2, seed=3, size=40)
    images, masks = [a for a, _ in data], [b for _, b in data]
    trunk = random_trunk(base_channels=8)
    model, _ = train_head(trunk, cache_features(trunk, images), masks, 3, config=HeadConfig(hidden=8, steps=3))
    assert isinstance(model, HeadedUNet) and model.num_features == 8
    maps = predict_with_uncertainty(model, images, samples=4)
    assert maps[0].probs.shape == (3, 40, 40) and maps[0].embedding.shape == (8,)
    assert np.allclose(maps[0].probs.sum(0), 1.0, atol=1e-4)
    t = fit_temperature(logits_for(model, images), masks)
    assert 0.05 <= t <= 20


def test_train_head_refuses_bad_input() -> None:
    trunk = random_trunk(base_channels=8)
    f = cache_features(trunk, [np.zeros((16, 16, 3), np.uint8)])
    with pytest.raises(ValueError, match="no labeled pixels"):
        train_head(trunk, f, [np.full((16, 16), 255, np.uint8)], 3)
    with pytest.raises(ValueError, match="differ in size"):
        train_head(trunk, f, [np.zeros((8, 8), np.uint8)], 3)
