"""A light segmentation head on cached trunk features: a model version in seconds, not minutes.

The trunk (a pretrained U-Net's `features`, app.learning.pretrain) is frozen; each labeled image's
trunk features are computed once and cached (`cache_features`, float16 [F,H,W]: 16 channels x 2 bytes
= 512 KiB per 128x128 chart, so 1,000 labeled charts hold 0.5 GiB; the unlabeled pool keeps only the
pooled embedding and the low-resolution grid, app.learning.mc_dropout.image_embeddings/feature_grids).
Each round trains only the head on random crops of the cached features, with the core's loss
(app.learning.losses: class-weighted CE + Dice, 255 ignored).

The head keeps the MC-dropout design of app.learning.model: a deterministic adapter (conv + ReLU)
whose output plays the trunk features' part, then element-wise dropout and a 1x1 classifier.
`HeadedUNet` is a UNet whose `features` are trunk + adapter, so head-only MC dropout
(mc_dropout.predict_with_uncertainty), temperature scaling (calibration.logits_for / fit_temperature)
and decision biases (decision.py) apply to it unchanged.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from app.learning.constants import IGNORE_INDEX
from app.learning.inference import images_to_batch
from app.learning.losses import class_weights, segmentation_loss
from app.learning.model import ModelConfig, UNet, load_checkpoint, save_checkpoint

__all__ = ["HeadConfig", "HeadedUNet", "cache_features", "train_head", "save_headed", "load_any_checkpoint"]


@dataclass(frozen=True)
class HeadConfig:
    hidden: int = 32  # adapter width = the features the dropout head samples
    kernel: int = 3  # adapter kernel: 1 = per pixel, 3 = a 3x3 neighbourhood of trunk features
    layers: int = 1  # adapter conv + ReLU layers
    # a round on 1,000 labeled charts of 128 px: 200 steps 8.3 s (kernel 3), 9.0 s (kernel 1; 100 steps
    # 3.0 s) on one thread of the shared 2-core machine, once the features are cached (1,000 charts:
    # 42 s, 500 MiB float16, paid once per image when it is labeled). Re-measured 2026-12-03 (cachedscore,
    # bench/head_round.py): 9.0 s on one thread at load 3 (cache 34.5 s), 12.1 s at load 5-6; 2 threads at
    # load 5-15: 87 s (two OpenMP threads on a busy machine wait for each other, see mc_dropout.single_thread)
    steps: int = 200
    batch_size: int = 8
    crop_size: int = 64
    lr: float = 1e-2
    weight_decay: float = 1e-4
    dropout: float = 0.3
    dice_weight: float = 1.0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _adapter(cin: int, hidden: int, kernel: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Conv2d(cin if i == 0 else hidden, hidden, kernel, padding=kernel // 2), nn.ReLU(inplace=True)]
    return nn.Sequential(*mods)


class HeadedUNet(UNet):
    """A U-Net trunk + adapter + dropout + 1x1 classifier. `trunk_features(x)` is the U-Net's
    (frozen) trunk; `features(x)` adds the adapter, so the head seen by MC dropout is dropout + 1x1."""

    def __init__(self, trunk: UNet, head: HeadConfig, num_classes: int) -> None:
        cfg = trunk.config
        super().__init__(cfg.in_channels, num_classes, cfg.base_channels, cfg.depth, head.dropout)
        state = {k: v for k, v in trunk.state_dict().items() if not k.startswith("classifier.")}
        self.load_state_dict(state, strict=False)
        self.adapter = _adapter(trunk.num_features, head.hidden, head.kernel, head.layers)
        self.classifier = nn.Conv2d(head.hidden, num_classes, kernel_size=1)
        self.num_features = head.hidden
        self.head_config = head

    def trunk_features(self, x: torch.Tensor) -> torch.Tensor:
        return super().features(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.adapter(self.trunk_features(x))

    def head_from_cached(self, f: torch.Tensor) -> torch.Tensor:
        """Cached trunk features [N,F,H,W] -> logits [N,C,H,W] (dropout active in train mode)."""
        return self.head(self.adapter(f))


def cache_features(trunk: UNet, images: Sequence[np.ndarray], *, batch_size: int = 16,
                   dtype: torch.dtype = torch.float16) -> list[torch.Tensor]:
    """Trunk features [F,H,W] (`dtype`, CPU) per uint8 image [H,W,3], in input order; eval mode."""
    trunk.eval()
    out: list[torch.Tensor | None] = [None] * len(images)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, im in enumerate(images):
        groups.setdefault(im.shape, []).append(i)
    feats = trunk.trunk_features if isinstance(trunk, HeadedUNet) else trunk.features
    with torch.inference_mode():
        for idx in groups.values():
            for s in range(0, len(idx), batch_size):
                part = idx[s:s + batch_size]
                f = feats(images_to_batch([images[i] for i in part])).to(dtype).cpu()
                for i, fi in zip(part, f, strict=True):
                    out[i] = fi.clone()
    return [f for f in out if f is not None]


def pooled_features(trunk: UNet, images: Sequence[np.ndarray], *, chunk: int = 32,
                    each: Callable[[int, torch.Tensor], None] | None = None) -> np.ndarray:
    """[N, F] global-average-pooled float32 trunk features (the images' embeddings), the trunk run on batches
    (a pass one image at a time took most of a 5,000-chart pretraining). `each(i, features)` receives image i's
    full features [F,H,W] as they are computed: head mode stores them. In chunks, so a large pool's features
    are never all in memory (5,000 charts of 128 px with 16 channels are 5 GiB of float32)."""
    pooled: list[np.ndarray] = []
    for start in range(0, len(images), chunk):
        for i, f in enumerate(cache_features(trunk, images[start:start + chunk], dtype=torch.float32), start):
            if each is not None:
                each(i, f)
            pooled.append(f.mean(dim=(1, 2)).numpy())
    return np.stack(pooled).astype(np.float32) if pooled else np.zeros((0, trunk.num_features), np.float32)


def _crop_batch(features: Sequence[torch.Tensor], masks: Sequence[np.ndarray], idx: np.ndarray, crop: int,
                rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random crops at the same place in features and masks; padded (mask 255) to a square batch."""
    n_feat = features[0].shape[0]
    x = torch.zeros(len(idx), n_feat, crop, crop)
    y = torch.full((len(idx), crop, crop), IGNORE_INDEX, dtype=torch.int64)
    for j, i in enumerate(idx):
        f, m = features[int(i)], masks[int(i)]
        h, w = m.shape
        ch, cw = min(crop, h), min(crop, w)
        r, c = int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1))
        x[j, :, :ch, :cw] = f[:, r:r + ch, c:c + cw].float()
        y[j, :ch, :cw] = torch.from_numpy(m[r:r + ch, c:c + cw].astype(np.int64))
    return x, y


