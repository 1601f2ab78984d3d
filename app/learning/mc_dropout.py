"""Pixel uncertainty with MC dropout, cheaply: the trunk runs once and only the dropout head is sampled.

The head is dropout followed by a 1x1 convolution W [C,F]. For one pixel, a sample's logits are
W (m_t * f) / (1 - p) + b = W_t f + b with W_t = W diag(m_t) / (1 - p), m_t ~ Bernoulli(1 - p) per
feature channel. Drawing the T masks once per call and sharing them across pixels and images gives
every pixel exactly the per-pixel distribution of the model's element-wise dropout (only the
correlation between pixels differs, which no per-pixel score uses). It is also the "committee of T
thinned models" view of MC dropout: every image is judged by the same T models, so scores compare
across images and across calls (the web app scores one image per call with seed = model version).

Cost: the T heads are one [T*C, F] x [F, P] matrix product per chunk of P pixels, and softmax, sample
entropies, mean and the per-pixel maps are computed on that chunk while it is still in cache. Writing
[T, C, H, W] tensors out and reading them back several times (the naive way) cost 2.9-3.5x a plain
pass in the notes; fused per chunk the head adds a few percent to the trunk (bench/scoring.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from app.learning.inference import images_to_batch, same_size_batches
from app.learning.model import UNet

__all__ = ["PixelUncertainty", "predict_with_uncertainty", "dropout_masks", "head_sample_maps", "single_thread",
           "region_embedding", "grid_region_mean", "image_embeddings", "feature_grids", "GRID_CELL"]

# Pixels per fused chunk: T*C*CHUNK float32 (8*3*4096*4 = 384 KiB) stays in L2; bigger chunks spill
# to memory, smaller ones pay Python/dispatch overhead per op (measured: 4096 best of 1k-64k).
CHUNK = 4096
GRID_CELL = 8  # pixels per side of one feature-grid cell (tiles are multiples of it in practice)


@dataclass
class PixelUncertainty:
    """One image's maps. Every [H,W] map is float32 in [0, 1] and higher means less sure.

    probs             [C,H,W] mean over the T samples of softmax(logits / temperature)
    entropy           [H,W] entropy of `probs` / log C
    margin            [H,W] 1 - (p_top1 - p_top2) of `probs` (1 = a tie, 0 = certain)
    least_confidence  [H,W] 1 - max_c p_c of `probs`
    bald              [H,W] mutual information H(mean_t p_t) - mean_t H(p_t), / log C. MI is at most
                      H(mean) <= log C, so this is in [0, 1] too and comparable with `entropy`.
    embedding         [F] global-average-pooled trunk features (diversity and core-set)
    feature_grid      [F, ceil(H/cell), ceil(W/cell)] trunk features average-pooled over cell x cell
                      squares, so a region's embedding can be pooled from it (region_embedding); None
                      when not kept. 64 KiB for 256x256 at cell 8, where the full map would be 4 MiB.
    grid_cell         side of one grid cell in pixels
    """

    probs: np.ndarray
    entropy: np.ndarray
    margin: np.ndarray
    least_confidence: np.ndarray
    bald: np.ndarray
    embedding: np.ndarray
    feature_grid: np.ndarray | None = None
    grid_cell: int = GRID_CELL


def dropout_masks(samples: int, features: int, p: float, generator: torch.Generator) -> torch.Tensor:
    """[T, F] inverted-dropout masks: 0 or 1/(1-p), as nn.Dropout scales in train mode."""
    if p >= 1.0:
        return torch.zeros(samples, features)
    return (torch.rand(samples, features, generator=generator) >= p).float() / (1.0 - p)


def head_sample_maps(weight: torch.Tensor, bias: torch.Tensor, f: torch.Tensor, masks: torch.Tensor,
                     temperature: float = 1.0, chunk: int = CHUNK) -> dict[str, torch.Tensor]:
    """Fused sampled head for ONE image: weight [C,F], bias [C], features f [F,H,W], masks [T,F].

    Returns float32 tensors: probs [C,H,W] (sample mean), entropy [H,W] (nats, of the mean),
    mean_entropy [H,W] (nats, mean over samples of each sample's entropy). BALD = entropy - mean_entropy.
    """
    n_feat, h, w = f.shape
    t, c = masks.shape[0], weight.shape[0]
    # T thinned models stacked as rows: [T*C, F]; temperature folded in so no extra pass divides logits
    wt = ((weight.unsqueeze(0) * masks.unsqueeze(1)) / temperature).reshape(t * c, n_feat)
    bt = (bias / temperature).repeat(t).unsqueeze(1)  # [T*C, 1]
    flat = f.reshape(n_feat, h * w)
    probs = torch.empty(c, h * w)
    ent = torch.empty(h * w)
    mean_ent = torch.empty(h * w)
    for s in range(0, h * w, chunk):
        e = min(s + chunk, h * w)
        z = torch.addmm(bt, wt, flat[:, s:e]).view(t, c, e - s)  # logits [T,C,P]
        z.sub_(z.amax(dim=1, keepdim=True))  # stable softmax; z <= 0 afterwards
        p = z.exp()
        norm = p.sum(dim=1, keepdim=True)  # [T,1,P]
        p.div_(norm)
        # H(p_t) = log sum exp z - sum_c p_c z_c (no log of small probabilities, so no clamp needed)
        h_t = norm.log_().squeeze(1).sub_((p * z).sum(dim=1))  # [T,P]
        mean_ent[s:e] = h_t.mean(dim=0)
        pm = p.mean(dim=0)  # [C,P]
        probs[:, s:e] = pm
        ent[s:e] = -(pm * pm.clamp_min(1e-12).log()).sum(dim=0)
    return {"probs": probs.view(c, h, w), "entropy": ent.view(h, w), "mean_entropy": mean_ent.view(h, w)}


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch ops on one intra-op thread, then restore the previous count.

    The fused head is ~12 small ops per chunk. With 2 OpenMP threads every op is a parallel region,
    and on a busy machine each region waits for the other thread to be scheduled: measured 1.8-13 s
    instead of 45 ms for 8 images of 256x256. One thread does the whole head in ~6 ms per image.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def region_embedding(u: PixelUncertainty, region: tuple[int, int, int, int]) -> np.ndarray:
    """[F] mean trunk features over region (x, y, w, h): the grid cells the region touches.

    Falls back to the image embedding without a feature grid. Cells are averaged unweighted, so a
    region not aligned to the grid is approximated by the cells around it.
    """
    x, y, w, h = region
    height, width = u.probs.shape[-2:]
    if u.feature_grid is None or (x <= 0 and y <= 0 and x + w >= width and y + h >= height):
        return u.embedding
    return grid_region_mean(u.feature_grid, u.grid_cell, region)


def grid_region_mean(grid: np.ndarray, cell: int, region: tuple[int, int, int, int]) -> np.ndarray:
    """[F]: the mean of a feature grid [F, gy, gx] over the cells that region (x, y, w, h) touches."""
    x, y, w, h = region
    gy, gx = grid.shape[1:]
    x0, y0 = min(max(x // cell, 0), gx - 1), min(max(y // cell, 0), gy - 1)
    x1, y1 = max(min(-(-(x + w) // cell), gx), x0 + 1), max(min(-(-(y + h) // cell), gy), y0 + 1)
    return grid[:, y0:y1, x0:x1].mean(axis=(1, 2)).astype(np.float32)


def _trunk_features(model: UNet, images: Sequence[np.ndarray], device: str | torch.device) -> Iterator[torch.Tensor]:
    """[1, F, H, W] trunk features per image (float32, on the CPU), one image at a time, in eval mode."""
    model.eval()
    with torch.inference_mode():
        for im in images:
            yield model.features(images_to_batch([im]).to(device)).float().cpu()


def image_embeddings(model: UNet, images: Sequence[np.ndarray], device: str | torch.device = "cpu") -> np.ndarray:
    """[N, F] global-average-pooled trunk features, as PixelUncertainty.embedding."""
    out = [f.mean(dim=(2, 3))[0].numpy() for f in _trunk_features(model, images, device)]
    return np.stack(out).astype(np.float32) if out else np.zeros((0, model.num_features), np.float32)


def feature_grids(model: UNet, images: Sequence[np.ndarray], device: str | torch.device = "cpu") -> list[np.ndarray]:
    """[F, ceil(H/GRID_CELL), ceil(W/GRID_CELL)] per image, as PixelUncertainty.feature_grid."""
    return [_feature_grid(f, GRID_CELL)[0].numpy().astype(np.float32, copy=False)
            for f in _trunk_features(model, images, device)]


def _feature_grid(f: torch.Tensor, cell: int) -> torch.Tensor:
    """[B,F,H,W] -> [B,F,ceil(H/cell),ceil(W/cell)]; partial edge cells average only real pixels."""
    return torch.nn.functional.avg_pool2d(f, cell, stride=cell, ceil_mode=True, count_include_pad=False)


def _maps_from(probs: torch.Tensor, ent: torch.Tensor, mean_ent: torch.Tensor, emb: torch.Tensor,
               log_c: float, grid: torch.Tensor | None = None) -> PixelUncertainty:
    """probs [C,H,W], entropies [H,W] (nats), emb [F] -> PixelUncertainty (numpy, normalised)."""
    c = probs.shape[0]
    if c > 1:
        top2 = torch.topk(probs, k=2, dim=0).values
        margin = 1.0 - (top2[0] - top2[1])
        least = 1.0 - top2[0]
    else:
        margin, least = torch.zeros_like(ent), torch.zeros_like(ent)
    return PixelUncertainty(
        probs=probs.float().numpy(force=True).astype(np.float32, copy=False),
        entropy=(ent / log_c).clamp_(0.0, 1.0).numpy(force=True),
        margin=margin.clamp_(0.0, 1.0).numpy(force=True),
        least_confidence=least.clamp_(0.0, 1.0).numpy(force=True),
        # rounding can leave MI a hair below 0 where all samples agree
        bald=((ent - mean_ent) / log_c).clamp_(0.0, 1.0).numpy(force=True),
        embedding=emb.float().numpy(force=True).astype(np.float32, copy=False),
        feature_grid=None if grid is None else grid.float().numpy(force=True).astype(np.float32, copy=False),
    )


def _entropy(p: torch.Tensor, dim: int) -> torch.Tensor:
    return -(p * torch.log(p.clamp_min(1e-12))).sum(dim=dim)


def _full_samples(model: UNet, x: torch.Tensor, samples: int, temperature: float) -> torch.Tensor:
    """T full forward passes with dropout on (batch norm stays in eval mode) -> [B,T,C,H,W].

    The baseline the head-only path is checked and benchmarked against; ~T times a plain pass.
    """
    model.dropout.train()
    try:
        return torch.stack([torch.softmax(model(x) / temperature, dim=1) for _ in range(samples)], dim=1)
    finally:
        model.dropout.eval()


def predict_with_uncertainty(model: UNet, images: Sequence[np.ndarray], *, samples: int = 8,
                             temperature: float = 1.0, device: str | torch.device = "cpu", batch_size: int = 8,
                             head_only: bool = True, seed: int = 0) -> list[PixelUncertainty]:
    """MC-dropout maps for uint8 images [H,W,3] (sizes may differ), in input order.

    head_only=True: trunk once per batch, T dropout masks on the head (fused, see module doc).
    head_only=False: T full forward passes with element-wise dropout (the slow reference).
    Deterministic under `seed`; the caller's global torch RNG is left untouched. The model is left in
    eval mode.
    """
    if temperature <= 0 or samples < 1:
        raise ValueError("temperature must be > 0 and samples >= 1")
    model.eval()
    n_classes = model.config.num_classes
    log_c = math.log(n_classes) if n_classes > 1 else 1.0
    gen = torch.Generator().manual_seed(seed)
    masks = dropout_masks(samples, model.num_features, float(model.dropout.p), gen)
    results: dict[int, PixelUncertainty] = {}
    with torch.inference_mode():
        weight = model.classifier.weight[:, :, 0, 0].float().cpu()
        b = model.classifier.bias
        bias = torch.zeros(n_classes) if b is None else b.float().cpu()
        start = 0  # images done before this batch (seeds the full passes)
        for group in same_size_batches(images, batch_size):
            x = images_to_batch([images[i] for i in group]).to(device)
            if head_only:
                # the fused head runs on the CPU copy: on CPU .cpu() is free, and on an accelerator the
                # maps go to numpy anyway
                f = model.features(x).float().cpu()
                with single_thread():
                    emb, grid = f.mean(dim=(2, 3)), _feature_grid(f, GRID_CELL)
                    for j, i in enumerate(group):
                        m = head_sample_maps(weight, bias, f[j], masks, temperature)
                        results[i] = _maps_from(m["probs"], m["entropy"], m["mean_entropy"], emb[j], log_c,
                                                grid[j])
            else:
                with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's RNG
                    torch.manual_seed(seed + start)
                    probs_t = _full_samples(model, x, samples, temperature).float().cpu()
                f = model.features(x).float().cpu()
                emb, grid = f.mean(dim=(2, 3)), _feature_grid(f, GRID_CELL)
                mean = probs_t.mean(dim=1)
                ent, mean_ent = _entropy(mean, dim=1), _entropy(probs_t, dim=2).mean(dim=1)
                for j, i in enumerate(group):
                    results[i] = _maps_from(mean[j], ent[j], mean_ent[j], emb[j], log_c, grid[j])
            start += len(group)
    return [results[i] for i in range(len(images))]
