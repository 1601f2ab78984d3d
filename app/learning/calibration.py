"""Temperature scaling (Guo et al. 2017) and calibration error, on labeled pixels only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from app.learning.constants import IGNORE_INDEX
from app.learning.inference import images_to_batch
from app.learning.model import UNet

__all__ = ["fit_temperature", "expected_calibration_error", "reliability_bins", "calibration_report",
           "logits_for", "flatten_pixels"]

MAX_FIT_PIXELS = 2_000_000


def flatten_pixels(logits_or_probs: np.ndarray | Sequence[np.ndarray],
                   labels: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """[N,C,H,W] (or a list of [C,H,W]) and [N,H,W] -> labeled pixels only: ([P,C] float, [P] int)."""
    if isinstance(logits_or_probs, np.ndarray) and logits_or_probs.ndim == 2:
        x, y = logits_or_probs, np.asarray(labels).reshape(-1)
    else:
        arrays = [np.asarray(a) for a in logits_or_probs]
        x = np.concatenate([a.reshape(a.shape[0], -1).T for a in arrays])
        y = np.concatenate([np.asarray(m).reshape(-1) for m in labels])
    keep = y != IGNORE_INDEX
    return x[keep].astype(np.float32, copy=False), y[keep].astype(np.int64)


def _subsample(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    if len(y) <= limit:
        return x, y
    idx = np.random.default_rng(0).choice(len(y), size=limit, replace=False)  # deterministic
    return x[idx], y[idx]


def fit_temperature(logits: np.ndarray | Sequence[np.ndarray], labels: np.ndarray | Sequence[np.ndarray], *,
                    max_iter: int = 100) -> float:
    """T > 0 minimising the NLL of softmax(logits / T) on labeled pixels (LBFGS on log T)."""
    x, y = _subsample(*flatten_pixels(logits, labels), MAX_FIT_PIXELS)
    if len(y) == 0:
        return 1.0
    lx, ly = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lx / log_t.exp(), ly)
        loss.backward()
        return loss

    opt.step(closure)
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))


def _bins(conf: np.ndarray, hit: np.ndarray, n_bins: int) -> list[dict[str, float]]:
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    out = []
    for b in range(n_bins):
        sel = which == b
        n = int(sel.sum())
        out.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "count": n,
                    "confidence": float(conf[sel].mean()) if n else 0.0,
                    "accuracy": float(hit[sel].mean()) if n else 0.0})
    return out


def _ece_from_bins(bins: list[dict[str, float]]) -> float:
    total = sum(b["count"] for b in bins)
    if total == 0:
        return 0.0
    return float(sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / total)


def expected_calibration_error(probs: np.ndarray | Sequence[np.ndarray], labels: np.ndarray | Sequence[np.ndarray],
                               *, n_bins: int = 15) -> float:
    """Top-label ECE over labeled pixels: sum_b |acc_b - conf_b| * n_b / n (equal-width bins)."""
    p, y = flatten_pixels(probs, labels)
    return _ece_from_bins(_bins(p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64), n_bins))


def reliability_bins(probs: np.ndarray | Sequence[np.ndarray], labels: np.ndarray | Sequence[np.ndarray], *,
                     n_bins: int = 15, per_class: bool = True) -> dict[str, Any]:
    """Reliability diagram data: overall (top label) and per class (one-vs-rest on p_c)."""
    p, y = flatten_pixels(probs, labels)
    out: dict[str, Any] = {"overall": _bins(p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64), n_bins)}
    if per_class:
        out["per_class"] = {str(c): _bins(p[:, c], (y == c).astype(np.float64), n_bins) for c in range(p.shape[1])}
    return out


def _softmax(x: np.ndarray, temperature: float) -> np.ndarray:
    z = x / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def calibration_report(logits: np.ndarray | Sequence[np.ndarray], labels: np.ndarray | Sequence[np.ndarray], *,
                       n_bins: int = 15) -> dict[str, Any]:
    """Fit T and describe calibration before and after; every value JSON-serialisable."""
    x, y = flatten_pixels(logits, labels)
    t = fit_temperature(x, y)
    before, after = _softmax(x, 1.0), _softmax(x, t)
    bins_before = reliability_bins(before, y, n_bins=n_bins)
    bins_after = reliability_bins(after, y, n_bins=n_bins)
    return {"temperature": t, "pixels": int(len(y)),
            "ece_before": _ece_from_bins(bins_before["overall"]), "ece_after": _ece_from_bins(bins_after["overall"]),
            "bins_before": bins_before, "bins_after": bins_after}


def logits_for(model: UNet, images: Sequence[np.ndarray], *, device: str = "cpu") -> list[np.ndarray]:
    """Raw logits [C,H,W] float32 per image (eval mode, no dropout)."""
    model.eval()
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for im in images:  # one at a time: sizes may differ, and memory stays flat
            out.append(model(images_to_batch([im]).to(device))[0].float().cpu().numpy())
    return out
