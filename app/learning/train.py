"""Train the U-Net on fully or partially labeled masks (255 = unlabeled)."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from app.learning.constants import IGNORE_INDEX
from app.learning.inference import to_tensor
from app.learning.losses import class_weights, segmentation_loss
from app.learning.model import ModelConfig, UNet

__all__ = ["TrainConfig", "train_segmenter", "make_batch"]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 15
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "cpu"
    cosine: bool = True  # decay the LR to 0 over the run so each round ends converged
    augment: bool = True  # random horizontal / vertical flips (depth axis stays vertical)
    max_seconds: float | None = None
    crop_size: int | None = None
    dice_weight: float = 1.0
    # Validation-driven stopping (train_segmenter's `validate`): score every `eval_every` steps, keep
    # the best weights, stop after `patience` scores without a gain of `min_delta`. 0 = off.
    eval_every: int = 0
    patience: int = 4
    min_delta: float = 0.002
    # The encoder's (stem + down path) LR as a share of `lr`: below 1 for a pretrained trunk, so that
    # fine-tuning adapts the decoder and classifier without washing out what pretraining learned.
    encoder_lr_scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sample(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
            config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Random crop (if configured and the image is larger) and flips; views, no copies."""
    if config.crop_size is not None:
        h, w = mask.shape
        ch, cw = min(config.crop_size, h), min(config.crop_size, w)
        y, x = int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1))
        image, mask = image[y:y + ch, x:x + cw], mask[y:y + ch, x:x + cw]
    if config.augment:
        if rng.random() < 0.5:
            image, mask = image[:, ::-1], mask[:, ::-1]
        if rng.random() < 0.5:
            image, mask = image[::-1], mask[::-1]
    return image, mask


def _param_groups(model: UNet, encoder_lr_scale: float) -> list[dict[str, Any]]:
    """AdamW groups: the encoder (stem + down path) at `encoder_lr_scale` x the LR, the rest at 1x."""
    encoder = [*model.stem.parameters(), *model.down.parameters()]
    ids = {id(p) for p in encoder}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return [{"params": encoder, "lr_scale": encoder_lr_scale}, {"params": rest, "lr_scale": 1.0}]


