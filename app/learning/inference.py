"""Image <-> tensor conversion (the one place that defines input normalisation), batching of images
of mixed sizes, and eval-mode prediction: raw logits (logits_for) or softmax (predict_proba, softmax)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from app.learning.model import UNet

__all__ = ["to_tensor", "images_to_batch", "same_size_batches", "predict_proba", "logits_for", "softmax"]

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


def same_size_batches(images: Sequence[np.ndarray], batch_size: int) -> Iterator[list[int]]:
    """Indices of `images` in batches of at most batch_size images of one shape (no padding, so
    borders are predicted as in training): the images sorted by shape (stably), each shape's run
    cut into batches. Every index comes exactly once."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = sorted(range(len(images)), key=lambda i: images[i].shape)
    start = 0
    while start < len(order):
        shape = images[order[start]].shape
        batch = [i for i in order[start:start + batch_size] if images[i].shape == shape]
        yield batch
        start += len(batch)


def _per_image(model: UNet, images: Sequence[np.ndarray], device: str | torch.device, batch_size: int,
               head: Callable[[torch.Tensor], torch.Tensor]) -> list[np.ndarray]:
    """head(logits [B,C,H,W]) as float32 numpy [C,H,W] per image, in input order (eval mode, inference mode)."""
    model.eval()
    out: list[np.ndarray | None] = [None] * len(images)
    with torch.inference_mode():
        for batch in same_size_batches(images, batch_size):
            result = head(model(images_to_batch([images[i] for i in batch]).to(device)).float()).cpu().numpy()
            for i, r in zip(batch, result, strict=True):
                out[i] = r.copy()  # own memory: one image's result must not pin the whole batch
    return [r for r in out if r is not None]


def logits_for(model: UNet, images: Sequence[np.ndarray], *, device: str | torch.device = "cpu",
               batch_size: int = 8) -> list[np.ndarray]:
    """Raw logits float32 [C,H,W] per uint8 image [H,W,3], in input order (eval mode, no dropout).

    Images of equal size are batched together (same_size_batches), batch_size at a time.
    """
    return _per_image(model, images, device, batch_size, lambda logits: logits)


def predict_proba(model: UNet, images: np.ndarray | Sequence[np.ndarray], *,
                  device: str | torch.device = "cpu", batch_size: int = 8,
                  temperature: float = 1.0) -> np.ndarray | list[np.ndarray]:
    """Softmax of logits / temperature, in eval mode under inference_mode.

    - ndarray input [N,H,W,3] uint8 -> ndarray float32 [N,C,H,W].
    - list input (sizes may differ) -> list of float32 [C,H,W], in input order; images are
      batched in groups of equal size (same_size_batches).

    The model is left in eval mode (dropout off); MC dropout is a different code path.
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    if isinstance(images, np.ndarray) and images.ndim != 4:
        raise ValueError(f"expected [N,H,W,3], got shape {images.shape}")
    probs = _per_image(model, list(images), device, batch_size,
                       lambda logits: torch.softmax(logits / temperature, dim=1))
    if not isinstance(images, np.ndarray):
        return probs
    if len(images) == 0:
        return np.zeros((0, model.config.num_classes, *images.shape[1:3]), np.float32)
    return np.stack(probs)


def softmax(logits: np.ndarray, temperature: float = 1.0, axis: int = 0) -> np.ndarray:
    """Numerically stable softmax of logits / temperature over `axis` (0 for [C,H,W], 1 for pixels [P,C])."""
    z = logits / temperature
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
