"""When labeling more stops paying: reported to leads, never enforced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def stop_report(history: Sequence[dict[str, Any]], *, patience: int = 3, min_delta: float = 0.005,
                info_gain_per_label: Sequence[float] | None = None,
                info_threshold: float | None = None) -> dict[str, Any]:
    """history: rounds in order, each {"miou_fg": validation foreground mIoU, "labeled": label count}.

    Stop when the best mIoU has not improved by min_delta for `patience` rounds (plateau), or when the
    latest expected information gain per label (e.g. mean BALD of the next batch) is under info_threshold.
    """
    scores = [h["miou_fg"] for h in history if h.get("miou_fg") is not None]
    best, best_round, plateau = float("-inf"), -1, 0
    for i, s in enumerate(scores):
        if s > best + min_delta:
            best, best_round = s, i
    if scores:
        plateau = len(scores) - 1 - best_round
    report: dict[str, Any] = {"stop": False, "reason": "still improving", "plateau_rounds": plateau,
                              "best_miou_fg": best if scores else None, "rounds": len(scores)}
    if scores and plateau >= patience:
        report.update(stop=True, reason=f"foreground mIoU has not improved by {min_delta} for {plateau} rounds")
    if info_gain_per_label and info_threshold is not None and info_gain_per_label[-1] < info_threshold:
        report["info_gain_per_label"] = float(info_gain_per_label[-1])
        if not report["stop"]:
            report.update(stop=True, reason=f"expected information gain per label "
                                             f"{info_gain_per_label[-1]:.4g} < {info_threshold:.4g}")
    return report