def train_head(trunk: UNet, features: Sequence[torch.Tensor], masks: Sequence[np.ndarray], num_classes: int, *,
               config: HeadConfig | None = None) -> tuple[HeadedUNet, dict[str, Any]]:
    """Train adapter + classifier on cached trunk features [F,H,W] and masks uint8 [H,W] (255 =
    unlabeled) -> (HeadedUNet in eval mode, history). The trunk's weights are not changed.

    Class weights from the labeled pixels of `masks` only; cosine LR over `steps`; images without a
    labeled pixel are dropped. Deterministic for a seed; the caller's torch RNG is left untouched.
    history: {"loss": [mean per 50 steps], "steps", "seconds", "class_weights", "num_images"}.
    """
    cfg = config or HeadConfig()
    if len(features) != len(masks):
        raise ValueError("features and masks differ in length")
    keep = [i for i, m in enumerate(masks) if bool((m != IGNORE_INDEX).any())]
    if not keep:
        raise ValueError("no labeled pixels to train on")
    feats = [features[i] for i in keep]
    labels = [masks[i] for i in keep]
    for f, m in zip(feats, labels, strict=True):
        if tuple(f.shape[1:]) != m.shape:
            raise ValueError(f"features {tuple(f.shape)} and mask {m.shape} differ in size")
    weights = torch.from_numpy(class_weights(labels, num_classes))
    rng = np.random.default_rng([cfg.seed, 13])
    history: dict[str, Any] = {"loss": [], "steps": 0, "class_weights": weights.tolist(), "num_images": len(feats)}
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = HeadedUNet(trunk, cfg, num_classes)
        params = list(model.adapter.parameters()) + list(model.classifier.parameters())
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        model.eval()  # trunk batch norm stays frozen
        model.adapter.train()
        model.dropout.train()
        order = np.concatenate([rng.permutation(len(feats))
                                for _ in range(math.ceil(cfg.steps * cfg.batch_size / len(feats)) + 1)])
        window: list[float] = []
        for step in range(cfg.steps):
            idx = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            x, y = _crop_batch(feats, labels, idx, cfg.crop_size, rng)
            if not bool((y != IGNORE_INDEX).any()):
                continue
            loss = segmentation_loss(model.head_from_cached(x), y, weights, dice_weight=cfg.dice_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for group in opt.param_groups:
                group["lr"] = 0.5 * cfg.lr * (1.0 + math.cos(math.pi * (step + 1) / cfg.steps))
            history["steps"] += 1
            window.append(float(loss.detach()))
            if len(window) == 50:
                history["loss"].append(float(np.mean(window)))
                window = []
        if window:
            history["loss"].append(float(np.mean(window)))
    model.eval()
    history["seconds"] = time.perf_counter() - start
    return model, history


def save_headed(path: str | os.PathLike[str], model: HeadedUNet, extra: dict[str, Any] | None = None) -> None:
    """A head-mode model version as one checkpoint (trunk copy + adapter + classifier): save_checkpoint's
    format with the head's config under extra["head"], so load_any_checkpoint rebuilds the HeadedUNet."""
    save_checkpoint(path, model, model.config, {**(extra or {}), "head": model.head_config.to_dict()})


def load_any_checkpoint(path: str | os.PathLike[str],
                        device: str | torch.device = "cpu") -> tuple[UNet, ModelConfig, dict[str, Any]]:
    """model.load_checkpoint, and a HeadedUNet when the checkpoint has extra["head"] (save_headed); eval mode."""
    def build(config: ModelConfig, extra: dict[str, Any]) -> UNet:
        model = UNet.from_config(config)
        head = extra.get("head")
        return model if head is None else HeadedUNet(model, HeadConfig(**head), config.num_classes)

    return load_checkpoint(path, device, build=build)
