"""Image <-> tensor conversion (the one place that defines input normalisation) and
batched softmax prediction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch

from app.learning.model import UNet

__all__ = ["to_tensor", "images_to_batch", "predict_proba"]

# Fixed normalisation rather than dataset statistics: the model must accept images from any
# project without a stats pass, and scans are mostly bright paper.
_MEAN = 0.5
_STD = 0.25


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 [H,W,3] (or [H,W] grey) -> float32 [3,H,W] (or [1,H,W]), (x/255 - 0.5) / 0.25."""
    if image.dtype != np.uint8:
        raise TypeError(f"expected uint8 image, got {image.dtype}")
    arr = image[..., None] if image.ndim == 2 else image
    # astype copies, so read-only or negatively strided (flipped) arrays are fine
    t = torch.from_numpy(arr.astype(np.float32)).permute(2, 0, 1).contiguous()
    return (t / 255.0 - _MEAN) / _STD


def images_to_batch(images: Sequence[np.ndarray]) -> torch.Tensor:
    """Same-size uint8 images [H,W,3] -> float32 [N,3,H,W]."""
    return torch.stack([to_tensor(im) for im in images])


def _predict_same_size(model: UNet, images: Sequence[np.ndarray], device: str | torch.device,
                       batch_size: int, temperature: float) -> np.ndarray:
    out = []
    for start in range(0, len(images), batch_size):
        x = images_to_batch(images[start:start + batch_size]).to(device)
        logits = model(x)
        out.append(torch.softmax(logits.float() / temperature, dim=1).cpu().numpy())
    return np.concatenate(out).astype(np.float32, copy=False)


def predict_proba(model: UNet, images: np.ndarray | Sequence[np.ndarray], *,
                  device: str | torch.device = "cpu", batch_size: int = 8,
                  temperature: float = 1.0) -> np.ndarray | list[np.ndarray]:
    """Softmax of logits / temperature, in eval mode under inference_mode.

    - ndarray input [N,H,W,3] uint8 -> ndarray float32 [N,C,H,W].
    - list input (sizes may differ) -> list of float32 [C,H,W], in input order; images are
      batched in groups of equal size (no padding, so borders are predicted as in training).

    The model is left in eval mode (dropout off); MC dropout is a different code path.
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    model.eval()
    with torch.inference_mode():
        if isinstance(images, np.ndarray):
            if images.ndim != 4:
                raise ValueError(f"expected [N,H,W,3], got shape {images.shape}")
            if len(images) == 0:
                return np.zeros((0, model.config.num_classes, *images.shape[1:3]), np.float32)
            return _predict_same_size(model, list(images), device, batch_size, temperature)
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, im in enumerate(images):
            groups[im.shape].append(i)
        result: list[np.ndarray | None] = [None] * len(images)
        for idx in groups.values():
            probs = _predict_same_size(model, [images[i] for i in idx], device, batch_size, temperature)
            for i, p in zip(idx, probs, strict=True):
                result[i] = p
        return [p for p in result if p is not None]
