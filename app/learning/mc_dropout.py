"""Pixel uncertainty with MC dropout, cheaply: the trunk runs once and only the dropout head is sampled.

The head is dropout followed by a 1x1 convolution W (C x F). For one pixel, a sample's logits are
W (m * f) / (1 - p) + b with m ~ Bernoulli(1 - p) per feature channel. Drawing the T masks once per
batch and sharing them across pixels gives every pixel exactly the per-pixel distribution of
element-wise dropout (only the correlation between pixels differs, which no per-pixel score uses),
and turns the T head passes into one einsum with T small C x F matrices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from app.learning.inference import images_to_batch
from app.learning.model import UNet

__all__ = ["PixelUncertainty", "predict_with_uncertainty"]


@dataclass
class PixelUncertainty:
    """One image's maps; every [H,W] map is in [0, 1] and higher means less sure."""

    probs: np.ndarray  # [C,H,W] mean over samples, temperature-scaled
    entropy: np.ndarray  # [H,W] entropy of the mean / log C
    margin: np.ndarray  # [H,W] 1 - (top1 - top2)
    least_confidence: np.ndarray  # [H,W] 1 - max p
    bald: np.ndarray  # [H,W] mutual information / log C
    embedding: np.ndarray  # [F] global-average-pooled trunk features (for diversity and core-set)


def _entropy(p: torch.Tensor, dim: int) -> torch.Tensor:
    return -(p * torch.log(p.clamp_min(1e-12))).sum(dim=dim)


def _head_samples(model: UNet, f: torch.Tensor, masks: torch.Tensor, temperature: float) -> torch.Tensor:
    """features [B,F,H,W], masks [T,F] (already divided by 1-p) -> probs [B,T,C,H,W]."""
    w = model.classifier.weight[:, :, 0, 0]  # [C,F]
    b = model.classifier.bias  # [C]
    wt = w.unsqueeze(0) * masks.unsqueeze(1)  # [T,C,F]
    logits = torch.einsum("tcf,bfhw->btchw", wt, f) + b.view(1, 1, -1, 1, 1)
    return torch.softmax(logits / temperature, dim=2)


def _full_samples(model: UNet, x: torch.Tensor, samples: int, temperature: float) -> torch.Tensor:
    """T full forward passes with dropout on (batch norm stays in eval mode) -> [B,T,C,H,W]."""
    model.dropout.train()
    try:
        return torch.stack([torch.softmax(model(x) / temperature, dim=1) for _ in range(samples)], dim=1)
    finally:
        model.dropout.eval()


def predict_with_uncertainty(model: UNet, images: Sequence[np.ndarray], *, samples: int = 8,
                             temperature: float = 1.0, device: str = "cpu", batch_size: int = 8,
                             head_only: bool = True, seed: int = 0) -> list[PixelUncertainty]:
    """MC-dropout uncertainty for uint8 images [H,W,3] (sizes may differ). Deterministic under seed."""
    if temperature <= 0 or samples < 1:
        raise ValueError("temperature must be > 0 and samples >= 1")
    model.eval()
    p = float(model.dropout.p)
    gen = torch.Generator().manual_seed(seed)
    n_classes = model.config.num_classes
    log_c = math.log(n_classes) if n_classes > 1 else 1.0
    order = sorted(range(len(images)), key=lambda i: images[i].shape)  # equal sizes batch together
    results: dict[int, PixelUncertainty] = {}
    with torch.inference_mode():
        start = 0
        while start < len(order):
            shape = images[order[start]].shape
            group = [i for i in order[start:start + batch_size] if images[i].shape == shape]
            start += len(group)
            x = images_to_batch([images[i] for i in group]).to(device)
            f = model.features(x)
            if head_only:
                keep = (torch.rand(samples, f.shape[1], generator=gen) >= p).float() / max(1.0 - p, 1e-6)
                probs_t = _head_samples(model, f, keep.to(device), temperature)
            else:
                with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's RNG
                    torch.manual_seed(seed + start)
                    probs_t = _full_samples(model, x, samples, temperature)
            mean = probs_t.mean(dim=1)  # [B,C,H,W]
            ent_mean = _entropy(mean, dim=1)
            bald_map = (ent_mean - _entropy(probs_t, dim=2).mean(dim=1)).clamp_min(0.0)
            top2 = torch.topk(mean, k=min(2, n_classes), dim=1).values
            margin_map = 1.0 - (top2[:, 0] - top2[:, 1]) if n_classes > 1 else torch.zeros_like(ent_mean)
            emb = f.mean(dim=(2, 3))
            for j, i in enumerate(group):
                results[i] = PixelUncertainty(
                    probs=mean[j].cpu().numpy().astype(np.float32),
                    entropy=(ent_mean[j] / log_c).clamp(0, 1).cpu().numpy().astype(np.float32),
                    margin=margin_map[j].cpu().numpy().astype(np.float32),
                    least_confidence=(1.0 - mean[j].max(dim=0).values).cpu().numpy().astype(np.float32),
                    bald=(bald_map[j] / log_c).clamp(0, 1).cpu().numpy().astype(np.float32),
                    embedding=emb[j].cpu().numpy().astype(np.float32),
                )
    return [results[i] for i in range(len(images))]
