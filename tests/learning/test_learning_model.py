from pathlib import Path

import numpy as np
import pytest
import torch

from app.learning.inference import predict_proba, to_tensor
from app.learning.model import ModelConfig, UNet, load_checkpoint, save_checkpoint


def test_shapes_trunk_head_and_odd_sizes() -> None:
    torch.manual_seed(0)
    model = UNet(base_channels=4, depth=3).eval()
    for h, w in [(32, 32), (37, 50), (5, 9)]:
        x = torch.randn(2, 3, h, w)
        f = model.features(x)
        assert f.shape == (2, 4, h, w)
        logits = model(x)
        assert logits.shape == (2, 3, h, w)
        assert torch.allclose(logits, model.head(f))


def test_head_dropout_is_stochastic_in_train_mode_only() -> None:
    torch.manual_seed(0)
    model = UNet(base_channels=4, dropout=0.5)
    f = torch.randn(1, 4, 8, 8)
    model.train()
    assert not torch.allclose(model.head(f), model.head(f))
    model.eval()
    assert torch.allclose(model.head(f), model.head(f))


def test_config_round_trip() -> None:
    cfg = ModelConfig(in_channels=3, num_classes=4, base_channels=8, depth=2, dropout=0.1)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert UNet.from_config(cfg).config == cfg


def test_checkpoint_round_trip_weights_only(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = ModelConfig(base_channels=4, depth=2)
    model = UNet.from_config(cfg).eval()
    extra = {"epochs": 3, "miou_fg": 0.5, "classes": ["a", "b"], "nested": {"x": [1, 2.5]}, "none": None}
    path = tmp_path / "sub" / "model.pt"
    save_checkpoint(path, model, cfg, extra)
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp file left behind
    # the raw payload loads with weights_only=True
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert set(payload) == {"config", "state_dict", "extra"}
    loaded, cfg2, extra2 = load_checkpoint(path)
    assert cfg2 == cfg and extra2 == extra
    assert not loaded.training
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded(x))


def test_checkpoint_rejects_non_json_extra(tmp_path: Path) -> None:
    cfg = ModelConfig(base_channels=4, depth=1)
    with pytest.raises(TypeError):
        save_checkpoint(tmp_path / "m.pt", UNet.from_config(cfg), cfg, {"arr": np.zeros(2)})
    assert not list(tmp_path.iterdir())


def test_to_tensor_and_predict_proba() -> None:
    img = np.zeros((4, 6, 3), np.uint8)
    img[..., 0] = 255
    t = to_tensor(img)
    assert t.shape == (3, 4, 6) and t.dtype == torch.float32
    assert float(t[0, 0, 0]) == pytest.approx(2.0) and float(t[1, 0, 0]) == pytest.approx(-2.0)
    assert to_tensor(img[:, ::-1]).shape == (3, 4, 6)  # negative strides are fine

    torch.manual_seed(0)
    model = UNet(base_channels=4, depth=2)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    p = predict_proba(model, batch, batch_size=2)
    assert isinstance(p, np.ndarray) and p.shape == (3, 3, 16, 16) and p.dtype == np.float32
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert not model.training
    p_hot = predict_proba(model, batch, temperature=2.0)
    assert np.abs(p_hot - 1 / 3).mean() < np.abs(p - 1 / 3).mean()  # higher T -> flatter

    mixed = [batch[0], rng.integers(0, 256, (12, 20, 3), dtype=np.uint8), batch[1]]
    out = predict_proba(model, mixed)
    assert isinstance(out, list) and [o.shape for o in out] == [(3, 16, 16), (3, 12, 20), (3, 16, 16)]
    assert np.allclose(out[0], p[0], atol=1e-5) and np.allclose(out[2], p[1], atol=1e-5)
