"""A version's suggested mask and uncertainty map per item, stored as PNGs beside the data."""

from __future__ import annotations

import numpy as np

from app import imaging, storage
from app.modeling.models import ModelVersion

KINDS = ("mask", "uncertainty")


def suggestion_path(project_id: int, model_version_id: int, item_id: int, kind: str) -> str:
    """kind: 'mask' (argmax class ids) or 'uncertainty' (normalised entropy, 0-255)."""
    return f"projects/{project_id}/suggestions/mv{model_version_id}/item{item_id}-{kind}.png"


def has_suggestion(project_id: int, model_version_id: int, item_id: int) -> bool:
    return storage.absolute(suggestion_path(project_id, model_version_id, item_id, "mask")).exists()


def suggested_classes(probs: np.ndarray, decision_bias: list[float] | None) -> np.ndarray:
    """Class ids [H,W] from calibrated probabilities [C,H,W]: the argmax after the version's per-class
    decision biases (tuned for foreground IoU on the validation split), the plain argmax without."""
    from app.learning.decision import biased_argmax

    if not decision_bias:
        return probs.argmax(0).astype(np.uint8)
    return biased_argmax(np.log(np.maximum(probs, 1e-12)), np.asarray(decision_bias, np.float32)).astype(np.uint8)


def store(mv: ModelVersion, item_id: int, probs: np.ndarray, entropy: np.ndarray) -> None:
    mask_rel = suggestion_path(mv.project_id, mv.id, item_id, "mask")
    storage.write_atomic(mask_rel, imaging.encode_png(suggested_classes(probs, mv.metrics.get("decision_bias"))))
    heat = np.clip(entropy * 255.0 + 0.5, 0, 255).astype(np.uint8)
    storage.write_atomic(suggestion_path(mv.project_id, mv.id, item_id, "uncertainty"), imaging.encode_png(heat))
