import numpy as np
import pytest
import torch

from app.learning import IGNORE_INDEX
from app.learning.losses import class_weights, segmentation_loss
from app.learning.model import ModelConfig
from app.learning.train import TrainConfig, make_batch, train_segmenter
from app.learning.welllog import generate_dataset


def test_class_weights_from_labeled_pixels_only() -> None:
    m = np.zeros((10, 10), np.uint8)
    m[0, :4] = 1  # 4 of 100 labeled pixels
    w = class_weights([m], 3)
    assert w.dtype == np.float32
    assert w[0] == pytest.approx(1.0)
    assert w[1] == pytest.approx(np.sqrt(96 / 4), rel=1e-5)
    assert w[2] == pytest.approx(10.0)  # absent -> clipped maximum
    unlabeled = m.copy()
    unlabeled[5:] = IGNORE_INDEX  # hide 50 background pixels
    w2 = class_weights([unlabeled, np.full((3, 3), IGNORE_INDEX, np.uint8)], 3)
    assert w2[1] == pytest.approx(np.sqrt(46 / 4), rel=1e-5)


def _loss_inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 3, 6, 7, generator=g)
    target = torch.randint(0, 3, (2, 6, 7), generator=g)
    target[0, 1:3, 2:5] = IGNORE_INDEX
    target[1, 4, :] = IGNORE_INDEX
    return logits, target, torch.tensor([1.0, 3.0, 5.0])


def test_unlabeled_pixels_get_zero_gradient() -> None:
    logits, target, w = _loss_inputs()
    logits.requires_grad_(True)
    segmentation_loss(logits, target, w).backward()
    ignored = (target == IGNORE_INDEX).unsqueeze(1).expand_as(logits)
    assert logits.grad is not None
    assert torch.count_nonzero(logits.grad[ignored]) == 0
    assert torch.count_nonzero(logits.grad[~ignored]) > 0


def test_unlabeled_pixels_do_not_change_loss_or_gradient() -> None:
    logits, target, w = _loss_inputs()
    ignored = (target == IGNORE_INDEX).unsqueeze(1).expand_as(logits)
    other = logits.clone()
    other[ignored] = 50.0 * torch.randn(int(ignored.sum()))  # arbitrary predictions there
    grads = []
    losses = []
    for lg in (logits, other):
        lg = lg.clone().requires_grad_(True)
        loss = segmentation_loss(lg, target, w)
        loss.backward()
        losses.append(loss.detach())
        grads.append(lg.grad[~ignored])
    assert torch.allclose(losses[0], losses[1])
    assert torch.allclose(grads[0], grads[1])


def test_all_unlabeled_batch_is_zero_loss() -> None:
    logits = torch.randn(1, 3, 4, 4, requires_grad=True)
    loss = segmentation_loss(logits, torch.full((1, 4, 4), IGNORE_INDEX))
    loss.backward()
    assert float(loss.detach()) == 0.0 and torch.count_nonzero(logits.grad) == 0


def test_make_batch_pads_with_ignore() -> None:
    ims = [np.zeros((4, 5, 3), np.uint8), np.zeros((6, 3, 3), np.uint8)]
    ms = [np.ones((4, 5), np.uint8), np.ones((6, 3), np.uint8)]
    x, y = make_batch(ims, ms)
    assert x.shape == (2, 3, 6, 5) and y.shape == (2, 6, 5)
    assert (y[0, 4:] == IGNORE_INDEX).all() and (y[1, :, 3:] == IGNORE_INDEX).all()
    assert int((y == 1).sum()) == 20 + 18


@pytest.fixture(scope="module")
def tiny_data() -> list[tuple[np.ndarray, np.ndarray]]:
    return generate_dataset(6, seed=21, size=64)


def test_training_reduces_loss_and_is_deterministic(tiny_data: list[tuple[np.ndarray, np.ndarray]]) -> None:
    images = [im for im, _ in tiny_data]
    masks = [m.copy() for _, m in tiny_data]
    masks[0][:32] = IGNORE_INDEX  # partial labels
    cfg = TrainConfig(epochs=6, batch_size=3, lr=5e-3, seed=1)
    mcfg = ModelConfig(base_channels=8, depth=2)
    seen: list[tuple[int, float]] = []
    state_before = torch.random.get_rng_state()
    model, hist = train_segmenter(images, masks, 3, config=cfg, model_config=mcfg,
                                  progress=lambda e, loss: seen.append((e, loss)))
    assert torch.equal(state_before, torch.random.get_rng_state())  # caller's RNG untouched
    assert not model.training
    assert hist["epochs"] == 6 and hist["steps"] == 12 and len(hist["loss"]) == 6
    assert [e for e, _ in seen] == [1, 2, 3, 4, 5, 6]
    assert hist["loss"][-1] < hist["loss"][0]
    assert hist["lr"][-1] == pytest.approx(0.0, abs=1e-9)  # cosine decayed to zero
    model2, hist2 = train_segmenter(images, masks, 3, config=cfg, model_config=mcfg)
    assert hist2["loss"] == hist["loss"]
    for a, b in zip(model.state_dict().values(), model2.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_training_with_one_image_crops_and_time_limit(tiny_data: list[tuple[np.ndarray, np.ndarray]]) -> None:
    image, mask = tiny_data[0]
    # A limit no step fits in: the run stops after its first step, however fast or loaded the machine.
    cfg = TrainConfig(epochs=10_000, batch_size=8, crop_size=32, max_seconds=1e-6)
    mcfg = ModelConfig(base_channels=4, depth=2)
    model, hist = train_segmenter([image], [mask], 3, config=cfg, model_config=mcfg)
    assert hist["stopped_early"] and hist["steps"] == 1 and hist["epochs"] < 10_000


def test_training_rejects_no_labels(tiny_data: list[tuple[np.ndarray, np.ndarray]]) -> None:
    image, mask = tiny_data[0]
    with pytest.raises(ValueError):
        train_segmenter([image], [np.full_like(mask, IGNORE_INDEX)], 3, config=TrainConfig(epochs=1))


def test_encoder_lr_scale_slows_only_the_encoder(tiny_data: list[tuple[np.ndarray, np.ndarray]]) -> None:
    # scale 0: the stem and down path keep their initial weights, the decoder and classifier still train
    images, masks = [im for im, _ in tiny_data], [m for _, m in tiny_data]
    mcfg = ModelConfig(base_channels=4, depth=2)
    start, _ = train_segmenter(images[:1], masks[:1], 3, config=TrainConfig(epochs=1, batch_size=1), model_config=mcfg)
    cfg = TrainConfig(epochs=2, batch_size=3, lr=5e-3, seed=1, encoder_lr_scale=0.0)
    model, _ = train_segmenter(images, masks, 3, config=cfg, initial_model=start)
    before, after = start.state_dict(), model.state_dict()
    weights = [k for k in before if k.endswith(".weight")]
    enc = [k for k in weights if k.startswith(("stem.", "down."))]
    rest = [k for k in weights if not k.startswith(("stem.", "down."))]
    assert enc and rest
    assert all(torch.equal(before[k], after[k]) for k in enc)
    assert all(not torch.equal(before[k], after[k]) for k in rest)