def make_batch(images: Sequence[np.ndarray],
               masks: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad to the largest H and W in the batch -> (x [N,3,H,W] float32, y [N,H,W] int64).

    Padding is 0 in normalised space in the image and IGNORE_INDEX in the mask, so padded
    pixels never count in the loss.
    """
    hmax = max(m.shape[0] for m in masks)
    wmax = max(m.shape[1] for m in masks)
    x = torch.zeros(len(images), 3, hmax, wmax)
    y = torch.full((len(images), hmax, wmax), IGNORE_INDEX, dtype=torch.int64)
    for i, (im, m) in enumerate(zip(images, masks, strict=True)):
        h, w = m.shape
        x[i, :, :h, :w] = to_tensor(im)
        y[i, :h, :w] = torch.from_numpy(m.astype(np.int64))  # astype copies: inputs may be read-only
    return x, y


def train_segmenter(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], num_classes: int, *,
                    config: TrainConfig, model_config: ModelConfig | None = None,
                    progress: Callable[[int, float], None] | None = None,
                    initial_model: UNet | None = None,
                    validate: Callable[[UNet], float | None] | None = None) -> tuple[UNet, dict[str, Any]]:
    """Train from scratch (or from a copy of `initial_model`) -> (model in eval mode, history).

    images: uint8 [H,W,3]; masks: uint8 [H,W] with class ids and 255 = unlabeled. Sizes may
    differ between images (batches are padded). Images without any labeled pixel are dropped.
    Class weights come from the labeled pixels of `masks` only. `progress(epoch, mean_loss)` is
    called after each epoch (1-based).

    Deterministic for a given seed on CPU unless `max_seconds` cuts the run short: then the
    cosine schedule follows elapsed time (so the LR still reaches ~0 by the deadline) and the
    result depends on machine speed. The caller's global torch RNG state is left untouched.

    With `validate` (model in eval mode -> score, higher is better, e.g. fg mIoU on the labeled
    validation split) and config.eval_every > 0, the model is scored every eval_every steps; the
    best-scoring weights are returned, and training stops once `patience` scores in a row have not
    beaten the best by `min_delta` ("plateau"), or at the step / time budget. This is the recipe that
    carries across data: how many steps a data set needs is read off its own validation split.

    history: {"loss": [per-epoch mean], "lr": [LR at each epoch end], "seconds", "steps",
    "epochs", "stopped_early", "class_weights", "num_images", "labeled_pixels"}; with validation
    also "val_scores" [[step, score]], "best_step", "best_score" and "stopped_by" ("plateau",
    "time" or "steps").
    """
    if len(images) != len(masks):
        raise ValueError("images and masks differ in length")
    keep = [i for i, m in enumerate(masks) if bool((m != IGNORE_INDEX).any())]
    if not keep:
        raise ValueError("no labeled pixels to train on")
    images = [images[i] for i in keep]
    masks = [masks[i] for i in keep]
    for im, m in zip(images, masks, strict=True):
        if im.shape[:2] != m.shape:
            raise ValueError(f"image {im.shape} and mask {m.shape} differ in size")
    mc = model_config or (initial_model.config if initial_model is not None
                          else ModelConfig(num_classes=num_classes))
    if mc.num_classes != num_classes:
        raise ValueError(f"model has {mc.num_classes} classes, data {num_classes}")

    weights_np = class_weights(masks, num_classes)
    device = torch.device(config.device)
    rng = np.random.default_rng(config.seed)
    steps_per_epoch = math.ceil(len(images) / config.batch_size)
    total_steps = max(1, config.epochs * steps_per_epoch)
    history: dict[str, Any] = {"loss": [], "lr": [], "steps": 0, "epochs": 0, "stopped_early": False,
                               "class_weights": [float(w) for w in weights_np], "num_images": len(images),
                               "labeled_pixels": int(sum(int((m != IGNORE_INDEX).sum()) for m in masks))}
    watch = validate is not None and config.eval_every > 0
    best_score, best_state, bad = float("-inf"), None, 0
    if watch:
        history.update(val_scores=[], best_step=0, best_score=None, stopped_by="steps")
    start = time.perf_counter()

    with torch.random.fork_rng(devices=[]):  # seed locally; don't disturb the caller's RNG
        torch.manual_seed(config.seed)
        model = UNet.from_config(mc)
        if initial_model is not None:
            model.load_state_dict(initial_model.state_dict())
        model.to(device).train()
        weights = torch.from_numpy(weights_np).to(device)
        opt = torch.optim.AdamW(_param_groups(model, config.encoder_lr_scale), lr=config.lr,
                                weight_decay=config.weight_decay)
        for group in opt.param_groups:
            group["lr"] = config.lr * group["lr_scale"]
        lr = config.lr
        for epoch in range(1, config.epochs + 1):
            order = rng.permutation(len(images))
            losses: list[float] = []
            for b in range(steps_per_epoch):
                idx = order[b * config.batch_size:(b + 1) * config.batch_size]
                pairs = [_sample(images[i], masks[i], rng, config) for i in idx]
                x, y = make_batch([p[0] for p in pairs], [p[1] for p in pairs])
                if not bool((y != IGNORE_INDEX).any()):
                    continue  # a crop can miss every labeled pixel; nothing to learn from
                x, y = x.to(device), y.to(device)
                loss = segmentation_loss(model(x), y, weights, dice_weight=config.dice_weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                history["steps"] += 1
                losses.append(float(loss.detach()))
                elapsed = time.perf_counter() - start
                frac = history["steps"] / total_steps
                if config.max_seconds is not None:
                    frac = max(frac, elapsed / config.max_seconds)
                if config.cosine:
                    lr = 0.5 * config.lr * (1.0 + math.cos(math.pi * min(frac, 1.0)))
                    for group in opt.param_groups:
                        group["lr"] = lr * group["lr_scale"]
                if watch and history["steps"] % config.eval_every == 0:
                    assert validate is not None
                    model.eval()
                    score = validate(model)
                    model.train()
                    value = float("-inf") if score is None else float(score)
                    history["val_scores"].append([history["steps"], score])
                    if value > best_score + config.min_delta or best_state is None:
                        best_score, bad = max(value, best_score), 0
                        best_state = copy.deepcopy(model.state_dict())
                        history["best_step"], history["best_score"] = history["steps"], score
                    else:
                        bad += 1
                        if bad >= config.patience:
                            history["stopped_early"], history["stopped_by"] = True, "plateau"
                            break
                if config.max_seconds is not None and elapsed >= config.max_seconds:
                    history["stopped_early"] = True
                    if watch:
                        history["stopped_by"] = "time"
                    break
            mean_loss = float(np.mean(losses)) if losses else float("nan")
            history["loss"].append(mean_loss if losses else None)  # None stays JSON-safe
            history["lr"].append(lr)
            history["epochs"] = epoch
            if progress is not None:
                progress(epoch, mean_loss)
            if history["stopped_early"]:
                break

    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history["seconds"] = time.perf_counter() - start
    return model, history
