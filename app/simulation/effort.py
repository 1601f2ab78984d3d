"""What a simulated annotator spends on one task: a fixed overhead plus the correction of the
suggestion it was shown.

A labeled fraction is not annotator time (Cai et al., CVPR 2021, count clicks). Here a task costs
  OVERHEAD_SECONDS                       open it, look, submit;
+ SECONDS_PER_STROKE x strokes           one stroke per connected error region: the pixels of one
                                         true class the suggestion got wrong, 8-connected (one brush
                                         or fill action repaints one such region);
+ SECONDS_PER_KILOPIXEL x pixels / 1000  the area painted, for strokes that must cover much.
Labeling by hand is the same task with an empty suggestion (all background): every foreground
object is a stroke and every foreground pixel is painted. A suggestion worse than none is cleared
(DISCARD_SECONDS, one action) and the task drawn by hand: the annotator pays the cheaper of the two
(`task_effort`). Measured why: a weak early model's suggestions cost 2.5x labeling by hand when every
false object had to be erased (bench/effort.py, pool 24, 150 steps).

The constants are assumptions, not measurements of Labelwise's annotators: a few seconds per task
and per stroke is what published click-cost studies and the labeling page's brush suggest. The
ratios between strategies depend little on them as long as strokes dominate; bench/effort.py
prints them beside every figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from app.learning.acquisition import Candidate
from app.learning.constants import IGNORE_INDEX

__all__ = ["OVERHEAD_SECONDS", "SECONDS_PER_STROKE", "SECONDS_PER_KILOPIXEL", "TaskEffort", "correction_effort",
           "by_hand_effort", "task_effort", "constants", "tasks_effort", "accumulate", "DISCARD_SECONDS"]

OVERHEAD_SECONDS = 4.0
SECONDS_PER_STROKE = 2.0
SECONDS_PER_KILOPIXEL = 1.0
DISCARD_SECONDS = 1.0
_EIGHT = np.ones((3, 3), bool)


@dataclass(frozen=True)
class TaskEffort:
    pixels_changed: int
    strokes: int
    seconds: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def constants() -> dict[str, float]:
    return {"overhead_seconds": OVERHEAD_SECONDS, "seconds_per_stroke": SECONDS_PER_STROKE,
            "seconds_per_kilopixel": SECONDS_PER_KILOPIXEL, "discard_seconds": DISCARD_SECONDS}


def correction_effort(suggestion: np.ndarray, truth: np.ndarray) -> TaskEffort:
    """suggestion, truth: int [H,W] class ids of one task's pixels (truth 255 = void, never counted).

    pixels_changed: pixels whose suggested class differs from the truth. strokes: for each true
    class, the 8-connected regions of pixels of that class the suggestion got wrong.
    """
    if suggestion.shape != truth.shape:
        raise ValueError(f"suggestion {suggestion.shape} and truth {truth.shape} differ")
    wrong = (suggestion != truth) & (truth != IGNORE_INDEX)
    strokes = 0
    for c in np.unique(truth[wrong]):
        _, n = ndimage.label(wrong & (truth == c), structure=_EIGHT)
        strokes += int(n)
    pixels = int(wrong.sum())
    seconds = OVERHEAD_SECONDS + SECONDS_PER_STROKE * strokes + SECONDS_PER_KILOPIXEL * pixels / 1000.0
    return TaskEffort(pixels, strokes, seconds)


def by_hand_effort(truth: np.ndarray) -> TaskEffort:
    """The same task with an empty suggestion: everything background (class 0)."""
    return correction_effort(np.zeros_like(truth), truth)


def task_effort(suggestion: np.ndarray, truth: np.ndarray) -> TaskEffort:
    """What the annotator pays with this suggestion: correcting it, or clearing it (DISCARD_SECONDS) and
    drawing by hand, whichever is cheaper."""
    fix = correction_effort(suggestion, truth)
    hand = by_hand_effort(truth)
    redo = TaskEffort(hand.pixels_changed, hand.strokes, hand.seconds + DISCARD_SECONDS)
    return fix if fix.seconds <= redo.seconds else redo


def tasks_effort(tasks: Sequence[Candidate], picked: Sequence[int], images: Sequence[np.ndarray],
                 masks: Sequence[np.ndarray], model: Any | None, *, device: str = "cpu") -> dict[str, float]:
    """Annotator effort of labeling `picked` (indices into tasks) with `model`'s plain argmax as the
    suggestion (None = by hand) -> {"seconds", "by_hand_seconds", "pixels_changed", "strokes", "tasks"}."""
    from app.learning.inference import logits_for

    by_image: dict[int, list[Candidate]] = {}
    for t in picked:
        by_image.setdefault(tasks[t].image_index, []).append(tasks[t])
    order = sorted(by_image)
    preds: dict[int, np.ndarray] = {}
    if model is not None and order:
        logits = logits_for(model, [images[i] for i in order], device=device, batch_size=16)
        preds = {i: lg.argmax(0) for i, lg in zip(order, logits, strict=True)}
    out = {"seconds": 0.0, "by_hand_seconds": 0.0, "pixels_changed": 0.0, "strokes": 0.0, "tasks": float(len(picked))}
    for i in order:
        for c in by_image[i]:
            x, y, w, h = c.region
            truth = masks[i][y:y + h, x:x + w]
            hand = by_hand_effort(truth)
            done = task_effort(preds[i][y:y + h, x:x + w], truth) if i in preds else hand
            out["seconds"] += done.seconds
            out["by_hand_seconds"] += hand.seconds
            out["pixels_changed"] += done.pixels_changed
            out["strokes"] += done.strokes
    return out


def accumulate(previous: dict[str, float] | None, this_round: dict[str, float]) -> dict[str, float]:
    """The per-round `effort` record of results.json: totals so far, and this round's seconds."""
    total = {k: (previous or {}).get(k, 0.0) + v for k, v in this_round.items() if k != "round_seconds"}
    return {**total, "round_seconds": this_round["seconds"]}
