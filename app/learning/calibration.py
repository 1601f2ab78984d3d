"""Temperature scaling (Guo et al. 2017) and calibration error, on labeled pixels only.

Inputs are logits or probabilities [N,C,H,W], a list of [C,H,W] (sizes may differ) or pixels [P,C],
as numpy arrays or torch tensors; labels [N,H,W] (or a list of [H,W]) or [P], IGNORE_INDEX = unlabeled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from app.learning.constants import IGNORE_INDEX
from app.learning.inference import logits_for, softmax
from app.learning.mc_dropout import single_thread

# logits_for lives in app.learning.inference; re-exported here for app.modeling.training
__all__ = ["fit_temperature", "expected_calibration_error", "reliability_bins", "calibration_report",
           "logits_for", "flatten_pixels"]

MAX_FIT_PIXELS = 2_000_000  # LBFGS on one scalar converges on far fewer; this bounds time and memory

Array = np.ndarray | torch.Tensor


def _np(a: Any) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def flatten_pixels(logits_or_probs: Array | Sequence[Array],
                   labels: Array | Sequence[Array]) -> tuple[np.ndarray, np.ndarray]:
    """[N,C,H,W] / list of [C,H,W] / [P,C] and matching labels -> labeled pixels: ([P,C] float32, [P] int64)."""
    if isinstance(logits_or_probs, np.ndarray | torch.Tensor) and logits_or_probs.ndim == 2:
        x, y = _np(logits_or_probs), _np(labels).reshape(-1)
    else:
        arrays = [_np(a) for a in logits_or_probs]
        label_arrays = [_np(m) for m in labels]
        if len(arrays) != len(label_arrays):
            raise ValueError(f"{len(arrays)} score maps but {len(label_arrays)} label maps")
        x = np.concatenate([a.reshape(a.shape[0], -1).T for a in arrays]) if arrays else np.zeros((0, 1))
        y = np.concatenate([m.reshape(-1) for m in label_arrays]) if label_arrays else np.zeros(0, np.int64)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} pixels of scores but {len(y)} labels")
    keep = y != IGNORE_INDEX
    return x[keep].astype(np.float32, copy=False), y[keep].astype(np.int64)


def _subsample(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    if len(y) <= limit:
        return x, y
    # a fixed draw, kept in draw order: the simulator's figures (60k pixels) were measured with this order,
    # and the LBFGS fit sums the loss in it (sorting the same pixels moves T by ~1e-3 relative)
    idx = np.random.default_rng(0).choice(len(y), size=limit, replace=False)
    return x[idx], y[idx]


def fit_temperature(logits: Array | Sequence[Array], labels: Array | Sequence[Array], *,
                    max_iter: int = 100, max_pixels: int = MAX_FIT_PIXELS) -> float:
    """T > 0 minimising the NLL of softmax(logits / T) on labeled pixels (LBFGS on log T, so T stays
    positive without constraints). At most max_pixels pixels, drawn with a fixed seed. No labeled
    pixel -> 1.0; the result is clipped to [0.05, 20]."""
    x, y = _subsample(*flatten_pixels(logits, labels), max_pixels)
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

    with single_thread():  # ~70 small evaluations: on a busy machine two threads were 40x slower
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


def expected_calibration_error(probs: Array | Sequence[Array], labels: Array | Sequence[Array],
                               *, n_bins: int = 15) -> float:
    """Top-label ECE over labeled pixels: sum_b |acc_b - conf_b| * n_b / n (equal-width bins)."""
    p, y = flatten_pixels(probs, labels)
    return _ece_from_bins(_bins(p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64), n_bins))


def reliability_bins(probs: Array | Sequence[Array], labels: Array | Sequence[Array], *,
                     n_bins: int = 15, per_class: bool = True) -> dict[str, Any]:
    """Reliability diagram data, JSON-serialisable: {"overall": bins, "per_class": {"0": bins, ...}}.

    bins: n_bins equal-width dicts {"lo", "hi", "count", "confidence", "accuracy"} (empty bins: 0.0).
    overall bins the top-label confidence against correctness; per class is one-vs-rest, binning p_c
    against label == c.
    """
    p, y = flatten_pixels(probs, labels)
    out: dict[str, Any] = {"overall": _bins(p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64), n_bins)}
    if per_class:
        out["per_class"] = {str(c): _bins(p[:, c], (y == c).astype(np.float64), n_bins) for c in range(p.shape[1])}
    return out


def calibration_report(logits: Array | Sequence[Array], labels: Array | Sequence[Array], *,
                       n_bins: int = 15) -> dict[str, Any]:
    """{"temperature", "pixels", "ece_before", "ece_after", "bins_before", "bins_after"}: T fitted on
    these pixels and calibration before and after it; every value JSON-serialisable."""
    x, y = flatten_pixels(logits, labels)
    t = fit_temperature(x, y)
    before, after = softmax(x, 1.0, axis=1), softmax(x, t, axis=1)
    bins_before = reliability_bins(before, y, n_bins=n_bins)
    bins_after = reliability_bins(after, y, n_bins=n_bins)
    return {"temperature": t, "pixels": int(len(y)),
            "ece_before": _ece_from_bins(bins_before["overall"]), "ece_after": _ece_from_bins(bins_after["overall"]),
            "bins_before": bins_before, "bins_after": bins_after}
