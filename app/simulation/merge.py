"""Join simulator runs of the same recipe over disjoint seeds (`--first-seed`) into one results document.

Every seed's draws, picks and training seeds depend on (data seed, seed, round, strategy) only, so seeds
5-9 run alone are the seeds 5-9 of a 10-seed run; what a joint run adds is the mean over every seed: the
full-data reference (hence the target), the mean curves, labels to target and the verdicts, recomputed
here by app.simulation.results.assemble from the per-seed rounds each results.json keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.learning.metrics import mean_or_none
from app.simulation.results import assemble

__all__ = ["MergeError", "merge_results"]

# config fields that may (must) differ between the runs joined
_PER_RUN = ("seeds", "first_seed")


class MergeError(ValueError):
    """The runs cannot be joined (another recipe, overlapping seeds); the message says which."""


def _weighted(values: Sequence[float | None], weights: Sequence[int]) -> float | None:
    pairs = [(v, w) for v, w in zip(values, weights, strict=True) if v is not None]
    return float(np.average([v for v, _ in pairs], weights=[w for _, w in pairs])) if pairs else None


def merge_results(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """results.json documents of one recipe over disjoint seeds -> the document of all their seeds, seeds
    in order. Per-class IoU and ECE of the reference are the seed-weighted means of each run's means."""
    if not runs:
        raise MergeError("no runs to merge")
    runs = sorted(runs, key=lambda r: r["config"].get("first_seed", 0))
    base = {k: v for k, v in runs[0]["config"].items() if k not in _PER_RUN}
    seeds: list[int] = []
    for r in runs:
        cfg = r["config"]
        other = {k: v for k, v in cfg.items() if k not in _PER_RUN}
        diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
        if diff:
            raise MergeError(f"the runs differ in {', '.join(diff)}: only seeds may differ")
        first = cfg.get("first_seed", 0)
        seeds += range(first, first + cfg["seeds"])
    if len(set(seeds)) != len(seeds):
        raise MergeError(f"the runs overlap in seeds: {sorted(s for s in set(seeds) if seeds.count(s) > 1)}")
    weights = [r["config"]["seeds"] for r in runs]
    fulls = [r["full_data"] for r in runs]
    per_seed_ref = [v for f in fulls for v in f["miou_fg_per_seed"]]
    reference: dict[str, Any] = {
        "miou_fg": mean_or_none(per_seed_ref), "miou_fg_per_seed": per_seed_ref,
        "per_class_iou": {c: _weighted([f["per_class_iou"][c] for f in fulls], weights)
                          for c in fulls[0]["per_class_iou"]},
        "ece": _weighted([f.get("ece") for f in fulls], weights)}
    for extra in ("ece_calibrated", "miou_fg_raw"):
        if all(extra in f for f in fulls):
            reference[extra] = _weighted([f[extra] for f in fulls], weights)
    strategies = list(runs[0]["strategies"])
    schedules = [r["schedule"] for r in runs]
    counts = min((s["labeled_tasks_per_round"] for s in schedules), key=len)  # rounds every run completed
    sim = {"per_seed": {s: [rounds for r in runs for rounds in r["strategies"][s]["seeds"]] for s in strategies},
           "counts": counts, "planned_counts": schedules[0]["planned"], "batch": schedules[0]["first_batch"],
           "n_tasks": schedules[0]["pool_tasks"], "stopped_early": any(s["stopped_early"] for s in schedules)}
    config = {**runs[0]["config"], "seeds": len(seeds), "first_seed": seeds[0]}
    out = assemble(config, runs[0]["classes"], reference, sim, config["target"], strategies)
    out["merged_from"] = [{"first_seed": r["config"].get("first_seed", 0), "seeds": r["config"]["seeds"],
                           "total_seconds": r.get("timing", {}).get("total_seconds")} for r in runs]
    return out
