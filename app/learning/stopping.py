"""When labeling more stops paying: reported to leads, never enforced.

Two signals, either one is enough:
- plateau: the best validation foreground mIoU has not improved by min_delta for `patience` rounds;
- information: the expected information gain per label of the next batch (e.g. its mean BALD per
  label) has fallen under a threshold, i.e. the model expects to learn little from more labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["stop_report"]


def stop_report(history: Sequence[dict[str, Any]], *, patience: int = 3, min_delta: float = 0.005,
                info_gain_per_label: Sequence[float] | None = None,
                info_threshold: float | None = None) -> dict[str, Any]:
    """history: rounds in order, each {"miou_fg": validation foreground mIoU (None = not measured),
    "labeled": labels so far}.

    Returns (JSON-serialisable):
      stop                  bool, either criterion met
      reason                one sentence for the lead
      plateau_rounds        rounds since the last improvement by more than min_delta
      best_miou_fg, best_round, rounds, labeled (latest count or None)
      gain_per_label        mIoU change per label over the last `patience` rounds (None if unknown)
      info_gain_per_label   the latest value passed in (None without one)
      criteria              {"plateau": bool, "information": bool}
    """
    if patience < 1:
        raise ValueError("patience must be >= 1")
    rounds = [h for h in history if h.get("miou_fg") is not None]
    scores = [float(h["miou_fg"]) for h in rounds]
    best, best_round = float("-inf"), -1
    for i, s in enumerate(scores):
        if s > best + min_delta:  # an improvement must clear min_delta: noise alone must not reset it
            best, best_round = s, i
    plateau = len(scores) - 1 - best_round if scores else 0
    labeled = rounds[-1].get("labeled") if rounds else None
    gain = None
    if len(rounds) > patience:
        then = rounds[-1 - patience]
        added = (rounds[-1].get("labeled") or 0) - (then.get("labeled") or 0)
        if added > 0:
            gain = (scores[-1] - float(then["miou_fg"])) / added
    latest_info = float(info_gain_per_label[-1]) if info_gain_per_label else None
    by_plateau = bool(scores) and plateau >= patience
    by_info = latest_info is not None and info_threshold is not None and latest_info < info_threshold
    reason = "still improving" if scores else "no validation score yet"
    if by_plateau:
        reason = f"foreground mIoU has not improved by {min_delta} for {plateau} rounds"
    elif by_info:
        reason = f"expected information gain per label {latest_info:.4g} < {info_threshold:.4g}"
    return {
        "stop": by_plateau or by_info,
        "reason": reason,
        "plateau_rounds": plateau,
        "best_miou_fg": best if scores else None,
        "best_round": best_round if scores else None,
        "rounds": len(scores),
        "labeled": labeled,
        "gain_per_label": gain,
        "info_gain_per_label": latest_info,
        "criteria": {"plateau": by_plateau, "information": by_info},
    }
