"""Turn per-seed simulation rounds into the results document: mean curves over seeds,
labels-to-target with its seed spread, ratios to random and verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.learning.metrics import mean_or_none
from app.learning.stopping import stop_report

__all__ = ["labels_to_target", "mean_rounds", "summarize_round", "assemble", "compute_warnings",
           "COMPUTE_BOUND_FRACTION"]

# Random labeling reaching the target with this little of the pool means the full-data reference gains
# almost nothing from its labels: it is starved of training compute, not of labels, and ratios between
# strategies measure noise. Measured on the well-log charts: at 150 steps random got there with 7.5% of
# the charts (and region hybrid with 8.6% of the pixels); at 1000 steps 10 charts gave fg mIoU 0.42 against
# 0.55 on all 100 (16 channels) and random needed 38% of the charts and ~64% of the pixels.
COMPUTE_BOUND_FRACTION = 0.15


def labels_to_target(fractions: Sequence[float], scores: Sequence[float | None], target: float) -> float | None:
    """First labeled fraction where `scores` reaches `target`, linearly interpolated between the
    round below and the round at or above the target; fractions[0] if round 0 is there already;
    None if never."""
    prev: tuple[float, float] | None = None
    for f, s in zip(fractions, scores, strict=True):
        if s is not None and s >= target:
            if prev is None or s == prev[1]:
                return float(f)
            pf, ps = prev
            return float(pf + (target - ps) / (s - ps) * (f - pf))
        if s is not None:
            prev = (f, s)
    return None


def mean_rounds(seed_rounds: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Average the rounds that every seed completed; also min/max of miou_fg over seeds."""
    n = min(len(r) for r in seed_rounds)
    out = []
    for i in range(n):
        recs = [r[i] for r in seed_rounds]
        mious = [x["miou_fg"] for x in recs if x["miou_fg"] is not None]
        classes = list(recs[0]["per_class_iou"])
        out.append({
            "labeled_fraction": float(np.mean([x["labeled_fraction"] for x in recs])),
            "labeled_tasks": int(round(np.mean([x["labeled_tasks"] for x in recs]))),
            "miou_fg": mean_or_none(mious),
            "miou_fg_min": min(mious) if mious else None,
            "miou_fg_max": max(mious) if mious else None,
            "per_class_iou": {c: mean_or_none([x["per_class_iou"][c] for x in recs]) for c in classes},
            "per_class_iou_min": {c: _min_max([x["per_class_iou"][c] for x in recs], min) for c in classes},
            "per_class_iou_max": {c: _min_max([x["per_class_iou"][c] for x in recs], max) for c in classes},
            "ece": mean_or_none([x.get("ece") for x in recs]),
            **({"ece_calibrated": mean_or_none([x.get("ece_calibrated") for x in recs]),
                "temperature": mean_or_none([x.get("temperature") for x in recs])}
               if any("ece_calibrated" in x for x in recs) else {}),
            **({"effort": {k: float(np.mean([x["effort"][k] for x in recs])) for k in recs[0]["effort"]}}
               if all("effort" in x for x in recs) else {}),
            **({"miou_fg_raw": mean_or_none([x.get("miou_fg_raw") for x in recs]),
                "decision_bias": [mean_or_none(list(b)) for b in zip(*[x["decision_bias"] for x in recs], strict=True)]}
               if all("decision_bias" in x for x in recs) else {}),
        })
    return out


def _min_max(values: list[float | None], fn: Any) -> float | None:
    vals = [v for v in values if v is not None]
    return fn(vals) if vals else None


def summarize_round(seed_rounds: list[list[dict[str, Any]]], target_value: float) -> dict[str, Any]:
    """Labels-to-target of the mean curve and per seed, for one strategy."""
    mean = mean_rounds(seed_rounds)
    ltt = labels_to_target([r["labeled_fraction"] for r in mean], [r["miou_fg"] for r in mean], target_value)
    per_seed = [labels_to_target([r["labeled_fraction"] for r in rounds], [r["miou_fg"] for r in rounds],
                                 target_value) for rounds in seed_rounds]
    return {"mean": mean, "labels_to_target": ltt, "per_seed": per_seed, "reached": ltt is not None}


def _spread(per_seed: list[float | None]) -> list[float | None] | None:
    reached = [v for v in per_seed if v is not None]
    if not reached:
        return None
    return [min(reached), max(reached) if len(reached) == len(per_seed) else None]


