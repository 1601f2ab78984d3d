"""Scoring from cached trunk features: a head pass per image, the trunk never runs.

A model version trained in head mode (app.learning.head.train_head) is a frozen representation trunk +
adapter + dropout + 1x1 classifier. While the trunk stays frozen, each image's trunk features [F,H,W] are
valid for every head trained on it, so they are computed once (cache_features), stored float16, and
scoring reads them: adapter once, then the same fused MC-dropout head as mc_dropout.predict_with_uncertainty
(same masks for the same seed), so the maps are that function's within float16 rounding of the features.

Storage: float16 at full resolution, F x H x W x 2 bytes (16 channels: 512 KiB for 128x128, 2 MiB for
256x256). `reduce_features` halves the side (4x less), but the adapter then runs on upsampled features
and the maps are no longer the live model's (bench/scoring.py measures both; see bench/README.md).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from app.learning.head import HeadedUNet
from app.learning.mc_dropout import (
    GRID_CELL,
    PixelUncertainty,
    _feature_grid,
    _maps_from,
    dropout_masks,
    head_sample_maps,
    single_thread,
)

__all__ = ["predict_from_features", "reduce_features", "features_to_bytes", "features_from_bytes"]


def predict_from_features(model: HeadedUNet, features: Sequence[torch.Tensor], *, samples: int = 8,
                          temperature: float = 1.0, seed: int = 0,
                          sizes: Sequence[tuple[int, int]] | None = None) -> list[PixelUncertainty]:
    """MC-dropout maps from cached trunk features [F,h,w] (any float dtype, CPU), in input order.

    Same contract as predict_with_uncertainty(model, images, samples=, temperature=, seed=) on the images the
    features came from. `sizes`: each image's (H, W) when the features were stored at a reduced resolution
    (they are upsampled bilinearly before the adapter); None = the features' own size.
    """
    if temperature <= 0 or samples < 1:
        raise ValueError("temperature must be > 0 and samples >= 1")
    model.eval()
    n_classes = model.config.num_classes
    log_c = math.log(n_classes) if n_classes > 1 else 1.0
    masks = dropout_masks(samples, model.num_features, float(model.dropout.p), torch.Generator().manual_seed(seed))
    out: list[PixelUncertainty] = []
    with torch.inference_mode():
        weight = model.classifier.weight[:, :, 0, 0].float()
        b = model.classifier.bias
        bias = torch.zeros(n_classes) if b is None else b.float()
        for i, f in enumerate(features):
            x = f.float().unsqueeze(0)
            if sizes is not None and tuple(x.shape[-2:]) != tuple(sizes[i]):
                x = F.interpolate(x, size=tuple(sizes[i]), mode="bilinear", align_corners=False)
            a = model.adapter(x)  # [1, hidden, H, W]: what the live model's features(x) returns
            with single_thread():  # see mc_dropout.single_thread: the small fused ops on one thread
                emb, grid = a.mean(dim=(2, 3)), _feature_grid(a, GRID_CELL)
                m = head_sample_maps(weight, bias, a[0], masks, temperature)
                out.append(_maps_from(m["probs"], m["entropy"], m["mean_entropy"], emb[0], log_c, grid[0]))
    return out


def reduce_features(f: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """[F,H,W] -> [F,ceil(H/factor),ceil(W/factor)] average-pooled, same dtype: 1/factor^2 of the bytes."""
    if factor <= 1:
        return f
    pooled = F.avg_pool2d(f.float().unsqueeze(0), factor, stride=factor, ceil_mode=True, count_include_pad=False)
    return pooled[0].to(f.dtype)


def features_to_bytes(f: torch.Tensor) -> bytes:
    """A float16 .npy file of [F,H,W] features (numpy's format: no pickle, read back with allow_pickle=False)."""
    buf = io.BytesIO()
    np.save(buf, f.to(torch.float16).numpy(force=True), allow_pickle=False)
    return buf.getvalue()


def features_from_bytes(data: bytes) -> torch.Tensor:
    arr = np.load(io.BytesIO(data), allow_pickle=False)
    if arr.ndim != 3 or arr.dtype != np.float16:
        raise ValueError(f"not a cached feature map: {arr.dtype} {arr.shape}")
    return torch.from_numpy(arr)