def verdict(spread: list[float | None] | None, random_spread: list[float | None] | None,
            reached_fraction: float) -> str:
    """'better than random beyond seed spread' only when every seed of the strategy reached the
    target below the fraction at which the first random seed did (or random never did)."""
    lo, hi = spread if spread is not None else (None, None)
    r_lo, r_hi = random_spread if random_spread is not None else (None, None)
    if lo is None or hi is None:
        return "not distinguishable" if r_hi is None else "worse than random"
    if r_lo is None:
        return "better than random beyond seed spread" if hi < reached_fraction else "not distinguishable"
    if hi < r_lo:
        return "better than random beyond seed spread"
    if r_hi is not None and r_hi < lo:
        return "worse than random beyond seed spread"
    return "not distinguishable"


def compute_warnings(random_labels_to_target: float | None, steps: int | None) -> list[str]:
    """Why a run's ratios may not mean what they seem; [] when nothing is suspicious."""
    if random_labels_to_target is None or random_labels_to_target > COMPUTE_BOUND_FRACTION:
        return []
    compute = f"{steps} steps per run" if steps else "this training compute"
    return [f"random reached the target with {random_labels_to_target:.1%} of the labels: at {compute} the "
            "full-data reference is probably compute-bound (more labels barely help it), so the ratios between "
            "strategies say little; re-run with more --steps (or --epochs) until random needs a large share"]


def assemble(config: dict[str, Any], classes: list[str], reference: dict[str, Any], sim: dict[str, Any],
             target: float, strategies: Sequence[str]) -> dict[str, Any]:
    full = reference["miou_fg"]
    target_value = None if full is None else target * full
    out: dict[str, Any] = {
        "classes": classes,
        "full_data": {"miou_fg": full, "per_class_iou": reference["per_class_iou"], "ece": reference.get("ece"),
                      **({"ece_calibrated": reference["ece_calibrated"]} if "ece_calibrated" in reference else {}),
                      **({"miou_fg_raw": reference["miou_fg_raw"]} if "miou_fg_raw" in reference else {}),
                      "miou_fg_per_seed": reference.get("miou_fg_per_seed"),
                      "note": "mean over seeds of the same recipe trained on every pool label"},
        "target": {"fraction_of_full_data": target, "miou_fg": target_value,
                   "interpolation": "linear between the rounds around the first crossing of the mean curve"},
        "strategies": {},
        "labels_to_target": {},
        "labels_to_target_spread": {},
        "labels_to_target_per_seed": {},
        "stop_report": {},
    }
    max_fraction = 0.0
    for s in strategies:
        seed_rounds = sim["per_seed"][s]
        summary: dict[str, Any] = summarize_round(seed_rounds, target_value) if target_value is not None else {
            "mean": mean_rounds(seed_rounds), "labels_to_target": None, "per_seed": [None] * len(seed_rounds)}
        out["strategies"][s] = {"rounds": summary["mean"], "seeds": seed_rounds}
        out["labels_to_target"][s] = summary["labels_to_target"]
        out["labels_to_target_spread"][s] = _spread(summary["per_seed"])
        out["labels_to_target_per_seed"][s] = summary["per_seed"]
        # what the product's stop rule would have said on this curve (test mIoU stands in for validation)
        out["stop_report"][s] = stop_report([{"miou_fg": r["miou_fg"], "labeled": r["labeled_tasks"]}
                                             for r in summary["mean"]])
        max_fraction = max(max_fraction, max(r["labeled_fraction"] for r in summary["mean"]))
    rnd = out["labels_to_target"].get("random")
    if "random" in strategies:
        ratios, bounds, verdicts = {}, {}, {}
        for s in strategies:
            ltt = out["labels_to_target"][s]
            ratios[s] = ltt / rnd if ltt is not None and rnd else None
            # random never reached: it needs more than max_fraction, so the ratio is at most this
            bounds[s] = ltt / max_fraction if ltt is not None and rnd is None and max_fraction > 0 else None
            if s != "random":
                verdicts[s] = verdict(out["labels_to_target_spread"][s], out["labels_to_target_spread"]["random"],
                                      max_fraction)
        out["ratio_to_random"] = ratios
        out["ratio_to_random_upper_bound"] = bounds
        out["verdict"] = verdicts
    out["max_labeled_fraction"] = max_fraction
    out["warnings"] = compute_warnings(rnd, config.get("steps"))  # rnd is None without random: no warning
    out["schedule"] = {"labeled_tasks_per_round": sim["counts"], "planned": sim["planned_counts"],
                       "first_batch": sim["batch"], "pool_tasks": sim["n_tasks"],
                       "stopped_early": sim["stopped_early"]}
    out["config"] = config
    return out
